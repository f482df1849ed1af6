/* blas.c — OpenBLAS core selection; see blas.h. */
#include "blas.h"

#include <cblas.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* 1 if the CPU has AVX-512F and the OS saves its registers (XCR0 bits 1,
 * 2, 5, 6, 7: SSE, AVX, opmask, ZMM0-15 high halves, ZMM16-31). */
static int cpu_has_avx512f(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6) != 0xE6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & bit_AVX512F) != 0;
#else
    return 0;
#endif
}

/* See blas.h: only an unset OPENBLAS_CORETYPE on an AVX-512 CPU that
 * OpenBLAS took for a Prescott is changed. */
const char *blas_coretype_choice(const char *env, const char *core, int has_avx512) {
    if (env || !core || !has_avx512) return NULL;
    return strcasecmp(core, "Prescott") == 0 ? "SkylakeX" : NULL;
}

/* See blas.h. */
void blas_configure(int argc, char **argv) {
    if (argc < 1 || !argv || getenv(RT_BLAS_REEXEC_MARKER)) return;
    const char *type =
        blas_coretype_choice(getenv("OPENBLAS_CORETYPE"), blas_core(), cpu_has_avx512f());
    if (!type) return;
    if (setenv("OPENBLAS_CORETYPE", type, 1) == 0 && setenv(RT_BLAS_REEXEC_MARKER, "1", 1) == 0)
        execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE"); /* exec failed: go on with the kernels we have */
}

/* The running core's name, as OpenBLAS reports it. */
const char *blas_core(void) { return openblas_get_corename(); }

/* OpenBLAS's thread count: set, get. */
void blas_set_threads(int n) { openblas_set_num_threads(n); }
int blas_threads(void) { return openblas_get_num_threads(); }
