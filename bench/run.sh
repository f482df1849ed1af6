#!/usr/bin/env bash
# run.sh — training-step time and peak memory of every study model: mmgc
# (each backend) and PyTorch side by side, in one run on this machine, with
# the time ratio.
#
#   bash bench/run.sh [STEPS] [BACKENDS] [ROUNDS]   e.g. bash bench/run.sh 20 "interp llvm aot" 3
#
# Backend "aot" is the model compiled into a standalone program (mmgc --aot,
# built once per model before timing) running `PROGRAM bench`: the same
# timing loop (runtime/bench_step.c) as the other backends.
#
# Each round runs every side once (PyTorch, then each backend) and reports
# the median of STEPS steps; a model's figure is the median over ROUNDS
# rounds, so that a burst of other work on the machine moves one round,
# not the result. Needs a build (make) and Debian's python3-torch
# (apt-get install python3-torch); PyTorch runs with
# torch.set_num_threads(2). Ratios above 1 mean mmgc is slower than
# PyTorch. Memory is each process's peak resident set (MiB, the last
# round's), interpreter and libraries included.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-20}
backends=${2:-llvm}
rounds=${3:-3}
py=/usr/bin/python3
models=(image_conv2net audio_conv1net multimodal_concat multimodal_add multimodal_mul multimodal_max
        multimodal_attention multimodal_gated multimodal_bilinear multimodal_factorized_bilinear)

# median of the numbers on standard input
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem/ {print $2}') GiB"
echo "PyTorch $($py -c 'import torch; print(torch.__version__)'), batch 64, median of $rounds rounds of $steps steps (each a median)"
printf '%-32s %11s %8s' model "pytorch ms" "MiB"
for b in $backends; do printf ' %11s %8s %6s' "$b ms" "MiB" "ratio"; done
echo
progs=$(mktemp -d)
trap 'rm -rf "$progs"' EXIT
if [[ " $backends " == *" aot "* ]]; then
    for m in "${models[@]}"; do build/mmgc "models/$m.mmg" --aot -o "$progs/$m"; done
fi
# one backend's step time: "MS ms/step MIB MiB ..."
step() {
    if [ "$1" = aot ]; then "$progs/$2" bench --steps "$steps"
    else build/mmgc-bench-step "models/$2.mmg" --backend="$1" --steps "$steps"; fi
}
for m in "${models[@]}"; do
    declare -A ms=() mem=()
    for ((r = 0; r < rounds; r++)); do
        read -r t _ tm _ < <($py bench/torch_step.py "$m" --steps "$steps")
        ms[torch]+="$t " mem[torch]=$tm
        for b in $backends; do
            read -r s _ sm _ < <(step "$b" "$m")
            ms[$b]+="$s " mem[$b]=$sm
        done
    done
    t=$(tr ' ' '\n' <<<"${ms[torch]}" | grep . | median)
    printf '%-32s %11.2f %8s' "$m" "$t" "${mem[torch]}"
    for b in $backends; do
        s=$(tr ' ' '\n' <<<"${ms[$b]}" | grep . | median)
        printf ' %11.2f %8s %6s' "$s" "${mem[$b]}" "$(awk -v a="$s" -v b="$t" 'BEGIN {printf "%.2f", a / b}')"
    done
    echo
    unset ms mem
done
