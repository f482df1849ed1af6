#!/bin/sh
# test_bench_step.sh BENCH — the step benchmark's command line: --help,
# each usage error's message and exit status, a MMGC_THREADS that is not a
# thread count (said on stderr, the step still runs), and one timed step;
# then bench/ab_report.py (bench/ab.sh's tables) on profiles made up here,
# whose ratios are worked out below, and on the benchmark's own --profile;
# then bench/scaling_report.py (bench/run.sh's scaling table) on rounds
# made up here.
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

# ab_report.py: A's step is 4 ms against a 2 ms reference (2.0), B's 3 ms
# against 2 (1.5): -25%; line x.mmg:2 0.5 -> 0.25 of the reference (-50%)
profile() { # FILE STEP REF LOOP
    cat >"$1" <<JSON
{"steps": 1, "step_ms": $2, "lines": [
 {"where": "x.mmg:1", "text": "conv", "ms_per_step": $3, "kernels": [{"name": "k3 conv2d_grad_weight", "ms_per_step": $3}, {"name": "k1 conv2d", "ms_per_step": 0.1}]},
 {"where": "x.mmg:2", "text": "relu", "ms_per_step": $4, "kernels": [{"name": "k2 loop", "ms_per_step": $4}]}]}
JSON
}
profile "$tmp/a.json" 4 2 1
profile "$tmp/b.json" 3 2 0.5
check "ab_report.py" python3 bench/ab_report.py m grad_weight "A=$tmp/a.json" "B=$tmp/b.json"
has out "whole step over the reference: A 2.000 (2.000-2.000) -> B 1.500 (1.500-1.500), -25.0%" \
    "ab_report.py: the whole step's ratios"
has out "  x.mmg:2            0.500 (0.500-0.500) -> 0.250 (0.250-0.250)   -50%  relu" \
    "ab_report.py: a line's ratios"
has out "A1        4.000   k3 conv2d_grad_weight               2.000      2.000" \
    "ab_report.py: a run's reference"
expect 1 "ab_report.py: no kernel whose op ends with 'nosuch' in $tmp/a.json" "ab_report.py: no such reference" \
    python3 bench/ab_report.py m nosuch "A=$tmp/a.json" "B=$tmp/b.json"
echo '{"lines": [' >"$tmp/cut.json"
expect 1 "ab_report.py: $tmp/cut.json is not a readable --profile file (JSONDecodeError:" "ab_report.py: a cut profile" \
    python3 bench/ab_report.py m grad_weight "A=$tmp/cut.json" "B=$tmp/b.json"
expect 1 "ab_report.py: $tmp/none.json is not a readable --profile file (FileNotFoundError:" "ab_report.py: a missing profile" \
    python3 bench/ab_report.py m grad_weight "A=$tmp/none.json" "B=$tmp/b.json"
expect 1 "ab_report.py: needs runs of both A and B" "ab_report.py: one side only" \
    python3 bench/ab_report.py m grad_weight "A=$tmp/a.json"
check "a profile to report on" "$bench" models/image_conv2net.mmg --backend=llvm --set batch=2 --steps 1 \
    --profile="$tmp/real.json"
check "ab_report.py on the benchmark's profile" python3 bench/ab_report.py image_conv2net grad_weight \
    "A=$tmp/real.json" "B=$tmp/real.json"
if grep -qE '^whole step over the reference: A [0-9.]+ \([0-9.-]+\) -> B [0-9.]+ \([0-9.-]+\), \+0\.0%$' "$tmp/out"; then ok; else
    bad "ab_report.py on the benchmark's profile: no whole-step line"; cat "$tmp/out"; fi

# scaling_report.py (run.sh's scaling at one moment) on rounds made up
# here. Round 1: CPUs 20 and 22 ms before, 21 and 22 after (within a tenth:
# steady), 11 ms on both: CPU 0 at 20.5, speedup 20.5 / 11 = 1.86, and a
# perfect split 1 / (1/20.5 + 1/22) = 10.61 ms, 96% of 11. Round 2: CPU 0
# went from 20 to 30 ms around the all-core run (not steady), so its 16 ms
# is left out.
printf '20 22 | 11 | 21 22\n20 22 | 16 | 30 22\n' >"$tmp/rounds"
check "scaling_report.py row" sh -c 'python3 bench/scaling_report.py row m llvm <"$1"' _ "$tmp/rounds"
has out "m                                    llvm          20.50/22.00       11.00    1.86x     1.86x        96%    1 of 2" \
    "scaling_report.py: the steady round's figures"
check "scaling_report.py steady" python3 bench/scaling_report.py steady 20 22 -- 21 22
python3 bench/scaling_report.py steady 20 22 -- 23 22 >"$tmp/out" 2>&1
if [ $? -eq 1 ] && [ ! -s "$tmp/out" ]; then ok; else bad "scaling_report.py: a CPU 15% slower after is steady"; fi
printf '20 22 | 11 | 30 22\n' >"$tmp/rounds"
check "scaling_report.py, no steady round" sh -c 'python3 bench/scaling_report.py row m llvm <"$1"' _ "$tmp/rounds"
has out "m                                    llvm          25.00/22.00       11.00    2.27x     2.00x       106%  unsteady" \
    "scaling_report.py: no steady round is said"
expect 2 "scaling_report.py: before: not a time in ms: 20 x" "scaling_report.py: a word that is no time" \
    python3 bench/scaling_report.py steady 20 x -- 21 22
printf '20 22 | 11 21 22\n' >"$tmp/rounds"
expect 2 "scaling_report.py: round 1: expected 'BEFORE... | ALL | AFTER...', got: 20 22 | 11 21 22" \
    "scaling_report.py: a round without its second bar" sh -c 'python3 bench/scaling_report.py row m llvm <"$1"' _ "$tmp/rounds"

finish
