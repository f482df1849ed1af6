/* blas.h — which OpenBLAS kernels run, chosen before main() gets going.
 *
 * OpenBLAS 0.3.21 (Debian 12) does not recognise some newer CPUs (Sapphire
 * Rapids class) and falls back to its SSE3 "Prescott" kernels, although
 * its AVX-512 "SkylakeX" kernels work there. The library reads
 * OPENBLAS_CORETYPE once, when it is loaded, so the fix is to set it and
 * run the program again:
 *
 *   int main(int argc, char **argv) {
 *       blas_configure(argc, argv);   // first thing
 *       ...
 */
#ifndef MMGC_RT_BLAS_H
#define MMGC_RT_BLAS_H

/* The environment variable that marks a process as already re-executed. */
#define RT_BLAS_REEXEC_MARKER "MMGC_BLAS_REEXEC"

/* If OPENBLAS_CORETYPE is unset, OpenBLAS runs its "Prescott" kernels and
 * the CPU has AVX-512F: sets OPENBLAS_CORETYPE=SkylakeX and re-executes
 * /proc/self/exe with argv (once: RT_BLAS_REEXEC_MARKER guards against a
 * loop). Otherwise, or if exec fails, returns and changes nothing. A value
 * of OPENBLAS_CORETYPE that the user set is never overridden. */
void blas_configure(int argc, char **argv);

/* The core OpenBLAS runs ("Zen", "Haswell", "SkylakeX", "Prescott", ...). */
const char *blas_core(void);

/* Sets / gets the number of threads OpenBLAS uses (the tests compare
 * results across thread counts; the benchmark times them). */
void blas_set_threads(int n);
int blas_threads(void);

/* The decision of blas_configure as a pure function: the coretype to
 * re-execute with ("SkylakeX"), or NULL to leave things be. env is the
 * value of OPENBLAS_CORETYPE (NULL if unset), core the running core's
 * name, has_avx512 whether the CPU (and OS) support AVX-512F. */
const char *blas_coretype_choice(const char *env, const char *core, int has_avx512);

#endif
