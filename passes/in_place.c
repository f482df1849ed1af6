/* in_place.c — which updates a step computes straight into their PARAM or
 * STATE (KernelPlan.update_into), so that nothing is copied into place
 * after the step and the arena holds no second copy of the parameters and
 * moments.
 *
 * An update "update:X" (node u, X a PARAM or STATE) is computed into X
 * when writing X while u's kernel runs cannot change what any kernel
 * reads:
 *   - u is a member of a loop kernel K without a reduction: each element
 *     of X is then read and written by the same iteration, which reads
 *     it first (every member has X's shape, so reads X at its own index);
 *   - every other node that reads X runs in an earlier kernel, or in K
 *     before u (a member after u would load the value u stored);
 *   - X is no graph output, no other update reads it, and u is the value
 *     of no other update (so a copy after the step still finds its value
 *     from before);
 *   - with a guard (ir_update_guard: the loss), K runs after the guard's
 *     kernel: the step skips K when the loss is not finite (a diverged
 *     step changes nothing), so the loss must be known by then.
 * The plan's guard is that node when some update is in place, else -1.
 *
 * Values in the arena are treated alike (KernelPlan.over): a kept member
 * u of loop kernel K is computed over the memory of a value x that K
 * reads when
 *   - x is computed by an earlier kernel and has u's type, and the loop's
 *     shape, so K reads it at the element it writes (a loop without a
 *     reduction visits each element once; with one, its nest visits each
 *     element of the summed shape once, members included);
 *   - no kernel after K reads x or any value in its memory (its views,
 *     values computed over it), none of them is a graph output, and in K
 *     only x itself is read from that memory, by members up to u;
 *   - u is no graph output, no update computed in place, and x's memory
 *     holds no other value of K.
 * A bias and ReLU after a convolution, a ReLU's gradient, a dropout's
 * gradient then store where they load, in lines the loop has just read,
 * instead of fetching lines of memory no cache holds for each store.
 * A kernel of one node is computed over its input by the same rule where
 * its op allows it (fusion_over_input: a pooling's gradient over the
 * forward input, read only in the planes it writes).
 */
#include <stdlib.h>

#include "fusion.h"
#include "util.h"

/* Whether update u -> x may be computed into x (see the top of the file). */
static int may_write_into(const Graph *g, const KernelPlan *p, int u, int x, int guard, const int *src,
                          const int *dst, int npairs) {
    int k = p->kernel_of[u];
    if (k < 0 || !p->k[k].loop || p->k[k].reduce >= 0) return 0;
    if (p->view_of && p->view_of[u] >= 0) return 0;
    if (guard >= 0 && (p->kernel_of[guard] < 0 || p->kernel_of[guard] >= k)) return 0;
    for (int o = 0; o < g->nouts; o++)
        if (g->outs[o].node == x) return 0;
    for (int i = 0; i < npairs; i++)
        if (src[i] == x || (src[i] == u && dst[i] != x)) return 0;
    const FusedKernel *fk = &p->k[k];
    for (int m = fk->n - 1; m >= 0 && fk->nodes[m] != u; m--)
        for (int j = 0; j < g->nodes[fk->nodes[m]].nin; j++)
            if (g->nodes[fk->nodes[m]].in[j] == x) return 0;
    for (int id = x + 1; id < g->nnodes; id++) {
        const Node *n = &g->nodes[id];
        if (p->view_of && p->view_of[id] == u) return 0; /* a view has the memory the arena would have given u */
        int kr = p->kernel_of[id];
        for (int j = 0; j < n->nin && kr >= 0; j++)
            if (n->in[j] == x && kr > k) return 0;
    }
    return 1;
}

/* Does every reader of memory m (the values in it: fusion_memory_of) run
 * in kernel k or before, where only x is read, by members up to u? */
static int dies_in(const Graph *g, const KernelPlan *p, int m, int x, int u) {
    int k = p->kernel_of[u];
    for (int o = 0; o < g->nouts; o++)
        if (fusion_memory_of(p, g->outs[o].node) == m) return 0;
    for (int id = 0; id < g->nnodes; id++) {
        const Node *n = &g->nodes[id];
        int kr = p->kernel_of[id];
        for (int j = 0; j < n->nin && kr >= 0; j++) {
            if (fusion_memory_of(p, n->in[j]) != m) continue;
            if (kr > k || (kr == k && (n->in[j] != x || id > u))) return 0;
        }
    }
    return 1;
}

/* The value kept member u of kernel k (a loop, or u alone whose op allows
 * it) may be computed over, or -1. */
static int over_of(const Graph *g, const KernelPlan *p, int u, const unsigned char *taken) {
    const FusedKernel *fk = &p->k[p->kernel_of[u]];
    const TType *t = &g->nodes[u].type;
    int only = fk->loop ? -1 : fusion_over_input(g->nodes[u].op);
    for (int o = 0; o < g->nouts; o++)
        if (g->outs[o].node == u) return -1;
    if (fusion_update_into(p, u) >= 0 || !ir_shape_eq(&t->shape, &g->nodes[fk->nodes[0]].type.shape)) return -1;
    if (!fk->loop && only < 0) return -1;
    for (int m = 0; m < fk->n && fk->nodes[m] <= u; m++) {
        const Node *n = &g->nodes[fk->nodes[m]];
        for (int j = 0; j < n->nin; j++) {
            int x = n->in[j], kx = p->kernel_of[x];
            if (only >= 0 && j != only) continue;
            const TType *tx = &g->nodes[x].type;
            if (kx < 0 || kx >= p->kernel_of[u] || !p->kept[x] || ir_is_external(g->nodes[x].op)) continue;
            if (tx->dtype != t->dtype || !ir_shape_eq(&tx->shape, &t->shape)) continue;
            int mem = fusion_memory_of(p, x);
            if (!taken[mem] && dies_in(g, p, mem, x, u)) return x;
        }
    }
    return -1;
}

static void plan_over(const Graph *g, KernelPlan *p) {
    p->over = xmalloc(((size_t)g->nnodes + 1) * sizeof *p->over);
    for (int id = 0; id < g->nnodes; id++) p->over[id] = -1;
    unsigned char *taken = xcalloc((size_t)g->nnodes + 1, 1); /* memory a value of this kernel is computed over */
    for (int k = 0; k < p->nk; k++) {
        const FusedKernel *fk = &p->k[k];
        for (int m = 0; m < fk->n; m++) {
            int u = fk->nodes[m];
            if (!p->kept[u] || u == fk->reduce) continue;
            int x = over_of(g, p, u, taken);
            if (x >= 0) p->over[u] = x, taken[fusion_memory_of(p, x)] = 1;
        }
        for (int m = 0; m < fk->n; m++)
            if (p->over[fk->nodes[m]] >= 0) taken[fusion_memory_of(p, fk->nodes[m])] = 0;
    }
    free(taken);
}

void fusion_plan_in_place(const Graph *g, KernelPlan *p) {
    p->update_into = xmalloc(((size_t)g->nnodes + 1) * sizeof *p->update_into);
    for (int id = 0; id < g->nnodes; id++) p->update_into[id] = -1;
    p->guard = -1;
    int *src = xmalloc(((size_t)g->nouts + 1) * sizeof *src), *dst = xmalloc(((size_t)g->nouts + 1) * sizeof *dst);
    char err[8];
    int n = ir_update_pairs(g, src, dst, err, sizeof err), guard = ir_update_guard(g), any = 0;
    for (int i = 0; i < n; i++)
        if (may_write_into(g, p, src[i], dst[i], guard, src, dst, n)) p->update_into[src[i]] = dst[i], any = 1;
    if (any) p->guard = guard;
    free(src);
    free(dst);
    plan_over(g, p);
}
