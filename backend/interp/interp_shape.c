/* interp_shape.c — strided walks, reductions and data movement.
 *
 * Data movement is one primitive, copy_block: walk a shape and copy each
 * element from a strided source to a strided destination. Broadcast,
 * transpose, concat, slice and pad only choose the shape, the strides and
 * the start offsets. These ops accept f32 and i64 alike.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp_impl.h"

/* ---- walks ------------------------------------------------------------------ */

/* A walk over s at index 0, every stride and offset 0. */
void walk_start(Walk *w, const Shape *s, int nops) {
    memset(w, 0, sizeof *w);
    w->rank = s->rank;
    w->nops = nops;
    memcpy(w->dim, s->dim, sizeof w->dim);
}

/* st[d] = product of dims after d. */
void strides_of(const Shape *s, int64_t st[IR_MAX_RANK]) {
    int64_t n = 1;
    for (int d = s->rank - 1; d >= 0; d--) {
        st[d] = n;
        n *= s->dim[d];
    }
}

/* Right-aligns s under out; a dim of 1 (or a missing one) gets stride 0. */
void bcast_strides(const Shape *s, const Shape *out, int64_t st[IR_MAX_RANK]) {
    int64_t own[IR_MAX_RANK];
    strides_of(s, own);
    int lead = out->rank - s->rank;
    for (int d = 0; d < out->rank; d++) {
        int sd = d - lead;
        st[d] = sd < 0 || s->dim[sd] == 1 ? 0 : own[sd];
    }
}

/* One element of 4 or 8 bytes per index of dims. */
void copy_block(size_t esize, const Shape *dims, const void *src, int64_t soff,
                const int64_t src_st[IR_MAX_RANK], void *dst, int64_t doff,
                const int64_t dst_st[IR_MAX_RANK]) {
    const char *s = src;
    char *d = dst;
    int64_t n = ir_numel(dims);
    Walk w;
    walk_start(&w, dims, 2);
    memcpy(w.st[0], src_st, sizeof w.st[0]);
    memcpy(w.st[1], dst_st, sizeof w.st[1]);
    for (int64_t i = 0; i < n; i++, walk_next(&w)) {
        const char *from = s + (size_t)(soff + w.off[0]) * esize;
        char *to = d + (size_t)(doff + w.off[1]) * esize;
        if (esize == 8) memcpy(to, from, 8);
        else memcpy(to, from, 4);
    }
}

/* ---- reductions ------------------------------------------------------------ */

/* Starts a walk over the input x of a reduction whose offset 0 is the
 * output element it falls in: the output strides, 0 on reduced axes. (The
 * output has the layout of x with reduced dims set to 1, keepdims or not.) */
static void reduce_walk(const Interp *in, int id, Walk *w) {
    const Shape *x = arg_shape(in, id, 0);
    int red[IR_MAX_RANK];
    ir_reduced_axes(node_of(in, id), x->rank, red);
    Shape kept = *x;
    for (int d = 0; d < x->rank; d++)
        if (red[d]) kept.dim[d] = 1;
    walk_start(w, x, 1);
    strides_of(&kept, w->st[0]);
    for (int d = 0; d < x->rank; d++)
        if (red[d]) w->st[0][d] = 0;
}

/* reduce_sum: x [..] -> y; sums in double, adding the elements of x in
 * row-major order into one or IR_SUM_LANES partial sums per chunk of the
 * first axis (ir_sum_lanes, ir_sum_chunks: a fixed order, so results are
 * reproducible). */
int k_reduce_sum(Interp *in, int id, char *err, size_t errlen) {
    const float *x = arg_f32(in, id, 0);
    float *y = out_f32(in, id);
    const Shape *xs = arg_shape(in, id, 0);
    int64_t nx = ir_numel(xs), ny = ir_numel(shape_of(in, id)), run;
    int red[IR_MAX_RANK];
    ir_reduced_axes(node_of(in, id), xs->rank, red);
    int lanes = ir_sum_lanes(xs, red, &run), chunks = ir_sum_chunks(xs, red);
    int64_t per = chunks > 1 ? nx / chunks : 1; /* elements of x per chunk */
    double *acc = calloc((size_t)(ny ? chunks * ny * lanes : 1), sizeof *acc);
    if (!acc) return interp_fail(err, errlen, "reduce_sum: out of memory");
    Walk w;
    reduce_walk(in, id, &w);
    /* the run is the innermost run elements of x: i % run is the index in it */
    for (int64_t i = 0; i < nx; i++, walk_next(&w))
        acc[((chunks > 1 ? i / per : 0) * ny + w.off[0]) * lanes + (lanes > 1 ? i % run % lanes : 0)] += x[i];
    for (int64_t j = 0; j < ny; j++) {
        double sum = acc[j * lanes];
        for (int q = 0; q < chunks; q++)
            for (int l = q == 0; l < lanes; l++) sum += acc[(q * ny + j) * lanes + l];
        y[j] = (float)sum;
    }
    free(acc);
    return 0;
}

/* reduce_max: x [..] -> y; -inf over an empty axis; NaN wins. */
int k_reduce_max(Interp *in, int id, char *err, size_t errlen) {
    (void)err, (void)errlen;
    const float *x = arg_f32(in, id, 0);
    float *y = out_f32(in, id);
    int64_t nx = ir_numel(arg_shape(in, id, 0)), ny = ir_numel(shape_of(in, id));
    for (int64_t j = 0; j < ny; j++) y[j] = -INFINITY;
    Walk w;
    reduce_walk(in, id, &w);
    for (int64_t i = 0; i < nx; i++, walk_next(&w)) {
        float *m = &y[w.off[0]];
        if (x[i] > *m || isnan(x[i])) *m = x[i];
    }
    return 0;
}

/* ---- data movement ------------------------------------------------------------ */

/* reshape: the same elements in the same order. */
void k_reshape(Interp *in, int id) {
    size_t bytes = (size_t)ir_numel(shape_of(in, id)) * esize_of(in, id);
    if (bytes) memcpy(in->buf[id], in->buf[arg(in, id, 0)], bytes);
}

/* broadcast: x [..] -> y [the node's shape], numpy rules. */
void k_broadcast(Interp *in, int id) {
    const Shape *y = shape_of(in, id);
    int64_t sst[IR_MAX_RANK], dst[IR_MAX_RANK];
    bcast_strides(arg_shape(in, id, 0), y, sst);
    strides_of(y, dst);
    copy_block(esize_of(in, id), y, in->buf[arg(in, id, 0)], 0, sst, in->buf[id], 0, dst);
}

/* transpose: y.dim[i] = x.dim[perm[i]], y[.., j_i, ..] = x[.., j at perm[i], ..]. */
void k_transpose(Interp *in, int id) {
    const Node *n = node_of(in, id);
    const Shape *y = shape_of(in, id);
    int64_t xst[IR_MAX_RANK], sst[IR_MAX_RANK], dst[IR_MAX_RANK];
    strides_of(arg_shape(in, id, 0), xst);
    for (int i = 0; i < y->rank; i++) sst[i] = xst[n->attr[i]];
    strides_of(y, dst);
    copy_block(esize_of(in, id), y, in->buf[arg(in, id, 0)], 0, sst, in->buf[id], 0, dst);
}

/* concat: each input goes to its slab of y along attr[0], in input order. */
void k_concat(Interp *in, int id) {
    const Node *n = node_of(in, id);
    int axis = (int)n->attr[0];
    int64_t yst[IR_MAX_RANK], pos = 0;
    strides_of(shape_of(in, id), yst);
    for (int k = 0; k < n->nin; k++) {
        const Shape *x = arg_shape(in, id, k);
        int64_t xst[IR_MAX_RANK];
        strides_of(x, xst);
        copy_block(esize_of(in, id), x, in->buf[arg(in, id, k)], 0, xst, in->buf[id],
                   pos * yst[axis], yst);
        pos += x->dim[axis];
    }
}

/* slice: y = x[.., start:end, ..] along axis attr[0]. */
void k_slice(Interp *in, int id) {
    const Node *n = node_of(in, id);
    const Shape *y = shape_of(in, id);
    int64_t xst[IR_MAX_RANK], yst[IR_MAX_RANK];
    strides_of(arg_shape(in, id, 0), xst);
    strides_of(y, yst);
    copy_block(esize_of(in, id), y, in->buf[arg(in, id, 0)], n->attr[1] * xst[n->attr[0]], xst,
               in->buf[id], 0, yst);
}

/* pad: zeros, then x at offset `before` along axis attr[0]. */
void k_pad(Interp *in, int id) {
    const Node *n = node_of(in, id);
    const Shape *x = arg_shape(in, id, 0);
    int64_t xst[IR_MAX_RANK], yst[IR_MAX_RANK];
    strides_of(x, xst);
    strides_of(shape_of(in, id), yst);
    memset(in->buf[id], 0, (size_t)ir_numel(shape_of(in, id)) * esize_of(in, id));
    copy_block(esize_of(in, id), x, in->buf[arg(in, id, 0)], 0, xst, in->buf[id],
               n->attr[1] * yst[n->attr[0]], yst);
}
