/* machine.h — what this machine can do, measured: its single-precision FMA
 * peak and its memory bandwidth (machine.c). bench/fma_peak.c prints them
 * beside OpenBLAS; --profile sets each source line's rates against them.
 *
 * Both are the best of several short runs: a limit is what the machine can
 * do, and other work on it only ever takes from it, so the runs it did not
 * interrupt are the ones that count. Threads are pinned to the CPUs this
 * process may use, one each, where the system allows.
 */
#ifndef MMGC_MACHINE_H
#define MMGC_MACHINE_H

#include <stddef.h>

/* Independent FMA chains per thread (latency 4 × 2 pipes = 8 needed). */
#define MACHINE_FMA_CHAINS 12

typedef struct {
    int threads;      /* the thread count both were measured on           */
    double gflops;    /* FMA peak: GFLOP/s (2 per lane per FMA)           */
    double gbytes;    /* memory: GB/s copying buffers far larger than the
                       * caches (bytes read plus bytes written)            */
    int pinned;       /* 1 if every thread was pinned to a CPU of its own */
    const char *vector; /* the vectors the peak used: "AVX2+FMA3 (256-bit, 8 f32 lanes)" */
} MachineLimits;

/* The CPUs this process may run on, in order, into cpus (at most max);
 * how many (at least 1). */
int machine_cpus(int *cpus, int max);
/* The CPU's model name ("unknown" if the system does not say). */
void machine_cpu_model(char *buf, size_t size);
/* The widest FMA vectors the CPU has, as machine_limits reports them. */
const char *machine_vector(void);
/* The FMA peak on `threads` threads: the best of 15 runs filling about
 * `seconds` together. *pinned as in MachineLimits. */
double machine_fma_peak(int threads, double seconds, int *pinned);
/* The copy bandwidth on `threads` threads, each copying 48 MB buffers:
 * the best of runs filling about `seconds` together (at least 3). 0 if
 * the buffers cannot be had. */
double machine_bandwidth(int threads, double seconds, int *pinned);
/* Both on `threads` threads within about `seconds`. */
void machine_limits(int threads, double seconds, MachineLimits *m);
/* machine_limits in a child process, so that the bandwidth's buffers
 * (about 100 MB a thread) do not count in this process's peak memory; in
 * this process if the child cannot be had. */
void machine_limits_apart(int threads, double seconds, MachineLimits *m);

#endif
