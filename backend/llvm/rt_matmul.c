/* rt_matmul.c — matmul through cblas_sgemm, and the sgemm wrapper that the
 * convolutions share.
 *
 * Transposes are folded into the sgemm call, never materialized. Batch
 * dims broadcast (numpy rules, right-aligned); a batch whose b is one
 * matrix shared by every a folds into a single sgemm: a [..., M, K] @
 * b [K, N] is a [batch*M, K] @ [K, N]. A single product is cut into row or
 * column blocks, a batch into groups of items: tasks for the pool's
 * threads, each one single-threaded sgemm per block or item. A deep
 * product with a small output (Conv1Net's linear layer, [64, 32000] @
 * [32000, 128]) is cut along K instead: each part's product into its own
 * partial sum (the first into y), the partials then added into y in
 * order. Measured at that shape (OpenBLAS's Cooperlake sgemm, one thread,
 * least of 15): two column blocks 5.5-5.7 ms, the product whole 5.0,
 * eight parts of K 4.5-4.6, and eight tasks balance two threads where two
 * blocks left one waiting for the other.
 *
 * The cut depends only on the shapes, never on the thread count. That
 * matters: OpenBLAS 0.3.21 (Zen kernels) gives different bits for
 * [64, 32000] @ [32000, 128] computed whole or as two column blocks, and
 * with 1 or 2 of its own threads (a stand-alone check, all shapes of
 * bench/rt_kernels); one call with a fixed thread count is deterministic.
 */
#include <cblas.h>
#include <limits.h>
#include <strings.h>

#include "blas.h"

#include "rt_impl.h"
#include "rt_shift.h"
#include "rt_thread.h"

/* Below this many multiply-adds a plain loop beats the cost of calling
 * sgemm: the attention heads' 256 products [1, 32] @ [32, 1] take 0.009 ms
 * so, 0.032 ms as sgemm calls (bench/rt_kernels). */
#define SMALL_GEMM 4096

/* 1 if every size fits BLAS's int. */
int rt_blas_ok(const int64_t *d, int n) {
    for (int i = 0; i < n; i++)
        if (d[i] > INT_MAX) return 0;
    return 1;
}

/* C = op(A) @ op(B) + beta * C by dot products, for tiny sizes. */
static void small_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a,
                       int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                       int64_t ldc) {
    int64_t ai = ta ? 1 : lda, ap = ta ? lda : 1; /* A(i, p) = a[i * ai + p * ap] */
    int64_t bj = tb ? ldb : 1, bp = tb ? 1 : ldb; /* B(p, j) = b[p * bp + j * bj] */
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (int64_t p = 0; p < k; p++) s += a[i * ai + p * ap] * b[p * bp + j * bj];
            c[i * ldc + j] = beta == 0.0f ? s : s + beta * c[i * ldc + j];
        }
}

/* See rt_impl.h. OpenBLAS's core is asked once; the helpers' vector
 * variant each time (tests switch it). */
int rt_gemm_own_sums(void) {
    static int core = -1;
    if (core < 0)
        core = strcasecmp(blas_core(), "SkylakeX") == 0     ? RT_SUMS_SKYLAKEX
               : strcasecmp(blas_core(), "Cooperlake") == 0 ? RT_SUMS_COOPERLAKE
                                                             : 0;
    rt_shift_choose();
    return rt_shift_isa == RT_SHIFT_AVX512 ? core : 0;
}

/* See rt_impl.h. */
void rt_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
             const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    int small = m <= SMALL_GEMM && n <= SMALL_GEMM && k <= SMALL_GEMM && m * n * k <= SMALL_GEMM;
    if (k == 0 || small) {
        small_gemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    if (rt_gemm_nn_takes(ta, tb, m, n, k, beta)) {
        rt_gemm_nn(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    if (rt_gemm_nt_takes(ta, tb, m, n, k, beta)) {
        rt_gemm_nt(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
    if (rt_gemm_tn_takes(ta, tb, n, k, beta)) {
        rt_gemm_tn(m, k, a, lda, b, ldb, c, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

/* Strides (in matrices) that read batch shape s (rank rs) as if broadcast
 * to the output batch shape o (rank ro): 0 on dims s lacks or has as 1. */
static void batch_strides(int rs, const int64_t *s, int ro, const int64_t *o, int64_t *st) {
    int64_t run = 1;
    for (int d = ro - 1; d >= 0; d--) {
        int ds = d - (ro - rs); /* the matching dim of s, if any */
        int64_t dim = ds >= 0 ? s[ds] : 1;
        st[d] = dim == 1 && o[d] != 1 ? 0 : run;
        run *= dim;
    }
}

/* One matmul, as tasks: either `parts` row or column blocks of a single
 * product, or `nb` batch items `per` to a task. */
typedef struct {
    int ta, tb;
    int64_t m, n, k, lda, ldb;
    const float *a, *b;
    float *y;
    int64_t nb, per;              /* batch items, items per task          */
    int rb;                       /* batch rank of y                      */
    const int64_t *by;            /* batch dims of y                      */
    int64_t st_a[RT_MAX_RANK], st_b[RT_MAX_RANK];
    int split_n;                  /* single product: blocks of columns (else rows) */
    int64_t block;                /* rows, columns or (kparts > 1) depth per block */
    int64_t kparts;               /* single product: parts of K (1: none) */
    float *partials;              /* kparts > 1: partial sums 1 .. kparts-1 */
} Mm;

/* Batch items [i*per, (i+1)*per): one sgemm each. */
static void batch_task(void *arg, int64_t i) {
    const Mm *t = arg;
    int64_t end = (i + 1) * t->per < t->nb ? (i + 1) * t->per : t->nb;
    for (int64_t e = i * t->per; e < end; e++) {
        int64_t oa = 0, ob = 0, rest = e; /* a's and b's matrix of item e */
        for (int d = t->rb - 1; d >= 0; d--) {
            int64_t ix = rest % t->by[d];
            rest /= t->by[d];
            oa += ix * t->st_a[d], ob += ix * t->st_b[d];
        }
        rt_gemm(t->ta, t->tb, t->m, t->n, t->k, t->a + oa * t->m * t->k, t->lda,
                t->b + ob * t->k * t->n, t->ldb, 0.0f, t->y + e * t->m * t->n, t->n);
    }
}

/* Part i of K: y (i = 0) or partial i = op(a)[:, part] @ op(b)[part, :]. */
static void kpart_task(void *arg, int64_t i) {
    const Mm *t = arg;
    int64_t lo = i * t->block, cnt = t->k - lo < t->block ? t->k - lo : t->block;
    const float *a = t->a + (t->ta ? lo * t->lda : lo), *b = t->b + (t->tb ? lo : lo * t->ldb);
    float *y = i == 0 ? t->y : t->partials + (i - 1) * t->m * t->n;
    rt_gemm(t->ta, t->tb, t->m, t->n, cnt, a, t->lda, b, t->ldb, 0.0f, y, t->n);
}

/* Block i of a single product: columns (split_n) or rows of y. */
static void block_task(void *arg, int64_t i) {
    const Mm *t = arg;
    int64_t lo = i * t->block, dim = t->split_n ? t->n : t->m;
    int64_t cnt = dim - lo < t->block ? dim - lo : t->block;
    const float *a = t->a, *b = t->b;
    if (t->split_n) b += t->tb ? lo * t->ldb : lo; /* columns of op(b) */
    else a += t->ta ? lo : lo * t->lda;               /* rows of op(a)    */
    float *y = t->y + (t->split_n ? lo : lo * t->n);
    rt_gemm(t->ta, t->tb, t->split_n ? t->m : cnt, t->split_n ? cnt : t->n, t->k, a, t->lda, b,
            t->ldb, 0.0f, y, t->n);
}

/* A task does at least this many flops (a job costs a thread wake-up). */
#define TASK_FLOPS 2e6
/* A part of K is at least this deep. */
#define K_PART 2048

/* At most 8 parts, each at least 64 deep or wide (rows, columns) or
 * K_PART deep (K) and TASK_FLOPS of work. */
static int64_t parts_of(int64_t dim, int64_t least, double flops) {
    int64_t parts = dim / least;
    if (parts > 8) parts = 8;
    if (parts > (int64_t)(flops / TASK_FLOPS)) parts = (int64_t)(flops / TASK_FLOPS);
    return parts < 1 ? 1 : parts;
}

/* The cut of a single product y [m, n] = op(a) @ op(b): blocks of the
 * larger of m and n, or parts of K where that gives more tasks; each
 * block a multiple of 16 rows, columns or depth. */
static void single_cut(Mm *t) {
    double flops = 2.0 * (double)t->m * (double)t->n * (double)t->k;
    t->split_n = t->n > t->m;
    int64_t dim = t->split_n ? t->n : t->m, parts = parts_of(dim, 64, flops);
    int64_t kparts = parts_of(t->k, K_PART, flops);
    int by_k = kparts > parts;
    if (by_k) dim = t->k, parts = kparts;
    t->block = ((dim + parts - 1) / parts + 15) / 16 * 16;
    t->kparts = by_k ? (t->k + t->block - 1) / t->block : 1;
}

static void single_product(Mm *t) {
    if (t->kparts == 1) {
        int64_t dim = t->split_n ? t->n : t->m;
        rt_parallel((dim + t->block - 1) / t->block, block_task, t);
        return;
    }
    rt_parallel(t->kparts, kpart_task, t);
    int64_t mn = t->m * t->n;
    for (int64_t i = 1; i < t->kparts; i++)
        for (int64_t e = 0; e < mn; e++) t->y[e] += t->partials[(i - 1) * mn + e];
}

/* The shapes of matmul d in t; 1 if it is one product (b shared by the
 * batch folds into it), 0 if a batch, -1 if a size does not fit BLAS. */
static int mm_geom(const RtDesc *d, Mm *t) {
    int ra = d->rank[0], rb = d->rank[1], ry = d->rank[2];
    const int64_t *sa = d->shape[0], *sb = d->shape[1], *sy = d->shape[2];
    t->ta = (int)d->attr[0], t->tb = (int)d->attr[1];
    t->m = sy[ry - 2], t->n = sy[ry - 1], t->k = sa[ra - 1 - t->ta];
    t->lda = sa[ra - 1], t->ldb = sb[rb - 1];
    t->nb = rt_numel(ry - 2, sy);
    int64_t dims[5] = {t->m, t->n, t->k, t->lda, t->ldb}, folded[1] = {t->nb * t->m};
    if (!rt_blas_ok(dims, 5)) return -1;
    if (t->nb == 1 || (rt_numel(rb - 2, sb) == 1 && !t->ta && rt_blas_ok(folded, 1))) {
        t->m *= t->nb; /* b shared: [nb*M, K] @ op(b) */
        single_cut(t);
        return 1;
    }
    return 0;
}

/* Scratch floats of matmul d: the partial sums of a product cut along K. */
int64_t rt_matmul_scratch(const RtDesc *d) {
    Mm t = {0};
    if (mm_geom(d, &t) != 1 || t.m == 0 || t.n == 0) return 0;
    return (t.kparts - 1) * t.m * t.n;
}

/* matmul: a [.., M, K] (ta: [.., K, M]) @ b [.., K, N] (tb: [.., N, K])
 * -> y [batch, M, N]. */
int32_t rt_matmul(const RtDesc *d, float *y, const float *a, const float *b, float *scratch) {
    Mm t = {.a = a, .b = b, .y = y, .partials = scratch};
    int one = mm_geom(d, &t);
    if (one < 0) return RT_ERR_SIZE;
    if (t.nb == 0 || t.m == 0 || t.n == 0) return RT_OK;
    if (one) {
        single_product(&t);
        return RT_OK;
    }
    int ra = d->rank[0], rb = d->rank[1], ry = d->rank[2];
    t.rb = ry - 2, t.by = d->shape[2];
    batch_strides(ra - 2, d->shape[0], ry - 2, d->shape[2], t.st_a);
    batch_strides(rb - 2, d->shape[1], ry - 2, d->shape[2], t.st_b);
    double flops = 2.0 * (double)t.m * (double)t.n * (double)t.k + 1;
    t.per = flops >= TASK_FLOPS ? 1 : (int64_t)(TASK_FLOPS / flops);
    rt_parallel((t.nb + t.per - 1) / t.per, batch_task, &t);
    return RT_OK;
}
