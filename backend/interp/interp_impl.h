/* interp_impl.h — what the interpreter's files share (not a public API).
 *
 * interp.c       lifecycle, init, the dispatch switch, sources, updates
 * interp_ew.c    elementwise ops with numpy broadcasting
 * interp_shape.c strided walks, reductions, data movement
 * interp_conv.c  matmul and convolution (im2col + cblas_sgemm)
 * interp_pool.c  max pooling, gather, scatter
 *
 * A kernel k_NAME(in, id) computes node id from its inputs' buffers into
 * its own; one that can fail (a bad index, no memory for a temporary, a
 * size BLAS cannot take) also takes err and returns 0, or -1 with a
 * message. The graph is verified, so kernels rely on the shape rules of
 * ir/infer.c and do not re-check them.
 */
#ifndef MMGC_INTERP_IMPL_H
#define MMGC_INTERP_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "interp.h"
#include "ir.h"

struct Interp {
    const Graph *g;
    void **buf;           /* buf[id]: the node's elements, float or int64_t */
    char *bound;          /* bound[id]: buf[id] belongs to the caller (interp_bind) */
    float *scratch;       /* im2col matrices, reused across calls (no fresh pages per call) */
    size_t scratch_n;
    int nupd;             /* "update:X" outputs */
    int *upd_src;         /* the output's node  */
    int *upd_dst;         /* the PARAM or STATE node named X */
    int training;         /* the arguments of the current interp_run */
    uint64_t seed, step;
};

/* ---- node access ----------------------------------------------------------- */

static inline const Node *node_of(const Interp *in, int id) { return &in->g->nodes[id]; }
static inline const Shape *shape_of(const Interp *in, int id) {
    return &in->g->nodes[id].type.shape;
}
/* Input k of node id: its node id, shape, and buffer. */
static inline int arg(const Interp *in, int id, int k) { return in->g->nodes[id].in[k]; }
static inline const Shape *arg_shape(const Interp *in, int id, int k) {
    return shape_of(in, arg(in, id, k));
}
static inline const float *arg_f32(const Interp *in, int id, int k) {
    return (const float *)in->buf[arg(in, id, k)];
}
static inline const int64_t *arg_i64(const Interp *in, int id, int k) {
    return (const int64_t *)in->buf[arg(in, id, k)];
}
static inline float *out_f32(Interp *in, int id) { return (float *)in->buf[id]; }
static inline int64_t *out_i64(Interp *in, int id) { return (int64_t *)in->buf[id]; }
/* Bytes per element of node id. */
static inline size_t esize_of(const Interp *in, int id) {
    return in->g->nodes[id].type.dtype == DT_I64 ? sizeof(int64_t) : sizeof(float);
}

/* Writes "<message>" into err; returns -1. */
int interp_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- strided walks (interp_shape.c) ---------------------------------------------
 * A Walk visits every index of a shape in row-major order and keeps, for up
 * to three operands, the offset sum(idx[d] * st[k][d]). Strides of 0 read
 * one element many times (broadcasting); permuted strides transpose. */
typedef struct {
    int rank, nops;
    int64_t dim[IR_MAX_RANK], idx[IR_MAX_RANK];
    int64_t st[3][IR_MAX_RANK];
    int64_t off[3];
} Walk;

/* Starts a walk over shape s at index 0 with all strides 0. */
void walk_start(Walk *w, const Shape *s, int nops);
/* Moves to the next index in row-major order, updating the offsets: the
 * last index goes up, carrying left like an odometer. (Inline: it runs
 * once per element of every broadcast op.) */
static inline void walk_next(Walk *w) {
    for (int d = w->rank - 1; d >= 0; d--) {
        w->idx[d]++;
        for (int k = 0; k < w->nops; k++) w->off[k] += w->st[k][d];
        if (w->idx[d] < w->dim[d]) return;
        for (int k = 0; k < w->nops; k++) w->off[k] -= w->st[k][d] * w->dim[d];
        w->idx[d] = 0;
    }
}
/* Row-major strides of s, in elements. */
void strides_of(const Shape *s, int64_t st[IR_MAX_RANK]);
/* Strides that read a tensor of shape s as if broadcast to out (numpy
 * rules, right-aligned): 0 on dims that s lacks or has as 1. */
void bcast_strides(const Shape *s, const Shape *out, int64_t st[IR_MAX_RANK]);
/* For every index of `dims`: dst[doff + idx . dst_st] = src[soff + idx . src_st],
 * elements of esize (4 or 8) bytes. */
void copy_block(size_t esize, const Shape *dims, const void *src, int64_t soff,
                const int64_t src_st[IR_MAX_RANK], void *dst, int64_t doff,
                const int64_t dst_st[IR_MAX_RANK]);

/* ---- elementwise (interp_ew.c) ---------------------------------------------- */
typedef float (*Fn1)(float);
typedef float (*Fn2)(float, float);

/* The scalar function of an elementwise op (ir/ew_math.def), or NULL if
 * it has no row there or another arity. */
Fn1 ew_fn1(Op op);
Fn2 ew_fn2(Op op);

void k_unary(Interp *in, int id, Fn1 f);
void k_binary(Interp *in, int id, Fn2 f);
void k_eq(Interp *in, int id);
void k_select(Interp *in, int id);
void k_cast(Interp *in, int id);

/* ---- reductions and data movement (interp_shape.c) -------------------------- */
int k_reduce_sum(Interp *in, int id, char *err, size_t errlen);
int k_reduce_max(Interp *in, int id, char *err, size_t errlen);
void k_reshape(Interp *in, int id);
void k_broadcast(Interp *in, int id);
void k_transpose(Interp *in, int id);
void k_concat(Interp *in, int id);
void k_slice(Interp *in, int id);
void k_pad(Interp *in, int id);

/* ---- contractions (interp_conv.c, interp_pool.c) ---------------------------- */
int k_matmul(Interp *in, int id, char *err, size_t errlen);
int k_conv(Interp *in, int id, char *err, size_t errlen);
int k_conv_grad_input(Interp *in, int id, char *err, size_t errlen);
int k_conv_grad_weight(Interp *in, int id, char *err, size_t errlen);
void k_max_pool(Interp *in, int id);
void k_max_pool_grad(Interp *in, int id);
int k_gather(Interp *in, int id, char *err, size_t errlen);
int k_scatter(Interp *in, int id, char *err, size_t errlen);
void k_argmax(Interp *in, int id);

#endif
