/* rt_thread.h — the runtime helpers' threads: one fork-join pool.
 *
 * A helper splits its work into tasks that depend only on its desc (never
 * on the thread count), so that which thread runs a task cannot change a
 * result. OpenBLAS itself is set to one thread when the pool starts: every
 * sgemm then runs on the thread that calls it, and results do not depend
 * on how many threads there are.
 *
 * The pool has MMGC_THREADS threads (the caller included), or one per
 * online CPU, at most RT_MAX_THREADS.
 */
#ifndef MMGC_RT_THREAD_H
#define MMGC_RT_THREAD_H

#include <stdint.h>

#define RT_MAX_THREADS 8

/* A task: item i of a job. A task that needs memory of its own takes
 * its thread's scratch (rt_scratch_take). */
typedef void (*RtTask)(void *arg, int64_t i);

/* Runs fn(arg, i) for every i in [0, n) on up to rt_threads()
 * threads and returns when all are done. A call made while a job runs
 * (from inside a task) runs its tasks on the calling thread. */
void rt_parallel(int64_t n, RtTask fn, void *arg);

/* A task's scratch: at least `floats` floats, 64-byte aligned, that the
 * calling thread owns. It is the thread's own buffer, first touched by it
 * and kept for its next task: memory that another thread touched first can
 * be slower to write (on one 2-core virtual machine, 2-3 times for the
 * phases of Conv1Net's second layer). A nested call (a job started from
 * inside a task runs on that task's thread) gets a buffer of its own.
 * Give it back with rt_scratch_give before the task returns. Running out
 * of memory ends the process with a message. */
typedef struct {
    float *p;
    int own; /* p is this call's alone (freed by rt_scratch_give) */
} RtScratch;
float *rt_scratch_take(RtScratch *s, int64_t floats);
void rt_scratch_give(RtScratch *s);

/* The number of threads rt_parallel uses; setting it (clamped to
 * [1, RT_MAX_THREADS]) is for tests and benchmarks. */
int rt_threads(void);
void rt_set_threads(int n);

#endif
