#!/usr/bin/env bash
# ab.sh — the training step of a git revision (A) against the working
# tree (B), kernel by kernel, on a machine whose speed drifts.
#
#   bash bench/ab.sh REV [MODEL] [ROUNDS] [STEPS] [REF] [THREADS]
#   e.g. bash bench/ab.sh HEAD~1 image_conv2net 3 60
#        bash bench/ab.sh main multimodal_gated 3 20 conv1d_grad_weight 2
#
# A shared virtual machine can run a quarter slower from one minute to
# the next, so two step times taken apart say little about a change of a
# few percent. This script builds REV in a temporary worktree, then runs
# `mmgc-bench-step --profile` on THREADS threads (default 1) pinned to
# the first CPUs, A and B in turn ROUNDS times, and divides every time by
# the time of a reference kernel of the same run: the largest whose op
# ends with REF (default grad_weight: a convolution's weight gradient),
# which the change under test should leave alone (pick another REF if it
# does not). The machine's drift cancels in those ratios; what is left is
# the change. It prints each run's step and reference times, then each
# .mmg line's time as a share of the reference, A and B (median of the
# rounds), and the whole step's. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
# are unset for both sides, as in run.sh. B is the build in build/ (it is
# rebuilt first).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
rev=$1
model=${2:-image_conv2net}
rounds=${3:-3}
steps=${4:-40}
ref=${5:-grad_weight}
threads=${6:-1}
[ -f "models/$model.mmg" ] || { echo "ab.sh: no model models/$model.mmg" >&2; exit 2; }
count() { # NAME VALUE: a positive count, or the usage error
    case $2 in '' | *[!0-9]* | 0*) echo "ab.sh: $1 must be a positive count, not '$2'" >&2; exit 2 ;; esac
}
count ROUNDS "$rounds"
count STEPS "$steps"
count THREADS "$threads"
[ "$threads" -le "$(nproc)" ] || { echo "ab.sh: THREADS $threads is more than the $(nproc) CPUs" >&2; exit 2; }
git rev-parse --verify --quiet "$rev^{commit}" >/dev/null || { echo "ab.sh: no revision $rev" >&2; exit 2; }
tmp=$(mktemp -d)
cleanup() { git worktree remove --force "$tmp/a" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
echo "building $rev ($(git rev-parse --short "$rev")) in a temporary worktree, and build/"
git worktree add --detach --quiet "$tmp/a" "$rev"
cmake -S "$tmp/a" -B "$tmp/a/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/a/build" --target mmgc-bench-step -j "$(nproc)" >/dev/null
cmake --build build --target mmgc-bench-step -j "$(nproc)" >/dev/null
files=()
for ((r = 1; r <= rounds; r++)); do
    for side in A B; do
        bin=build/mmgc-bench-step
        [ "$side" = A ] && bin=$tmp/a/build/mmgc-bench-step
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE MMGC_THREADS="$threads" taskset -c "0-$((threads - 1))" "$bin" "models/$model.mmg" \
            --backend=llvm --steps "$steps" --profile="$tmp/$side$r.json" >/dev/null
        files+=("$side=$tmp/$side$r.json")
    done
done
echo "machine: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1); $threads thread(s) pinned to CPUs 0-$((threads - 1)), $steps steps a run"
python3 bench/ab_report.py "$model" "$ref" "${files[@]}"
