#!/bin/sh
# test_aot.sh MMGC MAKE_DATA CFLAGS — programs compiled ahead of time (mmgc
# --aot): they train to the same bits as the JIT, run alone in an empty
# directory, link no LLVM, evaluate, refuse a step they were not compiled
# for, check the CPU; model objects (--emit=obj, --emit=header) linked into C
# programs built with CFLAGS predict as mmgc does; bad use is an error.
# Prints "N passed, N failed".
mmgc=$1
make_data=$2
cflags=$3
. "$(dirname "$0")/../checks.sh"

# aot_vs_jit NAME MODEL DATA SETS...: builds the program, trains with it and
# with mmgc's JIT (the same sets): the checkpoints and metrics are the same bytes.
aot_vs_jit() {
    name=$1 model=$2 data=$3
    shift 3
    sets=""
    for s in "$@"; do sets="$sets --set $s"; done
    # shellcheck disable=SC2086
    check "$name: --aot builds" "$mmgc" "$model" --aot -o "$tmp/$name" $sets
    check "$name: the program trains" "$tmp/$name" train --data "$data" --save "$tmp/$name.aot.st" \
        --metrics-json "$tmp/$name.aot.json"
    # shellcheck disable=SC2086
    check "$name: mmgc trains" "$mmgc" "$model" --train --data "$data" --save "$tmp/$name.jit.st" \
        --metrics-json "$tmp/$name.jit.json" $sets
    same "$name: final weights, AOT vs JIT" "$tmp/$name.aot.st" "$tmp/$name.jit.st"
    same "$name: test metrics, AOT vs JIT" "$tmp/$name.aot.json" "$tmp/$name.jit.json"
}

# ---- the tiny classifier ---------------------------------------------------------
"$make_data" "$tmp/tiny-data" 64 x:f32:8 y:i64:3 || bad "make_data tiny"
aot_vs_jit tiny tests/runtime/tiny.mmg "$tmp/tiny-data" max_epochs=4

# alone in an empty directory, with no mmgc, models/ or LLVM around
mkdir "$tmp/alone"
cp "$tmp/tiny" "$tmp/alone/tiny"
(cd "$tmp/alone" && ./tiny --help >"$tmp/help" 2>&1) && ok || bad "the program's --help"
grep -qF "model 'tiny'" "$tmp/help" && ok || bad "--help names the model"
grep -qF "x f32[16, 8]" "$tmp/help" && ok || bad "--help shows the inputs"
grep -qF "parameters: 195" "$tmp/help" && ok || bad "--help counts the parameters"
(cd "$tmp/alone" && ./tiny train --data "$tmp/tiny-data" --set max_epochs=1 >"$tmp/out" 2>&1) && ok || bad "trains alone"
if ldd "$tmp/alone/tiny" | grep -qi llvm; then bad "the program links LLVM"; else ok; fi
grep -qF "exit status: 0 success, 1 an error, 2 bad command-line use, 3 training diverged (a loss that is" "$tmp/help" && ok ||
    bad "--help lists exit status 3"

# a divergent learning rate: exit status 3, as mmgc's
check "divergent: --aot builds" "$mmgc" tests/runtime/tiny.mmg --aot -o "$tmp/tiny-diverges" --set 'optimizer=sgd(lr: 1e6)'
expect 3 "error: training diverged: the " "the program diverges with status 3" "$tmp/tiny-diverges" train --data "$tmp/tiny-data"

# eval of a checkpoint: the same metrics as mmgc --eval
check "program eval" "$tmp/tiny" eval --checkpoint "$tmp/tiny.aot.st" --data "$tmp/tiny-data" --metrics-json "$tmp/e1.json"
check "mmgc --eval" "$mmgc" tests/runtime/tiny.mmg --eval --checkpoint "$tmp/tiny.aot.st" --data "$tmp/tiny-data" \
    --metrics-json "$tmp/e2.json"
same "eval metrics, AOT vs JIT" "$tmp/e1.json" "$tmp/e2.json"
# evaluation needs only the test split's files
mkdir "$tmp/test-only"
cp "$tmp/tiny-data/x_test.npy" "$tmp/tiny-data/y_test.npy" "$tmp/test-only/"
check "program eval with the test split only" "$tmp/tiny" eval --checkpoint "$tmp/tiny.aot.st" --data "$tmp/test-only" \
    --metrics-json "$tmp/e4.json"
same "eval on the test split alone" "$tmp/e4.json" "$tmp/e1.json"

# predict: the same lines and logits as mmgc --predict, for any sample count
"$make_data" "$tmp/p7" 7 x:f32:8 || bad "make_data p7"
"$make_data" "$tmp/p1" 1 x:f32:8 || bad "make_data p1"
for n in 7 1; do
    check "program predict ($n)" "$tmp/tiny" predict --checkpoint "$tmp/tiny.aot.st" --input x="$tmp/p$n/x_train.npy" \
        -o "$tmp/l$n.aot.npy"
    cp "$tmp/out" "$tmp/p$n.aot.txt"
    check "mmgc --predict ($n)" "$mmgc" tests/runtime/tiny.mmg --predict --checkpoint "$tmp/tiny.aot.st" \
        --input x="$tmp/p$n/x_train.npy" -o "$tmp/l$n.jit.npy"
    same "predicted lines ($n)" "$tmp/p$n.aot.txt" "$tmp/out"
    same "logits ($n)" "$tmp/l$n.aot.npy" "$tmp/l$n.jit.npy"
done
[ "$(wc -l <"$tmp/p7.aot.txt")" -eq 7 ] && ok || bad "predict prints a line per sample"
"$make_data" "$tmp/bad" 5 x:f32:9 || bad "make_data bad"
expect 1 "$tmp/bad/x_train.npy" "predict with a wrong input shape" \
    "$tmp/tiny" predict --checkpoint "$tmp/tiny.aot.st" --input x="$tmp/bad/x_train.npy"

# weights baked in: eval needs no checkpoint file, even alone
check "--weights bakes a checkpoint" "$mmgc" tests/runtime/tiny.mmg --aot -o "$tmp/alone/baked" --weights "$tmp/tiny.aot.st"
(cd "$tmp/alone" && ./baked eval --data "$tmp/tiny-data" --metrics-json "$tmp/e3.json" >"$tmp/out" 2>&1) && ok || bad "baked eval"
same "eval with baked weights" "$tmp/e3.json" "$tmp/e1.json"
(cd "$tmp/alone" && ./baked predict --input x="$tmp/p7/x_train.npy" -o "$tmp/l7.baked.npy" >/dev/null 2>&1) && ok || bad "baked predict"
same "predict with baked weights" "$tmp/l7.baked.npy" "$tmp/l7.aot.npy"
expect 2 "predict needs --checkpoint FILE" "predict without weights" "$tmp/tiny" predict --input x="$tmp/p7/x_train.npy"
expect 1 "--weights $tmp/tiny.aot.st: no tensor 'conv2net." "--weights of another model" \
    "$mmgc" models/image_conv2net.mmg --aot -o "$tmp/y" --weights "$tmp/tiny.aot.st"
expect 2 "--weights only makes sense with --aot" "--weights without --aot" \
    "$mmgc" tests/runtime/tiny.mmg --weights "$tmp/tiny.aot.st"

# bench: the timing loop of bench/ on the compiled step
check "program bench" "$tmp/tiny" bench --steps 3
grep -qF "ms/step" "$tmp/out" && grep -qF "(aot, batch 16, 3 steps)" "$tmp/out" && ok || bad "bench output"
check "program bench --eval" "$tmp/tiny" bench --steps 3 --eval
grep -qF "(aot, batch 16, 3 evaluation steps)" "$tmp/out" && ok || bad "bench --eval output"
expect 2 "--eval only makes sense with bench" "--eval with train" "$tmp/tiny" train --eval

# a setting that changes the step needs a new build; one that does not, not
expect 1 "this program has no code for this step" "a --set that changes the step" \
    "$tmp/tiny" train --data "$tmp/tiny-data" --set batch=8
expect 2 "unknown command 'fit' (expected train, eval, predict or bench)" "unknown command" "$tmp/tiny" fit
expect 2 "unknown command 'trian'; did you mean 'train'?" "a command's typo" "$tmp/tiny" trian
expect 2 "unknown option '--sav'; did you mean '--save'?" "an option's typo" "$tmp/tiny" train --sav x.st
expect 2 "unknown option '--epochs=3'; max_epochs is a train setting: --set max_epochs=3" "a train setting as an option" \
    "$tmp/tiny" train --epochs=3
expect 2 "unknown option '--frobnicate'; the options are --data, --save, --resume" "an unknown option lists them" \
    "$tmp/tiny" train --frobnicate
expect 2 "eval needs --checkpoint FILE (the weights; none are baked in)" "eval without a checkpoint" "$tmp/tiny" eval

# a portable CPU level builds and runs; one this CPU lacks stops cleanly
check "--cpu=x86-64-v2 builds" "$mmgc" tests/runtime/tiny.mmg --aot --cpu=x86-64-v2 -o "$tmp/tiny2"
check "--cpu=x86-64-v2 runs" "$tmp/tiny2" train --data "$tmp/tiny-data" --set max_epochs=1
check "--cpu=x86-64-v4 builds" "$mmgc" tests/runtime/tiny.mmg --aot --cpu=x86-64-v4 -o "$tmp/tiny4"
if grep -q avx512vl /proc/cpuinfo && grep -q avx512dq /proc/cpuinfo && grep -q avx512bw /proc/cpuinfo; then
    check "--cpu=x86-64-v4 runs on an AVX-512 CPU" "$tmp/tiny4" --help
else
    expect 1 "this CPU lacks avx512f" "--cpu=x86-64-v4 on a CPU without AVX-512" "$tmp/tiny4" --help
fi

# bad --aot use
expect 2 "--aot needs -o PROGRAM" "--aot without -o" "$mmgc" tests/runtime/tiny.mmg --aot
expect 1 "unknown --cpu 'pentium' (expected native, x86-64" "unknown --cpu" \
    "$mmgc" tests/runtime/tiny.mmg --aot --cpu=pentium -o "$tmp/x"
[ ! -e "$tmp/x" ] && ok || bad "a failed --aot leaves a file behind"
expect 2 "--cpu only makes sense with --aot" "--cpu without --aot" "$mmgc" tests/runtime/tiny.mmg --cpu=native

# ---- the study's image model and a multimodal one, on small random data --------------
"$make_data" "$tmp/img-data" 24 image:f32:1x28x28 digit:i64:10 || bad "make_data img"
aot_vs_jit conv2net models/image_conv2net.mmg "$tmp/img-data" batch=8 max_epochs=2
"$make_data" "$tmp/mm-data" 12 image:f32:1x28x28 audio:f32:1x8000 digit:i64:10 || bad "make_data mm"
aot_vs_jit gated models/multimodal_gated.mmg "$tmp/mm-data" batch=4 max_epochs=1

# ---- the model as a C library: the example predicts as mmgc does ----------------------
check "--emit=obj with baked weights" "$mmgc" tests/runtime/tiny.mmg --emit=obj --weights "$tmp/tiny.aot.st" \
    -o "$tmp/baked.o"
check "--emit=obj" "$mmgc" tests/runtime/tiny.mmg --emit=obj -o "$tmp/plain.o"
check "--emit=header" "$mmgc" tests/runtime/tiny.mmg --emit=header -o "$tmp/model.h"
extra=$(nm -g --defined-only "$tmp/plain.o" | grep -v " mmgc_model_")
[ -z "$extra" ] && ok || bad "the object defines more than the API: $extra"
# shellcheck disable=SC2086
check "the example builds" cc $cflags -Wall -Wextra -Werror -I"$tmp" examples/embed/classify.c "$tmp/baked.o" \
    -lopenblas -lm -lpthread -o "$tmp/classify"
for n in 7 1; do
    check "the example predicts ($n)" "$tmp/classify" "$tmp/l$n.embed.npy" "$tmp/p$n/x_train.npy"
    same "the example's lines ($n)" "$tmp/out" "$tmp/p$n.aot.txt"
    same "the example's logits ($n)" "$tmp/l$n.embed.npy" "$tmp/l$n.jit.npy"
done
expect 1 "bad/x_train.npy: each sample must hold 8 floats (the model's input)" "the example on a wrong shape" \
    "$tmp/classify" "$tmp/l9.npy" "$tmp/bad/x_train.npy"
"$make_data" "$tmp/p0" 0 x:f32:8 || bad "make_data p0"
expect 1 "p0/x_train.npy: no samples of 8 floats" "the example on no samples" \
    "$tmp/classify" "$tmp/l0.npy" "$tmp/p0/x_train.npy"

# the API: training steps, save, load, errors (tests/aot/embed_check.c); what it
# saves predicts through mmgc as through the library
mkdir "$tmp/embed"
# shellcheck disable=SC2086
check "embed_check builds" cc $cflags -Wall -Wextra -Werror -I"$tmp" tests/aot/embed_check.c "$tmp/plain.o" \
    -lopenblas -lm -lpthread -o "$tmp/embed_check"
if "$tmp/embed_check" "$tmp/embed" "$tmp/conv2net.jit.st" >"$tmp/out" 2>&1; then ok; else bad "embed_check"; cat "$tmp/out"; fi
# shellcheck disable=SC2086
check "the example without baked weights builds" cc $cflags -I"$tmp" examples/embed/classify.c "$tmp/plain.o" \
    -lopenblas -lm -lpthread -o "$tmp/classify2"
check "the example with -w" "$tmp/classify2" -w "$tmp/embed/trained.st" "$tmp/le.embed.npy" "$tmp/p7/x_train.npy"
check "mmgc --predict on the library's checkpoint" "$mmgc" tests/runtime/tiny.mmg --predict \
    --checkpoint "$tmp/embed/trained.st" --input x="$tmp/p7/x_train.npy" -o "$tmp/le.jit.npy"
same "library and mmgc logits from a saved checkpoint" "$tmp/le.embed.npy" "$tmp/le.jit.npy"

# bad use, and no C compiler
expect 2 "--emit=obj needs -o FILE.o" "--emit=obj without -o" "$mmgc" tests/runtime/tiny.mmg --emit=obj
expect 2 "--emit=obj does not go with --train" "--emit=obj with --train" \
    "$mmgc" tests/runtime/tiny.mmg --emit=obj -o "$tmp/x.o" --train
expect 1 "--aot needs a C compiler and linker ('/no/cc' did not run): install build-essential" "--aot without a compiler" \
    env CC=/no/cc "$mmgc" tests/runtime/tiny.mmg --aot -o "$tmp/x"
expect 1 "--emit=obj needs a C compiler and linker" "--emit=obj without a compiler" \
    env CC=/no/cc "$mmgc" tests/runtime/tiny.mmg --emit=obj -o "$tmp/x.o"
[ ! -e "$tmp/x" ] && [ ! -e "$tmp/x.o" ] && [ ! -e "$tmp/x.o.partial" ] && ok || bad "a failed build leaves a file behind"

finish
