/* fusion.h — groups a graph's computed nodes into kernels, the unit a
 * backend compiles.
 *
 * A loop kernel is a set of elementwise nodes (and constant fills) of one
 * shape, computed in one loop nest over that shape: a member's value stays
 * in a register for the members that read it, and is stored to its buffer
 * only if it is kept (read by another kernel or a graph output). Every
 * other computed node (reductions, data movement, contractions, indexing,
 * random numbers) is a kernel of its own. A constant read only by
 * elementwise nodes is not a kernel at all: its readers use the value.
 * Nodes no output depends on are not planned (not computed).
 *
 * Grouping, in node order: an elementwise node joins the open loop
 * kernels of its shape that compute one of its inputs (merging them if
 * there are several), else it starts a new one. A kernel closes when a
 * node outside it reads one of its members, since from then on the
 * member must be in memory; kernels run in the order of their last
 * member, so every kernel's inputs are ready when it runs. A loop kernel
 * reads inputs of at most FUSION_MAX_SHAPES distinct shapes (its own
 * included): a node that would exceed that starts a new kernel.
 *
 * A reshape of a computed value (flatten, a bias gradient's [C] -> [C, 1,
 * 1]) is a view of it: same memory, no copy (KernelPlan.view_of).
 *
 * A training step's updates (Adam's new parameters and moments) are
 * computed into the parameters and moments themselves where nothing reads
 * the old values after them, and only when the loss is finite
 * (KernelPlan.update_into and guard; in_place.c). Likewise a loop member
 * is computed over the memory of a value that dies in its kernel, read
 * there only at the element the member writes (KernelPlan.over): the loop
 * then writes where it reads, not to memory no cache holds. So is a
 * pooling's gradient, over the forward input it reads last.
 *
 * A convolution whose output only a loop kernel of a bias add, or a bias
 * add and a ReLU, reads (the loop computed over the convolution's
 * output: KernelPlan.over) computes that loop in its helper's call
 * (KernelPlan.in_call, fusion_epilogue): each sample's output gets its
 * bias and ReLU while the cache still holds it, instead of a pass over
 * the whole output from memory after the last sample. The loop kernel
 * stays in the plan, where it was, with its nodes and values; no code
 * runs for it.
 *
 * A reduce_sum of a member of an open loop kernel joins it as its last
 * node (FusedKernel.reduce) and closes it: the loop nest is then the
 * reduction's, visiting the elements in the order reduce_sum adds them,
 * and the member's values are summed where they are computed instead of
 * being read back from memory (a convolution's or a linear layer's bias
 * gradient, summed in the loop of the ReLU gradient it sums). It joins
 * only where that nest can read all of the kernel's inputs: at most
 * FUSION_MAX_SHAPES - 1 shapes (the partial sums take the last operand),
 * and, when the additions run in partial sums (ir_sum_lanes), inputs that
 * are one contiguous run or a broadcast over the reduced trailing axes.
 */
#ifndef MMGC_FUSION_H
#define MMGC_FUSION_H

#include <stdio.h>

#include "ir.h"

#define FUSION_MAX_SHAPES 4

typedef struct {
    int *nodes; /* node ids, in execution order */
    int n;
    int loop;   /* a loop kernel (see above); else one node */
    int reduce; /* a loop kernel's reduce_sum (its last node; see above), else -1 */
} FusedKernel;

typedef struct {
    FusedKernel *k; /* in execution order */
    int nk;
    int *kernel_of;      /* kernel_of[node]: its kernel, or -1 (sources, inlined constants,
                          * nodes no output needs) */
    unsigned char *kept; /* kept[node]: its value goes to memory (another kernel reads it,
                          * or it is an output); see memplan.h for how long it stays */
    int *view_of;        /* view_of[node]: for a reshape of a computed value, that value
                          * (never itself a view): the reshape's value is the same bytes in
                          * the same order, so it gets that value's memory and its kernel
                          * copies nothing; else -1. NULL in a plan made by hand: no views */
    int *update_into;    /* update_into[node]: for an update computed in place, the PARAM
                          * or STATE it is written into (its memory is that node's; nothing
                          * is copied after the step), else -1; see in_place.c. NULL in a
                          * plan made by hand: none */
    int guard;           /* with updates in place, the node (the loss) whose value must be
                          * finite for the kernels writing them to run; else -1 */
    int *over;           /* over[node]: for a loop member (or a kernel of one node whose op
                          * allows it: fusion_over_input) computed over the memory of a value
                          * its kernel reads last (see in_place.c), that value (the node its
                          * kernel reads; perhaps a view, or itself over another); else -1.
                          * NULL in a plan made by hand: none */
    int *in_call;        /* in_call[node]: for a member of a loop kernel a convolution's helper
                          * computes as its epilogue (see above), that convolution; else -1.
                          * NULL in a plan made by hand: none */
} KernelPlan;

/* Plans g's kernels (g must be verified). The plan is owned by the caller:
 * fusion_plan_free. */
void fusion_plan(const Graph *g, KernelPlan *p);
/* Fills p->update_into, p->guard and p->over (fusion_plan calls it; in_place.c). */
void fusion_plan_in_place(const Graph *g, KernelPlan *p);
/* The PARAM or STATE update node is computed into, or -1 (also for a plan
 * made by hand). */
static inline int fusion_update_into(const KernelPlan *p, int node) {
    return p->update_into ? p->update_into[node] : -1;
}
/* The input a kernel of one node of this op may compute its value over
 * (KernelPlan.over), or -1: a pooling's gradient may be written over its
 * forward input, whose windows its helper reads before it writes them. */
static inline int fusion_over_input(Op op) {
    return op == OP_MAX_POOL1D_GRAD || op == OP_MAX_POOL2D_GRAD ? 0 : -1;
}

/* The node whose buffer holds node's value in a kernel: the PARAM or
 * STATE an update is computed into, else, for a value computed over
 * another, that one's storage, else node itself (views have buffers of
 * their own, at their value's address). */
static inline int fusion_storage(const KernelPlan *p, int node) {
    for (;;) {
        int x = fusion_update_into(p, node);
        if (x >= 0) return x;
        if (!p->over || p->over[node] < 0) return node;
        node = p->over[node];
    }
}
/* The value whose memory node's value is in: node itself, or (through
 * view_of and over, either NULL for none) the one the memory plan places. */
static inline int fusion_owner(const int *view_of, const int *over, int node) {
    for (;;) {
        if (view_of && view_of[node] >= 0) node = view_of[node];
        else if (over && over[node] >= 0) node = over[node];
        else return node;
    }
}
static inline int fusion_memory_of(const KernelPlan *p, int node) { return fusion_owner(p->view_of, p->over, node); }
void fusion_plan_free(KernelPlan *p);

/* A convolution's epilogue (KernelPlan.in_call): for node conv, the loop
 * kernel its helper computes, with the bias it adds in *bias and 1 in
 * *relu if a ReLU follows; -1 when it has none. */
int fusion_epilogue(const Graph *g, const KernelPlan *p, int conv, int *bias, int *relu);
/* 1 if kernel k runs in a convolution's helper call (fusion_epilogue). */
static inline int fusion_in_call(const KernelPlan *p, int k) {
    return p->in_call && p->in_call[p->k[k].nodes[0]] >= 0;
}

/* Prints the plan: one line per kernel with its nodes (kept ones marked
 * '*', updates computed in place "->" and their node), then the counts
 * (--emit=kernels). */
void fusion_print(const Graph *g, const KernelPlan *p, FILE *out);

#endif
