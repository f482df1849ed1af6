/* fma_peak.c — the machine's single-precision FMA peak, and OpenBLAS sgemm
 * at the study's shapes against it.
 *
 *   mmgc-bench-fma [--seconds S] [--peak-only]
 *
 * The peak: each thread runs CHAINS independent chains acc = acc * m + a of
 * the widest vectors the CPU has (AVX-512F, else AVX2 + FMA3, else SSE2
 * multiply and add), so that the FMA latency is hidden and the FMA units
 * are the limit; 2 flops per lane per FMA. Measured on 1 thread and on one
 * thread per online CPU, each thread pinned to its own CPU (the output
 * says "unpinned" if pinning failed). Each figure is the best of RUNS runs
 * of about S/RUNS seconds (default S = 0.6): a peak is what the machine can
 * do, and a busy machine only ever takes from it, so short runs that other
 * work did not interrupt are the ones that count.
 *
 * Then cblas_sgemm (row-major, no transposes, beta 0) at the shapes of the
 * study's linear layers and convolutions-as-gemm, with OpenBLAS on 1 and
 * 2 threads, as GFLOP/s (2·M·N·K per call, best of the runs) and as a
 * share of the FMA peak on as many threads. The first lines name the CPU,
 * the vector width and the OpenBLAS core; bench/run.sh reads the lines
 * starting "peak".
 *
 * The kernels carry target attributes and are picked at run time with
 * __builtin_cpu_supports, so the program runs on any x86-64. Not a test.
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blas.h"

#define CHAINS 12   /* independent accumulators per thread (latency 4 × 2 pipes = 8 needed) */
#define UNROLL 16   /* FMA rounds per loop iteration (CHAINS FMAs each) */
#define MAX_THREADS 256
#define RUNS 15     /* peak runs per thread count; the best counts */

/* One vector kernel: runs iters × UNROLL rounds of CHAINS FMAs, returns a
 * sum of the accumulators (so the loop cannot be dropped). */
typedef float (*fma_kernel)(long iters);

/* The multiplier and addend of the chains; volatile so that the compiler
 * cannot fold the chains into closed forms. acc converges to a / (1 - m),
 * never overflowing and never denormal. */
static volatile float chain_m = 0.999999f, chain_a = 1e-6f;

/* AVX-512F: 16 lanes per FMA. Contract: see fma_kernel. */
__attribute__((target("avx512f"))) static float fma_avx512(long iters) {
    __m512 m = _mm512_set1_ps(chain_m), a = _mm512_set1_ps(chain_a), acc[CHAINS];
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_set1_ps((float)c);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 4
        for (int u = 0; u < UNROLL; u++) {
#pragma GCC unroll 12
            for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_fmadd_ps(acc[c], m, a);
        }
    }
    __m512 s = acc[0];
    for (int c = 1; c < CHAINS; c++) s = _mm512_add_ps(s, acc[c]);
    return _mm512_reduce_add_ps(s);
}

/* AVX2 + FMA3: 8 lanes per FMA. Contract: see fma_kernel. */
__attribute__((target("avx2,fma"))) static float fma_avx2(long iters) {
    __m256 m = _mm256_set1_ps(chain_m), a = _mm256_set1_ps(chain_a), acc[CHAINS];
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_set1_ps((float)c);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 4
        for (int u = 0; u < UNROLL; u++) {
#pragma GCC unroll 12
            for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_fmadd_ps(acc[c], m, a);
        }
    }
    __m256 s = acc[0];
    for (int c = 1; c < CHAINS; c++) s = _mm256_add_ps(s, acc[c]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

/* SSE2, no FMA: a multiply and an add (counted as one FMA) on 4 lanes.
 * Contract: see fma_kernel. */
__attribute__((target("sse2"))) static float fma_sse2(long iters) {
    __m128 m = _mm_set1_ps(chain_m), a = _mm_set1_ps(chain_a), acc[CHAINS];
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm_set1_ps((float)c);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 4
        for (int u = 0; u < UNROLL; u++) {
#pragma GCC unroll 12
            for (int c = 0; c < CHAINS; c++) acc[c] = _mm_add_ps(_mm_mul_ps(acc[c], m), a);
        }
    }
    __m128 s = acc[0];
    for (int c = 1; c < CHAINS; c++) s = _mm_add_ps(s, acc[c]);
    float out[4];
    _mm_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3];
}

/* The widest kernel the CPU runs, its name and its lanes. */
typedef struct {
    fma_kernel run;
    const char *name;
    int lanes;
} Kernel;

/* Picks the kernel by CPU features (AVX-512F, else AVX2 + FMA, else SSE2). */
static Kernel pick_kernel(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return (Kernel){fma_avx512, "AVX-512 (512-bit, 16 f32 lanes)", 16};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (Kernel){fma_avx2, "AVX2+FMA3 (256-bit, 8 f32 lanes)", 8};
    return (Kernel){fma_sse2, "SSE2 mul+add, no FMA (128-bit, 4 f32 lanes)", 4};
}

/* Seconds on the monotonic clock. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* What one thread of a peak run gets and gives back. */
typedef struct {
    Kernel k;
    long iters;
    int cpu;                  /* CPU to pin to, -1: none */
    int pinned;               /* out: 1 if pinning succeeded */
    pthread_barrier_t *start; /* all threads start together */
    volatile float sink;      /* out: the kernel's result */
} Worker;

/* Thread body: pins itself to w->cpu, waits at the barrier, runs the kernel. */
static void *worker(void *arg) {
    Worker *w = arg;
    if (w->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(w->cpu, &set);
        w->pinned = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
    }
    pthread_barrier_wait(w->start);
    w->sink = w->k.run(w->iters);
    return NULL;
}

/* The CPUs this process may run on, in order, into cpus (at most max);
 * returns how many. */
static int allowed_cpus(int *cpus, int max) {
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set)) cpus[n++] = c;
    return n;
}

/* GFLOP/s of nthreads threads (pinned to cpus[0..nthreads) if cpus is not
 * NULL) each running k for iters iterations: wall time from before the
 * threads are made to after the last one ends. *pinned is set to 1 if
 * every thread was pinned. */
static double peak_run(Kernel k, int nthreads, const int *cpus, long iters, int *pinned) {
    pthread_t tid[MAX_THREADS];
    Worker w[MAX_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)nthreads + 1);
    for (int t = 0; t < nthreads; t++) {
        w[t] = (Worker){.k = k, .iters = iters, .cpu = cpus ? cpus[t] : -1, .start = &start};
        pthread_create(&tid[t], NULL, worker, &w[t]);
    }
    pthread_barrier_wait(&start);
    double t0 = now();
    for (int t = 0; t < nthreads; t++) pthread_join(tid[t], NULL);
    double dt = now() - t0;
    pthread_barrier_destroy(&start);
    *pinned = 1;
    for (int t = 0; t < nthreads; t++) *pinned &= w[t].pinned;
    return 2.0 * k.lanes * CHAINS * UNROLL * (double)iters * nthreads / dt / 1e9;
}

/* The best GFLOP/s of RUNS runs on nthreads pinned threads, each run
 * about secs seconds. *pinned as in peak_run (of the last run). */
static double peak(Kernel k, int nthreads, const int *cpus, double secs, int *pinned) {
    long iters = 1000;
    double t0 = now();
    k.run(iters); /* calibrate on one thread */
    double dt = now() - t0;
    iters = (long)(iters * secs / (dt > 1e-6 ? dt : 1e-6));
    if (iters < 1000) iters = 1000;
    double best = 0;
    for (int r = 0; r < RUNS; r++) {
        double g = peak_run(k, nthreads, cpus, iters, pinned);
        if (g > best) best = g;
    }
    return best;
}

/* One sgemm shape of the study. */
typedef struct {
    const char *what;
    int m, n, k;
} Shape;

static const Shape shapes[] = {
    {"conv1net linear, forward", 64, 128, 32000},
    {"conv1net linear, weight grad", 32000, 128, 64},
    {"conv2net linear, forward", 64, 128, 1600},
    {"conv1d_2 as gemm (1 sample)", 64, 500, 800},
    {"conv2d_2 as gemm (4 samples)", 64, 484, 288},
    {"fusion / head (bilinear 256x256)", 64, 256, 256},
};

/* Best GFLOP/s of cblas_sgemm C[m,n] = A[m,k] B[k,n] on OpenBLAS's current
 * thread count, over runs filling about secs seconds (at least 3). */
static double sgemm_gflops(const Shape *s, double secs) {
    size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0;
    }
    for (size_t i = 0; i < na; i++) a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < nb; i++) b[i] = (float)(i % 5) * 0.1f;
    double best = 1e30, spent = 0;
    for (int r = 0; r < 1000 && (r < 3 || spent < secs); r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->m, s->n, s->k, 1.0f, a, s->k, b,
                    s->n, 0.0f, c, s->n);
        double dt = now() - t0;
        spent += dt;
        if (dt < best) best = dt;
    }
    free(a), free(b), free(c);
    return 2.0 * s->m * s->n * (double)s->k / best / 1e9;
}

/* The CPU's model name from /proc/cpuinfo into buf ("unknown" if none). */
static void cpu_model(char *buf, size_t size) {
    snprintf(buf, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            char *v = strchr(line, ':') + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = 0;
            snprintf(buf, size, "%s", v);
            break;
        }
    if (f) fclose(f);
}

int main(int argc, char **argv) {
    blas_configure(argc, argv);
    double secs = 0.6;
    int peak_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) secs = atof(argv[++i]);
        else if (!strcmp(argv[i], "--peak-only")) peak_only = 1;
        else {
            fprintf(stderr, "usage: mmgc-bench-fma [--seconds S] [--peak-only]\n");
            return 2;
        }
    }
    if (secs <= 0) secs = 0.6;
    Kernel k = pick_kernel();
    int cpus[MAX_THREADS], ncpu = allowed_cpus(cpus, MAX_THREADS);
    if (ncpu < 1) ncpu = 1;
    char model[256];
    cpu_model(model, sizeof model);
    printf("cpu: %s; %d cores usable; vector: %s; %d chains per thread\n", model, ncpu, k.name, CHAINS);
    printf("OpenBLAS core: %s\n", blas_core());

    double pk[3] = {0, 0, 0}; /* by thread count: [1], [2] */
    int counts[2] = {1, ncpu}, nrun = ncpu > 1 ? 2 : 1;
    for (int i = 0; i < nrun; i++) {
        int pinned = 0;
        double g = peak(k, counts[i], cpus, secs / RUNS, &pinned);
        if (counts[i] <= 2) pk[counts[i]] = g;
        printf("peak %d thread%s: %.1f GFLOP/s (%s)\n", counts[i], counts[i] > 1 ? "s" : "", g,
               pinned ? "pinned" : "unpinned");
    }
    if (peak_only) return 0;

    printf("%-34s %6s %6s %6s %14s %14s\n", "sgemm (row-major, A·B)", "M", "N", "K", "1 thread", "2 threads");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const Shape *s = &shapes[i];
        printf("%-34s %6d %6d %6d", s->what, s->m, s->n, s->k);
        for (int t = 1; t <= 2; t++) {
            if (t > ncpu) {
                printf(" %14s", "-");
                continue;
            }
            blas_set_threads(t);
            double g = sgemm_gflops(s, secs / 10);
            printf(" %7.1f (%3.0f%%)", g, pk[t] > 0 ? 100 * g / pk[t] : 0);
        }
        printf("\n");
    }
    printf("sgemm: GFLOP/s (share of the FMA peak on as many threads), best of the runs\n");
    return 0;
}
