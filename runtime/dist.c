/* dist.c — see dist.h: the single-process defaults and the dispatch to an
 * installed implementation. */
#include "dist.h"

#include <unistd.h>

static const DistOps *ops; /* NULL: one process */

void dist_install(const DistOps *o) { ops = o; }
int dist_rank(void) { return ops ? ops->rank : 0; }
int dist_size(void) { return ops ? ops->size : 1; }

void dist_sum_f32(float *buf, size_t n) {
    if (ops && ops->size > 1) ops->sum_f32(buf, n);
}

void dist_sum_f64(double *buf, size_t n) {
    if (ops && ops->size > 1) ops->sum_f64(buf, n);
}

void dist_sum_i64(int64_t *buf, size_t n) {
    if (ops && ops->size > 1) ops->sum_i64(buf, n);
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

void dist_defer_error(void) {
    if (dist_rank() == 0) return;
    for (unsigned left = DIST_ERROR_GRACE; left;) left = sleep(left);
}
