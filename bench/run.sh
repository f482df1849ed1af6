#!/usr/bin/env bash
# run.sh — training-step time of every study model: mmgc (each backend) and
# PyTorch side by side, in one run on this machine, with the ratio.
#
#   bash bench/run.sh [STEPS] [BACKENDS]      e.g. bash bench/run.sh 20 "interp llvm"
#
# Needs a build (make) and Debian's python3-torch (apt-get install
# python3-torch); PyTorch runs with torch.set_num_threads(2). Ratios above
# 1 mean mmgc is slower than PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-20}
backends=${2:-interp}
py=/usr/bin/python3
models=(image_conv2net audio_conv1net multimodal_concat multimodal_add multimodal_mul multimodal_max
        multimodal_attention multimodal_gated multimodal_bilinear multimodal_factorized_bilinear)

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem/ {print $2}') GiB"
echo "PyTorch $($py -c 'import torch; print(torch.__version__)'), batch 64, $steps steps (median)"
printf '%-32s %12s' model "pytorch ms"
for b in $backends; do printf ' %12s %8s' "$b ms" "ratio"; done
echo
for m in "${models[@]}"; do
    t=$($py bench/torch_step.py "$m" --steps "$steps" | awk '{print $1}')
    printf '%-32s %12s' "$m" "$t"
    for b in $backends; do
        s=$(build/mmgc-bench-step "models/$m.mmg" --backend="$b" --steps "$steps" | awk '{print $1}')
        printf ' %12s %8s' "$s" "$(awk -v a="$s" -v b="$t" 'BEGIN {printf "%.2f", a / b}')"
    done
    echo
done
