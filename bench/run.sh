#!/usr/bin/env bash
# run.sh — training-step time and peak memory of every study model: mmgc
# (each backend) and PyTorch side by side, in one run on this machine, with
# the time ratio.
#
#   bash bench/run.sh [STEPS] [BACKENDS] [ROUNDS] [THREADS] [STEP]
#   e.g. bash bench/run.sh 20 "interp llvm aot" 3 "1 2"
#        bash bench/run.sh 20 llvm 3 2 eval
#
# MODELS="image_conv2net audio_conv1net" in the environment limits the
# tables to those models (default: every study model).
#
# STEP is "train" (default: forward, loss, backward, Adam) or "eval" (the
# evaluation step: forward and loss, dropout off, no gradients; PyTorch in
# eval mode under no_grad).
#
# THREADS (default: every core) lists thread counts: a table for each, both
# sides on that many threads (MMGC_THREADS for mmgc, torch.set_num_threads
# for PyTorch; fewer threads than cores pinned to the first CPUs with
# taskset), set against the FMA peak on as many threads; with two or
# more counts a last table gives each model's speedup over the first count,
# beside the most the cores allow (each core's own speed at
# multimodal_gated's step, measured before and after the tables: cores
# may differ); with 1 and every core among them, a last table times each
# model on one thread pinned to each CPU, then on all cores, then on each
# CPU again, one right after the other, keeps the rounds in which each
# CPU's two times agree, and gives the speedup over the first CPU and
# over the fastest, and the share of a perfect split over the cores at
# the speeds just measured (bench/scaling_report.py).
#
# Backend "aot" is the model compiled into a standalone program (mmgc --aot,
# built once per model before timing) running `PROGRAM bench`: the same
# timing loop (runtime/bench_step.c) as the other backends.
#
# Each round runs every side once (PyTorch, then each backend) and reports
# the median of STEPS steps; a model's figure is the median over ROUNDS
# rounds, so that a burst of other work on the machine moves one round,
# not the result. Needs a build (make) and Debian's python3-torch, which
# it installs if missing (scripts/install-deps.sh bench); PyTorch runs on as many threads as the
# table's. Ratios above 1 mean mmgc is slower than
# PyTorch. Memory is each process's peak resident set (MiB, the last
# round's), interpreter and libraries included.
#
# First the machine's FMA peak (build/mmgc-bench-fma: 1 thread and all
# cores, threads pinned, widest vectors the CPU has), its memory bandwidth
# (copying; the header's machine line states both) and OpenBLAS sgemm at
# the study's shapes. Every side runs without OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE, so OpenBLAS picks its kernels itself (mmgc may still
# pick SkylakeX on AVX-512 CPUs OpenBLAS misreads: support/blas.h); the
# kernel each side ran is printed. Per backend, GFLOP/s is 3 × the forward
# FLOPs per sample (`mmgc --summary`) × the batch per step — forward,
# backward of the activations and of the weights, Adam and the rest not
# counted — and "peak" its share of the measured FMA peak on the table's
# thread count.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-20}
backends=${2:-llvm}
rounds=${3:-3}
thread_counts=${4:-$(nproc)}
stage=${5:-train}
case $stage in
train) eval_flag= flop_factor=3 ;;
eval) eval_flag=--eval flop_factor=1 ;;
*) echo "run.sh: STEP is train or eval, not '$stage'" >&2; exit 2 ;;
esac
# the arguments checked before anything is measured
count() { [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: $1 must be a positive count, not '$2'" >&2; exit 2; }; }
count STEPS "$steps"
count ROUNDS "$rounds"
for t in $thread_counts; do count THREADS "$t"; done
[ -n "${thread_counts// /}" ] || { echo "run.sh: THREADS lists no thread count" >&2; exit 2; }
for b in $backends; do
    case $b in llvm | interp) ;; *) echo "run.sh: BACKENDS are llvm and interp, not '$b'" >&2; exit 2 ;; esac
done
py=/usr/bin/python3
bash scripts/install-deps.sh bench
models=(image_conv2net audio_conv1net multimodal_concat multimodal_add multimodal_mul multimodal_max
        multimodal_attention multimodal_gated multimodal_bilinear multimodal_factorized_bilinear)
if [ -n "${MODELS:-}" ]; then # MODELS="image_conv2net audio_conv1net": those rows only
    for m in $MODELS; do
        [ -f "models/$m.mmg" ] || { echo "run.sh: no model models/$m.mmg (MODELS)" >&2; exit 2; }
    done
    read -r -a models <<< "$MODELS"
fi

# commands run without the OpenBLAS overrides of the caller's environment
clean=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
# median of the numbers on standard input
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

fma=$("${clean[@]}" build/mmgc-bench-fma)
echo "$fma"
echo
cores=$(nproc)
peak1=$(awk '/^peak 1 thread:/ {print $4}' <<<"$fma")
peakn=$(awk '/^peak [0-9]+ threads:/ {print $4}' <<<"$fma")
# the FMA peak on $1 threads: the 1-thread figure, or the all-cores one
peak_of() { if [ "$1" -le 1 ] || [ -z "$peakn" ]; then echo "$peak1"; else echo "$peakn"; fi; }
mem1=$(awk '/^memory 1 thread:/ {print $4}' <<<"$fma")
memn=$(awk '/^memory [0-9]+ threads:/ {print $4}' <<<"$fma")
cpu=$(sed -n 's/^cpu: \([^;]*\);.*vector: \([^;]*\);.*/\1, vector \2/p' <<<"$fma")
echo "machine: $cpu, $cores cores, $(free -g | awk '/Mem/ {print $2}') GiB; FMA peak $peak1 GFLOP/s on 1 thread, ${peakn:-$peak1} on $cores;" \
     "memory $mem1 GB/s on 1 thread, ${memn:-$mem1} on $cores (copying)"
# Runs on fewer threads than cores are pinned to the first CPUs (both
# sides): cores of a virtual machine may differ in speed (on the README's
# machine either core has run the training step up to 1.4x slower than
# the other at times), and an unpinned one-thread run lands on either.
pin_of() { if [ "$1" -lt "$cores" ] && command -v taskset >/dev/null; then echo "taskset -c 0-$(($1 - 1))"; fi; }
# Each core's own speed at the gated model's step, one thread pinned to
# it, before the tables and after them (a core's speed may change within
# minutes); how much two or more threads can gain over the first core,
# whatever the code does, is the sum of the cores' speeds over the first's.
core_speeds() {
    [ "$cores" -gt 1 ] && command -v taskset >/dev/null && [ "$stage" = train ] || return 0
    local c out ms=()
    for ((c = 0; c < cores; c++)); do
        out=$(taskset -c "$c" "${clean[@]}" MMGC_THREADS=1 build/mmgc-bench-step \
                  models/multimodal_gated.mmg --backend=llvm --steps "$steps")
        ms+=("${out%% *}")
    done
    core_bound=$(printf '%s\n' "${ms[@]}" | awk 'NR == 1 {t0 = $1} {s += t0 / $1} END {printf "%.2f", s}')
    echo "cores ($1): multimodal_gated's step on one thread pinned to each CPU: ${ms[*]} ms;" \
         "all $cores together can be at most ${core_bound}x the first"
}
core_speeds "before the tables"
echo "OpenBLAS kernels: mmgc $("${clean[@]}" build/mmgc-bench-step --blas-core)," \
     "PyTorch $("${clean[@]}" $py bench/torch_step.py --blas-core) (its linear layers; convolutions run oneDNN)"
echo "PyTorch $($py -c 'import torch; print(torch.__version__)'), batch 64, median of $rounds rounds of $steps steps (each a median)"
echo "$stage step; GFLOP/s = $flop_factor x forward FLOPs x batch / step time; peak = its share of the FMA peak on the table's threads"
progs=$(mktemp -d)
trap 'rm -rf "$progs"' EXIT
if [[ " $backends " == *" aot "* ]]; then
    for m in "${models[@]}"; do build/mmgc "models/$m.mmg" --aot -o "$progs/$m"; done
fi
# one backend's step time: "MS ms/step MIB MiB ..."
step() {
    if [ "$1" = aot ]; then $pin "${clean[@]}" MMGC_THREADS="$threads" "$progs/$2" bench --steps "$steps" $eval_flag
    else $pin "${clean[@]}" MMGC_THREADS="$threads" build/mmgc-bench-step "models/$2.mmg" --backend="$1" --steps "$steps" $eval_flag; fi
}
# FLOPs of one step: flop_factor (3 for training, 1 for evaluation) x the forward FLOPs --summary prints
step_flops() {
    build/mmgc "models/$1.mmg" --summary | awk -v k="$flop_factor" '
        /^model .*\(batch [0-9]+\)/ { b = $NF; sub(/\)/, "", b) }
        /^forward FLOPs per sample:/ {
            v = $5; u = $6
            m = u ~ /^G/ ? 1e9 : u ~ /^M/ ? 1e6 : u ~ /^k/ ? 1e3 : 1
            f = v * m
        }
        END { printf "%.0f\n", k * f * b }'
}
declare -A first_ms=()
speedups=""
for threads in $thread_counts; do
    peak=$(peak_of "$threads")
    pin=$(pin_of "$threads")
    echo
    echo "$threads thread(s), FMA peak $peak GFLOP/s${pin:+; both sides run under $pin}"
    printf '%-32s %11s %8s' model "pytorch ms" "MiB"
    for b in $backends; do printf ' %11s %8s %6s %8s %6s' "$b ms" "MiB" "ratio" "GFLOP/s" "peak"; done
    echo
    for m in "${models[@]}"; do
        declare -A ms=() mem=()
        for ((r = 0; r < rounds; r++)); do
            # $(...) waits for the process to end: PyTorch's OpenMP threads spin on
            # both cores for a while after its last line, and `read < <(...)`
            # started the next side beside them (Conv2Net's 2-thread step
            # measured 38-45 ms that way, 20-27 ms alone)
            out=$($pin "${clean[@]}" $py bench/torch_step.py "$m" --steps "$steps" --threads "$threads" $eval_flag)
            read -r t _ tm _ <<<"$out"
            ms[torch]+="$t " mem[torch]=$tm
            for b in $backends; do
                out=$(step "$b" "$m")
                read -r s _ sm _ <<<"$out"
                ms[$b]+="$s " mem[$b]=$sm
            done
        done
        flops=$(step_flops "$m")
        t=$(tr ' ' '\n' <<<"${ms[torch]}" | grep . | median)
        printf '%-32s %11.2f %8s' "$m" "$t" "${mem[torch]}"
        for b in $backends; do
            s=$(tr ' ' '\n' <<<"${ms[$b]}" | grep . | median)
            printf ' %11.2f %8s %6s' "$s" "${mem[$b]}" "$(awk -v a="$s" -v b="$t" 'BEGIN {printf "%.2f", a / b}')"
            awk -v f="$flops" -v ms="$s" -v p="$peak" 'BEGIN {g = f / (ms * 1e6); printf " %8.1f %5.0f%%", g, 100 * g / p}'
            key="$m/$b"
            if [ -z "${first_ms[$key]:-}" ]; then first_ms[$key]=$s
            else speedups+="$m $b $threads $(awk -v a="${first_ms[$key]}" -v b="$s" 'BEGIN {printf "%.2f", a / b}')"$'\n'; fi
        done
        echo
        unset ms mem
    done
done
echo
core_speeds "after the tables"
if [ -n "$speedups" ]; then
    echo
    echo "speedup over $(set -- $thread_counts; echo "$1") thread(s) (the FMA peak's own: $(awk -v a="$peak1" -v b="${peakn:-$peak1}" 'BEGIN {printf "%.2f", b / a}') on $cores${core_bound:+; the cores allow at most ${core_bound} after the tables})"
    printf '%-32s %8s %8s %8s\n' model backend threads speedup
    printf '%s' "$speedups" | while read -r m b th x; do printf '%-32s %8s %8s %7sx\n' "$m" "$b" "$th" "$x"; done
fi

# Scaling at one moment: the speedups above divide runs minutes apart,
# and a core's speed may change in between. Here each round times every
# backend's one-thread step pinned to each CPU, then its step on all
# cores, then each CPU again, one right after the other; a round counts
# only if each CPU's two times agree within a tenth (the all-core run
# then ran on cores at the speeds around it), and rounds go on, up to
# twice ROUNDS, until ROUNDS of them are steady. bench/scaling_report.py
# makes the row: the speedup over the first CPU and over the fastest one
# (over the first alone, a slow first core flatters the all-core step),
# and "of cores", the all-core step against a perfect split of the work
# over the cores at the speeds just measured (1 / the sum of 1 / each
# core's time), medians over the steady rounds, and how many were
# steady. Only with "1" and the core count among THREADS, and taskset.
if [ "$cores" -gt 1 ] && command -v taskset >/dev/null && [[ " $thread_counts " == *" 1 "* ]] &&
   [[ " $thread_counts " == *" $cores "* ]]; then
    echo
    echo "scaling at one moment (each round: one thread pinned to each CPU, then $cores threads, then each CPU again; medians of the steady rounds: each CPU's two times within 10%)"
    printf '%-32s %8s %20s %11s %8s %9s %10s %9s\n' model backend "1 thread ms by CPU" "$cores threads" speedup "fastest" "of cores" "steady"
    # each CPU's one-thread step time, one after the other
    per_cpu() {
        local c out
        for ((c = 0; c < cores; c++)); do
            out=$(pin="taskset -c $c" threads=1; step "$1" "$2")
            printf '%s ' "${out%% *}"
        done
    }
    for m in "${models[@]}"; do
        for b in $backends; do
            [ "$b" = interp ] && continue
            log="" steady=0
            for ((r = 0; r < 2 * rounds && steady < rounds; r++)); do
                before=$(per_cpu "$b" "$m")
                out=$(pin="" threads=$cores; step "$b" "$m")
                after=$(per_cpu "$b" "$m")
                log+="$before| ${out%% *} | $after"$'\n'
                # shellcheck disable=SC2086 # one word per time
                if $py bench/scaling_report.py steady $before -- $after; then steady=$((steady + 1)); fi
            done
            printf '%s' "$log" | $py bench/scaling_report.py row "$m" "$b"
        done
    done
fi
