/* machine.c — the FMA peak and the memory bandwidth (machine.h).
 *
 * The peak: each thread runs CHAINS independent chains acc = acc * m + a
 * of the widest vectors the CPU has (AVX-512F, else AVX2 + FMA3, else SSE2
 * multiply and add), so that the FMA latency is hidden and the FMA units
 * are the limit; 2 flops per lane per FMA. The kernels carry target
 * attributes and are picked at run time with __builtin_cpu_supports, so
 * the code runs on any x86-64 (elsewhere: plain C the compiler
 * vectorizes as it can).
 *
 * The bandwidth: each thread copies a buffer of BW_BYTES into another
 * (memcpy, which streams past the caches on large sizes), counting the
 * bytes read and written: the traffic the profile counts for a kernel
 * that reads and writes its buffers once.
 *
 * Both run all threads at once, started together at a barrier, from
 * before the start to after the last thread ends.
 */
#define _GNU_SOURCE
#include "machine.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86_KERNELS 1
#endif

#define CHAINS MACHINE_FMA_CHAINS
#define UNROLL 16   /* FMA rounds per loop iteration (CHAINS FMAs each) */
#define MAX_THREADS 256
#define RUNS 15     /* peak runs; the best counts */
#define BW_BYTES ((size_t)48 << 20) /* per buffer: far past the caches */

/* One vector kernel: runs iters × UNROLL rounds of CHAINS FMAs, returns a
 * sum of the accumulators (so the loop cannot be dropped). */
typedef float (*FmaKernel)(long iters);

/* The multiplier and addend of the chains; volatile so that the compiler
 * cannot fold the chains into closed forms. acc converges to a / (1 - m),
 * never overflowing and never denormal. */
static volatile float chain_m = 0.999999f, chain_a = 1e-6f;

#ifdef HAVE_X86_KERNELS
/* AVX-512F: 16 lanes per FMA. */
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

/* AVX2 + FMA3: 8 lanes per FMA. */
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

/* SSE2, no FMA: a multiply and an add (counted as one FMA) on 4 lanes. */
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
#else
/* Plain C: one lane per chain as far as the compiler knows. */
static float fma_plain(long iters) {
    float m = chain_m, a = chain_a, acc[CHAINS];
    for (int c = 0; c < CHAINS; c++) acc[c] = (float)c;
    for (long i = 0; i < iters; i++)
        for (int u = 0; u < UNROLL; u++)
            for (int c = 0; c < CHAINS; c++) acc[c] = acc[c] * m + a;
    float s = 0;
    for (int c = 0; c < CHAINS; c++) s += acc[c];
    return s;
}
#endif

/* The widest kernel the CPU runs, its name and its lanes. */
typedef struct {
    FmaKernel run;
    const char *name;
    int lanes;
} Kernel;

static Kernel pick_kernel(void) {
#ifdef HAVE_X86_KERNELS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return (Kernel){fma_avx512, "AVX-512 (512-bit, 16 f32 lanes)", 16};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (Kernel){fma_avx2, "AVX2+FMA3 (256-bit, 8 f32 lanes)", 8};
    return (Kernel){fma_sse2, "SSE2 mul+add, no FMA (128-bit, 4 f32 lanes)", 4};
#else
    return (Kernel){fma_plain, "scalar (1 f32 lane)", 1};
#endif
}

const char *machine_vector(void) { return pick_kernel().name; }

/* Seconds on the monotonic clock. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* What one thread of a run gets and gives back. */
typedef struct {
    Kernel k;
    long iters;               /* FMA runs: the kernel's iterations */
    char *dst;                /* copy runs: the buffers, copies times */
    const char *src;
    int copies;
    int cpu;                  /* CPU to pin to, -1: none */
    int pinned;               /* out: 1 if pinning succeeded */
    pthread_barrier_t *start; /* all threads start together */
    double t0, t1;            /* out: when this thread started and ended */
    volatile float sink;      /* out: the kernel's result */
} Worker;

/* Thread body: pins itself to w->cpu, waits at the barrier, runs its part. */
static void *worker(void *arg) {
    Worker *w = arg;
    if (w->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(w->cpu, &set);
        w->pinned = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
    }
    pthread_barrier_wait(w->start);
    w->t0 = now();
    if (w->dst)
        for (int c = 0; c < w->copies; c++) memcpy(w->dst, w->src, BW_BYTES);
    else w->sink = w->k.run(w->iters);
    w->t1 = now();
    return NULL;
}

int machine_cpus(int *cpus, int max) {
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE && n < max; c++)
            if (CPU_ISSET(c, &set)) cpus[n++] = c;
    if (n == 0) cpus[n++] = -1; /* unknown: one thread, unpinned */
    return n;
}

/* Runs the n workers w (their fields set but cpu and start) at once, on
 * the allowed CPUs in order; the wall seconds from the first one's start
 * to the last one's end, as the workers read the clock themselves (the
 * calling thread may not get a core back until a worker ends: its own
 * clock would start late, and the rate come out too high). *pinned: 1 if
 * every thread was pinned. */
static double run_workers(Worker *w, int n, int *pinned) {
    int cpus[MAX_THREADS], ncpu = machine_cpus(cpus, MAX_THREADS);
    pthread_t tid[MAX_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n + 1);
    for (int t = 0; t < n; t++) {
        w[t].cpu = n <= ncpu ? cpus[t] : -1, w[t].pinned = 0, w[t].start = &start;
        pthread_create(&tid[t], NULL, worker, &w[t]);
    }
    pthread_barrier_wait(&start);
    for (int t = 0; t < n; t++) pthread_join(tid[t], NULL);
    pthread_barrier_destroy(&start);
    double t0 = w[0].t0, t1 = w[0].t1;
    *pinned = 1;
    for (int t = 0; t < n; t++) {
        *pinned &= w[t].pinned;
        t0 = w[t].t0 < t0 ? w[t].t0 : t0, t1 = w[t].t1 > t1 ? w[t].t1 : t1;
    }
    return t1 - t0;
}

static int clamp_threads(int threads) { return threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads; }

double machine_fma_peak(int threads, double seconds, int *pinned) {
    Kernel k = pick_kernel();
    int n = clamp_threads(threads);
    long iters = 1000;
    double t0 = now();
    k.run(iters); /* calibrate on one thread */
    double dt = now() - t0, per = seconds / RUNS;
    iters = (long)((double)iters * per / (dt > 1e-6 ? dt : 1e-6));
    if (iters < 1000) iters = 1000;
    Worker w[MAX_THREADS];
    double best = 0;
    for (int r = 0; r < RUNS; r++) {
        for (int t = 0; t < n; t++) w[t] = (Worker){.k = k, .iters = iters};
        double g = 2.0 * k.lanes * CHAINS * UNROLL * (double)iters * n / run_workers(w, n, pinned) / 1e9;
        if (g > best) best = g;
    }
    return best;
}

double machine_bandwidth(int threads, double seconds, int *pinned) {
    int n = clamp_threads(threads), ok = 1;
    char *buf[2 * MAX_THREADS] = {0};
    for (int i = 0; i < 2 * n; i++) {
        buf[i] = malloc(BW_BYTES);
        if (!buf[i]) ok = 0;
        else memset(buf[i], i & 1, BW_BYTES); /* fault the pages in before timing */
    }
    Worker w[MAX_THREADS];
    double best = 0, spent = 0;
    for (int r = 0; ok && r < 100 && (r < 3 || spent < seconds); r++) {
        for (int t = 0; t < n; t++) w[t] = (Worker){.dst = buf[2 * t], .src = buf[2 * t + 1], .copies = 1};
        double dt = run_workers(w, n, pinned);
        spent += dt;
        double g = 2.0 * (double)BW_BYTES * n / dt / 1e9;
        if (g > best) best = g;
    }
    for (int i = 0; i < 2 * n; i++) free(buf[i]);
    if (!ok) *pinned = 0;
    return ok ? best : 0;
}

void machine_limits(int threads, double seconds, MachineLimits *m) {
    int pf = 0, pb = 0;
    m->threads = clamp_threads(threads);
    m->gflops = machine_fma_peak(m->threads, seconds * 0.7, &pf);
    m->gbytes = machine_bandwidth(m->threads, seconds * 0.3, &pb);
    m->pinned = pf && pb;
    m->vector = machine_vector();
}

void machine_limits_apart(int threads, double seconds, MachineLimits *m) {
    int fd[2];
    if (pipe(fd) == 0) {
        pid_t pid = fork();
        if (pid == 0) { /* the child: measure, send the figures, leave without flushing stdio */
            close(fd[0]);
            machine_limits(threads, seconds, m);
            double v[3] = {m->gflops, m->gbytes, m->pinned};
            _exit(write(fd[1], v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
        }
        close(fd[1]);
        double v[3];
        size_t got = 0;
        while (pid > 0 && got < sizeof v) {
            ssize_t r = read(fd[0], (char *)v + got, sizeof v - got);
            if (r <= 0) break;
            got += (size_t)r;
        }
        close(fd[0]);
        if (pid > 0) waitpid(pid, NULL, 0);
        if (got == sizeof v) {
            *m = (MachineLimits){clamp_threads(threads), v[0], v[1], v[2] != 0, machine_vector()};
            return;
        }
    }
    machine_limits(threads, seconds, m);
}

void machine_cpu_model(char *buf, size_t size) {
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
