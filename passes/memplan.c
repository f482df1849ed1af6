/* memplan.c — the memory plan of memplan.h. */
#include "memplan.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

int64_t memplan_bytes(const Graph *g, int node) {
    const TType *t = &g->nodes[node].type;
    int64_t bytes = ir_numel(&t->shape) * (t->dtype == DT_I64 ? 8 : 4);
    return bytes ? (bytes + MEMPLAN_ALIGN - 1) / MEMPLAN_ALIGN * MEMPLAN_ALIGN : MEMPLAN_ALIGN;
}

/* Do the live ranges of planned nodes a and b share a kernel? */
static int live_together(const MemPlan *mp, int a, int b) {
    return mp->first[a] <= mp->last[b] && mp->first[b] <= mp->last[a];
}

/* Do the bytes of planned nodes a and b overlap? */
static int overlap(const Graph *g, const MemPlan *mp, int a, int b) {
    return mp->offset[a] < mp->offset[b] + memplan_bytes(g, b) && mp->offset[b] < mp->offset[a] + memplan_bytes(g, a);
}

static _Thread_local const Graph *sort_graph; /* qsort's context: engines are planned on several threads at once */
/* Larger values first; ties in node order. */
static int cmp_size(const void *pa, const void *pb) {
    int a = *(const int *)pa, b = *(const int *)pb;
    int64_t sa = memplan_bytes(sort_graph, a), sb = memplan_bytes(sort_graph, b);
    return sa != sb ? (sa < sb ? 1 : -1) : a - b;
}

static int cmp_i64(const void *pa, const void *pb) {
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

/* The bytes of a value placed at [o, o + need) that a core other than
 * the one that wrote them last would write, if placed value b used them
 * before (or after): the threads split most kernels' work by the first
 * axis, the first half to one core, so the halves of the two values
 * should meet at the same byte. */
static int64_t mismatch(const Graph *g, const MemPlan *mp, int64_t o, int64_t need, int b) {
    int64_t ob = mp->offset[b], sb = memplan_bytes(g, b);
    int64_t lo = o > ob ? o : ob, hi = o + need < ob + sb ? o + need : ob + sb;
    int64_t ma = o + need / 2, mb = ob + sb / 2;
    int64_t from = ma < mb ? ma : mb, to = ma < mb ? mb : ma;
    if (from < lo) from = lo;
    if (to > hi) to = hi;
    return to > from ? to - from : 0;
}

/* Does [o, o + need) miss every busy range (nb of them)? */
static int is_free(const int64_t (*busy)[2], int nb, int64_t o, int64_t need) {
    for (int j = 0; j < nb; j++)
        if (busy[j][0] < o + need && o < busy[j][1]) return 0;
    return 1;
}

/* Of offset cur and the offsets that center large value order[i] on one
 * of the large values order[0..lim) whose memory it may share (live at
 * other times), free of the busy ranges (nb of them) and ending by top:
 * the one whose halves meet best those of the large values of
 * order[0..lim) it shares memory with; cur on a tie. */
static int64_t best_center(const Graph *g, const MemPlan *mp, const int *order, int lim, int i, int64_t cur,
                           int64_t top, const int64_t (*busy)[2], int nb) {
    int a = order[i];
    int64_t need = memplan_bytes(g, a), best = cur, best_cost = -1;
    for (int c = -1; c < lim; c++) {
        int64_t o = cur;
        if (c >= 0) {
            int b = order[c];
            if (c == i || live_together(mp, a, b) || memplan_bytes(g, b) < MEMPLAN_HALVES) continue;
            o = (mp->offset[b] + memplan_bytes(g, b) / 2 - need / 2) / MEMPLAN_ALIGN * MEMPLAN_ALIGN;
            if (o < 0 || o + need > top || o == cur || !is_free(busy, nb, o, need)) continue;
        }
        int64_t cost = 0;
        for (int j = 0; j < lim; j++)
            if (j != i && !live_together(mp, a, order[j]) && memplan_bytes(g, order[j]) >= MEMPLAN_HALVES)
                cost += mismatch(g, mp, o, need, order[j]);
        if (best_cost < 0 || cost < best_cost) best = o, best_cost = cost;
    }
    return best;
}

/* The byte ranges of the values of order[0..lim) but order[i] that are
 * live with order[i], into busy; returns their count. */
static int busy_with(const Graph *g, const MemPlan *mp, const int *order, int lim, int i, int64_t (*busy)[2]) {
    int a = order[i], nb = 0;
    for (int j = 0; j < lim; j++)
        if (j != i && live_together(mp, a, order[j]))
            busy[nb][0] = mp->offset[order[j]], busy[nb++][1] = mp->offset[order[j]] + memplan_bytes(g, order[j]);
    return nb;
}

/* Moves large value order[i] of a placed plan (n values) to best_center
 * among all of them, inside the arena. busy is room for n ranges. */
static void center_halves(const Graph *g, MemPlan *mp, const int *order, int n, int i, int64_t (*busy)[2]) {
    int a = order[i], nb = busy_with(g, mp, order, n, i, busy);
    mp->offset[a] = best_center(g, mp, order, n, i, mp->offset[a], mp->size, (const int64_t(*)[2])busy, nb);
}

/* The value whose memory node is: itself, or (through views and values
 * computed over others) the one placed. */
static int owner(const MemPlan *mp, int node) { return fusion_owner(mp->view_of, mp->over, node); }

/* The value node's value is: itself, or the one it views. */
static int value_of(const MemPlan *mp, int node) { return mp->view_of[node] >= 0 ? mp->view_of[node] : node; }

/* The live ranges: from the computing kernel to the last reader (outputs:
 * past the last kernel); a viewed value's to its views' last reader too,
 * and a placed value's to the last reader of every value in its memory. */
static void live_ranges(const Graph *g, const KernelPlan *kp, MemPlan *mp) {
    for (int id = 0; id < g->nnodes; id++) {
        mp->first[id] = mp->last[id] = kp->kernel_of[id];
        const Node *n = &g->nodes[id];
        int k = kp->kernel_of[id];
        for (int j = 0; j < n->nin; j++) {
            int in = n->in[j];
            if (k > mp->last[in]) mp->last[in] = k;
        }
    }
    for (int o = 0; o < g->nouts; o++) mp->last[g->outs[o].node] = kp->nk;
    for (int id = 0; id < g->nnodes; id++) {
        int v = value_of(mp, id);
        if (mp->last[id] > mp->last[v]) mp->last[v] = mp->last[id];
    }
    for (int id = 0; id < g->nnodes; id++) {
        int v = owner(mp, id);
        if (mp->last[id] > mp->last[v]) mp->last[v] = mp->last[id];
    }
}

/* Places the n values of order (largest first), each at the lowest
 * offset free of the values placed before it that it is live with, or
 * (halves, a large value) at best_center among those, within the arena so
 * far (or that offset's end); busy is room for n ranges. */
static void place(const Graph *g, MemPlan *mp, const int *order, int n, int halves, int64_t (*busy)[2]) {
    mp->size = mp->naive = 0;
    for (int i = 0; i < n; i++) {
        int a = order[i], nb = busy_with(g, mp, order, i, i, busy);
        qsort(busy, (size_t)nb, sizeof *busy, cmp_i64);
        int64_t at = 0, need = memplan_bytes(g, a);
        for (int j = 0; j < nb; j++) {
            if (busy[j][0] >= at + need) break;
            if (busy[j][1] > at) at = busy[j][1];
        }
        if (halves && need >= MEMPLAN_HALVES)
            at = best_center(g, mp, order, i, i, at, at + need > mp->size ? at + need : mp->size,
                             (const int64_t(*)[2])busy, nb);
        mp->offset[a] = at;
        if (at + need > mp->size) mp->size = at + need;
        mp->naive += need;
    }
}

/* See memplan.h: first fit, or the plan that centers large values as it
 * places them where its peak is no higher; then the large values moved
 * where that suits their halves better. */
void memplan_build(const Graph *g, const KernelPlan *kp, MemPlan *mp) {
    size_t nn = (size_t)g->nnodes + 1;
    memset(mp, 0, sizeof *mp);
    mp->offset = xmalloc(nn * sizeof *mp->offset);
    mp->first = xmalloc(nn * sizeof *mp->first);
    mp->last = xmalloc(nn * sizeof *mp->last);
    mp->view_of = xmalloc(nn * sizeof *mp->view_of);
    mp->over = xmalloc(nn * sizeof *mp->over);
    mp->update_into = xmalloc(nn * sizeof *mp->update_into);
    for (int id = 0; id < g->nnodes; id++) {
        mp->view_of[id] = kp->view_of ? kp->view_of[id] : -1;
        mp->over[id] = kp->over ? kp->over[id] : -1;
        mp->nover += mp->over[id] >= 0;
        mp->update_into[id] = fusion_update_into(kp, id);
        mp->ninto += mp->update_into[id] >= 0;
    }
    live_ranges(g, kp, mp);
    int *order = xmalloc(nn * sizeof *order), n = 0;
    for (int id = 0; id < g->nnodes; id++) {
        mp->offset[id] = -1;
        if (!ir_is_external(g->nodes[id].op) && kp->kept[id] && owner(mp, id) == id && mp->update_into[id] < 0)
            order[n++] = id;
    }
    sort_graph = g;
    qsort(order, (size_t)n, sizeof *order, cmp_size);
    int64_t(*busy)[2] = xmalloc(nn * sizeof *busy);
    place(g, mp, order, n, 0, busy);
    int64_t first_fit = mp->size;
    place(g, mp, order, n, 1, busy);
    if (mp->size > first_fit) place(g, mp, order, n, 0, busy);
    for (int i = 0; i < n; i++)
        if (memplan_bytes(g, order[i]) >= MEMPLAN_HALVES) center_halves(g, mp, order, n, i, busy);
    mp->nvalues = n;
    for (int id = 0; id < g->nnodes; id++) {
        if (owner(mp, id) != id) mp->offset[id] = mp->offset[owner(mp, id)];
        mp->nviews += mp->view_of[id] >= 0;
    }
    free(busy);
    free(order);
}

void memplan_free(MemPlan *mp) {
    free(mp->offset);
    free(mp->first);
    free(mp->last);
    free(mp->view_of);
    free(mp->over);
    free(mp->update_into);
    memset(mp, 0, sizeof *mp);
}

/* See memplan.h. */
int memplan_survives(const Graph *g, const MemPlan *mp, int node) {
    if (node >= 0 && node < g->nnodes && mp->update_into[node] >= 0) return 1; /* nothing computed reuses a PARAM's memory */
    if (node < 0 || node >= g->nnodes || mp->offset[node] < 0) return 0;
    int at = owner(mp, node), v = value_of(mp, node);
    for (int id = 0; id < g->nnodes; id++) {
        if (mp->offset[id] < 0 || value_of(mp, id) == v) continue;
        /* in node's memory: a value computed later is computed over it (a
         * chain of values over one another runs in kernel order) */
        if (owner(mp, id) == at ? mp->first[id] > mp->first[v] : mp->first[id] > mp->last[node] && overlap(g, mp, id, node))
            return 0;
    }
    return 1;
}

/* See memplan.h. */
void memplan_print(const Graph *g, const MemPlan *mp, FILE *out) {
    for (int id = 0; id < g->nnodes; id++) {
        if (mp->offset[id] < 0) continue;
        char label[160], type[96];
        fprintf(out, "%-40s %-24s offset %10lld  bytes %10lld  kernels %d..%d",
                ir_node_label(g, id, label, sizeof label), ir_type_str(&g->nodes[id].type, type, sizeof type),
                (long long)mp->offset[id], (long long)memplan_bytes(g, id), mp->first[id], mp->last[id]);
        if (mp->view_of[id] >= 0) fprintf(out, "  view of %s", ir_node_label(g, mp->view_of[id], label, sizeof label));
        if (mp->over[id] >= 0) fprintf(out, "  over %s", ir_node_label(g, mp->over[id], label, sizeof label));
        fputc('\n', out);
    }
    for (int id = 0; id < g->nnodes; id++) {
        if (mp->update_into[id] < 0) continue;
        char label[160], type[96], into[160];
        fprintf(out, "%-40s %-24s in place of %s\n", ir_node_label(g, id, label, sizeof label),
                ir_type_str(&g->nodes[id].type, type, sizeof type), ir_node_label(g, mp->update_into[id], into, sizeof into));
    }
    fprintf(out, "%d values", mp->nvalues);
    if (mp->nviews) fprintf(out, " and %d views", mp->nviews);
    if (mp->nover) fprintf(out, ", %d computed over others", mp->nover);
    if (mp->ninto) fprintf(out, " (and %d updates in place)", mp->ninto);
    fprintf(out, ": planned peak %.1f MiB, %.1f MiB without reuse (%.0f%%)\n", (double)mp->size / 1048576.0,
            (double)mp->naive / 1048576.0, mp->naive ? 100.0 * (double)mp->size / (double)mp->naive : 100.0);
}
