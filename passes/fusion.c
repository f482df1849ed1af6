/* fusion.c — the kernel plan of fusion.h.
 *
 * Groups are built in node order. A group holds its members (node ids,
 * ascending, hence in a valid order), whether it is a loop, whether it is
 * closed (a node outside it has read a member), and the distinct shapes
 * of what it reads from memory. When a node joins several groups they
 * merge into the one with the lowest index.
 */
#include "fusion.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct {
    int *nodes, n, cap;
    int loop, closed, dead;
    int reduce;                        /* a reduce_sum computed in the loop, or -1 */
    Shape shape;                       /* a loop's iteration space        */
    Shape read[FUSION_MAX_SHAPES];     /* distinct shapes it reads or writes */
    int nread;
} Group;

typedef struct {
    const Graph *g;
    Group *grp;
    int ngrp;
    int *group_of;       /* node -> group, -1 */
    unsigned char *inl;  /* constants read only by elementwise nodes */
} Planner;

/* Elementwise for grouping: the EW class and constant fills. */
static int is_loop_op(Op op) { return ir_op_info[op].cls == OC_EW || op == OP_CONST; }

static void push(Group *k, int node) {
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 8;
        k->nodes = xrealloc(k->nodes, (size_t)k->cap * sizeof *k->nodes);
    }
    k->nodes[k->n++] = node;
}

/* Adds s to a set of shapes; 0, or -1 if the set is full. */
static int add_shape(Shape *set, int *n, const Shape *s) {
    for (int i = 0; i < *n; i++)
        if (ir_shape_eq(&set[i], s)) return 0;
    if (*n == FUSION_MAX_SHAPES) return -1;
    set[(*n)++] = *s;
    return 0;
}

/* The nodes an output depends on (xcalloc'd; the caller frees it). */
static unsigned char *find_live(const Graph *g) {
    unsigned char *live = xcalloc((size_t)g->nnodes + 1, 1);
    for (int o = 0; o < g->nouts; o++) live[g->outs[o].node] = 1;
    for (int id = g->nnodes - 1; id >= 0; id--)
        for (int j = 0; live[id] && j < g->nodes[id].nin; j++) live[g->nodes[id].in[j]] = 1;
    return live;
}

/* Constants every live reader of which is elementwise, and that are no output. */
static void find_inlined(Planner *p, const unsigned char *live) {
    const Graph *g = p->g;
    for (int id = 0; id < g->nnodes; id++) p->inl[id] = g->nodes[id].op == OP_CONST;
    for (int id = 0; id < g->nnodes; id++) {
        const Node *n = &g->nodes[id];
        if (ir_op_info[n->op].cls == OC_EW || !live[id]) continue;
        for (int j = 0; j < n->nin; j++) p->inl[n->in[j]] = 0;
    }
    for (int o = 0; o < g->nouts; o++) p->inl[g->outs[o].node] = 0;
}

static int new_group(Planner *p, int loop, const Shape *shape) {
    Group *k = &p->grp[p->ngrp];
    memset(k, 0, sizeof *k);
    k->loop = loop;
    k->reduce = -1;
    k->shape = *shape;
    if (loop) add_shape(k->read, &k->nread, shape);
    return p->ngrp++;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* Node id (elementwise) joins a loop group if it can; returns the group
 * or -1. cand[] are the open loop groups of its shape it reads from. */
static int try_join(Planner *p, int id, const int *cand, int ncand) {
    const Node *n = &p->g->nodes[id];
    Shape set[FUSION_MAX_SHAPES];
    int nset = 0;
    for (int c = 0; c < ncand; c++)
        for (int s = 0; s < p->grp[cand[c]].nread; s++)
            if (add_shape(set, &nset, &p->grp[cand[c]].read[s])) return -1;
    for (int j = 0; j < n->nin; j++) {
        int in = n->in[j], gi = p->group_of[in], member = 0;
        for (int c = 0; c < ncand; c++) member |= gi == cand[c];
        if (!member && !p->inl[in] && add_shape(set, &nset, &p->g->nodes[in].type.shape)) return -1;
    }
    int into = cand[0];
    for (int c = 1; c < ncand; c++) into = cand[c] < into ? cand[c] : into;
    Group *k = &p->grp[into];
    for (int c = 0; c < ncand; c++) {
        Group *o = &p->grp[cand[c]];
        if (cand[c] == into) continue;
        for (int i = 0; i < o->n; i++) push(k, o->nodes[i]), p->group_of[o->nodes[i]] = into;
        free(o->nodes);
        memset(o, 0, sizeof *o);
        o->dead = 1;
    }
    qsort(k->nodes, (size_t)k->n, sizeof *k->nodes, cmp_int);
    memcpy(k->read, set, sizeof set);
    k->nread = nset;
    push(k, id);
    return into;
}

/* Does s, broadcast to x, walk x's axes [lead, rank) as one contiguous
 * run, or not move along them at all? */
static int run_flat(const Shape *s, const Shape *x, int lead) {
    int none = 1, whole = 1;
    for (int d = lead; d < x->rank; d++) {
        int sd = d - (x->rank - s->rank);
        int64_t dim = sd < 0 ? 1 : s->dim[sd];
        none &= dim == 1 || x->dim[d] == 1;
        whole &= dim == x->dim[d];
    }
    return none || whole;
}

/* Can reduce_sum node id be computed in loop group k (fusion.h)? */
static int reduce_joins(const Planner *p, int id, const Group *k) {
    const Node *n = &p->g->nodes[id];
    const Shape *x = &p->g->nodes[n->in[0]].type.shape;
    if (!k->loop || k->closed || k->nread >= FUSION_MAX_SHAPES || !ir_shape_eq(&k->shape, x) ||
        n->type.dtype != DT_F32 || ir_numel(x) == 0 || ir_numel(&n->type.shape) == 0)
        return 0;
    int red[IR_MAX_RANK];
    int64_t run;
    ir_reduced_axes(n, x->rank, red);
    if (ir_sum_lanes(x, red, &run) == 1) return 1;
    int lead = x->rank;
    while (lead > 0 && red[lead - 1]) lead--;
    for (int r = 0; r < k->nread; r++)
        if (!run_flat(&k->read[r], x, lead)) return 0;
    return 1;
}

/* Places node id: in a loop group, or in a group of its own. */
static void place(Planner *p, int id) {
    const Node *n = &p->g->nodes[id];
    int cand[8], ncand = 0, gi = -1; /* elementwise ops have at most 3 inputs */
    if (is_loop_op(n->op)) {
        for (int j = 0; j < n->nin; j++) {
            int k = p->group_of[n->in[j]], dup = 0;
            if (k < 0 || !p->grp[k].loop || p->grp[k].closed || !ir_shape_eq(&p->grp[k].shape, &n->type.shape)) continue;
            for (int c = 0; c < ncand; c++) dup |= cand[c] == k;
            if (!dup) cand[ncand++] = k;
        }
        if (ncand) gi = try_join(p, id, cand, ncand);
        if (gi < 0) {
            gi = new_group(p, 1, &n->type.shape);
            for (int j = 0; j < n->nin; j++)
                if (!p->inl[n->in[j]]) add_shape(p->grp[gi].read, &p->grp[gi].nread, &p->g->nodes[n->in[j]].type.shape);
            push(&p->grp[gi], id);
        }
    } else if (n->op == OP_REDUCE_SUM && (gi = p->group_of[n->in[0]]) >= 0 && reduce_joins(p, id, &p->grp[gi])) {
        push(&p->grp[gi], id); /* the loop's last node: it runs here, and nothing joins after it */
        p->grp[gi].reduce = id;
        p->grp[gi].closed = 1;
    } else {
        gi = new_group(p, 0, &n->type.shape);
        push(&p->grp[gi], id);
    }
    p->group_of[id] = gi;
    for (int j = 0; j < n->nin; j++) {
        int k = p->group_of[n->in[j]];
        if (k >= 0 && k != gi) p->grp[k].closed = 1;
    }
}

/* The last member of a group (its place in the execution order). */
static int last_of(const Group *k) { return k->nodes[k->n - 1]; }

static _Thread_local const Group *sort_groups; /* qsort's context: engines are planned on several threads at once */
static int cmp_group(const void *a, const void *b) {
    return last_of(&sort_groups[*(const int *)a]) - last_of(&sort_groups[*(const int *)b]);
}

/* ---- convolution epilogues ------------------------------------------------------ */

/* 1 if b, right-aligned against a convolution's output y [B, C, ...],
 * has C at y's axis 1 and 1 everywhere else: one bias a channel. */
static int per_channel(const Shape *b, const Shape *y) {
    int lead = y->rank - b->rank, channel = 0;
    if (y->rank < 3 || lead < 0) return 0;
    for (int d = 0; d < b->rank; d++) {
        if (d + lead == 1) channel = b->dim[d] == y->dim[1];
        else if (b->dim[d] != 1) return 0;
    }
    return channel;
}

static int is_output(const Graph *g, int id) {
    for (int o = 0; o < g->nouts; o++)
        if (g->outs[o].node == id) return 1;
    return 0;
}

/* The loop kernel convolution kernel k's helper can compute (fusion.h):
 * its members, the add and then the ReLU if any, in add[0] and add[1]
 * (-1), the bias in *bias (in memory before kernel k runs); -1 if there
 * is none. reader[v] is v's one reader among the planned nodes, -1 for
 * none, -2 for several. */
static int epilogue_of(const Graph *g, const KernelPlan *p, int k, const int *reader, int add[2], int *bias) {
    const FusedKernel *fk = &p->k[k];
    int c = fk->nodes[0];
    Op op = g->nodes[c].op;
    if (fk->loop || fk->n != 1 || (op != OP_CONV1D && op != OP_CONV2D) || g->nodes[c].type.dtype != DT_F32 ||
        is_output(g, c) || (p->view_of && p->view_of[c] >= 0))
        return -1;
    int a = reader[c];
    if (a < 0 || g->nodes[a].op != OP_ADD || g->nodes[a].nin != 2) return -1;
    int l = p->kernel_of[a];
    const FusedKernel *lk = &p->k[l];
    if (l <= k || !lk->loop || lk->reduce >= 0 || lk->nodes[0] != a || lk->n > 2) return -1;
    int r = lk->n == 2 ? lk->nodes[1] : -1, last = r >= 0 ? r : a;
    if (r >= 0 && (g->nodes[r].op != OP_RELU || g->nodes[r].in[0] != a || p->kept[a] || reader[a] != r)) return -1;
    int b = g->nodes[a].in[0] == c ? g->nodes[a].in[1] : g->nodes[a].in[0];
    const TType *tb = &g->nodes[b].type, *tc = &g->nodes[c].type;
    if (b == c || !p->kept[b] || p->kernel_of[b] >= k || tb->dtype != DT_F32 || !per_channel(&tb->shape, &tc->shape) ||
        !ir_shape_eq(&g->nodes[last].type.shape, &tc->shape) || !p->kept[last] || fusion_update_into(p, last) >= 0 ||
        !p->over || p->over[last] != c)
        return -1;
    add[0] = a, add[1] = r, *bias = b;
    return l;
}

/* Fills p->in_call (fusion.h). */
static void plan_epilogues(const Graph *g, KernelPlan *p) {
    int *reader = xmalloc(((size_t)g->nnodes + 1) * sizeof *reader);
    p->in_call = xmalloc(((size_t)g->nnodes + 1) * sizeof *p->in_call);
    for (int id = 0; id < g->nnodes; id++) reader[id] = -1, p->in_call[id] = -1;
    for (int id = 0; id < g->nnodes; id++)
        for (int j = 0; p->kernel_of[id] >= 0 && j < g->nodes[id].nin; j++) {
            int in = g->nodes[id].in[j];
            reader[in] = reader[in] == -1 || reader[in] == id ? id : -2;
        }
    for (int k = 0; k < p->nk; k++) {
        int add[2], bias;
        if (epilogue_of(g, p, k, reader, add, &bias) < 0) continue;
        for (int m = 0; m < 2; m++)
            if (add[m] >= 0) p->in_call[add[m]] = p->k[k].nodes[0];
    }
    free(reader);
}

/* See fusion.h. */
int fusion_epilogue(const Graph *g, const KernelPlan *p, int conv, int *bias, int *relu) {
    int l = -1;
    *bias = -1, *relu = 0;
    /* the code generator asks for every helper's kernel: only a convolution scans */
    if (!p->in_call || (g->nodes[conv].op != OP_CONV1D && g->nodes[conv].op != OP_CONV2D)) return -1;
    for (int id = 0; id < g->nnodes; id++) {
        if (p->in_call[id] != conv) continue;
        const Node *n = &g->nodes[id];
        if (n->op == OP_RELU) *relu = 1;
        else *bias = n->in[0] == conv ? n->in[1] : n->in[0], l = p->kernel_of[id];
    }
    return l;
}

/* See fusion.h. */
void fusion_plan(const Graph *g, KernelPlan *out) {
    Planner p = {g, xcalloc((size_t)g->nnodes + 1, sizeof(Group)), 0, xmalloc(((size_t)g->nnodes + 1) * sizeof(int)),
                 xcalloc((size_t)g->nnodes + 1, 1)};
    for (int id = 0; id < g->nnodes; id++) p.group_of[id] = -1;
    unsigned char *live = find_live(g);
    find_inlined(&p, live);
    for (int id = 0; id < g->nnodes; id++) {
        Op op = g->nodes[id].op;
        if (ir_is_external(op) || p.inl[id] || !live[id]) continue;
        place(&p, id);
    }
    int *order = xmalloc(((size_t)p.ngrp + 1) * sizeof *order), nk = 0;
    for (int i = 0; i < p.ngrp; i++)
        if (!p.grp[i].dead) order[nk++] = i;
    sort_groups = p.grp;
    qsort(order, (size_t)nk, sizeof *order, cmp_group);

    memset(out, 0, sizeof *out);
    out->k = xcalloc((size_t)nk + 1, sizeof *out->k);
    out->nk = nk;
    out->kernel_of = xmalloc(((size_t)g->nnodes + 1) * sizeof *out->kernel_of);
    out->kept = xcalloc((size_t)g->nnodes + 1, 1);
    for (int id = 0; id < g->nnodes; id++) out->kernel_of[id] = -1;
    for (int i = 0; i < nk; i++) {
        Group *k = &p.grp[order[i]];
        out->k[i] = (FusedKernel){k->nodes, k->n, k->loop, k->reduce};
        for (int m = 0; m < k->n; m++) out->kernel_of[k->nodes[m]] = i;
    }
    /* kept: sources, outputs, single-node kernels, a loop's reduce_sum,
     * and loop members read by another kernel */
    for (int id = 0; id < g->nnodes; id++) {
        const Node *n = &g->nodes[id];
        int k = out->kernel_of[id];
        if (ir_is_external(n->op) || (k >= 0 && (!out->k[k].loop || out->k[k].reduce == id))) out->kept[id] = 1;
        for (int j = 0; j < n->nin && k >= 0; j++)
            if (out->kernel_of[n->in[j]] >= 0 && out->kernel_of[n->in[j]] != k) out->kept[n->in[j]] = 1;
    }
    for (int o = 0; o < g->nouts; o++) out->kept[g->outs[o].node] = 1;
    /* views: a reshape reads its input in row-major order and writes the
     * same elements in the same order, so for a computed input (kept: the
     * reshape's kernel reads it from memory) the bytes are already there */
    out->view_of = xmalloc(((size_t)g->nnodes + 1) * sizeof *out->view_of);
    for (int id = 0; id < g->nnodes; id++) {
        const Node *n = &g->nodes[id];
        int in = n->nin ? n->in[0] : -1;
        out->view_of[id] = -1;
        if (n->op == OP_RESHAPE && out->kernel_of[id] >= 0 && out->kernel_of[in] >= 0 && out->kept[in])
            out->view_of[id] = out->view_of[in] >= 0 ? out->view_of[in] : in;
    }
    fusion_plan_in_place(g, out);
    plan_epilogues(g, out);
    free(order);
    free(live);
    free(p.grp);
    free(p.group_of);
    free(p.inl);
}

void fusion_plan_free(KernelPlan *p) {
    for (int i = 0; i < p->nk; i++) free(p->k[i].nodes);
    free(p->k);
    free(p->kernel_of);
    free(p->kept);
    free(p->view_of);
    free(p->update_into);
    free(p->over);
    free(p->in_call);
    memset(p, 0, sizeof *p);
}

/* See fusion.h. */
void fusion_print(const Graph *g, const KernelPlan *p, FILE *out) {
    int computed = 0, fused = 0, loops = 0, kept = 0, into = 0, over = 0, epi = 0;
    for (int i = 0; i < p->nk; i++) {
        const FusedKernel *k = &p->k[i];
        const Node *first = &g->nodes[k->nodes[0]];
        char buf[160];
        if (k->loop)
            fprintf(out, "kernel %d: loop %s%s:", i, ir_type_str(&first->type, buf, sizeof buf),
                    k->reduce >= 0 ? " + reduce_sum" : "");
        else fprintf(out, "kernel %d: %s:", i, ir_op_info[first->op].name);
        for (int m = 0; m < k->n; m++) {
            int id = k->nodes[m], x = fusion_update_into(p, id);
            fprintf(out, " %s%s", ir_node_label(g, id, buf, sizeof buf), p->kept[id] ? "*" : "");
            if (x >= 0) fprintf(out, "->%s", ir_node_label(g, x, buf, sizeof buf)), into++;
            if (p->over && p->over[id] >= 0) fprintf(out, "=>%s", ir_node_label(g, p->over[id], buf, sizeof buf)), over++;
        }
        if (!k->loop && p->view_of && p->view_of[k->nodes[0]] >= 0)
            fprintf(out, " (a view of %s: no copy)", ir_node_label(g, p->view_of[k->nodes[0]], buf, sizeof buf));
        int bias, relu, l = k->loop ? -1 : fusion_epilogue(g, p, k->nodes[0], &bias, &relu);
        if (l >= 0) fprintf(out, " (and kernel %d's bias%s, in its call)", l, relu ? " and ReLU" : ""), epi++;
        if (fusion_in_call(p, i)) fprintf(out, " (in the call of kernel %d)", p->kernel_of[p->in_call[k->nodes[0]]]);
        fputc('\n', out);
        computed += k->n;
        if (k->loop && k->n > 1) loops++, fused += k->n;
        for (int m = 0; m < k->n; m++) kept += p->kept[k->nodes[m]];
    }
    fprintf(out, "%d kernels for %d computed nodes (%d loops fuse %d nodes); %d values kept in memory (*)", p->nk,
            computed, loops, fused, kept);
    if (into) fprintf(out, ", %d of them updates computed into their parameter or state (->)", into);
    if (over) fprintf(out, ", %d computed over a value their kernel reads last (=>)", over);
    if (epi) fprintf(out, "; %d convolution%s bias in %s call", epi, epi == 1 ? " adds its" : "s add their",
                     epi == 1 ? "its" : "their");
    fputc('\n', out);
}
