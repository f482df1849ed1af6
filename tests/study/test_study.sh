#!/bin/sh
# test_study.sh MMGC MAKE_DATA — a study end to end (tests/study/duo.mmg: a
# baseline and two joins, two seeds, the contrastive table): its files, its
# tables against the runs' own metrics, a second run that trains nothing, a
# deleted result retrained alone, --jobs 2 with the same bits, valid HTML
# with a bar per method; and each bad study or folder refused before any
# training. Prints "N passed, N failed".
mmgc=$1
make_data=$2
. "$(dirname "$0")/../checks.sh"

"$make_data" "$tmp/data" 40 a:f32:8 b:f32:4 y:i64:3 meta:bits:2 || bad "make_data"

# ---- the study -------------------------------------------------------------------------
expect 0 "study 'duo_study': 6 runs (3 methods x 2 seeds), 0 done" "the study runs" \
    "$mmgc" tests/study/duo.mmg --study --data "$tmp/data" -o "$tmp/s1"
cp "$tmp/out" "$tmp/s1.out"
for f in study.md results.csv results.json index.html table2.md temperature.svg \
    runs/solo/seed-0/metrics.json runs/max_join/seed-1/checkpoint.safetensors runs/sum_join/seed-0/report/index.html; do
    [ -s "$tmp/s1/$f" ] && ok || bad "no $f"
done
[ "$(grep -c '^\[' "$tmp/err")" -eq 6 ] && ok || bad "a line per run"

# the table from the runs' metrics: mean and sample standard deviation of each method
for m in solo sum_join max_join; do
    want=$(grep -h '"test_accuracy":' "$tmp/s1/runs/$m"/seed-*/metrics.json | tr -d ' ,' | cut -d: -f2 |
        awk '{ x[NR] = $1; s += $1 } END { m = s / NR; for (i = 1; i <= NR; i++) v += (x[i] - m) ^ 2;
               printf "%.2f ± %.2f%%", 100 * m, 100 * sqrt(v / (NR - 1)) }')
    grep -q "^| $m[ |].*| $want |" "$tmp/s1/study.md" && ok || bad "$m: Table 1 does not say $want"
    grep -qF "| $m |" "$tmp/s1.out" && ok || bad "$m: the table is printed"
done
grep -qF '| sum_join | ' "$tmp/s1/study.md" && grep -qF '| 40.00% | 1.050 |' "$tmp/s1/study.md" && ok ||
    bad "the study's reference figures beside ours"
grep -qF '| clean | image ruined | audio ruined | both ruined | a_zeroed | a_swapped |' "$tmp/s1/study.md" && ok ||
    bad "the robustness table's columns"
grep -qF '| -0.380 | -0.380 | -0.622 | -0.622 |' "$tmp/s1/study.md" && ok || bad "Table 2 in study.md"
[ "$(grep -c '^"' "$tmp/s1/results.csv")" -eq 6 ] && ok || bad "results.csv: a row per run"
grep -q '"method": "max_join", "baseline": false, "seeds": 2' "$tmp/s1/results.json" && ok || bad "results.json"
if command -v xmllint >/dev/null; then
    xmllint --noout "$tmp/s1/index.html" && ok || bad "index.html is not well-formed XML"
fi
[ "$(grep -o 'class="bar"' "$tmp/s1/index.html" | wc -l)" -eq 3 ] && ok || bad "a bar per method"

# again: nothing to train, the same files
cp "$tmp/s1/runs/solo/seed-0/checkpoint.safetensors" "$tmp/ckpt"
expect 0 "6 runs (3 methods x 2 seeds), 6 done" "a second run" \
    "$mmgc" tests/study/duo.mmg --study --data "$tmp/data" -o "$tmp/s1"
grep -q '^\[' "$tmp/err" && bad "a second run trained something" || ok
cmp -s "$tmp/ckpt" "$tmp/s1/runs/solo/seed-0/checkpoint.safetensors" && ok || bad "a finished run was touched"

# --no-train: the files from the finished runs, nothing trained
cp "$tmp/s1/study.md" "$tmp/study.md"
expect 0 "6 runs (3 methods x 2 seeds), 6 done" "--no-train on a finished study" \
    "$mmgc" tests/study/duo.mmg --study --no-train --data "$tmp/data" -o "$tmp/s1"
grep -q '^\[' "$tmp/err" && bad "--no-train trained something" || ok
grep '^| ' "$tmp/study.md" | cut -d'|' -f1-4 >"$tmp/t0"
grep '^| ' "$tmp/s1/study.md" | cut -d'|' -f1-4 >"$tmp/t1"
cmp -s "$tmp/t0" "$tmp/t1" && ok || bad "--no-train: another table"
expect 0 "6 runs (3 methods x 2 seeds), 0 done" "--no-train on a new folder" \
    "$mmgc" tests/study/duo.mmg --study --no-train --data "$tmp/data" -o "$tmp/s6"
[ "$(grep -c '| not finished |' "$tmp/s6/study.md")" -eq 6 ] && [ ! -e "$tmp/s6/runs" ] && ok ||
    bad "--no-train on a new folder: six unfinished runs, none started"
expect 2 "--no-train only makes sense with --study" "--no-train alone" "$mmgc" tests/study/duo.mmg --no-train

# a deleted result: only that run, resumed from its checkpoint, to the same metrics
cp "$tmp/s1/runs/max_join/seed-1/metrics.json" "$tmp/metrics"
rm "$tmp/s1/runs/max_join/seed-1/metrics.json"
expect 0 "[1/1] max_join seed 1, resuming" "a deleted result" \
    "$mmgc" tests/study/duo.mmg --study --data "$tmp/data" -o "$tmp/s1"
[ "$(grep -c '^\[' "$tmp/err")" -eq 1 ] && ok || bad "more than the deleted run trained"
cmp -s "$tmp/metrics" "$tmp/s1/runs/max_join/seed-1/metrics.json" && ok || bad "the retrained run's metrics differ"

# two at a time: the same weights and metrics, bit for bit
expect 0 "6 runs (3 methods x 2 seeds), 0 done" "--jobs 2" \
    "$mmgc" tests/study/duo.mmg --study --data "$tmp/data" -o "$tmp/s2" --jobs 2
for r in solo/seed-0 solo/seed-1 sum_join/seed-0 sum_join/seed-1 max_join/seed-0 max_join/seed-1; do
    cmp -s "$tmp/s1/runs/$r/metrics.json" "$tmp/s2/runs/$r/metrics.json" &&
        cmp -s "$tmp/s1/runs/$r/checkpoint.safetensors" "$tmp/s2/runs/$r/checkpoint.safetensors" && ok ||
        bad "$r: --jobs 2 differs from --jobs 1"
done
grep '^| ' "$tmp/s1/study.md" | cut -d'|' -f1-4 >"$tmp/t1"
grep '^| ' "$tmp/s2/study.md" | cut -d'|' -f1-4 >"$tmp/t2"
cmp -s "$tmp/t1" "$tmp/t2" && ok || bad "--jobs 2: another table"

# runs that diverge: said, and the study ends with an error and a report of what there is
# (which runs keep a best epoch before the loss turns NaN depends on the arithmetic)
"$mmgc" tests/study/duo.mmg --study --data "$tmp/data" -o "$tmp/s5" --set 'optimizer=sgd(lr: 1e6)' >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "diverged (their results are those of their best epoch before)" "$tmp/err" && ok ||
    bad "a study of diverging runs ends with status 1"
[ "$(grep -c "mmgc: run '.*' seed [01] diverged" "$tmp/err")" -eq 6 ] && ok || bad "each diverged run is named"
grep -q "| not finished |\|(diverged)" "$tmp/s5/study.md" && ok || bad "study.md shows the diverged runs"

# ---- refused before any training --------------------------------------------------------
cp "$tmp/s1/runs/solo/seed-0/metrics.json" "$tmp/kept"
"$make_data" "$tmp/other" 48 a:f32:8 b:f32:4 y:i64:3 || bad "make_data other"
expect 1 "holds a run of another data set" "a folder of another data set" \
    "$mmgc" tests/study/duo.mmg --study --data "$tmp/other" -o "$tmp/s1"
expect 1 "holds a run of another configuration: it has 'set (none)', this study makes 'set max_epochs=2'" \
    "a folder of other settings" \
    "$mmgc" tests/study/duo.mmg --study --data "$tmp/data" -o "$tmp/s1" --set max_epochs=2
cmp -s "$tmp/kept" "$tmp/s1/runs/solo/seed-0/metrics.json" && ok || bad "a refused study changed a run"
sed 's/max_join\]/max_join, nope_join]/' tests/study/duo.mmg >"$tmp/nope.mmg"
expect 1 "run 'nope_join' (model duo) does not compile" "a join that does not exist" \
    "$mmgc" "$tmp/nope.mmg" -I tests/study --study --data "$tmp/data" -o "$tmp/s3"
[ ! -e "$tmp/s3" ] && ok || bad "a refused study wrote something"
mkdir "$tmp/nob"
cp "$tmp/data/a_train.npy" "$tmp/data/a_test.npy" "$tmp/data/y_train.npy" "$tmp/data/y_test.npy" "$tmp/nob/"
expect 1 "run 'sum_join': the data set $tmp/nob has no b_train.npy (the model's input 'b')" "a missing modality" \
    "$mmgc" tests/study/duo.mmg --study --data "$tmp/nob" -o "$tmp/s4"
expect 1 "no study in this file" "a file without a study" "$mmgc" tests/runtime/tiny.mmg --study
expect 1 "this file defines study 'fusion_study' and no model: run the study with --study" "a study without --study" \
    "$mmgc" models/fusion_study.mmg --train
expect 2 "--jobs takes a number of runs from 1 to 64, not '0'" "--jobs 0" \
    "$mmgc" tests/study/duo.mmg --study --jobs 0
expect 2 "--jobs only makes sense with --study" "--jobs alone" "$mmgc" tests/study/duo.mmg --jobs 2
expect 2 "--study trains the study's runs; it does not go with --train" "--study --train" \
    "$mmgc" tests/study/duo.mmg --study --train

finish
