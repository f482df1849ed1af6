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
}
