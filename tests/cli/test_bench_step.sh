#!/bin/sh
# test_bench_step.sh BENCH — the step benchmark's command line: --help,
# each usage error's message and exit status, a MMGC_THREADS that is not a
# thread count (said on stderr, the step still runs), and one timed step.
# Prints "N passed, N failed" and exits non-zero on any failure.
bench=$1
. "$(dirname "$0")/../checks.sh"
usage='usage: mmgc-bench-step MODEL.mmg [--backend=interp|llvm] [--steps N] [--set K=V] [--eval] [--profile[=FILE.json]]'

# has FILE TEXT WHAT: the last run's FILE has TEXT as a whole line.
has() {
    if grep -qxF -- "$2" "$tmp/$1"; then ok; else bad "$3: no line '$2' in $1"; cat "$tmp/$1"; fi
}

check "help" "$bench" --help
has out "$usage" "the usage on standard output"
check "-h" "$bench" -h
has out "$usage" "-h prints the usage"
expect 2 "mmgc-bench-step: no model file" "no model" "$bench"
has err "$usage" "a usage error prints the usage"
expect 2 "mmgc-bench-step: unknown option '--frobnicate'" "unknown option" \
    "$bench" --frobnicate models/image_conv2net.mmg
expect 2 "mmgc-bench-step: a value must follow '--steps'" "--steps without its value" \
    "$bench" models/image_conv2net.mmg --steps
expect 2 "mmgc-bench-step: --steps takes a count from 1 to 1000000, not '3x'" "--steps 3x" \
    "$bench" models/image_conv2net.mmg --steps 3x
expect 2 "mmgc-bench-step: --steps takes a count from 1 to 1000000, not '0'" "--steps 0" \
    "$bench" models/image_conv2net.mmg --steps 0
expect 2 "mmgc-bench-step: one model at a time; a second one: 'models/audio_conv1net.mmg'" "two models" \
    "$bench" models/image_conv2net.mmg models/audio_conv1net.mmg
expect 2 "mmgc-bench-step: no such backend: 'gpu'" "a backend that does not exist" \
    "$bench" --backend=gpu models/image_conv2net.mmg
expect 1 "mmgc: error: cannot open '$tmp/none.mmg': No such file or directory" "a missing model file" \
    "$bench" "$tmp/none.mmg"
for v in abc 0 -2 3x; do
    MMGC_THREADS=$v check "MMGC_THREADS=$v" "$bench" models/image_conv2net.mmg --backend=llvm --set batch=2 --steps 1
    cores=$(getconf _NPROCESSORS_ONLN)
    [ "$cores" -gt 8 ] && cores=8
    has err "mmgc: warning: MMGC_THREADS='$v' is not a count of threads (1 or more); using $cores (one per core, at most 8)" \
        "MMGC_THREADS=$v is said to be wrong"
done
MMGC_THREADS=2 check "MMGC_THREADS=2" "$bench" models/image_conv2net.mmg --backend=llvm --set batch=2 --steps 1
if [ -s "$tmp/err" ]; then bad "MMGC_THREADS=2: a message on stderr"; cat "$tmp/err"; else ok; fi
check "one step" "$bench" models/image_conv2net.mmg --set batch=2 --steps 1
if grep -qE '^[0-9.]+ ms/step  [0-9]+ MiB peak  \(interp, batch 2, 1 steps\)$' "$tmp/out"; then ok; else
    bad "one step: no time line"; cat "$tmp/out"; fi

finish
