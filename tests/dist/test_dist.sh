#!/bin/sh
# test_dist.sh MMGC MAKE_DATA KNOWN_DATA CKPT_DIFF MPIEXEC — data-parallel
# training under mpirun (runtime/train_dist.h): two and three processes
# train dp.mmg to one process's weights (within float rounding: the
# gradients are summed in another order) and to the same bytes run after
# run; the evaluation's metrics summed over processes (known.mmg, whose
# accuracy and confusion matrix are known exactly); a run resumed with
# another number of processes; a killed process ends the job, nonzero, in
# bounded time, its last checkpoint intact. Exit 77 (skipped) when this
# build has no MPI. Prints "N passed, N failed".
mmgc=$1
make_data=$2
known_data=$3
ckpt_diff=$4
mpiexec=$5
if [ -z "$mpiexec" ]; then
    echo "skipped: no mpirun (this mmgc was built without MPI)"
    exit 77
fi
. "$(dirname "$0")/../checks.sh"

# As root Open MPI wants a confirmation; a small machine has fewer cores
# than processes; one thread each, as a cluster's ranks would run.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 MMGC_THREADS=1 OPENBLAS_NUM_THREADS=1
# In the sanitizer build: Open MPI's own allocations kept until exit are not
# mmgc's leaks (tests/lsan-mpi.supp names only its libraries)
export LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")/.." && pwd)/lsan-mpi.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# Open MPI's libraries have no frame pointers: the full (slower) unwinder
# keeps their frames in the allocation stacks, for the suppressions to match.
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
mpi() {
    n=$1
    shift
    "$mpiexec" --oversubscribe -np "$n" "$@"
}
model=tests/dist/dp.mmg
"$make_data" "$tmp/d" 200 x:f32:8 y:i64:3 || bad "make_data"

# ---- the same training over 1, 2 and 3 processes ----------------------------------------
check "one process" "$mmgc" $model --train --data "$tmp/d" --save "$tmp/one.st" --log "$tmp/one.csv"
check "two processes" mpi 2 "$mmgc" $model --train --data "$tmp/d" --save "$tmp/two.st" --log "$tmp/two.csv" --time
[ "$(grep -c '^training dp:' "$tmp/out")" -eq 1 ] && ok || bad "only rank 0 prints"
grep -q '^time: data parallel over 2 processes, batch 8 each, [0-9]* steps; per step: gradients .* ms, wait .* all-reduce of 0.00 MiB .* ms, update .* ms$' "$tmp/out" && ok || bad "--time: the all-reduce line"
check "two processes, again" mpi 2 "$mmgc" $model --train --data "$tmp/d" --save "$tmp/two_again.st"
same "two processes: the same bytes every run" "$tmp/two.st" "$tmp/two_again.st"
# 150 training samples in batches of 16: the last batch of 6 leaves ranks 1 and 2 of 3 without a row
check "three processes" mpi 3 "$mmgc" $model --train --data "$tmp/d" --save "$tmp/three.st"
check "2 processes: the weights of one" "$ckpt_diff" "$tmp/two.st" "$tmp/one.st" 1e-5
check "3 processes: the weights of one" "$ckpt_diff" "$tmp/three.st" "$tmp/one.st" 1e-5
# the losses and accuracies logged per epoch (not the seconds) agree to the printed digits
cut -d, -f1-4 "$tmp/one.csv" >"$tmp/one4.csv"
cut -d, -f1-4 "$tmp/two.csv" >"$tmp/two4.csv"
same "the epochs' losses and accuracy" "$tmp/one4.csv" "$tmp/two4.csv"

# ---- metrics summed over processes: known.mmg's accuracy is exactly 70% ------------------
"$known_data" "$tmp/k" || bad "known_data"
check "known, two processes" mpi 2 "$mmgc" tests/dist/known.mmg --train --data "$tmp/k" --metrics-json "$tmp/k2.json" \
    --log "$tmp/k2.csv"
grep -q '"test_accuracy": 0.7,' "$tmp/k2.json" && ok || bad "test accuracy 70%"
tr -d ' \n' <"$tmp/k2.json" | grep -qF '"confusion":[[24,0,10],[10,23,0],[0,10,23]]' && ok || bad "the confusion matrix"
grep -q '"test_samples": 100,' "$tmp/k2.json" && ok || bad "every test sample counted once"
check "known, one process" "$mmgc" tests/dist/known.mmg --train --data "$tmp/k" --log "$tmp/k1.csv"
cut -d, -f1-4 "$tmp/k1.csv" >"$tmp/k1c.csv"
cut -d, -f1-4 "$tmp/k2.csv" >"$tmp/k2c.csv"
same "known: validation metrics of one process" "$tmp/k1c.csv" "$tmp/k2c.csv"

# ---- resumed with another number of processes -------------------------------------------
check "2 epochs, one process" "$mmgc" $model --train --data "$tmp/d" --set max_epochs=2 --save "$tmp/r1.st"
check "resumed on two" mpi 2 "$mmgc" $model --train --data "$tmp/d" --resume "$tmp/r1.st" --save "$tmp/r12.st"
grep -q '^epoch   3 ' "$tmp/out" && ! grep -q '^epoch   1 ' "$tmp/out" && ok || bad "1 -> 2: training continues at epoch 3"
check "1 -> 2 processes: the weights of one" "$ckpt_diff" "$tmp/r12.st" "$tmp/one.st" 1e-5
check "2 epochs, two processes" mpi 2 "$mmgc" $model --train --data "$tmp/d" --set max_epochs=2 --save "$tmp/r2.st"
check "resumed on one" "$mmgc" $model --train --data "$tmp/d" --resume "$tmp/r2.st" --save "$tmp/r21.st"
check "2 -> 1 processes: the weights of one" "$ckpt_diff" "$tmp/r21.st" "$tmp/one.st" 1e-5

# ---- a study over two processes: the serial study's results ------------------------------
"$make_data" "$tmp/sd" 40 a:f32:8 b:f32:4 y:i64:3 meta:bits:2 || bad "make_data (study)"
check "a study, one process" "$mmgc" tests/study/duo.mmg --study --data "$tmp/sd" -o "$tmp/s1"
check "a study, two processes" mpi 2 "$mmgc" tests/study/duo.mmg --study --data "$tmp/sd" -o "$tmp/s2"
grep -q '^rank 0: \[1/3\]' "$tmp/err" && grep -q '^rank 1: \[1/3\]' "$tmp/err" && ok || bad "each rank trains 3 of the 6 runs"
# method, baseline, seed, test accuracy and loss, epochs, best epoch, parameters; the robustness columns
cut -d, -f1-8,11-18 "$tmp/s1/results.csv" >"$tmp/s1.csv"
cut -d, -f1-8,11-18 "$tmp/s2/results.csv" >"$tmp/s2.csv"
same "the study's results over two processes" "$tmp/s1.csv" "$tmp/s2.csv"
check "the study again, two processes: nothing left to train" mpi 2 "$mmgc" tests/study/duo.mmg --study --data "$tmp/sd" -o "$tmp/s2"
grep -q "6 runs (3 methods x 2 seeds), 6 done" "$tmp/err" && ! grep -q '\[1/' "$tmp/err" && ok || bad "a finished study trains nothing"
rm -rf "$tmp/s2/runs/max_join/seed-1/metrics.json"
check "a lost run, two processes" mpi 2 "$mmgc" tests/study/duo.mmg --study --data "$tmp/sd" -o "$tmp/s2"
[ "$(grep -c '\[1/1\] max_join seed 1' "$tmp/err")" -eq 1 ] && ok || bad "the lost run alone is trained again"
cut -d, -f1-8,11-18 "$tmp/s2/results.csv" >"$tmp/s2.csv"
same "the study's results after the lost run" "$tmp/s1.csv" "$tmp/s2.csv"

# ---- Ctrl-C reaching one rank stops both after the same batch, the state saved ----------
"$mpiexec" --oversubscribe -np 2 "$mmgc" $model --train --data "$tmp/d" --set max_epochs=1000000 \
    --set early_stopping.patience=1000000 --save "$tmp/int.st" >"$tmp/int.out" 2>"$tmp/int.err" &
job=$!
i=0
while [ ! -s "$tmp/int.st" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
victim=$(pgrep -P $job | tail -n 1)
[ -n "$victim" ] && kill -INT "$victim"
i=0
while kill -0 $job 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $job 2>/dev/null; then
    bad "SIGINT to one rank: the job still runs after 30 s"
    kill -9 $job
fi
wait $job
st=$?
[ $st -eq 130 ] && grep -q "^interrupted: state saved to" "$tmp/int.out" && ok ||
    bad "SIGINT to one rank: exit $st (expected 130), the state saved"
check "SIGINT to one rank: the saved weights evaluate, over two processes" mpi 2 "$mmgc" $model --eval \
    --data "$tmp/d" --checkpoint "$tmp/int.st"
grep -q '^test: loss' "$tmp/out" && ok || bad "--eval over two processes prints the test metrics"

# ---- an error on every rank, and a rank killed: the job ends ----------------------------
expect 1 "no-such-dir" "a missing data set ends the job" mpi 2 "$mmgc" $model --train --data "$tmp/no-such-dir"
# every rank meets such an error alike: the job reports it once (rank 0), not once per rank
once() { [ "$(grep -c -- "$1" "$tmp/err")" -eq 1 ] && ok || { bad "$2: reported $(grep -c -- "$1" "$tmp/err") times"; cat "$tmp/err"; }; }
once "no-such-dir" "a missing data set"
expect 2 "unknown option '--frobnicate'" "an unknown option ends the job" mpi 2 "$mmgc" $model --train --frobnicate
once "unknown option" "an unknown option"
printf 'model m {\n    input x: [B, 4]\n    loss = nosuch(x)\n}\n' >"$tmp/bad.mmg"
expect 1 "bad.mmg:3:12: error: unknown name 'nosuch'" "a program error ends the job" mpi 2 "$mmgc" "$tmp/bad.mmg" --train
once "unknown name" "a program error"
expect 2 "unknown setting 'nope'" "an unknown --set ends the job" mpi 2 "$mmgc" $model --train --set nope=1
once "unknown setting" "an unknown --set"
expect 1 "has no a_train.npy" "a study without its data ends the job" mpi 3 "$mmgc" tests/study/duo.mmg --study \
    --data "$tmp/no-such-dir" -o "$tmp/s-none"
once "has no a_train.npy" "a study without its data"
"$mpiexec" --oversubscribe -np 2 "$mmgc" $model --train --data "$tmp/d" --set max_epochs=1000000 --set early_stopping.patience=1000000 \
    --save "$tmp/kill.st" >"$tmp/kill.out" 2>"$tmp/kill.err" &
job=$!
i=0
while [ ! -s "$tmp/kill.st" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done # a checkpoint is written
ranks=$(pgrep -P $job)
victim=$(echo "$ranks" | tail -n 1) # a rank: a child of mpirun (started directly, not through a function)
if [ -n "$victim" ]; then
    kill -9 "$victim"
    i=0
    while kill -0 $job 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 $job 2>/dev/null; then
        bad "the job still runs 30 s after a rank was killed"
        kill -9 $job
    else ok; fi
    wait $job
    [ $? -ne 0 ] && ok || bad "a killed rank: the job's exit status is 0"
    for r in $ranks; do # and no rank is left behind
        i=0
        while kill -0 "$r" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -0 "$r" 2>/dev/null && bad "rank $r outlived the job by 10 s"
    done
    check "a killed rank: the last checkpoint is whole" "$ckpt_diff" "$tmp/kill.st" "$tmp/kill.st" 0
else
    bad "no rank of the job to kill"
    kill $job
    wait $job
fi

finish
