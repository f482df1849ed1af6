#!/usr/bin/env bash
# compile_time.sh — from .mmg to ready training and evaluation steps, for
# every study model: a cold start (empty code cache: parse, autodiff, plan,
# generate, optimize, compile both steps) and a warm one (the same again,
# the code read from the cache), wall clock, median of ROUNDS.
#
#   bash bench/compile_time.sh [ROUNDS] [THREADS]
#   e.g. bash bench/compile_time.sh 5 "1 2"
#
# THREADS (default "1 2") lists MMGC_THREADS values: with one thread each
# step is one module (the training and evaluation steps still compile at
# once, on two threads); with two, each step is cut into two modules that
# compile at once too. A cold start is ready with quick code (the LLVM
# backend's first tier); "optimized" is when the optimized code, compiled in
# the background, was ready too. "first steps" is the warm run's first training step
# and evaluation after that: the steps' memory is backed as the steps first
# write it, so that is where a start's memory is paid for. Needs a build
# (make). Each run uses a fresh temporary cache folder, never the user's.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
thread_counts=${2:-"1 2"}
models=(image_conv2net audio_conv1net multimodal_concat multimodal_add multimodal_mul multimodal_max
        multimodal_attention multimodal_gated multimodal_bilinear multimodal_factorized_bilinear)
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
echo "machine: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(nproc) cores; LLVM $(llvm-config-19 --version 2>/dev/null || echo 19)"
echo "seconds from .mmg to ready training and evaluation steps, median of $rounds"
header="| model |"; rule="|---|"
for t in $thread_counts; do
    header+=" cold, $t thread(s) | optimized | warm | first steps |"; rule+="---:|---:|---:|---:|"
done
echo "$header"; echo "$rule"
for m in "${models[@]}"; do
    row="| $m |"
    for t in $thread_counts; do
        cold=() optimized=() warm=() first=()
        for ((r = 0; r < rounds; r++)); do
            rm -rf "${cache:?}"/*
            out=$(MMGC_THREADS=$t MMGC_CACHE_DIR=$cache build/mmgc-bench-compile "models/$m.mmg")
            cold+=("$(awk '/^ready/ {print $2}' <<<"$out")")
            optimized+=("$(awk '/^optimized/ {print $2}' <<<"$out")")
            out=$(MMGC_THREADS=$t MMGC_CACHE_DIR=$cache build/mmgc-bench-compile "models/$m.mmg")
            warm+=("$(awk '/^ready/ {print $2}' <<<"$out")")
            first+=("$(awk '/^first steps/ {print $3}' <<<"$out")")
        done
        for col in cold optimized warm first; do
            declare -n values=$col
            row+=" $(printf '%s\n' "${values[@]}" | median) |"
        done
    done
    echo "$row"
done
