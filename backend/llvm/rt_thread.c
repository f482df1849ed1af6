/* rt_thread.c — the fork-join pool of rt_thread.h.
 *
 * Workers sleep on a condition variable between jobs (no spinning: the
 * generated code that runs between two helper calls keeps its core). A job
 * hands out task indices from one atomic ticket, (job number << 32) | next
 * index, so a worker that wakes up after the job's tasks are gone (or
 * after the next job began) takes none; the caller works too and waits
 * only for tasks in flight, never for a late worker.
 */
#include "rt_thread.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static struct {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    atomic_int nthreads;          /* threads a job may use, the caller included */
    int nworkers;                 /* workers started: slots 1..nworkers   */
    uint64_t gen;                 /* the current job's number (under mu)  */
    uint64_t gen0[RT_MAX_THREADS]; /* gen when worker slot was started     */
    RtTask fn;                    /* the current job (under mu)           */
    void *arg;
    int64_t n;
    int joined;                   /* slots below this take part           */
    atomic_uint_fast64_t ticket;  /* (gen << 32) | the next task index    */
    atomic_llong finished;        /* tasks of the current job done        */
    atomic_int busy;              /* a job is running                     */
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* Runs tasks of job `gen` until none is left (or another job began). */
static void run_tasks(uint32_t gen, RtTask fn, void *arg, int64_t n, int slot) {
    for (;;) {
        uint_fast64_t t = atomic_load(&pool.ticket);
        if ((uint32_t)(t >> 32) != gen || (int64_t)(t & 0xffffffffu) >= n) return;
        if (!atomic_compare_exchange_weak(&pool.ticket, &t, t + 1)) continue;
        fn(arg, (int64_t)(t & 0xffffffffu), slot);
        if (atomic_fetch_add(&pool.finished, 1) + 1 == n) {
            pthread_mutex_lock(&pool.mu);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.mu);
        }
    }
}

/* A worker: waits for a job and takes part if its slot is in. */
static void *worker(void *p) {
    int slot = (int)(intptr_t)p;
    pthread_mutex_lock(&pool.mu);
    uint64_t seen = pool.gen0[slot];
    for (;;) {
        while (pool.gen == seen) pthread_cond_wait(&pool.go, &pool.mu);
        seen = pool.gen;
        if (slot >= pool.joined) continue;
        RtTask fn = pool.fn;
        void *arg = pool.arg;
        int64_t n = pool.n;
        pthread_mutex_unlock(&pool.mu);
        run_tasks((uint32_t)seen, fn, arg, n, slot);
        pthread_mutex_lock(&pool.mu);
    }
    return NULL;
}

/* Starts workers up to n - 1 (with pool.mu held). A worker that cannot be
 * started leaves the pool smaller. */
static void start_workers(int n) {
    while (pool.nworkers < n - 1) {
        int slot = pool.nworkers + 1;
        pool.gen0[slot] = pool.gen;
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

/* MMGC_THREADS or the online CPUs; OpenBLAS to one thread (rt_thread.h). */
static void pool_init(void) {
    const char *env = getenv("MMGC_THREADS");
    long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    openblas_set_num_threads(1);
    pthread_mutex_lock(&pool.mu);
    start_workers(clamp_threads(n));
    pthread_mutex_unlock(&pool.mu);
}

/* See rt_thread.h. */
void rt_parallel(int64_t n, RtTask fn, void *arg) {
    pthread_once(&pool_once, pool_init);
    int idle = 0, nthreads = atomic_load(&pool.nthreads);
    int64_t t = nthreads < n ? nthreads : n;
    if (t <= 1 || n > 0x7fffffff || !atomic_compare_exchange_strong(&pool.busy, &idle, 1)) {
        for (int64_t i = 0; i < n; i++) fn(arg, i, 0);
        return;
    }
    pthread_mutex_lock(&pool.mu);
    pool.fn = fn, pool.arg = arg, pool.n = n, pool.joined = (int)t;
    atomic_store(&pool.finished, 0);
    uint32_t gen = (uint32_t)++pool.gen;
    atomic_store(&pool.ticket, (uint_fast64_t)gen << 32);
    pthread_cond_broadcast(&pool.go);
    pthread_mutex_unlock(&pool.mu);
    run_tasks(gen, fn, arg, n, 0);
    pthread_mutex_lock(&pool.mu);
    while (atomic_load(&pool.finished) < n) pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
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
