#!/bin/sh
# with_core.sh CORE PROGRAM [ARGS...] — runs a test program with OpenBLAS's
# CORE forced (OPENBLAS_CORETYPE), so that the checks of mmgc's own kernels
# against that core's sgemm, bit for bit, run whatever core the environment
# or the CPU would pick. Exits 77 (ctest: skipped, with the reason) where
# the CPU cannot run the core; the program itself skips where OpenBLAS
# does not take it (MMGC_TEST_BLAS_CORE).
core=$1
shift
case $core in
SkylakeX) need=avx512f ;;
Cooperlake) need=avx512_bf16 ;;
*)
    echo "with_core.sh: no such core: $core" >&2
    exit 2
    ;;
esac
if ! grep -qw "$need" /proc/cpuinfo; then
    echo "this CPU has no $need: OpenBLAS's $core core is not tested here"
    exit 77
fi
OPENBLAS_CORETYPE=$core MMGC_TEST_BLAS_CORE=$core exec "$@"
