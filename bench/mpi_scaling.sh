#!/usr/bin/env bash
# mpi_scaling.sh — data-parallel training on one machine: one process with
# 2 threads against 2 processes (mpirun -np 2) with 1 thread each, one
# epoch of each model, in training samples/s, with the all-reduce time per
# step (mmgc --time). The figures behind the README's "Past one machine";
# about 20 minutes for the ten study models on a quiet 2-core machine.
#
#   bash bench/mpi_scaling.sh DATA_DIR [MODELS]   e.g. bash bench/mpi_scaling.sh data/digits
#
# Needs a build with MPI (build/mmgc, Open MPI's mpirun). Prints one line
# per model and configuration: samples/s of the epoch, the all-reduce
# milliseconds per step and MiB per step; then the README's scaling model
# for 8 and 64 nodes computed from them (bench/scaling_model.py).
set -euo pipefail
data=${1:?usage: mpi_scaling.sh DATA_DIR [MODELS]}
models=${2:-"image_conv2net audio_conv1net multimodal_concat multimodal_add multimodal_mul multimodal_max
multimodal_attention multimodal_gated multimodal_bilinear multimodal_factorized_bilinear"}
mmgc=${MMGC:-build/mmgc}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# OpenBLAS picks its own kernels, as in bench/run.sh (this script's environment only)
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# samples/s: the epoch's training samples over its training seconds (--time)
rate() {
    local n t
    n=$(sed -n 's/^training [^:]*: \([0-9]*\) samples.*/\1/p' "$1")
    t=$(sed -n 's/^time: load .* train \([0-9.]*\) s,.*/\1/p' "$1")
    awk -v n="$n" -v t="$t" 'BEGIN { printf "%.1f", n / t }'
}
# a field of the data-parallel --time line: "gradients", "rank", "MiB", "update"
field() { sed -n "s/^time: data parallel.* $2 \([0-9.]*\) ms.*/\1/p" "$1"; }

echo "machine: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores; $("$mmgc" --version)"
{
printf '%-18s %-24s %9s %9s %9s %9s %9s %8s\n' model config samples/s "grad ms" "wait ms" "sum ms" "upd ms" MiB
for m in $models; do
    MMGC_THREADS=2 OPENBLAS_NUM_THREADS=2 "$mmgc" "models/$m.mmg" --train --data "$data" --set max_epochs=1 --time \
        >"$out/one.txt" 2>/dev/null
    printf '%-18s %-24s %9s %9s %9s %9s %9s %8s\n' "$m" "1 process x 2 threads" "$(rate "$out/one.txt")" - - - - -
    mpirun --oversubscribe -np 2 -x MMGC_THREADS=1 -x OPENBLAS_NUM_THREADS=1 "$mmgc" "models/$m.mmg" --train \
        --data "$data" --set max_epochs=1 --time >"$out/two.txt" 2>/dev/null
    mib=$(sed -n 's/^time: data parallel.* all-reduce of \([0-9.]*\) MiB.*/\1/p' "$out/two.txt")
    printf '%-18s %-24s %9s %9s %9s %9s %9s %8s\n' "$m" "2 processes x 1 thread" "$(rate "$out/two.txt")" \
        "$(field "$out/two.txt" gradients)" "$(field "$out/two.txt" rank)" "$(field "$out/two.txt" MiB)" \
        "$(field "$out/two.txt" update)" "$mib"
done
} | tee "$out/table.txt"
echo
python3 "$(dirname "$0")/scaling_model.py" <"$out/table.txt"
