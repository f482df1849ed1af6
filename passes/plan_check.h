/* plan_check.h — is a kernel plan a valid schedule, and its memory plan
 * sound? Run after fusion and memory planning in debug builds
 * (pipeline_plan), and by the tests on every model and random graphs. */
#ifndef MMGC_PLAN_CHECK_H
#define MMGC_PLAN_CHECK_H

#include <stddef.h>

#include "fusion.h"
#include "memplan.h"

/* 1 if, for g:
 *   schedule  every node an output needs is computed by exactly one kernel
 *             (none other is); inputs come from an earlier member of the
 *             same kernel, an earlier kernel (kept), an external source, or
 *             an inlined constant read by a loop kernel; loop kernels hold
 *             elementwise ops and constants of one shape and read at most
 *             FUSION_MAX_SHAPES shapes; other kernels are one kept node;
 *             outputs are kept; an update computed into its PARAM or
 *             STATE is a loop member after the guard's kernel, and nothing
 *             reads that node after it; a loop member computed over a
 *             value (KernelPlan.over) has its type and the loop's shape, and
 *             what was in that memory before its kernel is no output and is
 *             read by no later kernel, and in that kernel only as that
 *             value by members up to it;
 *   memory    (mp may be NULL) planned offsets are aligned and inside the
 *             arena, no two values live in a common kernel overlap (a view
 *             and the value it views are one value: a view is a reshape of
 *             it or of another view of it, at its offset, within its live
 *             range; a value computed over another is at its offset, of its
 *             size, within the live range of their memory), the peak is at
 *             most the naive sum, outputs survive
 *             the step.
 * Else 0, with the first problem in err. */
int plan_check(const Graph *g, const KernelPlan *p, const MemPlan *mp, char *err, size_t errlen);

#endif
