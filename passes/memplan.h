/* memplan.h — where each value kept in memory lives during a step.
 *
 * Over the kernel order of a fusion plan, a kept computed value is live
 * from the kernel that computes it to the last kernel that reads it
 * (graph outputs: to the end of the step, since the runtime reads them
 * after it). Two values whose live ranges share a kernel never share
 * memory; others may. Offsets are assigned greedily, largest value first,
 * each at the lowest aligned offset that does not overlap a value it is
 * live with. Values of MEMPLAN_HALVES bytes or more are then placed so
 * that their halves fall on the halves of the values whose memory they
 * reuse: the thread pool splits most kernels by the first axis, the first
 * half of a tensor to one core, and a core that writes lines the other
 * core wrote last waits for them (Conv2Net's evaluation step on two cores:
 * 1.55 -> 1.47 ms when its second convolution's output moved from the
 * first half of the first one's memory to its middle). As it places them,
 * the planner may center such a value on a larger one whose memory it
 * shares, within the arena so far; that plan is kept where its peak is no
 * higher than first fit's (every study model's evaluation step and
 * Conv2Net's training step), else first fit is. Then each large value
 * moves to an offset that centers it on another, if that is free of the
 * values live with it, inside the arena, and better for its halves. The
 * peak is first fit's. Sources (inputs, labels, parameters, optimizer
 * state) are not planned: the runtime owns their memory. A view
 * (KernelPlan.view_of: a reshape) is not planned either: it has the
 * offset of the value it views, whose live range grows to cover the
 * view's; nor is a value
 * computed over another (KernelPlan.over): it has that one's offset, and
 * the value placed there lives until the last of them is read. Nor is an
 * update computed in place (KernelPlan.update_into): its memory is its
 * PARAM's or STATE's.
 */
#ifndef MMGC_MEMPLAN_H
#define MMGC_MEMPLAN_H

#include <stdint.h>
#include <stdio.h>

#include "fusion.h"
#include "ir.h"

#define MEMPLAN_ALIGN 64
#define MEMPLAN_HALVES (64 * 1024)

typedef struct {
    int64_t *offset;  /* offset[node]: bytes into the arena, or -1 (not planned) */
    int *first, *last; /* live range of a planned node, in kernel indices */
    int64_t size;     /* the arena's bytes: the planned peak */
    int64_t naive;    /* the bytes if every planned value had memory of its own */
    int nvalues;      /* planned values */
    int nviews;       /* views: values in another value's memory */
    int *view_of;     /* view_of[node]: the value whose memory node is, or -1 (a copy of
                       * the plan's, or all -1 for a plan without views) */
    int *over;        /* over[node]: the value node is computed over (in that one's memory),
                       * or -1 (a copy of the plan's, or all -1) */
    int nover;        /* values computed over others */
    int *update_into; /* update_into[node]: the PARAM or STATE an update is computed into
                       * (not planned: it has that node's memory), or -1 (a copy of the
                       * plan's, or all -1) */
    int ninto;        /* updates computed in place */
} MemPlan;

/* Plans the memory of g's kept computed values under kernel plan kp. The
 * plan is owned by the caller: memplan_free. */
void memplan_build(const Graph *g, const KernelPlan *kp, MemPlan *mp);
void memplan_free(MemPlan *mp);

/* Is node's value still in its memory after the step (no value computed
 * later reuses any of its bytes, nor is computed over it; its views do
 * not count)? Always for
 * outputs and updates computed in place; never for other values that are
 * not planned. */
int memplan_survives(const Graph *g, const MemPlan *mp, int node);

/* Bytes of node's elements, rounded up to MEMPLAN_ALIGN (at least that). */
int64_t memplan_bytes(const Graph *g, int node);

/* Prints one line per planned value and view (offset, bytes, live range),
 * then the planned peak and the naive sum (--emit=memplan). */
void memplan_print(const Graph *g, const MemPlan *mp, FILE *out);

#endif
