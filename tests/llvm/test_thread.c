/* test_thread.c — the helpers' thread pool and their per-thread scratch
 * (backend/llvm/rt_thread.h).
 *
 * Thousands of jobs of every size, back to back, must each run every task
 * exactly once (the workers pick jobs up without the lock, so a job that
 * starts while a worker is still reading the last one is the case to get
 * right); a job started from inside a task runs there; two threads
 * starting jobs at once both get every task done. Each thread starts on
 * its own share of a job's indices (the caller on the first, a worker on
 * the second half of two), so consecutive kernels keep their halves of a
 * tensor on one core. A task's scratch is its
 * thread's own and kept, so two tasks running at once never share one,
 * and a nested call gets a buffer of its own. Every task runs in its
 * caller's floating-point mode: denormals flushed or not (fpmode.h).
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "fpmode.h"
#include "harness.h"
#include "rt_thread.h"

#define MAXN 64

typedef struct {
    atomic_int hits[MAXN];
    int64_t n;
} Count;

static void count_task(void *arg, int64_t i) {
    Count *c = arg;
    atomic_fetch_add(&c->hits[i], 1);
}

/* Runs a job of n tasks and says whether each ran once. */
static int once_each(int64_t n) {
    Count c;
    memset(&c, 0, sizeof c);
    c.n = n;
    rt_parallel(n, count_task, &c);
    for (int64_t i = 0; i < n; i++)
        if (atomic_load(&c.hits[i]) != 1) return 0;
    return 1;
}

/* The threads of this process (its entries in /proc/self/task). */
static int process_threads(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* OpenBLAS starts a worker per core of its own when it is loaded; with
 * the pool running it is on one thread, and its workers are stopped (they
 * would spin beside the pool's). The process then has the pool's threads
 * alone: this one and its worker. */
static void test_openblas_workers_stopped(void) {
    rt_set_threads(2);
    CU_ASSERT_EQUAL(process_threads(), 2);
}

static void test_every_task_once(void) {
    rt_set_threads(2);
    CU_ASSERT_EQUAL(rt_threads(), 2);
    int bad = 0;
    for (int k = 0; k < 20000; k++) bad += !once_each(k % MAXN);
    CU_ASSERT_EQUAL(bad, 0);
}

/* Tasks that each start a job of their own. */
static void outer_task(void *arg, int64_t i) {
    atomic_int *ok = arg;
    atomic_fetch_add(ok, once_each(3 + i));
}

static void test_nested_job(void) {
    rt_set_threads(2);
    atomic_int ok = 0;
    rt_parallel(8, outer_task, &ok);
    CU_ASSERT_EQUAL(atomic_load(&ok), 8);
}

/* Another thread starting jobs while this one does. */
static void *other_caller(void *arg) {
    int *bad = arg;
    for (int k = 0; k < 5000; k++) *bad += !once_each(1 + k % MAXN);
    return NULL;
}

static void test_two_callers(void) {
    rt_set_threads(2);
    pthread_t t;
    int bad_other = 0, bad = 0;
    CU_ASSERT_FATAL(pthread_create(&t, NULL, other_caller, &bad_other) == 0);
    for (int k = 0; k < 5000; k++) bad += !once_each(1 + k % MAXN);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(bad_other, 0);
}

/* Shares: task 0 (the caller's first) holds its thread until another
 * thread has run a task, so the worker's first task is the one it was
 * meant to start with, the first of the second half. */
typedef struct {
    pthread_t caller;
    atomic_int other_first; /* the first task another thread ran, or -1 */
    atomic_int hits[MAXN];
} Share;

static void share_task(void *arg, int64_t i) {
    Share *s = arg;
    atomic_fetch_add(&s->hits[i], 1);
    if (!pthread_equal(pthread_self(), s->caller)) {
        int none = -1;
        atomic_compare_exchange_strong(&s->other_first, &none, (int)i);
    }
    if (i != 0) return;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while (atomic_load(&s->other_first) < 0 && t.tv_sec - t0.tv_sec < 20);
}

static void test_shares(void) {
    rt_set_threads(2);
    for (int64_t n = 2; n <= MAXN; n += 13) {
        Share s;
        memset(&s, 0, sizeof s);
        s.caller = pthread_self();
        atomic_store(&s.other_first, -1);
        rt_parallel(n, share_task, &s);
        CU_ASSERT_EQUAL(atomic_load(&s.other_first), n / 2);
        int bad = 0;
        for (int64_t i = 0; i < n; i++) bad += atomic_load(&s.hits[i]) != 1;
        CU_ASSERT_EQUAL(bad, 0);
    }
}

/* Scratch: each task fills its buffer with its index, waits a little and
 * checks that nothing else wrote it; a nested take must differ. */
typedef struct {
    atomic_int bad, nested_same;
    float *seen[MAXN];
} Scratch;

static void scratch_task(void *arg, int64_t i) {
    Scratch *s = arg;
    RtScratch a, b;
    float *p = rt_scratch_take(&a, 4096);
    s->seen[i] = p;
    for (int k = 0; k < 4096; k++) p[k] = (float)i;
    float *q = rt_scratch_take(&b, 100);
    if (q == p) atomic_fetch_add(&s->nested_same, 1);
    for (int k = 0; k < 100; k++) q[k] = -1.0f;
    rt_scratch_give(&b);
    for (volatile int spin = 0; spin < 20000; spin++) {
    }
    for (int k = 0; k < 4096; k++)
        if (p[k] != (float)i) {
            atomic_fetch_add(&s->bad, 1);
            break;
        }
    rt_scratch_give(&a);
}

static void test_scratch(void) {
    rt_set_threads(2);
    Scratch s;
    memset(&s, 0, sizeof s);
    rt_parallel(MAXN, scratch_task, &s);
    CU_ASSERT_EQUAL(atomic_load(&s.bad), 0);
    CU_ASSERT_EQUAL(atomic_load(&s.nested_same), 0);
    /* kept: the buffers seen are the threads' own, at most one each */
    int distinct = 0;
    for (int i = 0; i < MAXN; i++) {
        int first = 1;
        for (int k = 0; k < i; k++) first &= s.seen[k] != s.seen[i];
        distinct += first;
    }
    CU_ASSERT(distinct >= 1 && distinct <= rt_threads());
    /* 64-byte aligned, and grown when asked for more */
    RtScratch a;
    float *p = rt_scratch_take(&a, 1 << 20);
    CU_ASSERT_EQUAL((uintptr_t)p % 64, 0);
    p[(1 << 20) - 1] = 1.0f;
    rt_scratch_give(&a);
}

/* Mode: each task doubles a denormal (0 when flushed) and says where it
 * ran; the caller's first task waits (up to 20 s) for one on a worker.
 * The results are compared as bits: a flushing caller reads a denormal
 * as 0. */
typedef struct {
    uint32_t doubled[MAXN];
    atomic_int on_worker;
    pthread_t caller;
} Mode;

static void mode_task(void *arg, int64_t i) {
    Mode *m = arg;
    volatile float tiny = 1e-40f;
    float d = tiny * 2.0f;
    memcpy(&m->doubled[i], &d, sizeof d);
    if (!pthread_equal(pthread_self(), m->caller)) atomic_fetch_add(&m->on_worker, 1);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (i == 0)
        do clock_gettime(CLOCK_MONOTONIC, &t);
        while (atomic_load(&m->on_worker) == 0 && t.tv_sec - t0.tv_sec < 20);
}

/* How many of a job's tasks saw the denormal flushed; 1 in *worker if one
 * ran on a worker. */
static int flushed_tasks(int64_t n, int *worker) {
    Mode m;
    memset(&m, 0, sizeof m);
    m.caller = pthread_self();
    rt_parallel(n, mode_task, &m);
    int flushed = 0;
    for (int64_t i = 0; i < n; i++) flushed += m.doubled[i] == 0;
    *worker = atomic_load(&m.on_worker) > 0;
    return flushed;
}

static void test_caller_mode(void) {
    rt_set_threads(2);
    int worker;
    FpMode before = fp_flush_denormals();
    CU_ASSERT_EQUAL(flushed_tasks(MAXN, &worker), MAXN);
    CU_ASSERT_TRUE(worker);
    fp_set_mode(before);
    CU_ASSERT_EQUAL(fp_mode(), before);
    CU_ASSERT_EQUAL(flushed_tasks(MAXN, &worker), 0); /* the workers went back too */
    CU_ASSERT_TRUE(worker);
}

static CU_TestInfo tests[] = {
    {"OpenBLAS's own workers are stopped", test_openblas_workers_stopped},
    {"every task of every job runs once", test_every_task_once},
    {"a job started inside a task", test_nested_job},
    {"two threads starting jobs at once", test_two_callers},
    {"each thread starts on its own share of a job", test_shares},
    {"each task's scratch is its thread's own", test_scratch},
    {"tasks run in the caller's floating-point mode", test_caller_mode},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("thread", tests); }
