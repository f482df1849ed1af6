/* fma_peak.c — the machine's single-precision FMA peak and memory
 * bandwidth (support/machine.h measures both), and OpenBLAS sgemm at the
 * study's shapes against the peak.
 *
 *   mmgc-bench-fma [--seconds S] [--peak-only]
 *
 * The peak and the copy bandwidth are measured on 1 thread and on one
 * thread per usable CPU, each pinned to its own CPU (the output says
 * "unpinned" if pinning failed); each is the best of short runs filling
 * about S seconds (default 0.6) for the peak, S/2 for the bandwidth: a
 * limit is what the machine can do, and a busy machine only ever takes
 * from it, so the runs other work did not interrupt are the ones that
 * count.
 *
 * Then cblas_sgemm (row-major, no transposes, beta 0) at the shapes of the
 * study's linear layers and convolutions-as-gemm, with OpenBLAS on 1 and
 * 2 threads, as GFLOP/s (2·M·N·K per call, best of the runs) and as a
 * share of the FMA peak on as many threads. The first lines name the CPU,
 * the vector width and the OpenBLAS core; bench/run.sh reads the lines
 * starting "peak" and "memory". Not a test.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas.h"
#include "machine.h"

#define MAX_CPUS 256

/* Seconds on the monotonic clock. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
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
    int cpus[MAX_CPUS], ncpu = machine_cpus(cpus, MAX_CPUS);
    char model[256];
    machine_cpu_model(model, sizeof model);
    printf("cpu: %s; %d cores usable; vector: %s; %d chains per thread\n", model, ncpu, machine_vector(),
           MACHINE_FMA_CHAINS);
    printf("OpenBLAS core: %s\n", blas_core());

    double pk[3] = {0, 0, 0}; /* by thread count: [1], [2] */
    int counts[2] = {1, ncpu}, nrun = ncpu > 1 ? 2 : 1;
    for (int i = 0; i < nrun; i++) {
        int pinned = 0;
        double g = machine_fma_peak(counts[i], secs, &pinned);
        if (counts[i] <= 2) pk[counts[i]] = g;
        printf("peak %d thread%s: %.1f GFLOP/s (%s)\n", counts[i], counts[i] > 1 ? "s" : "", g,
               pinned ? "pinned" : "unpinned");
    }
    for (int i = 0; i < nrun; i++) {
        int pinned = 0;
        double g = machine_bandwidth(counts[i], secs / 2, &pinned);
        printf("memory %d thread%s: %.1f GB/s copying (bytes read and written; %s)\n", counts[i],
               counts[i] > 1 ? "s" : "", g, pinned ? "pinned" : "unpinned");
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
