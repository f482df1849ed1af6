/* dist.c — see dist.h: the single-process defaults and the dispatch to an
 * installed implementation, with the time spent in sums. */
#include "dist.h"

#include "progress.h"

static const DistOps *ops; /* NULL: one process */
static double seconds, bytes;
static int64_t calls;

void dist_install(const DistOps *o) { ops = o; }
int dist_rank(void) { return ops ? ops->rank : 0; }
int dist_size(void) { return ops ? ops->size : 1; }

/* Counts a sum of `size` bytes that started at t0. */
static void count(double t0, size_t size) {
    seconds += progress_now() - t0;
    bytes += (double)size;
    calls++;
}

void dist_sum_f32(float *buf, size_t n) {
    if (!ops || ops->size < 2) return;
    double t0 = progress_now();
    ops->sum_f32(buf, n);
    count(t0, n * sizeof *buf);
}

void dist_sum_f64(double *buf, size_t n) {
    if (!ops || ops->size < 2) return;
    double t0 = progress_now();
    ops->sum_f64(buf, n);
    count(t0, n * sizeof *buf);
}

void dist_sum_i64(int64_t *buf, size_t n) {
    if (!ops || ops->size < 2) return;
    double t0 = progress_now();
    ops->sum_i64(buf, n);
    count(t0, n * sizeof *buf);
}

void dist_gather_bytes(const void *mine, size_t n, void *all) {
    if (ops && ops->size > 1) ops->gather_bytes(mine, n, all);
    else if (all != mine) for (size_t i = 0; i < n; i++) ((char *)all)[i] = ((const char *)mine)[i];
}

void dist_barrier(void) {
    if (ops && ops->size > 1) ops->barrier();
}

void dist_finish(void) {
    if (ops) ops->finish();
    ops = NULL;
}

void dist_abort(int status) {
    if (ops && ops->size > 1) ops->abort(status);
}

double dist_sum_seconds(void) { return seconds; }
double dist_sum_bytes(void) { return bytes; }
int64_t dist_sum_calls(void) { return calls; }
