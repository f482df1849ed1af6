/* rt_thread.c — the fork-join pool of rt_thread.h.
 *
 * A job of n tasks on t threads is cut into t shares of consecutive
 * indices; thread k (the caller is 0) runs its own share first, then
 * takes what is left of the others'. Kernels that follow one another
 * split their tensors alike (a task per sample, or per block of rows), so
 * each core mostly reads what it wrote itself, from its own cache: on a
 * 2-core virtual machine, handing out every index from one ticket put the
 * next kernel's half of a tensor on the other core as often as not, and
 * Conv2Net's first convolution (its 5.5 MB output) took as long on two
 * threads as on one. Taking from the other shares keeps the balance when
 * one core runs slower or a worker comes late.
 *
 * Each share hands out its indices from an atomic ticket, (job number <<
 * 32) | next index, so a worker that comes late (after the job's tasks are
 * gone, or after the next job began) takes none; the caller works too and
 * waits only for tasks in flight, never for a late worker.
 *
 * Between jobs a worker first spins on the job number for SPIN_NS, then
 * sleeps on a condition variable; the caller, its own tasks done, spins as
 * long on the count of finished tasks before it sleeps. A step calls the
 * pool a hundred times or more, microseconds to milliseconds apart, and a
 * sleeping worker woke too late to take any of a job's two 7 us tasks
 * (a 2-core virtual machine: a job of two took 20 us where one thread
 * takes 13; spinning, 7.8). Past YIELD_NS a spin yields the core at each
 * check, so that a process beside it (two test programs at once) loses
 * little: without that, two Conv2Net steps side by side on two cores took
 * 15% longer. A pool with more threads than the machine has cores
 * (counting the ranks mpirun started here) never spins.
 *
 * A job runs in its caller's floating-point mode (fpmode.h: a training
 * step flushes denormals): each worker takes the mode with the job's
 * other fields and sets it on itself when it differs.
 *
 * The job's fields are published without the lock, under the tickets: the
 * caller closes every ticket (index past any n) before it writes them and
 * opens them after (release stores; the worker's loads acquire), so a worker
 * that read a field of the next job finds the ticket already moved on and
 * takes no task with it.
 */
#include "rt_thread.h"

#include <cblas.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fpmode.h"

#define SPIN_NS 200000
#define YIELD_NS 5000
#define CLOSED 0xffffffffu

static struct {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    atomic_int nthreads;           /* threads a job may use, the caller included */
    int nworkers;                  /* workers started: slots 1..nworkers (under mu) */
    int spin;                      /* spin before sleeping (set at start)           */
    uint64_t gen0[RT_MAX_THREADS]; /* gen when worker slot was started (under mu)   */
    _Atomic uint64_t gen;          /* the current job's number                      */
    _Atomic(RtTask) fn;            /* the current job                               */
    _Atomic(void *) arg;
    _Atomic FpMode fpmode;         /* the caller's floating-point mode              */
    atomic_llong n;
    atomic_int joined;             /* slots below this take part                    */
    struct {
        _Alignas(64) atomic_uint_fast64_t next; /* (gen << 32) | the share's next task   */
    } ticket[RT_MAX_THREADS];      /* one per share of the job (see share_end)     */
    atomic_llong finished;         /* tasks of the current job done                 */
    atomic_int busy;               /* a job is running                              */
    atomic_int sleepers;           /* workers waiting on go                         */
    atomic_int waiting;            /* the caller waits on done                      */
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Every 64 turns of a spin started at t0: past YIELD_NS it lets another
 * thread have the core (when some other process wants it: a spin must
 * not slow the jobs beside it), past SPIN_NS it gives up (1). */
static int spin_pause(int64_t t0) {
    int64_t t = now_ns() - t0;
    if (t > SPIN_NS) return 1;
    if (t > YIELD_NS) sched_yield();
    return 0;
}

/* Spins (if the pool may) until ready(arg), for up to SPIN_NS; says
 * whether it got there. */
static int spin_until(int (*ready)(const void *), const void *arg) {
    if (!pool.spin) return ready(arg);
    for (int64_t t0 = now_ns(), k = 1;; k++) {
        if (ready(arg)) return 1;
        if (k % 64 == 0 && spin_pause(t0)) return 0;
        relax();
    }
}

/* spin_until's tests: the job's n tasks are done; a job after `seen` began. */
static int all_finished(const void *n) {
    return atomic_load_explicit(&pool.finished, memory_order_acquire) >= *(const int64_t *)n;
}
static int next_job(const void *seen) {
    return atomic_load_explicit(&pool.gen, memory_order_acquire) != *(const uint64_t *)seen;
}

/* The end of share k of a job of n tasks on t threads: slot k first runs
 * tasks [share_end(k - 1), share_end(k)), so that consecutive kernels put
 * the same part of a tensor on the same core. */
static int64_t share_end(int64_t n, int t, int k) { return n * (k + 1) / t; }

/* Takes the next task of share k of job `gen`, or -1 when none is left
 * (or another job began). */
static int64_t take(uint32_t gen, int k, int64_t end) {
    atomic_uint_fast64_t *tk = &pool.ticket[k].next;
    for (;;) {
        uint_fast64_t t = atomic_load_explicit(tk, memory_order_acquire);
        if ((uint32_t)(t >> 32) != gen || (int64_t)(t & 0xffffffffu) >= end) return -1;
        if (atomic_compare_exchange_weak_explicit(tk, &t, t + 1, memory_order_acq_rel, memory_order_acquire))
            return (int64_t)(t & 0xffffffffu);
    }
}

/* Runs tasks of job `gen` until none is left (or another job began): its
 * own share first, then what is left of the others'. */
static void run_tasks(int slot, uint32_t gen, RtTask fn, void *arg, int64_t n, int t) {
    for (int j = 0; j < t; j++) {
        int k = (slot + j) % t;
        int64_t end = share_end(n, t, k);
        for (int64_t i; (i = take(gen, k, end)) >= 0;) {
            fn(arg, i);
            /* the caller sets waiting before it last looks at finished */
            if (atomic_fetch_add(&pool.finished, 1) + 1 == n && atomic_load(&pool.waiting)) {
                pthread_mutex_lock(&pool.mu);
                pthread_cond_signal(&pool.done);
                pthread_mutex_unlock(&pool.mu);
            }
        }
    }
}

/* A worker: waits for a job and takes part if its slot is in. */
static void *worker(void *p) {
    int slot = (int)(intptr_t)p;
    pthread_mutex_lock(&pool.mu);
    uint64_t seen = pool.gen0[slot];
    pthread_mutex_unlock(&pool.mu);
    for (;;) {
        if (!spin_until(next_job, &seen)) {
            /* the caller sets gen before it looks at sleepers */
            pthread_mutex_lock(&pool.mu);
            atomic_fetch_add(&pool.sleepers, 1);
            while (atomic_load(&pool.gen) == seen) pthread_cond_wait(&pool.go, &pool.mu);
            atomic_fetch_sub(&pool.sleepers, 1);
            pthread_mutex_unlock(&pool.mu);
        }
        seen = atomic_load_explicit(&pool.gen, memory_order_acquire);
        int joined = atomic_load_explicit(&pool.joined, memory_order_acquire);
        if (slot >= joined) continue;
        FpMode mode = atomic_load_explicit(&pool.fpmode, memory_order_acquire);
        if (mode != fp_mode()) fp_set_mode(mode);
        run_tasks(slot, (uint32_t)seen, atomic_load_explicit(&pool.fn, memory_order_acquire),
                  atomic_load_explicit(&pool.arg, memory_order_acquire),
                  atomic_load_explicit(&pool.n, memory_order_acquire), joined);
    }
    return NULL;
}

/* Starts workers up to n - 1 (with pool.mu held). A worker that cannot be
 * started leaves the pool smaller. */
static void start_workers(int n) {
    while (pool.nworkers < n - 1) {
        int slot = pool.nworkers + 1;
        pool.gen0[slot] = atomic_load(&pool.gen);
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&t, &at, worker, (void *)(intptr_t)slot);
        pthread_attr_destroy(&at);
        if (rc) break;
        pool.nworkers++;
    }
    atomic_store(&pool.nthreads, pool.nworkers + 1 < n ? pool.nworkers + 1 : n);
}

/* Clamps a thread count to [1, RT_MAX_THREADS]. */
static int clamp_threads(long n) { return n < 1 ? 1 : n > RT_MAX_THREADS ? RT_MAX_THREADS : (int)n; }

/* OpenBLAS starts a worker of its own per core when it is loaded, and
 * each spins on sched_yield for 2^28 cycles (0.1-0.2 s) before it sleeps,
 * taking up to half a core from the pool's threads: a 30-step Conv2Net
 * evaluation (1.7 ms a step on two threads) ran at 2.6 ms, one thread's
 * speed, in about one run of three. With OpenBLAS on one thread they have
 * nothing to do, so they are stopped where the library can (its pthread
 * builds export blas_thread_shutdown_, found at run time; OpenBLAS starts
 * them again if it is ever given more threads). */
static void stop_openblas_workers(void) {
    int (*shutdown)(void);
    void *sym = dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
    if (!sym) return;
    memcpy(&shutdown, &sym, sizeof shutdown);
    shutdown();
}

/* MMGC_THREADS, else the online CPUs. A value that is not a count of at
 * least 1 is said on stderr (once) and the CPUs used instead; one above
 * RT_MAX_THREADS is clamped to it, as the help says. */
static long thread_count(long cores) {
    const char *env = getenv("MMGC_THREADS");
    if (!env || !*env) return cores;
    char *end;
    errno = 0;
    long n = strtol(env, &end, 10);
    if (*end || end == env || errno || n < 1) {
        fprintf(stderr, "mmgc: warning: MMGC_THREADS='%s' is not a count of threads (1 or more); using %d (one per core, at most %d)\n",
                env, clamp_threads(cores), RT_MAX_THREADS);
        return cores;
    }
    return n;
}

/* MMGC_THREADS or the online CPUs; OpenBLAS to one thread (rt_thread.h).
 * Spinning only when the pool, times the ranks mpirun started on this
 * machine, fits the cores. */
static void pool_init(void) {
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long n = thread_count(cores);
    long ranks = local && atol(local) > 1 ? atol(local) : 1;
    openblas_set_num_threads(1);
    stop_openblas_workers();
    pthread_mutex_lock(&pool.mu);
    pool.spin = (long)clamp_threads(n) * ranks <= cores;
    start_workers(clamp_threads(n));
    pthread_mutex_unlock(&pool.mu);
}

/* See rt_thread.h. */
void rt_parallel(int64_t n, RtTask fn, void *arg) {
    pthread_once(&pool_once, pool_init);
    int idle = 0, nthreads = atomic_load(&pool.nthreads);
    int64_t t = nthreads < n ? nthreads : n;
    if (t <= 1 || n >= CLOSED || !atomic_compare_exchange_strong(&pool.busy, &idle, 1)) {
        for (int64_t i = 0; i < n; i++) fn(arg, i);
        return;
    }
    /* busy makes this the only caller: gen changes here alone */
    const memory_order rel = memory_order_release;
    uint64_t next = atomic_load_explicit(&pool.gen, memory_order_relaxed) + 1;
    uint32_t gen = (uint32_t)next;
    for (int k = 0; k < RT_MAX_THREADS; k++)
        atomic_store_explicit(&pool.ticket[k].next, (uint_fast64_t)gen << 32 | CLOSED, rel);
    atomic_store_explicit(&pool.fn, fn, rel), atomic_store_explicit(&pool.arg, arg, rel);
    atomic_store_explicit(&pool.fpmode, fp_mode(), rel);
    atomic_store_explicit(&pool.n, n, rel), atomic_store_explicit(&pool.joined, (int)t, rel);
    atomic_store_explicit(&pool.finished, 0, rel);
    for (int k = 0; k < t; k++)
        atomic_store_explicit(&pool.ticket[k].next, (uint_fast64_t)gen << 32 | (uint64_t)share_end(n, (int)t, k - 1), rel);
    atomic_store(&pool.gen, next);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.go);
        pthread_mutex_unlock(&pool.mu);
    }
    run_tasks(0, gen, fn, arg, n, (int)t);
    if (!spin_until(all_finished, &n)) {
        pthread_mutex_lock(&pool.mu);
        atomic_store(&pool.waiting, 1);
        while (atomic_load(&pool.finished) < n) pthread_cond_wait(&pool.done, &pool.mu);
        atomic_store(&pool.waiting, 0);
        pthread_mutex_unlock(&pool.mu);
    }
    atomic_store(&pool.busy, 0);
}

/* See rt_thread.h. */
int rt_threads(void) {
    pthread_once(&pool_once, pool_init);
    return atomic_load(&pool.nthreads);
}

/* See rt_thread.h; not while a job runs. */
void rt_set_threads(int n) {
    pthread_once(&pool_once, pool_init);
    pthread_mutex_lock(&pool.mu);
    start_workers(clamp_threads(n));
    pthread_mutex_unlock(&pool.mu);
}

/* The calling thread's scratch buffer (rt_scratch_take): its floats, and
 * whether a task holds it. */
static _Thread_local float *scratch_buf;
static _Thread_local int64_t scratch_cap;
static _Thread_local int scratch_held;

static float *scratch_alloc(int64_t floats) {
    size_t bytes = ((size_t)floats * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (!p) {
        fprintf(stderr, "mmgc: error: out of memory (%zu bytes of a kernel's scratch)\n", bytes);
        _Exit(1);
    }
    return p;
}

float *rt_scratch_take(RtScratch *s, int64_t floats) {
    if (floats < 1) floats = 1;
    if (scratch_held) {
        s->own = 1;
        return s->p = scratch_alloc(floats);
    }
    if (scratch_cap < floats) { /* grown in 64 KiB steps: a step's kernels settle on the largest */
        free(scratch_buf);
        scratch_cap = (floats + 16383) / 16384 * 16384;
        scratch_buf = scratch_alloc(scratch_cap);
    }
    scratch_held = 1, s->own = 0;
    return s->p = scratch_buf;
}

void rt_scratch_give(RtScratch *s) {
    if (s->own) free(s->p);
    else scratch_held = 0;
    s->p = NULL;
}
