/* rt_impl.h — what the runtime helpers' files share (not part of the ABI).
 *
 * rt.c         the dispatch (mmgc_rt_call) and the scratch sizes
 * rt_matmul.c  matmul and the one sgemm wrapper every contraction uses,
 *              which hands a linear layer's products to rt_gemm_nn.c
 *              (A @ B, A @ B^T) and rt_gemm_tn.c (A^T @ B) where those
 *              make OpenBLAS's own sums
 * rt_conv.c    conv1d / conv2d and their gradients (im2col + sgemm;
 *              strided 1-D ones by phases and deep stride-1 ones over
 *              their flattened plane: rt_conv_shift.c, whose shifted
 *              products are rt_shift.c, their weight gradients
 *              rt_shift_grad.c; the input gradient of small unpadded
 *              stride-1 ones in one pass: rt_conv_scatter.c)
 * rt_pool.c    max pooling and its gradient; gather and scatter
 * rt_random.c  random_uniform and dropout_mask (Philox, as support/rng.h)
 *
 * Descs come from verified graphs: the helpers rely on the shape rules of
 * ir/infer.c and do not re-check them, except what BLAS's int sizes and
 * the indices of gather/scatter need.
 */
#ifndef MMGC_RT_IMPL_H
#define MMGC_RT_IMPL_H

#include <stdint.h>

#include "rt.h"

/* The codes mmgc_rt_call returns. */
enum {
    RT_OK = 0,
    RT_ERR_INDEX = 1,   /* a gather/scatter index outside [0, C)          */
    RT_ERR_SIZE = 2,    /* a matrix dimension beyond BLAS's int           */
    RT_ERR_OP = 3,      /* the desc's op has no helper (a codegen bug)    */
};

/* Row-major C [m, n] (row stride ldc) = op(A) @ op(B) + beta * C, with
 * lda/ldb the stored row lengths of A and B. Small products run as plain
 * loops (a BLAS call costs more than they do); k == 0 gives beta * C.
 * Sizes must fit an int (callers check with rt_blas_ok). */
void rt_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
             const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
/* Whether rt_gemm's own kernels make OpenBLAS's sums here: 0 where the
 * helpers lack AVX-512 (rt_shift_isa) or OpenBLAS runs other kernels than
 * SkylakeX's; RT_SUMS_SKYLAKEX with its SkylakeX core, RT_SUMS_COOPERLAKE
 * with its Cooperlake core (the same sgemm kernels) (rt_matmul.c). */
enum { RT_SUMS_COOPERLAKE = 1, RT_SUMS_SKYLAKEX = 2 };
int rt_gemm_own_sums(void);
/* C [m, 128] = A^T @ B (A [k, m], B [k, 128], k <= 256, beta 0) with
 * AVX-512, bit for bit OpenBLAS SkylakeX's sum (rt_gemm_tn.c): rt_gemm
 * takes it where rt_gemm_tn_takes. */
int rt_gemm_tn_takes(int ta, int tb, int64_t n, int64_t k, float beta);
void rt_gemm_tn(int64_t m, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                int64_t ldc);
/* C [m, n] = A @ B (n a multiple of 64, beta 0) with AVX-512, bit for
 * bit the sums of OpenBLAS's SkylakeX sgemm kernels (rt_gemm_nn.c):
 * rt_gemm takes it where rt_gemm_nn_takes. */
int rt_gemm_nn_takes(int ta, int tb, int64_t m, int64_t n, int64_t k, float beta);
void rt_gemm_nn(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                float *c, int64_t ldc);
/* C [m, n] = A @ B^T (m a multiple of 64, A small, beta 0), the same way:
 * a linear layer's input gradient (rt_gemm_nn.c). */
int rt_gemm_nt_takes(int ta, int tb, int64_t m, int64_t n, int64_t k, float beta);
void rt_gemm_nt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                float *c, int64_t ldc);
/* 1 if each of the n sizes fits BLAS's int. */
int rt_blas_ok(const int64_t *d, int n);

/* ---- one function per helper family; each returns an RT_ code ------------ */
int32_t rt_matmul(const RtDesc *d, float *y, const float *a, const float *b, float *scratch);
/* Scratch floats of matmul d (its partial sums when cut along K). */
int64_t rt_matmul_scratch(const RtDesc *d);

int64_t rt_conv_scratch(const RtDesc *d);
int32_t rt_conv(const RtDesc *d, float *y, const float *x, const float *w, const float *bias, float *scratch);
int32_t rt_conv_grad_input(const RtDesc *d, float *dx, const float *dy, const float *w,
                           float *scratch);
int32_t rt_conv_grad_weight(const RtDesc *d, float *dw, const float *x, const float *dy,
                            float *scratch);
/* 1 if rt_conv_grad_input runs d in one pass (rt_conv_scatter.c, as
 * rt_conv_scatter_mode picks). */
int rt_conv_grad_input_scatters(const RtDesc *d);

void rt_max_pool(const RtDesc *d, float *y, const float *x);
void rt_max_pool_grad(const RtDesc *d, float *dx, const float *x, const float *dy);
int32_t rt_gather(const RtDesc *d, float *y, const float *x, const int64_t *idx);
int32_t rt_scatter(const RtDesc *d, float *y, const float *v, const int64_t *idx);
void rt_argmax(const RtDesc *d, int64_t *y, const float *x);

void rt_random_uniform(const RtDesc *d, float *y, const RtRandom *rnd);
void rt_dropout_mask(const RtDesc *d, float *y, const RtRandom *rnd);
void rt_random_normal(const RtDesc *d, float *y, const RtRandom *rnd);
void rt_iota(const RtDesc *d, float *y);

/* Elements of a shape given as (rank, dims). */
static inline int64_t rt_numel(int rank, const int64_t *dim) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dim[i];
    return n;
}

#endif
