/* plan_check.c — see plan_check.h. */
#include "plan_check.h"

#include <stdio.h>
#include <stdlib.h>

/* Update u written into x while its kernel k runs: k is a loop without
 * a reduction, after the guard's kernel; x is a PARAM or STATE of u's
 * type that no kernel after k reads, nor a member of k after u. */
static int in_place_ok(const Graph *g, const KernelPlan *p, int u, int x) {
    int k = p->kernel_of[u], pos = -1;
    const Node *nx = &g->nodes[x];
    if (k < 0 || !p->k[k].loop || p->k[k].reduce >= 0 || (nx->op != OP_PARAM && nx->op != OP_STATE) ||
        nx->type.dtype != g->nodes[u].type.dtype || !ir_shape_eq(&nx->type.shape, &g->nodes[u].type.shape))
        return 0;
    if (p->guard >= 0 && (p->kernel_of[p->guard] < 0 || p->kernel_of[p->guard] >= k)) return 0;
    for (int m = 0; m < p->k[k].n; m++)
        if (p->k[k].nodes[m] == u) pos = m;
    for (int id = 0; id < g->nnodes; id++)
        for (int j = 0; j < g->nodes[id].nin; j++) {
            if (g->nodes[id].in[j] != x || p->kernel_of[id] < 0) continue;
            int later = p->kernel_of[id] > k;
            for (int m = pos + 1; m < p->k[k].n && !later; m++) later = p->k[k].nodes[m] == id;
            if (later) return 0;
        }
    return 1;
}

/* The value v's bytes are: v, or the one it views. */
static int value_of(const KernelPlan *p, int v) { return p->view_of && p->view_of[v] >= 0 ? p->view_of[v] : v; }

/* Loop member u computed over x, in kernel k (or u alone, over the input
 * its op allows: fusion_over_input): u is kept, no reduction, output or
 * update; x is computed before k, kept, of u's type and the kernel's
 * shape; the values in x's memory from before k are no output, no kernel
 * after k reads them, and in k only x is read from there, by members up
 * to u; u is the only member of k computed over that memory. */
static int over_ok(const Graph *g, const KernelPlan *p, int u, int x) {
    int k = p->kernel_of[u], kx = p->kernel_of[x];
    if (k < 0 || u == p->k[k].reduce || !p->kept[u] || fusion_update_into(p, u) >= 0) return 0;
    if (!p->k[k].loop && (fusion_over_input(g->nodes[u].op) < 0 || g->nodes[u].in[fusion_over_input(g->nodes[u].op)] != x))
        return 0;
    const TType *t = &g->nodes[u].type, *tx = &g->nodes[x].type;
    if (kx < 0 || kx >= k || !p->kept[x] || tx->dtype != t->dtype || !ir_shape_eq(&tx->shape, &t->shape) ||
        !ir_shape_eq(&t->shape, &g->nodes[p->k[k].nodes[0]].type.shape))
        return 0;
    int m = fusion_memory_of(p, x);
    for (int o = 0; o < g->nouts; o++) {
        int v = g->outs[o].node;
        if (v == u || (fusion_memory_of(p, v) == m && p->kernel_of[value_of(p, v)] < k)) return 0;
    }
    for (int i = 0; i < p->k[k].n; i++) {
        int id = p->k[k].nodes[i];
        if (id != u && p->over && p->over[id] >= 0 && fusion_memory_of(p, id) == m) return 0;
    }
    for (int id = 0; id < g->nnodes; id++) {
        const Node *n = &g->nodes[id];
        int kr = p->kernel_of[id];
        for (int j = 0; j < n->nin && kr >= 0; j++) {
            int in = n->in[j];
            if (fusion_memory_of(p, in) != m || p->kernel_of[value_of(p, in)] >= k) continue; /* not from before k */
            if (kr > k || (kr == k && (in != x || id > u))) return 0;
        }
    }
    return 1;
}

/* Member v of a loop kernel computed in convolution c's call
 * (KernelPlan.in_call): c is a kernel of its own before the loop, which
 * only the loop's nodes read; every member of the loop is in c's call,
 * reads nothing computed after c's kernel, and the last is computed over
 * c. */
static int epilogue_ok(const Graph *g, const KernelPlan *p, int v) {
    int c = p->in_call[v], l = p->kernel_of[v], kc = c >= 0 && c < g->nnodes ? p->kernel_of[c] : -1;
    if (l < 0 || kc < 0 || kc >= l || !p->k[l].loop || p->k[l].reduce >= 0 || p->k[kc].loop ||
        (g->nodes[c].op != OP_CONV1D && g->nodes[c].op != OP_CONV2D))
        return 0;
    const FusedKernel *k = &p->k[l];
    for (int i = 0; i < k->n; i++) {
        const Node *n = &g->nodes[k->nodes[i]];
        if (p->in_call[k->nodes[i]] != c) return 0;
        for (int j = 0; j < n->nin; j++)
            if (p->kernel_of[n->in[j]] > kc && p->kernel_of[n->in[j]] != l) return 0;
    }
    if (!p->over || p->over[k->nodes[k->n - 1]] != c) return 0;
    for (int id = 0; id < g->nnodes; id++)
        for (int j = 0; p->kernel_of[id] >= 0 && j < g->nodes[id].nin; j++)
            if (g->nodes[id].in[j] == c && p->kernel_of[id] != l) return 0;
    return 1;
}

/* The schedule half of plan_check. */
static int check_schedule(const Graph *g, const KernelPlan *p, char *err, size_t errlen) {
    int ok = 1;
    int *seen = calloc((size_t)g->nnodes + 1, sizeof *seen);
    for (int i = 0; i < p->nk && ok; i++) {
        const FusedKernel *k = &p->k[i];
        const Shape *s = &g->nodes[k->nodes[0]].type.shape;
        Shape read[FUSION_MAX_SHAPES + 8];
        int nread = 0;
        for (int j = 0; j < k->n && ok; j++) {
            int id = k->nodes[j];
            const Node *n = &g->nodes[id];
            seen[id]++;
            if (p->kernel_of[id] != i) ok = 0;
            if (k->loop && id == k->reduce) { /* the last node, summing a member */
                if (n->op != OP_REDUCE_SUM || j != k->n - 1 || p->kernel_of[n->in[0]] != i || !p->kept[id]) ok = 0;
            } else if (k->loop && (!ir_shape_eq(&n->type.shape, s) ||
                                   (ir_op_info[n->op].cls != OC_EW && n->op != OP_CONST)))
                ok = 0;
            if (!k->loop && (k->n != 1 || !p->kept[id])) ok = 0;
            for (int a = 0; a < n->nin; a++) {
                int in = n->in[a], ki = p->kernel_of[in];
                Op op = g->nodes[in].op;
                int source = ir_is_external(op);
                if (ki == i) {
                    if (in > id) ok = 0; /* a member read before it is computed */
                    continue;
                }
                if (ki < 0 && !source && !(op == OP_CONST && !p->kept[in] && k->loop)) ok = 0;
                if (ki > i || (ki >= 0 && !p->kept[in])) ok = 0; /* not ready, or not in memory */
                if (k->loop && p->kept[in]) {
                    int dup = 0;
                    for (int r = 0; r < nread; r++) dup |= ir_shape_eq(&read[r], &g->nodes[in].type.shape);
                    if (!dup && nread < FUSION_MAX_SHAPES + 8) read[nread++] = g->nodes[in].type.shape;
                }
            }
        }
        int own = 0;
        for (int r = 0; r < nread; r++) own |= ir_shape_eq(&read[r], s);
        if (k->loop && nread + !own + (k->reduce >= 0) > FUSION_MAX_SHAPES) ok = 0;
        if (!k->loop && k->reduce >= 0) ok = 0;
        if (!ok) snprintf(err, errlen, "kernel %d is not valid", i);
    }
    unsigned char *live = calloc((size_t)g->nnodes + 1, 1);
    for (int o = 0; o < g->nouts; o++) live[g->outs[o].node] = 1;
    for (int id = g->nnodes - 1; id >= 0; id--)
        for (int a = 0; live[id] && a < g->nodes[id].nin; a++) live[g->nodes[id].in[a]] = 1;
    for (int id = 0; id < g->nnodes && ok; id++) {
        Op op = g->nodes[id].op;
        int source = ir_is_external(op);
        int inlined = op == OP_CONST && p->kernel_of[id] < 0;
        if (seen[id] != (source || inlined || !live[id] ? 0 : 1)) {
            snprintf(err, errlen, "node %d is in %d kernels", id, seen[id]);
            ok = 0;
        }
    }
    for (int o = 0; o < g->nouts && ok; o++)
        if (!p->kept[g->outs[o].node]) snprintf(err, errlen, "output %s is not kept", g->outs[o].name), ok = 0;
    for (int u = 0; u < g->nnodes && ok && p->update_into; u++)
        if (p->update_into[u] >= 0 && !in_place_ok(g, p, u, p->update_into[u]))
            snprintf(err, errlen, "node %d is not safely computed into node %d", u, p->update_into[u]), ok = 0;
    for (int u = 0; u < g->nnodes && ok && p->over; u++)
        if (p->over[u] >= 0 && !over_ok(g, p, u, p->over[u]))
            snprintf(err, errlen, "node %d is not safely computed over node %d", u, p->over[u]), ok = 0;
    for (int u = 0; u < g->nnodes && ok && p->in_call; u++)
        if (p->in_call[u] >= 0 && !epilogue_ok(g, p, u))
            snprintf(err, errlen, "node %d is not safely computed in the call of node %d", u, p->in_call[u]), ok = 0;
    free(seen);
    free(live);
    return ok;
}

/* The value whose memory node is in the memory plan. */
static int mem_owner(const MemPlan *mp, int node) { return fusion_owner(mp->view_of, mp->over, node); }

/* The memory half of plan_check. */
static int check_memory(const Graph *g, const MemPlan *mp, char *err, size_t errlen) {
    int ok = mp->size <= mp->naive;
    if (!ok) snprintf(err, errlen, "the planned peak exceeds the naive sum");
    for (int a = 0; a < g->nnodes && ok; a++) {
        if (mp->offset[a] < 0) continue;
        if (mp->offset[a] % MEMPLAN_ALIGN || mp->offset[a] + memplan_bytes(g, a) > mp->size) {
            snprintf(err, errlen, "node %d is misaligned or outside the arena", a);
            ok = 0;
        }
        int va = mp->view_of ? mp->view_of[a] : -1;
        int via = va >= 0 ? g->nodes[a].in[0] : -1; /* a views its input, or what its input views */
        if (va >= 0 && (g->nodes[a].op != OP_RESHAPE || (via != va && mp->view_of[via] != va) ||
                        mp->offset[a] != mp->offset[va] ||
                        mp->first[va] > mp->first[a] || mp->last[va] < mp->last[a])) {
            snprintf(err, errlen, "node %d is not a view of node %d in its memory and live range", a, va);
            ok = 0;
        }
        int oa = mp->over ? mp->over[a] : -1, own = mem_owner(mp, a);
        if (oa >= 0 && (mp->offset[a] != mp->offset[oa] || memplan_bytes(g, a) != memplan_bytes(g, oa) ||
                        mp->last[own] < mp->last[a])) {
            snprintf(err, errlen, "node %d is not in the memory of node %d within its live range", a, oa);
            ok = 0;
        }
        for (int b = a + 1; b < g->nnodes && ok; b++) {
            if (mp->offset[b] < 0) continue;
            /* one memory, seen twice: a value and its views, or values
             * computed over one another (the schedule half checks those) */
            if (own == mem_owner(mp, b)) continue;
            int together = mp->first[a] <= mp->last[b] && mp->first[b] <= mp->last[a];
            int overlap = mp->offset[a] < mp->offset[b] + memplan_bytes(g, b) &&
                          mp->offset[b] < mp->offset[a] + memplan_bytes(g, a);
            if (together && overlap) {
                snprintf(err, errlen, "nodes %d and %d are live together and overlap", a, b);
                ok = 0;
            }
        }
    }
    for (int o = 0; o < g->nouts && ok; o++) {
        int n = g->outs[o].node;
        if (!ir_is_external(g->nodes[n].op) && !memplan_survives(g, mp, n)) {
            snprintf(err, errlen, "output %s does not survive the step", g->outs[o].name);
            ok = 0;
        }
    }
    return ok;
}

int plan_check(const Graph *g, const KernelPlan *p, const MemPlan *mp, char *err, size_t errlen) {
    return check_schedule(g, p, err, errlen) && (!mp || check_memory(g, mp, err, errlen));
}
