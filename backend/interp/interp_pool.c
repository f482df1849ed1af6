/* interp_pool.c — max pooling and its gradient; gather, scatter, argmax.
 *
 * Pooling windows have no padding and must fit (ir/infer.c). The maximum
 * of a window is its first largest element in row-major window order (a
 * later element replaces it only if strictly greater, so a NaN never does), and
 * the gradient goes to that same element, added up where windows overlap.
 * max_pool1d is max_pool2d with H = Kh = Ho = 1.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "interp_impl.h"

/* The sizes of one pooling: P planes (B * C) of [H, W] -> [Ho, Wo]. */
typedef struct {
    int64_t P, H, W, Ho, Wo;
    int64_t kh, kw, sh, sw;
} Pool;

/* Fills p from x (input 0) and the node's attributes; y has the pooled
 * shape (the node for max_pool*, dy = input 1 for the gradients). */
static void pool_geom(const Interp *in, int id, const Shape *y, Pool *p) {
    const Node *n = node_of(in, id);
    const Shape *x = arg_shape(in, id, 0);
    int two = x->rank == 4;
    p->P = x->dim[0] * x->dim[1];
    p->H = two ? x->dim[2] : 1, p->W = x->dim[two ? 3 : 2];
    p->Ho = two ? y->dim[2] : 1, p->Wo = y->dim[two ? 3 : 2];
    p->kh = two ? n->attr[0] : 1, p->kw = two ? n->attr[1] : n->attr[0];
    p->sh = two ? n->attr[2] : 1, p->sw = two ? n->attr[3] : n->attr[1];
}

/* The offset in plane x [H, W] of the first maximum of window (oh, ow). */
static int64_t window_argmax(const Pool *p, const float *x, int64_t oh, int64_t ow) {
    int64_t best = oh * p->sh * p->W + ow * p->sw;
    for (int64_t i = 0; i < p->kh; i++)
        for (int64_t j = 0; j < p->kw; j++) {
            int64_t at = (oh * p->sh + i) * p->W + ow * p->sw + j;
            if (x[at] > x[best]) best = at;
        }
    return best;
}

/* max_pool1d / max_pool2d: x [B, C, (H,) W] -> y [B, C, (Ho,) Wo]. */
void k_max_pool(Interp *in, int id) {
    Pool p;
    pool_geom(in, id, shape_of(in, id), &p);
    const float *x = arg_f32(in, id, 0);
    float *y = out_f32(in, id);
    for (int64_t c = 0; c < p.P; c++) {
        const float *xp = x + c * p.H * p.W;
        float *yp = y + c * p.Ho * p.Wo;
        for (int64_t oh = 0; oh < p.Ho; oh++)
            for (int64_t ow = 0; ow < p.Wo; ow++)
                yp[oh * p.Wo + ow] = xp[window_argmax(&p, xp, oh, ow)];
    }
}

/* max_pool*_grad: x, dy -> dx (x's shape); each dy to its window's argmax. */
void k_max_pool_grad(Interp *in, int id) {
    Pool p;
    pool_geom(in, id, arg_shape(in, id, 1), &p);
    const float *x = arg_f32(in, id, 0), *dy = arg_f32(in, id, 1);
    float *dx = out_f32(in, id);
    memset(dx, 0, (size_t)(p.P * p.H * p.W) * sizeof *dx);
    for (int64_t c = 0; c < p.P; c++) {
        const float *xp = x + c * p.H * p.W, *dyp = dy + c * p.Ho * p.Wo;
        float *dxp = dx + c * p.H * p.W;
        for (int64_t oh = 0; oh < p.Ho; oh++)
            for (int64_t ow = 0; ow < p.Wo; ow++)
                dxp[window_argmax(&p, xp, oh, ow)] += dyp[oh * p.Wo + ow];
    }
}

/* Requires 0 <= idx[i] < C for every row; `op` names the op. */
static int check_index(const char *op, const int64_t *idx, int64_t n, int64_t C, char *err,
                       size_t errlen) {
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= C)
            return interp_fail(err, errlen,
                               "%s: index %" PRId64 " out of range for %" PRId64
                               " classes at row %" PRId64,
                               op, idx[i], C, i);
    return 0;
}

/* gather: x [N, C], idx [N] i64 -> y [N], y[i] = x[i, idx[i]]. */
int k_gather(Interp *in, int id, char *err, size_t errlen) {
    const Shape *sx = arg_shape(in, id, 0);
    int64_t n = sx->dim[0], C = sx->dim[1];
    const float *x = arg_f32(in, id, 0);
    const int64_t *idx = arg_i64(in, id, 1);
    if (check_index("gather", idx, n, C, err, errlen)) return -1;
    float *y = out_f32(in, id);
    for (int64_t i = 0; i < n; i++) y[i] = x[i * C + idx[i]];
    return 0;
}

/* scatter: v [N], idx [N] i64 -> y [N, C], zeros but y[i, idx[i]] = v[i]. */
int k_scatter(Interp *in, int id, char *err, size_t errlen) {
    const Shape *sy = shape_of(in, id);
    int64_t n = sy->dim[0], C = sy->dim[1];
    const float *v = arg_f32(in, id, 0);
    const int64_t *idx = arg_i64(in, id, 1);
    if (check_index("scatter", idx, n, C, err, errlen)) return -1;
    float *y = out_f32(in, id);
    memset(y, 0, (size_t)(n * C) * sizeof *y);
    for (int64_t i = 0; i < n; i++) y[i * C + idx[i]] = v[i];
    return 0;
}

/* See interp.h. */
void interp_argmax(const float *x, int64_t outer, int64_t n, int64_t inner, int64_t *y) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *row = x + o * n * inner + i;
            int64_t best = 0;
            for (int64_t k = 0; k < n && !isnan(row[best * inner]); k++)
                if (isnan(row[k * inner]) || row[k * inner] > row[best * inner]) best = k;
            y[o * inner + i] = best;
        }
}

/* argmax: x [..] -> i64, attr[0] the axis. */
void k_argmax(Interp *in, int id) {
    const Shape *x = arg_shape(in, id, 0);
    int64_t axis = node_of(in, id)->attr[0], outer = 1, inner = 1;
    for (int i = 0; i < axis; i++) outer *= x->dim[i];
    for (int i = (int)axis + 1; i < x->rank; i++) inner *= x->dim[i];
    interp_argmax(arg_f32(in, id, 0), outer, x->dim[axis], inner, out_i64(in, id));
}
