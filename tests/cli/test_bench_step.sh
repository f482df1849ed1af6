#!/bin/sh
# test_bench_step.sh BENCH — the step benchmark's command line: --help,
# each usage error's message and exit status, and one timed step.
# Prints "N passed, N failed" and exits non-zero on any failure.
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: "${MMGC_CACHE_DIR:=$tmp/code-cache}"
export MMGC_CACHE_DIR
pass=0
fail=0
usage='usage: mmgc-bench-step MODEL.mmg [--backend=interp|llvm] [--steps N] [--set K=V] [--eval] [--profile[=FILE.json]]'

# expect STATUS DESCRIPTION -- ARGS...: runs the benchmark, checks the exit status.
expect() {
    want=$1 what=$2
    shift 3
    "$bench" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $what: exit $got, expected $want"; cat "$tmp/err"; fi
}

# line FILE TEXT DESCRIPTION: the last run's output has TEXT as a whole line.
line() {
    if grep -qxF -- "$2" "$tmp/$1"; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $3: no line '$2' in $1"; cat "$tmp/$1"; fi
}

expect 0 "help" -- --help
line out "$usage" "the usage on standard output"
expect 0 "-h" -- -h
line out "$usage" "-h prints the usage"
expect 2 "no model" --
line err "mmgc-bench-step: no model file" "no model"
line err "$usage" "a usage error prints the usage"
expect 2 "unknown option" -- --frobnicate models/image_conv2net.mmg
line err "mmgc-bench-step: unknown option '--frobnicate'" "unknown option"
expect 2 "--steps last" -- models/image_conv2net.mmg --steps
line err "mmgc-bench-step: a value must follow '--steps'" "--steps without its value"
expect 2 "--steps not a count" -- models/image_conv2net.mmg --steps 3x
line err "mmgc-bench-step: --steps takes a count from 1 to 1000000, not '3x'" "--steps 3x"
expect 2 "--steps 0" -- models/image_conv2net.mmg --steps 0
line err "mmgc-bench-step: --steps takes a count from 1 to 1000000, not '0'" "--steps 0"
expect 2 "two models" -- models/image_conv2net.mmg models/audio_conv1net.mmg
line err "mmgc-bench-step: one model at a time; a second one: 'models/audio_conv1net.mmg'" "two models"
expect 2 "no such backend" -- --backend=gpu models/image_conv2net.mmg
line err "mmgc-bench-step: no such backend: 'gpu'" "a backend that does not exist"
expect 1 "a missing model file" -- "$tmp/none.mmg"
line err "mmgc: error: cannot open '$tmp/none.mmg': No such file or directory" "a missing file"
expect 0 "one step" -- models/image_conv2net.mmg --set batch=2 --steps 1
if grep -qE '^[0-9.]+ ms/step  [0-9]+ MiB peak  \(interp, batch 2, 1 steps\)$' "$tmp/out"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: one step: no time line"; cat "$tmp/out"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
