/* interp_conv.c — matmul and convolution, through cblas_sgemm.
 *
 * A convolution is cross-correlation (as in PyTorch). For each sample b,
 * im2col lays the input windows out as a matrix
 *
 *   col [Ci*Kh*Kw, Ho*Wo]
 *   col[(ci, kh, kw), (oh, ow)] = x[b, ci, oh*sh + kh - ph, ow*sw + kw - pw]
 *
 * (0 outside the input), so that
 *
 *   y[b]  = w [Co, Ci*Kh*Kw] @ col                 (forward)
 *   dx[b] = col2im(w^T @ dy[b])                    (grad input; col2im adds back)
 *   dw    = sum over b of dy[b] [Co, Ho*Wo] @ col^T (grad weight)
 *
 * conv1d is conv2d with H = Kh = Ho = 1, stride_h 1 and no top padding;
 * its right padding (like conv2d's bottom and right) is implied by the
 * output size.
 */
#include <cblas.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "interp_impl.h"

/* C [M, N] = alpha * op(A) @ op(B) + beta * C, row-major, with lda/ldb the
 * stored row lengths. Handles empty sizes (BLAS rejects ld = 0). Sizes fit
 * an int: the callers check with blas_dims. */
static void gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                 const float *b, int64_t ldb, float beta, float *c) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (int64_t i = 0; i < m * n; i++) c[i] = beta == 0 ? 0.0f : beta * c[i];
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)n);
}

/* Requires each of the n sizes to fit BLAS's int; `what` names the op. */
static int blas_dims(const char *what, const int64_t *d, int n, char *err, size_t errlen) {
    for (int i = 0; i < n; i++)
        if (d[i] > INT_MAX)
            return interp_fail(err, errlen, "%s: dimension %" PRId64 " is too large for BLAS",
                               what, d[i]);
    return 0;
}

/* The first rank - 2 dims of s: a matmul operand's batch shape. */
static Shape batch_of(const Shape *s) {
    Shape b = *s;
    b.rank = s->rank - 2;
    return b;
}

/* matmul: a [.., M, K] (ta: [.., K, M]) @ b [.., K, N] (tb: [.., N, K])
 * -> y [batch, M, N]; one sgemm per output matrix, batch dims broadcast. */
int k_matmul(Interp *in, int id, char *err, size_t errlen) {
    const Node *n = node_of(in, id);
    const Shape *sa = arg_shape(in, id, 0), *sb = arg_shape(in, id, 1), *sy = shape_of(in, id);
    int ta = (int)n->attr[0], tb = (int)n->attr[1];
    int64_t m = sy->dim[sy->rank - 2], nn = sy->dim[sy->rank - 1];
    int64_t k = sa->dim[sa->rank - 1 - ta];
    int64_t dims[5] = {m, nn, k, sa->dim[sa->rank - 1], sb->dim[sb->rank - 1]};
    if (blas_dims("matmul", dims, 5, err, errlen)) return -1;
    Shape by = batch_of(sy), ba = batch_of(sa), bb = batch_of(sb);
    Walk w; /* over the batch: operand 0 is a's matrix, 1 is b's */
    walk_start(&w, &by, 2);
    bcast_strides(&ba, &by, w.st[0]);
    bcast_strides(&bb, &by, w.st[1]);
    const float *a = arg_f32(in, id, 0), *b = arg_f32(in, id, 1);
    float *y = out_f32(in, id);
    int64_t nb = ir_numel(&by);
    for (int64_t i = 0; i < nb; i++, walk_next(&w))
        gemm(ta, tb, m, nn, k, a + w.off[0] * m * k, dims[3], b + w.off[1] * k * nn, dims[4], 0,
             y + i * m * nn);
    return 0;
}

/* ---- convolution ---------------------------------------------------------- */

/* The sizes of one convolution, read from whichever of x, w, y are inputs
 * or the node itself. */
typedef struct {
    int64_t B, Ci, H, W;    /* x [B, Ci, H, W]      */
    int64_t Co, Kh, Kw;     /* w [Co, Ci, Kh, Kw]   */
    int64_t Ho, Wo;         /* y [B, Co, Ho, Wo]    */
    int64_t sh, sw, ph, pw; /* strides; top and left padding */
} Conv;

/* Fills c for node id given the ids of its x, w and y tensors (one of them
 * is the node itself). 1-D shapes [B, C, L] read as [B, C, 1, L]. */
static void conv_geom(const Interp *in, int id, int x, int w, int y, Conv *c) {
    const Node *n = node_of(in, id);
    const int64_t *xd = shape_of(in, x)->dim, *wd = shape_of(in, w)->dim;
    const int64_t *yd = shape_of(in, y)->dim;
    int two = shape_of(in, x)->rank == 4;
    c->B = xd[0], c->Ci = xd[1], c->Co = wd[0];
    c->H = two ? xd[2] : 1, c->W = xd[two ? 3 : 2];
    c->Kh = two ? wd[2] : 1, c->Kw = wd[two ? 3 : 2];
    c->Ho = two ? yd[2] : 1, c->Wo = yd[two ? 3 : 2];
    c->sh = two ? n->attr[0] : 1, c->sw = two ? n->attr[1] : n->attr[0];
    c->ph = two ? n->attr[2] : 0, c->pw = two ? n->attr[3] : n->attr[1];
}

/* col [Ci*Kh*Kw, Ho*Wo] from one sample x [Ci, H, W]; 0 in the padding. */
static void im2col(const Conv *c, const float *x, float *col) {
    int64_t hw = c->Ho * c->Wo;
    for (int64_t ci = 0; ci < c->Ci; ci++)
        for (int64_t kh = 0; kh < c->Kh; kh++)
            for (int64_t kw = 0; kw < c->Kw; kw++) {
                float *row = col + ((ci * c->Kh + kh) * c->Kw + kw) * hw;
                for (int64_t oh = 0; oh < c->Ho; oh++) {
                    int64_t ih = oh * c->sh + kh - c->ph;
                    for (int64_t ow = 0; ow < c->Wo; ow++) {
                        int64_t iw = ow * c->sw + kw - c->pw;
                        int inside = ih >= 0 && ih < c->H && iw >= 0 && iw < c->W;
                        row[oh * c->Wo + ow] = inside ? x[(ci * c->H + ih) * c->W + iw] : 0.0f;
                    }
                }
            }
}

/* dx [Ci, H, W] += the windows of col (the adjoint of im2col). */
static void col2im(const Conv *c, const float *col, float *dx) {
    int64_t hw = c->Ho * c->Wo;
    for (int64_t ci = 0; ci < c->Ci; ci++)
        for (int64_t kh = 0; kh < c->Kh; kh++)
            for (int64_t kw = 0; kw < c->Kw; kw++) {
                const float *row = col + ((ci * c->Kh + kh) * c->Kw + kw) * hw;
                for (int64_t oh = 0; oh < c->Ho; oh++) {
                    int64_t ih = oh * c->sh + kh - c->ph;
                    if (ih < 0 || ih >= c->H) continue;
                    for (int64_t ow = 0; ow < c->Wo; ow++) {
                        int64_t iw = ow * c->sw + kw - c->pw;
                        if (iw < 0 || iw >= c->W) continue;
                        dx[(ci * c->H + ih) * c->W + iw] += row[oh * c->Wo + ow];
                    }
                }
            }
}

/* Checks the GEMM sizes of c and returns the interpreter's scratch, grown
 * to one col matrix; NULL + message. */
static float *col_alloc(Interp *in, const Conv *c, const char *what, char *err, size_t errlen) {
    int64_t d[3] = {c->Co, c->Ci * c->Kh * c->Kw, c->Ho * c->Wo};
    if (blas_dims(what, d, 3, err, errlen)) return NULL;
    size_t n = (size_t)(d[1] * d[2] > 0 ? d[1] * d[2] : 1);
    if (n > in->scratch_n) {
        free(in->scratch);
        in->scratch = malloc(n * sizeof *in->scratch);
        in->scratch_n = in->scratch ? n : 0;
    }
    if (!in->scratch)
        interp_fail(err, errlen, "%s: out of memory for a %" PRId64 " x %" PRId64 " im2col matrix",
                    what, d[1], d[2]);
    return in->scratch;
}

/* conv1d / conv2d: x, w -> y [B, Co, (Ho,) Wo]. */
int k_conv(Interp *in, int id, char *err, size_t errlen) {
    Conv c;
    conv_geom(in, id, arg(in, id, 0), arg(in, id, 1), id, &c);
    float *col = col_alloc(in, &c, ir_op_info[node_of(in, id)->op].name, err, errlen);
    if (!col) return -1;
    const float *x = arg_f32(in, id, 0), *w = arg_f32(in, id, 1);
    float *y = out_f32(in, id);
    int64_t ckk = c.Ci * c.Kh * c.Kw, hw = c.Ho * c.Wo;
    for (int64_t b = 0; b < c.B; b++) {
        im2col(&c, x + b * c.Ci * c.H * c.W, col);
        gemm(0, 0, c.Co, hw, ckk, w, ckk, col, hw, 0, y + b * c.Co * hw);
    }
    return 0;
}

/* conv*_grad_input: dy, w -> dx (the node's shape, x's). */
int k_conv_grad_input(Interp *in, int id, char *err, size_t errlen) {
    Conv c;
    conv_geom(in, id, id, arg(in, id, 1), arg(in, id, 0), &c);
    float *col = col_alloc(in, &c, ir_op_info[node_of(in, id)->op].name, err, errlen);
    if (!col) return -1;
    const float *dy = arg_f32(in, id, 0), *w = arg_f32(in, id, 1);
    float *dx = out_f32(in, id);
    int64_t ckk = c.Ci * c.Kh * c.Kw, hw = c.Ho * c.Wo, chw = c.Ci * c.H * c.W;
    memset(dx, 0, (size_t)(c.B * chw) * sizeof *dx);
    for (int64_t b = 0; b < c.B; b++) {
        gemm(1, 0, ckk, hw, c.Co, w, ckk, dy + b * c.Co * hw, hw, 0, col); /* w^T @ dy[b] */
        col2im(&c, col, dx + b * chw);
    }
    return 0;
}

/* conv*_grad_weight: x, dy -> dw (the node's shape, w's). */
int k_conv_grad_weight(Interp *in, int id, char *err, size_t errlen) {
    Conv c;
    conv_geom(in, id, arg(in, id, 0), id, arg(in, id, 1), &c);
    float *col = col_alloc(in, &c, ir_op_info[node_of(in, id)->op].name, err, errlen);
    if (!col) return -1;
    const float *x = arg_f32(in, id, 0), *dy = arg_f32(in, id, 1);
    float *dw = out_f32(in, id);
    int64_t ckk = c.Ci * c.Kh * c.Kw, hw = c.Ho * c.Wo;
    memset(dw, 0, (size_t)(c.Co * ckk) * sizeof *dw);
    for (int64_t b = 0; b < c.B; b++) {
        im2col(&c, x + b * c.Ci * c.H * c.W, col);
        gemm(0, 1, c.Co, ckk, hw, dy + b * c.Co * hw, hw, col, hw, 1, dw); /* dw += dy[b] @ col^T */
    }
    return 0;
}
