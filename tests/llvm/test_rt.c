/* test_rt.c — the LLVM backend's runtime helpers (backend/llvm/rt.h)
 * against the reference interpreter.
 *
 * Every op the helpers handle runs as a one-node graph in the interpreter
 * and through mmgc_rt_call on the same inputs: contractions must agree
 * normwise to 1e-5, pooling, gather and scatter exactly, random numbers
 * bit for bit. Shapes are drawn at random (odd sizes, padding, strides,
 * overlapping windows) and include the study's models (Conv1Net at batch
 * 4, Conv2Net at batch 64), so that every tiling path of rt_conv.c runs.
 * Scratch is allocated at exactly rt_scratch_floats floats (NULL when 0),
 * so the sanitizer build catches a helper that writes past it.
 */
#include <cblas.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "interp.h"
#include "ir_helpers.h"
#include "ir.h"
#include "rng.h"
#include "rt.h"
#include "blas.h"
#include "rt_conv.h"
#include "rt_desc.h"
#include "rt_impl.h"
#include "rt_shift.h"
#include "rt_thread.h"

/* ---- helpers ---------------------------------------------------------------------- */

/* A reproducible integer in [lo, hi]. */
static int64_t pick(int64_t lo, int64_t hi) {
    static uint64_t draw;
    return lo + (int64_t)(rng_uniform(4242, 7, 0, draw++) * (float)(hi - lo + 1));
}

/* How inputs are filled: U[-1, 1), or values from {-1, 0, 1} (ties), or
 * that with a NaN now and then. Index inputs get i mod C (or bad). */
enum { FILL_UNIFORM, FILL_TIES, FILL_NAN };

/* One node run both ways. */
typedef struct {
    Graph *g;
    Interp *in;
    int id;               /* the node: the graph's last */
    RtDesc d;
    float *out, *scratch; /* the helper's result and scratch */
    int64_t n;            /* elements of the result */
    int32_t rc;           /* what mmgc_rt_call returned */
} Run;

/* Builds inputs of the given types and the node; fails the test if the
 * shape rules reject it. */
static void build(Run *r, Op op, const TType *ins, int nin, const int64_t *attr, int nattr,
                  double value, const TType *given) {
    char err[256];
    int in[4];
    r->g = ir_graph_new("t");
    for (int k = 0; k < nin; k++)
        in[k] = ir_build(r->g, OP_INPUT, NULL, 0, NULL, 0, 0, &ins[k], (Loc){0, 0, 0}, err,
                         sizeof err);
    r->id = ir_build(r->g, op, in, nin, attr, nattr, value, given, (Loc){0, 0, 0}, err, sizeof err);
    if (r->id < 0) fprintf(stderr, "\n  building %s failed: %s\n", ir_op_info[op].name, err);
    CU_ASSERT_FATAL(r->id >= 0);
    r->in = interp_new(r->g, err, sizeof err);
    CU_ASSERT_FATAL(r->in != NULL);
    CU_ASSERT_FATAL(rt_desc_of(r->g, r->id, &r->d) == 0);
    r->n = ir_numel(&r->g->nodes[r->id].type.shape);
    r->out = malloc((size_t)(r->n ? r->n : 1) * sizeof *r->out);
    int64_t ns = rt_scratch_floats(&r->d);
    CU_ASSERT_FATAL(ns >= 0);
    r->scratch = ns ? malloc((size_t)ns * sizeof *r->scratch) : NULL;
    CU_ASSERT_FATAL(r->out && (ns == 0 || r->scratch));
}

/* Fills the f32 inputs as fill_mode says and the i64 ones (gather's and
 * scatter's indices) with valid classes. */
static void fill(Run *r, int fill_mode, uint64_t stream) {
    const Graph *g = r->g;
    const Node *node = &g->nodes[r->id];
    for (int id = 0; id < r->id; id++) {
        int64_t n = ir_numel(&g->nodes[id].type.shape);
        if (g->nodes[id].type.dtype == DT_I64) {
            int64_t C = (node->op == OP_SCATTER ? node : &g->nodes[0])->type.shape.dim[1];
            for (int64_t i = 0; i < n; i++) interp_i64(r->in, id)[i] = (i * 7 + 3) % C;
            continue;
        }
        float *x = interp_f32(r->in, id);
        uint64_t h = (stream + (uint64_t)id) * UINT64_C(0x9E3779B97F4A7C15) + 1;
        for (int64_t i = 0; i < n; i++) {
            h ^= h << 13, h ^= h >> 7, h ^= h << 17; /* xorshift64: cheap under the sanitizers */
            float u = (float)(h >> 40) * 0x1p-24f;
            x[i] = fill_mode == FILL_UNIFORM ? 2 * u - 1 : (float)(int)(u * 3) - 1;
            if (fill_mode == FILL_TIES && x[i] == 0 && i % 2) x[i] = -0.0f;
            if (fill_mode == FILL_NAN && i % 17 == 5) x[i] = NAN;
        }
    }
}

/* Runs the helper on the interpreter's input buffers into r->out, which
 * is first filled with NaNs: an element the helper forgets to write fails
 * the comparison. */
static void call(Run *r, const RtRandom *rnd) {
    for (int64_t i = 0; i < r->n; i++) r->out[i] = NAN;
    void *bufs[RT_MAX_IN] = {NULL, NULL, NULL};
    for (int k = 0; k < r->d.nin; k++)
        bufs[k] = r->g->nodes[k].type.dtype == DT_I64 ? (void *)interp_i64(r->in, k)
                                                       : (void *)interp_f32(r->in, k);
    r->rc = mmgc_rt_call(&r->d, r->out, bufs, r->scratch, rnd);
}

/* Runs the interpreter (training, seed 1, step 3) and the helper. */
static void run_both(Run *r) {
    char err[256] = "";
    int rc = interp_run(r->in, 1, 1, 3, err, sizeof err);
    if (rc) fprintf(stderr, "\n  interp_run failed: %s\n", err);
    CU_ASSERT_FATAL(rc == 0);
    RtRandom rnd = {1, 3, 1};
    call(r, &rnd);
    CU_ASSERT_EQUAL_FATAL(r->rc, 0);
}

/* Frees what build made. */
static void done(Run *r) {
    free(r->out);
    free(r->scratch);
    interp_free(r->in);
    ir_graph_free(r->g);
}

/* The node's shape and inputs, for messages. */
static void describe(const Run *r, char *buf, size_t n) {
    char s[4][96];
    const Node *node = &r->g->nodes[r->id];
    for (int k = 0; k <= node->nin && k < 4; k++)
        ir_shape_str(&r->g->nodes[k < node->nin ? node->in[k] : r->id].type.shape, s[k], sizeof s[k]);
    snprintf(buf, n, "%s(%s%s%s) -> %s", ir_op_info[node->op].name, s[0], node->nin > 1 ? ", " : "",
             node->nin > 1 ? s[1] : "", s[node->nin]);
}

/* Asserts ||helper - interp|| <= tol * ||interp|| (or exact equality
 * with NaN == NaN when tol is 0). */
static void agree(const Run *r, double tol) {
    const float *want = interp_f32(r->in, r->id), *got = r->out;
    double num = 0, den = 0;
    int64_t bad = -1;
    for (int64_t i = 0; i < r->n; i++) {
        if (tol == 0) {
            int same = (got[i] == want[i] && signbit(got[i]) == signbit(want[i])) || (isnan(got[i]) && isnan(want[i]));
            if (!same && bad < 0) bad = i;
            continue;
        }
        double d = (double)got[i] - (double)want[i];
        num += d * d, den += (double)want[i] * want[i];
    }
    int ok = tol == 0 ? bad < 0 : sqrt(num) <= tol * sqrt(den) + 1e-30;
    if (!ok) {
        char what[512];
        describe(r, what, sizeof what);
        if (tol == 0)
            fprintf(stderr, "\n  %s: element %" PRId64 " is %.9g, expected %.9g\n", what, bad,
                    (double)got[bad], (double)want[bad]);
        else fprintf(stderr, "\n  %s: relative difference %.3g\n", what, sqrt(num / (den + 1e-300)));
    }
    CU_ASSERT(ok);
}

/* Builds, fills, runs and compares one node; tol as in agree. */
static void check(Op op, const TType *ins, int nin, const int64_t *attr, int nattr, double value,
                  const TType *given, int fill_mode, double tol) {
    Run r;
    build(&r, op, ins, nin, attr, nattr, value, given);
    fill(&r, fill_mode, (uint64_t)op * 100);
    run_both(&r);
    agree(&r, tol);
    done(&r);
}

#define TOL 1e-5

/* ---- matmul ----------------------------------------------------------------------- */

/* a [.., M, K] (or [.., K, M]) @ b [.., K, N] (or [.., N, K]) for every ta/tb. */
static void matmul_case(int ra, const int64_t *ba, int rb, const int64_t *bb, int64_t m, int64_t k,
                        int64_t n) {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            TType in[2] = {T(DT_F32, 0), T(DT_F32, 0)};
            in[0].shape.rank = ra + 2, in[1].shape.rank = rb + 2;
            for (int i = 0; i < ra; i++) in[0].shape.dim[i] = ba[i];
            for (int i = 0; i < rb; i++) in[1].shape.dim[i] = bb[i];
            in[0].shape.dim[ra] = ta ? k : m, in[0].shape.dim[ra + 1] = ta ? m : k;
            in[1].shape.dim[rb] = tb ? n : k, in[1].shape.dim[rb + 1] = tb ? k : n;
            check(OP_MATMUL, in, 2, AT(ta, tb), 0, NULL, FILL_UNIFORM, TOL);
        }
}

/* Plain, broadcast-batched, tiny, large (split into blocks or parts of K)
 * and empty. */
static void test_matmul(void) {
    matmul_case(0, NULL, 0, NULL, 7, 5, 3);
    matmul_case(0, NULL, 0, NULL, 64, 1600, 128);  /* Conv2Net's hidden layer */
    matmul_case(0, NULL, 0, NULL, 300, 37, 211);   /* row blocks, odd sizes   */
    matmul_case(0, NULL, 0, NULL, 9, 70, 1000);    /* column blocks           */
    matmul_case(0, NULL, 0, NULL, 1, 1, 1);
    matmul_case(0, NULL, 0, NULL, 16, 20000, 24);  /* 7 parts of K, the last shorter */
    matmul_case(1, (int64_t[]){3}, 0, NULL, 4, 20000, 30); /* the same, b shared */
    matmul_case(0, NULL, 0, NULL, 4, 0, 3);        /* K = 0: zeros            */
    matmul_case(0, NULL, 0, NULL, 0, 5, 3);
    matmul_case(2, (int64_t[]){2, 3}, 0, NULL, 5, 4, 6);          /* b shared: one sgemm */
    matmul_case(0, NULL, 2, (int64_t[]){2, 3}, 5, 4, 6);          /* a shared            */
    matmul_case(2, (int64_t[]){3, 1}, 2, (int64_t[]){1, 4}, 3, 7, 2); /* both broadcast  */
    matmul_case(1, (int64_t[]){64}, 1, (int64_t[]){64}, 1, 128, 128);  /* attention grads */
    matmul_case(2, (int64_t[]){64, 4}, 2, (int64_t[]){64, 4}, 1, 32, 1);
    matmul_case(1, (int64_t[]){64}, 0, NULL, 1, 128, 128);
    matmul_case(1, (int64_t[]){1}, 3, (int64_t[]){2, 1, 3}, 33, 65, 17);
    for (int i = 0; i < 12; i++) {
        int64_t ba[2] = {pick(1, 3), pick(1, 3)};
        int64_t bb[2] = {pick(0, 1) ? ba[0] : 1, pick(0, 1) ? ba[1] : 1};
        matmul_case((int)pick(0, 2), ba, 2, bb, pick(1, 40), pick(1, 40), pick(1, 40));
    }
}

/* The linear layers' own kernels (rt_gemm_tn.c, rt_gemm_nn.c) against
 * cblas_sgemm, bit for bit: C [m, n] = op(A) @ op(B) (ta, tb as rt_gemm)
 * by `kernel` (NULL: through rt_gemm), on U[-1, 1) inputs with the given
 * strides. */
typedef void (*GemmKernel)(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                           float *c, int64_t ldc);

static void own_gemm_case(GemmKernel kernel, int ta, int tb, int64_t m, int64_t n, int64_t k, int64_t lda,
                          int64_t ldb, int64_t ldc) {
    int64_t na = (ta ? k : m) * lda, nb = (tb ? n : k) * ldb;
    float *a = malloc((size_t)na * sizeof *a), *b = malloc((size_t)nb * sizeof *b);
    float *c[2] = {calloc((size_t)(m * ldc), sizeof(float)), calloc((size_t)(m * ldc), sizeof(float))};
    for (int64_t i = 0; i < na; i++) a[i] = rng_uniform(21, 1, 0, (uint64_t)i) * 2 - 1;
    for (int64_t i = 0; i < nb; i++) b[i] = rng_uniform(22, 1, 0, (uint64_t)i) * 2 - 1;
    if (kernel) kernel(m, n, k, a, lda, b, ldb, c[0], ldc);
    else rt_gemm(ta, tb, m, n, k, a, lda, b, ldb, 0.0f, c[0], ldc);
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                1.0f, a, (int)lda, b, (int)ldb, 0.0f, c[1], (int)ldc);
    int same = memcmp(c[0], c[1], (size_t)(m * ldc) * sizeof(float)) == 0;
    if (!same)
        fprintf(stderr, "\nta %d tb %d m %" PRId64 " n %" PRId64 " k %" PRId64 ": not OpenBLAS's bits\n", ta, tb, m, n,
                k);
    CU_ASSERT(same);
    free(a), free(b), free(c[0]), free(c[1]);
}

/* 1 if OpenBLAS runs SkylakeX's sgemm kernels (its SkylakeX and
 * Cooperlake cores) and the helpers AVX-512: the sums the own kernels
 * make. */
static int skylakex_sums(void) {
    rt_shift_choose();
    return rt_shift_isa == RT_SHIFT_AVX512 &&
           (strcasecmp(blas_core(), "SkylakeX") == 0 || strcasecmp(blas_core(), "Cooperlake") == 0);
}

/* A linear layer's weight gradient, C [m, 128] = A^T @ B with A [k, m]:
 * rt_gemm_tn wherever OpenBLAS makes its sums, with rows past whole
 * blocks of four and copies of 32 columns, k from 1 to 256, and strides
 * wider than the matrices; and when rt_gemm takes it (the SkylakeX core
 * only). */
static void gemm_tn(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                    float *c, int64_t ldc) {
    (void)n;
    rt_gemm_tn(m, k, a, lda, b, ldb, c, ldc);
}

static void tn_case(int64_t m, int64_t k, int64_t lda, int64_t ldb, int64_t ldc) {
    own_gemm_case(gemm_tn, 1, 0, m, 128, k, lda, ldb, ldc);
}

static void test_gemm_tn(void) {
    int skx = skylakex_sums() && strcasecmp(blas_core(), "SkylakeX") == 0;
    CU_ASSERT_EQUAL(rt_gemm_tn_takes(1, 0, 128, 64, 0.0f), skx); /* else OpenBLAS's own */
    CU_ASSERT_FALSE(rt_gemm_tn_takes(1, 0, 64, 64, 0.0f));        /* not 128 columns */
    CU_ASSERT_FALSE(rt_gemm_tn_takes(1, 0, 128, 257, 0.0f));      /* too deep */
    CU_ASSERT_FALSE(rt_gemm_tn_takes(1, 1, 128, 64, 0.0f));       /* B transposed */
    CU_ASSERT_FALSE(rt_gemm_tn_takes(0, 0, 128, 64, 0.0f));       /* A not transposed */
    CU_ASSERT_FALSE(rt_gemm_tn_takes(1, 0, 128, 64, 1.0f));       /* adds to C */
    if (!skylakex_sums()) return;
    tn_case(1600, 64, 1600, 128, 128); /* Conv2Net's hidden layer */
    tn_case(37, 64, 40, 133, 130);     /* a copy of 5 columns; blocks of 4 and 1 */
    tn_case(70, 1, 70, 128, 128);
    tn_case(34, 256, 35, 128, 129);
    tn_case(6, 255, 9, 140, 128);
}

/* A linear layer's forward product, C [m, n] = A @ B with n a multiple
 * of 64: rt_gemm_nn through rt_gemm wherever OpenBLAS makes its sums,
 * with k cut into OpenBLAS's blocks in each of its three ways (Q deep,
 * halves rounded up to 16, the rest; Q is 320 with its Cooperlake core,
 * as the cases' comments count, and 448 with its SkylakeX one, where
 * 4000 and 1000 end in halves too), rows past whole tiles of six, and
 * strides wider than the matrices; and the products it leaves to
 * OpenBLAS. */
static void nn_case(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc) {
    CU_ASSERT(rt_gemm_nn_takes(0, 0, m, n, k, 0.0f));
    own_gemm_case(NULL, 0, 0, m, n, k, lda, ldb, ldc);
}

static void test_gemm_nn(void) {
    int mine = skylakex_sums();
    CU_ASSERT_EQUAL(rt_gemm_nn_takes(0, 0, 64, 128, 4000, 0.0f), mine); /* else OpenBLAS's own */
    CU_ASSERT_FALSE(rt_gemm_nn_takes(0, 0, 64, 96, 4000, 0.0f));        /* not whole 64 columns */
    CU_ASSERT_FALSE(rt_gemm_nn_takes(0, 0, 8, 64, 1953, 0.0f));         /* OpenBLAS's small sizes */
    CU_ASSERT_FALSE(rt_gemm_nn_takes(1, 0, 64, 128, 4000, 0.0f));       /* A transposed */
    CU_ASSERT_FALSE(rt_gemm_nn_takes(0, 1, 64, 128, 4000, 0.0f));       /* B transposed */
    CU_ASSERT_FALSE(rt_gemm_nn_takes(0, 0, 64, 128, 4000, 1.0f));       /* adds to C */
    if (!mine) return;
    nn_case(64, 128, 4000, 4000, 128, 128);  /* a part of Conv1Net's: 11 blocks of 320, 240, 240 */
    nn_case(64, 64, 1600, 1600, 128, 128);   /* Conv2Net's: a block of 64 columns, five of 320 */
    nn_case(37, 192, 700, 703, 200, 195);    /* 320, then 192 and 188; tiles of 6 and 1 */
    nn_case(11, 128, 1000, 1000, 128, 128);  /* 320, 320, then 192 and 168 */
    nn_case(100, 64, 333, 340, 64, 70);      /* 176 and 157 */
    nn_case(200, 64, 90, 90, 64, 64);        /* one block */
}

/* A linear layer's input gradient, C [m, n] = A @ B^T with m a multiple
 * of 64: rt_gemm_nt through rt_gemm wherever OpenBLAS makes its sums,
 * with column blocks past whole tiles of six and past whole blocks of 64,
 * and strides wider than the matrices; and the products it leaves to
 * OpenBLAS. */
static void nt_case(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc) {
    CU_ASSERT(rt_gemm_nt_takes(0, 1, m, n, k, 0.0f));
    own_gemm_case(NULL, 0, 1, m, n, k, lda, ldb, ldc);
}

static void test_gemm_nt(void) {
    int mine = skylakex_sums();
    CU_ASSERT_EQUAL(rt_gemm_nt_takes(0, 1, 64, 4000, 128, 0.0f), mine); /* else OpenBLAS's own */
    CU_ASSERT_FALSE(rt_gemm_nt_takes(0, 1, 48, 4000, 128, 0.0f));       /* not whole 64 rows */
    CU_ASSERT_FALSE(rt_gemm_nt_takes(0, 1, 64, 4000, 512, 0.0f));       /* A^T past the stack's buffer */
    CU_ASSERT_FALSE(rt_gemm_nt_takes(0, 1, 64, 122, 128, 0.0f));        /* OpenBLAS's small sizes */
    CU_ASSERT_FALSE(rt_gemm_nt_takes(0, 0, 64, 4000, 128, 0.0f));       /* B not transposed */
    CU_ASSERT_FALSE(rt_gemm_nt_takes(0, 1, 64, 4000, 128, 1.0f));       /* adds to C */
    if (!mine) return;
    nt_case(64, 4000, 128, 128, 128, 32000); /* a block of Conv1Net's: 62 blocks of 64 and one of 32 */
    nt_case(128, 90, 96, 100, 97, 95);       /* two blocks of rows; 64 + 26 columns */
    nt_case(64, 200, 250, 250, 256, 200);    /* one block of k, columns 64 x 3 + 8 */
    nt_case(64, 100, 200, 201, 200, 100);
    nt_case(64, 70, 256, 256, 260, 71);      /* 64 + 6 columns, the deepest k */
}

/* The random draws' paths the CPU runs (rng_lanes_isa): the portable
 * one, AVX2 and AVX-512 where the CPU has them. */
static int simd_paths(void) {
    int paths = 1;
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2")) paths = __builtin_cpu_supports("avx512f") ? 3 : 2;
#endif
    return paths;
}

/* ---- convolution ------------------------------------------------------------------ */

/* conv1d and both gradients of x [B, Ci, L], w [Co, Ci, K]. */
static void conv1d_case(int64_t B, int64_t Ci, int64_t L, int64_t Co, int64_t K, int64_t s,
                        int64_t pl, int64_t pr) {
    int64_t Lo = (L + pl + pr - K) / s + 1;
    TType x = F32(B, Ci, L), w = F32(Co, Ci, K), y = F32(B, Co, Lo);
    check(OP_CONV1D, (TType[]){x, w}, 2, AT(s, pl, pr), 0, NULL, FILL_UNIFORM, TOL);
    check(OP_CONV1D_GRAD_INPUT, (TType[]){y, w}, 2, AT(s, pl, pr), 0, &x, FILL_UNIFORM, TOL);
    check(OP_CONV1D_GRAD_WEIGHT, (TType[]){x, y}, 2, AT(s, pl, pr), 0, &w, FILL_UNIFORM, TOL);
}

/* conv2d and both gradients of x [B, Ci, H, W], w [Co, Ci, Kh, Kw]. */
static void conv2d_case(int64_t B, int64_t Ci, int64_t H, int64_t W, int64_t Co, int64_t Kh,
                        int64_t Kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw) {
    int64_t Ho = (H + 2 * ph - Kh) / sh + 1, Wo = (W + 2 * pw - Kw) / sw + 1;
    TType x = F32(B, Ci, H, W), w = F32(Co, Ci, Kh, Kw), y = F32(B, Co, Ho, Wo);
    check(OP_CONV2D, (TType[]){x, w}, 2, AT(sh, sw, ph, pw), 0, NULL, FILL_UNIFORM, TOL);
    check(OP_CONV2D_GRAD_INPUT, (TType[]){y, w}, 2, AT(sh, sw, ph, pw), 0, &x, FILL_UNIFORM, TOL);
    check(OP_CONV2D_GRAD_WEIGHT, (TType[]){x, y}, 2, AT(sh, sw, ph, pw), 0, &w, FILL_UNIFORM, TOL);
}

/* Conv1Net's layers at batch 4, a long input split into tiles, strided
 * convolutions (rt_conv_shift.c: last tap groups of fewer phases, padding
 * wider than the kernel, more samples than partial sums; the shifted
 * product's rows and columns past its blocks of 16 or 32 rows by 6), and random small
 * shapes (many samples to a tile). */
static void conv1d_cases(void) {
    conv1d_case(4, 1, 8000, 32, 100, 4, 48, 48);
    conv1d_case(4, 32, 2000, 64, 25, 4, 11, 11);
    conv1d_case(3, 16, 4001, 5, 25, 1, 0, 7);
    conv1d_case(5, 3, 9, 2, 9, 1, 0, 0);      /* one output position */
    conv1d_case(2, 2, 3, 3, 5, 2, 3, 4);      /* padding wider than the input */
    conv1d_case(7, 3, 40, 5, 1, 1, 0, 0);     /* groups of 4 samples: 4 + 3 */
    conv1d_case(0, 3, 40, 5, 3, 1, 1, 1);     /* an empty batch */
    conv1d_case(3, 17, 301, 7, 10, 4, 5, 2);  /* phases: groups of 4, 4, 2 */
    conv1d_case(11, 33, 50, 3, 2, 2, 0, 1);   /* one tap group; 11 samples, 8 partials */
    conv1d_case(2, 16, 20, 4, 5, 4, 9, 9);    /* padding wider than the kernel */
    conv1d_case(10, 8, 60, 32, 6, 2, 1, 1);   /* 10 samples, 8 partials, whole 16-row blocks */
    conv1d_case(4, 16, 80, 48, 8, 4, 1, 1);   /* 32-row blocks: one whole and one of 16 rows */
    conv1d_case(3, 0, 40, 5, 4, 2, 1, 1);     /* no input channels: no taps to sum */
    conv1d_case(1, 64, 7, 5, 7, 3, 0, 0);     /* one output position */
    conv1d_case(0, 32, 40, 5, 4, 4, 1, 1);    /* an empty batch */
    conv1d_case(3, 32, 50, 6, 3, 1, 2, 0);    /* stride 1 over the plane, padded */
    for (int i = 0; i < 6; i++) {
        int64_t S = pick(2, 5), K = pick(S, 30), pl = pick(0, K), pr = pick(0, K);
        int64_t L = pick(K > pl + pr ? K - pl - pr : 1, 200);
        conv1d_case(pick(1, 9), pick(64 / S, 40), L, pick(1, 9), K, S, pl, pr);
    }
    for (int i = 0; i < 25; i++) {
        int64_t K = pick(1, 7), pl = pick(0, 3), pr = pick(0, 3);
        int64_t L = pick(K > pl + pr ? K - pl - pr : 1, 40);
        conv1d_case(pick(1, 9), pick(1, 5), L, pick(1, 6), K, pick(1, 4), pl, pr);
    }
}

/* conv1d_cases on each variant of the shifted product's block that the
 * CPU runs (portable, AVX2 + FMA, AVX-512). */
static void test_conv1d(void) {
    for (int isa = RT_SHIFT_PORTABLE; isa <= rt_shift_best_isa(); isa++) {
        rt_shift_isa = isa;
        conv1d_cases();
    }
    rt_shift_isa = -1;
}

/* Conv2Net's layers at batch 64, a large input split into tiles that
 * cross rows, stride-1 convolutions over their flattened plane
 * (rt_conv_shift.c: padding, rows past the product's blocks, fewer
 * samples than partial sums, one row, planes large enough for the input
 * gradient, an empty batch) and random small shapes. */
static void conv2d_cases(void) {
    conv2d_case(64, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0);
    conv2d_case(64, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0);
    conv2d_case(3, 8, 61, 59, 6, 5, 4, 1, 2, 2, 1);
    conv2d_case(2, 3, 5, 4, 2, 3, 3, 2, 2, 2, 2);
    conv2d_case(12, 2, 8, 7, 3, 3, 3, 1, 1, 0, 0); /* groups of 5 samples: 5 + 5 + 2 */
    conv2d_case(3, 5, 6, 7, 18, 3, 2, 1, 1, 3, 2);  /* padding wider than the kernel */
    conv2d_case(3, 32, 1, 4, 4, 1, 4, 1, 2, 1, 1);  /* one input row, padded: not 1-D */
    conv2d_case(3, 16, 12, 14, 40, 3, 3, 1, 1, 1, 1);  /* padded; 40 rows: 32 + 8 */
    conv2d_case(2, 7, 9, 20, 33, 2, 5, 1, 1, 0, 2);    /* 70 products; 33 output rows */
    conv2d_case(11, 64, 3, 3, 5, 1, 1, 1, 1, 0, 0);    /* 1 x 1; 11 samples, 8 partials */
    conv2d_case(2, 8, 6, 17, 3, 4, 4, 1, 1, 3, 0);     /* padding wider than the kernel */
    conv2d_case(3, 8, 1, 40, 6, 1, 8, 1, 1, 0, 2);     /* one row */
    conv2d_case(2, 16, 40, 40, 8, 2, 2, 1, 1, 0, 0);   /* a plane for the input gradient too */
    conv2d_case(2, 8, 30, 36, 5, 3, 3, 1, 1, 1, 1);    /* the same, padded */
    conv2d_case(0, 32, 5, 5, 4, 3, 3, 1, 1, 1, 1);     /* an empty batch */
    for (int i = 0; i < 20; i++) {
        int64_t kh = pick(1, 4), kw = pick(1, 4), ph = pick(0, 2), pw = pick(0, 2);
        int64_t H = pick(kh > 2 * ph ? kh - 2 * ph : 1, 12);
        int64_t W = pick(kw > 2 * pw ? kw - 2 * pw : 1, 12);
        conv2d_case(pick(1, 6), pick(1, 4), H, W, pick(1, 5), kh, kw, pick(1, 3), pick(1, 3), ph, pw);
    }
    for (int i = 0; i < 8; i++) { /* deep enough for the plane */
        int64_t kh = pick(1, 4), kw = pick(1, 4), ph = pick(0, 2), pw = pick(0, 2);
        int64_t H = pick(kh > 2 * ph ? kh - 2 * ph : 1, 12);
        int64_t W = pick(4 * kw + 2, 24);
        conv2d_case(pick(1, 6), pick(64 / (kh * kw), 40), H, W, pick(1, 40), kh, kw, 1, 1, ph, pw);
    }
}

/* conv2d_cases on each variant of the shifted product's block. */
static void test_conv2d(void) {
    for (int isa = RT_SHIFT_PORTABLE; isa <= rt_shift_best_isa(); isa++) {
        rt_shift_isa = isa;
        conv2d_cases();
    }
    rt_shift_isa = -1;
}


/* The input gradient in one pass (rt_conv_scatter.c) of x [B, Ci, H, W]
 * (conv1d's [B, Ci, W] when H is 0) with Co channels of Kh x Kw taps,
 * stride 1, no padding: taken as `takes` says (1: wherever OpenBLAS sums
 * as the own kernels do); forced, against the interpreter wherever
 * AVX-512 is; and bit for bit against im2col and OpenBLAS where it
 * makes their sums, on U[-1, 1) inputs and on inputs with NaNs. */
static void scatter_case(int64_t B, int64_t Ci, int64_t H, int64_t W, int64_t Co, int64_t Kh, int64_t Kw, int takes) {
    int two = H > 0;
    int64_t Ho = two ? H - Kh + 1 : 1, Wo = W - Kw + 1;
    TType w = two ? F32(Co, Ci, Kh, Kw) : F32(Co, Ci, Kw);
    TType dy = two ? F32(B, Co, Ho, Wo) : F32(B, Co, Wo), x = two ? F32(B, Ci, H, W) : F32(B, Ci, W);
    for (int fill_mode = FILL_UNIFORM; fill_mode <= FILL_NAN; fill_mode += FILL_NAN - FILL_UNIFORM) {
        Run r;
        static const int64_t at[4] = {1, 1, 0, 0};
        build(&r, two ? OP_CONV2D_GRAD_INPUT : OP_CONV1D_GRAD_INPUT, (TType[]){dy, w}, 2, at + (two ? 0 : 1),
              two ? 4 : 3, 0, &x);
        CU_ASSERT_EQUAL(rt_conv_grad_input_scatters(&r.d), takes && skylakex_sums());
        fill(&r, fill_mode, 77);
        rt_shift_choose();
        if (rt_shift_isa == RT_SHIFT_AVX512 && fill_mode == FILL_UNIFORM) {
            rt_conv_scatter_mode = 1;
            CU_ASSERT_EQUAL(rt_conv_grad_input_scatters(&r.d), takes);
            run_both(&r);
            agree(&r, TOL);
        }
        if (takes && skylakex_sums()) {
            float *one = malloc((size_t)r.n * sizeof *one);
            rt_conv_scatter_mode = -1;
            call(&r, NULL);
            memcpy(one, r.out, (size_t)r.n * sizeof *one);
            rt_conv_scatter_mode = 0;
            CU_ASSERT_FALSE(rt_conv_grad_input_scatters(&r.d));
            call(&r, NULL);
            int same = memcmp(one, r.out, (size_t)r.n * sizeof *one) == 0;
            if (!same)
                fprintf(stderr, "\nCi %" PRId64 " %" PRId64 " x %" PRId64 " Co %" PRId64 " taps %" PRId64 " x %" PRId64
                                " fill %d: not im2col's bits\n", Ci, H, W, Co, Kh, Kw, fill_mode);
            CU_ASSERT(same);
            free(one);
        }
        rt_conv_scatter_mode = -1;
        done(&r);
    }
}

/* Conv2Net's second layer (vectors of 16 W-wide positions: 9, three
 * rows a tile), 14 vectors (two rows a tile, and one left over), one
 * (groups of 10 samples: 10 + 3), conv1d, a row left over past tiles of
 * three; and the shapes it leaves: 1 x 1 taps (the shifted product's), 15
 * vectors, too deep a sum for one block of k, OpenBLAS's small sizes,
 * padding, strides. */
static void test_conv_scatter(void) {
    scatter_case(64, 32, 13, 13, 64, 3, 3, 1);
    scatter_case(2, 7, 17, 14, 90, 3, 3, 1);
    scatter_case(13, 256, 3, 4, 192, 2, 2, 1);
    scatter_case(3, 16, 0, 124, 32, 1, 25, 1);
    scatter_case(2, 256, 4, 4, 256, 1, 1, 0);   /* 1 x 1: the shifted product's */
    scatter_case(2, 23, 10, 9, 110, 2, 4, 1);
    scatter_case(2, 7, 17, 15, 90, 3, 3, 0);  /* 15 x 15 positions: 15 vectors */
    scatter_case(2, 32, 13, 13, 330, 3, 3, 0); /* Co past one block of k */
    scatter_case(2, 23, 10, 9, 70, 2, 4, 0);  /* 695K products: OpenBLAS's small kernels */
    Run r;
    build(&r, OP_CONV2D_GRAD_INPUT, (TType[]){F32(2, 64, 13, 13), F32(64, 32, 3, 3)}, 2, AT(1, 1, 1, 1), 0,
          (TType[]){F32(2, 32, 13, 13)});
    rt_conv_scatter_mode = 1;
    CU_ASSERT_FALSE(rt_conv_grad_input_scatters(&r.d)); /* padded */
    done(&r);
    build(&r, OP_CONV2D_GRAD_INPUT, (TType[]){F32(2, 64, 6, 6), F32(64, 32, 3, 3)}, 2, AT(2, 2, 0, 0), 0,
          (TType[]){F32(2, 32, 13, 13)});
    CU_ASSERT_FALSE(rt_conv_grad_input_scatters(&r.d)); /* strided */
    done(&r);
    rt_conv_scatter_mode = -1;
}

/* One shifted product with consecutive offsets (step d, from off0) on
 * the block of consecutive taps (rt_shift_runs.c) and on the 32 x 12
 * block: the same bits. depth_last and reach_last are the last tap's (a
 * strided convolution's last tap group has fewer rows); wrap, keep as in
 * rt_shift.h. Buffers are allocated at exactly the size rt_shift.h
 * promises to stay within. */
static void shift_runs_case(int64_t R, int64_t P, int64_t T, int64_t depth, int64_t depth_last, int64_t reach_last,
                            int64_t d, int64_t wrap, int64_t keep) {
    Shift s = {.R = R, .P = P, .T = T, .wrap = wrap, .keep = keep};
    int64_t off0 = d > 0 ? 0 : T - 1;
    for (int64_t t = 0; t < T; t++) {
        s.depth[t] = t == T - 1 ? depth_last : depth;
        s.reach[t] = t == T - 1 ? reach_last : R;
        s.off[t] = off0 + d * t;
    }
    int64_t ldx = rt_shift_cols(P) + T - 1, outs = wrap ? (P / wrap) * keep + (P % wrap < keep ? P % wrap : keep) : P;
    float *x = malloc((size_t)(depth * ldx) * sizeof *x), *a = malloc((size_t)(T * R * depth) * sizeof *a);
    float *packed = malloc((size_t)rt_shift_packed_floats(&s) * sizeof *packed);
    float *o[2] = {calloc((size_t)(R * outs), sizeof(float)), calloc((size_t)(R * outs), sizeof(float))};
    for (int64_t i = 0; i < depth * ldx; i++) x[i] = rng_uniform(11, 1, 0, (uint64_t)i) * 2 - 1;
    for (int64_t i = 0; i < T * R * depth; i++) a[i] = rng_uniform(12, 1, 0, (uint64_t)i) * 2 - 1;
    for (int runs = 1; runs >= 0; runs--) {
        rt_shift_tap_runs = runs;
        CU_ASSERT_EQUAL(rt_shift_runs_suit(&s), runs && T <= 7);
        rt_shift_pack(&s, a, R * depth, depth, 1, packed);
        rt_shift(&s, packed, x, ldx, o[runs], outs);
    }
    rt_shift_tap_runs = -1;
    int same = memcmp(o[0], o[1], (size_t)(R * outs) * sizeof(float)) == 0;
    if (!same)
        fprintf(stderr, "\nR %" PRId64 " P %" PRId64 " T %" PRId64 " step %" PRId64 ": not the 32 x 12 block's bits\n", R, P,
                T, d);
    CU_ASSERT(same);
    if (d > 0) { /* the taps' gradient, from 0 and then added to: g = o[0], x position-major */
        int64_t ldp = depth, nx = (P + T) * ldp, no = T * depth * R; /* the second call reads one position on */
        float *xt = malloc((size_t)nx * sizeof *xt), *gp = malloc((size_t)rt_shift_grad_packed_floats(&s) * sizeof *gp);
        float *w[2] = {calloc((size_t)no, sizeof(float)), calloc((size_t)no, sizeof(float))};
        for (int64_t i = 0; i < nx; i++) xt[i] = rng_uniform(13, 1, 0, (uint64_t)i) * 2 - 1;
        for (int runs = 1; runs >= 0; runs--) {
            rt_shift_tap_runs = runs;
            CU_ASSERT_EQUAL(rt_shift_runs_grad_suit(&s), runs);
            rt_shift_grad_pack(&s, o[0], outs, gp);
            rt_shift_grad(&s, gp, xt, ldp, 0, w[runs], depth * R, R);
            rt_shift_grad(&s, gp, xt + ldp, ldp, 1, w[runs], depth * R, R);
        }
        rt_shift_tap_runs = -1;
        same = memcmp(w[0], w[1], (size_t)no * sizeof(float)) == 0;
        if (!same) fprintf(stderr, "\nR %" PRId64 " P %" PRId64 " T %" PRId64 ": not the 12-pair block's gradient\n", R, P, T);
        CU_ASSERT(same);
        free(xt), free(gp), free(w[0]), free(w[1]);
    }
    free(x), free(a), free(packed), free(o[0]), free(o[1]);
}

/* The blocks of consecutive taps against the 32 x 12 and 12-pair blocks,
 * bit for bit (the taps' gradient where the offsets ascend, also for
 * more than seven taps: Conv1Net's first layer):
 * Conv1Net's second layer forward (seven taps, the last of 32 rows of
 * 128) and input gradient (offsets descending, the last tap reaching 32
 * of 128 rows), rows past whole blocks of 16, columns past blocks of 24,
 * five and six taps, a wrapped product (a 1 x K convolution's plane);
 * and which products it takes. AVX-512 only. */
static void test_shift_runs(void) {
    if (rt_shift_best_isa() != RT_SHIFT_AVX512) return;
    rt_shift_isa = RT_SHIFT_AVX512;
    shift_runs_case(64, 500, 7, 128, 32, 64, 1, 0, 0);
    shift_runs_case(128, 506, 7, 64, 64, 32, -1, 0, 0);
    shift_runs_case(40, 31, 6, 9, 3, 40, 1, 0, 0);
    shift_runs_case(21, 7, 5, 4, 4, 5, -1, 0, 0);
    shift_runs_case(16, 49, 5, 3, 1, 16, 1, 0, 0);
    shift_runs_case(33, 60, 7, 5, 5, 33, 1, 15, 10); /* columns 10..14 of each 15 dropped */
    shift_runs_case(48, 40, 7, 6, 2, 20, 1, 0, 0);    /* the last tap reaches 20 rows: 16 and 4 */
    shift_runs_case(32, 2000, 25, 4, 4, 32, 1, 0, 0); /* Conv1Net's first layer: gradient only */
    shift_runs_case(20, 50, 12, 5, 2, 7, 1, 0, 0);    /* 7 + 5 taps, the last reaching 7 rows */
    Shift few = {.R = 32, .P = 24, .T = 4}, apart = {.R = 32, .P = 24, .T = 5};
    for (int64_t t = 0; t < 5; t++)
        few.depth[t] = apart.depth[t] = 8, few.reach[t] = apart.reach[t] = 32, few.off[t] = t, apart.off[t] = 2 * t;
    rt_shift_tap_runs = 1;
    CU_ASSERT_FALSE(rt_shift_runs_suit(&few));   /* four taps: the 32 x 12 block */
    CU_ASSERT_FALSE(rt_shift_runs_suit(&apart)); /* offsets two apart */
    rt_shift_tap_runs = -1;
    Shift seven = apart;
    for (int64_t t = 0; t < 5; t++) seven.off[t] = t;
    __builtin_cpu_init(); /* by default, on Intel's cores only */
    CU_ASSERT_EQUAL(rt_shift_runs_suit(&seven), __builtin_cpu_is("intel") != 0);
    rt_shift_isa = -1;
}

/* ---- pooling ---------------------------------------------------------------------- */

/* The gradient of a pooling computed over its input x (KernelPlan.over):
 * out starts as a copy of x and is passed as x too; exactly the
 * interpreter's values. */
static void check_over_x(Op op, const TType *ins, const int64_t *attr, int nattr, int fill_mode) {
    Run r;
    build(&r, op, ins, 2, attr, nattr, 0, NULL);
    fill(&r, fill_mode, (uint64_t)op * 100);
    char err[256] = "";
    CU_ASSERT_FATAL(interp_run(r.in, 1, 1, 3, err, sizeof err) == 0);
    CU_ASSERT_FATAL(r.n == ir_numel(&ins[0].shape));
    if (r.n) memcpy(r.out, interp_f32(r.in, 0), (size_t)r.n * sizeof *r.out);
    void *bufs[RT_MAX_IN] = {r.out, interp_f32(r.in, 1), NULL};
    RtRandom rnd = {1, 3, 1};
    CU_ASSERT_EQUAL(mmgc_rt_call(&r.d, r.out, bufs, r.scratch, &rnd), 0);
    agree(&r, 0);
    done(&r);
}

/* max_pool and its gradient on ties and NaNs, exactly; the gradient also
 * written over x. */
static void pool_case(int two, const TType *x, const int64_t *attr, int nattr) {
    Run r;
    build(&r, two ? OP_MAX_POOL2D : OP_MAX_POOL1D, x, 1, attr, nattr, 0, NULL);
    TType y = r.g->nodes[r.id].type;
    done(&r);
    for (int mode = FILL_UNIFORM; mode <= FILL_NAN; mode++) {
        Op grad = two ? OP_MAX_POOL2D_GRAD : OP_MAX_POOL1D_GRAD;
        check(two ? OP_MAX_POOL2D : OP_MAX_POOL1D, x, 1, attr, nattr, 0, NULL, mode, 0);
        check(grad, (TType[]){*x, y}, 2, attr, nattr, 0, NULL, mode, 0);
        check_over_x(grad, (TType[]){*x, y}, attr, nattr, mode);
    }
}

/* Conv2Net's poolings, 2x2 windows over rows of whole and partial
 * vectors of windows (16 a vector; two rows of 4 to 8 a vector),
 * overlapping windows, random shapes;
 * on each vector variant of the helpers (rt_shift_isa). */
static void test_pool(void) {
    for (int isa = RT_SHIFT_PORTABLE; isa <= rt_shift_best_isa(); isa++) {
        rt_shift_isa = isa;
        pool_case(1, (TType[]){F32(64, 32, 26, 26)}, AT(2, 2, 2, 2));
        pool_case(1, (TType[]){F32(64, 64, 11, 11)}, AT(2, 2, 2, 2));
        pool_case(1, (TType[]){F32(2, 3, 6, 32)}, AT(2, 2, 2, 2));
        pool_case(1, (TType[]){F32(2, 3, 9, 71)}, AT(2, 2, 2, 2));
        pool_case(1, (TType[]){F32(2, 3, 4, 34)}, AT(2, 2, 2, 2));  /* 16 windows and 1 */
        pool_case(1, (TType[]){F32(2, 3, 4, 40)}, AT(2, 2, 2, 2));  /* 16 and 4 */
        pool_case(1, (TType[]){F32(2, 3, 5, 7)}, AT(2, 2, 2, 2));   /* 3: the scalar row */
        pool_case(1, (TType[]){F32(2, 3, 8, 16)}, AT(2, 2, 2, 2));  /* 8 windows: two rows a vector */
        pool_case(1, (TType[]){F32(2, 3, 6, 9)}, AT(2, 2, 2, 2));   /* 4, three rows: two and one */
        pool_case(1, (TType[]){F32(2, 3, 9, 8)}, AT(3, 2, 1, 1));
        pool_case(0, (TType[]){F32(3, 4, 50)}, AT(5, 2));
        for (int i = 0; i < 15; i++) {
            int64_t k = pick(1, 4), kw = pick(1, 4);
            pool_case(1, (TType[]){F32(pick(1, 3), pick(1, 3), pick(k, 12), pick(kw, 12))},
                      AT(k, kw, pick(1, 3), pick(1, 3)));
            pool_case(0, (TType[]){F32(pick(1, 3), pick(1, 3), pick(k, 30))}, AT(k, pick(1, 3)));
            pool_case(1, (TType[]){F32(pick(1, 3), pick(1, 3), pick(2, 9), pick(2, 80))}, AT(2, 2, 2, 2));
        }
    }
    rt_shift_isa = -1;
}

/* ---- gather and scatter ----------------------------------------------------------- */

/* Values exactly; an index out of range (negative, = C) returns 1. */
static void test_gather_scatter(void) {
    TType x = F32(37, 11), v = F32(37), idx = T(DT_I64, 1, (int64_t)37);
    check(OP_GATHER, (TType[]){x, idx}, 2, NONE, 0, NULL, FILL_UNIFORM, 0);
    check(OP_SCATTER, (TType[]){v, idx}, 2, NONE, 0, &x, FILL_UNIFORM, 0);
    for (int op = 0; op < 2; op++)
        for (int bad = 0; bad < 2; bad++) {
            Run r;
            build(&r, op ? OP_SCATTER : OP_GATHER, (TType[]){op ? v : x, idx}, 2, NONE, 0,
                  op ? &x : NULL);
            fill(&r, FILL_UNIFORM, 1);
            interp_i64(r.in, 1)[20] = bad ? 11 : -1;
            RtRandom rnd = {1, 0, 1};
            call(&r, &rnd);
            CU_ASSERT_EQUAL(r.rc, 1);
            done(&r);
        }
}

/* ---- random numbers --------------------------------------------------------------- */

/* One random node at (seed, step, training): the same bits as the interpreter. */
static void random_case(Op op, const TType *t, int64_t stream, double p, uint64_t seed,
                        uint64_t step, int training) {
    Run r;
    build(&r, op, NULL, 0, AT(stream), op == OP_DROPOUT_MASK ? p : 0, t);
    char err[256];
    CU_ASSERT_FATAL(interp_run(r.in, training, seed, step, err, sizeof err) == 0);
    RtRandom rnd = {seed, step, training};
    call(&r, &rnd);
    CU_ASSERT_EQUAL(r.rc, 0);
    CU_ASSERT(memcmp(r.out, interp_f32(r.in, r.id), (size_t)r.n * sizeof(float)) == 0);
    done(&r);
}


/* Parameter initialization (rng_init_tensor) draws its uniforms RNG_LANES
 * at a time: on every path, every element is the per-element formula
 * a + (b - a) * rng_uniform_key(key, 0, i), held below b. Sizes around the
 * lane count, a range where float rounding reaches b. */
static void test_init_lanes(void) {
    int64_t sizes[5] = {1, 15, 16, 17, 70001};
    double ranges[2][2] = {{-0.25, 0.25}, {1.0, 1.0000001}};
    int paths = simd_paths();
    for (int path = 0; path < paths; path++) {
        rng_lanes_isa = path;
        for (int s = 0; s < 5; s++)
            for (int r = 0; r < 2; r++) {
                int64_t n = sizes[s];
                double a = ranges[r][0], b = ranges[r][1];
                float *x = malloc((size_t)n * sizeof *x);
                rng_init_tensor(x, n, RNG_UNIFORM, a, b, 7, UINT64_C(0x123456789));
                uint32_t key[2];
                rng_key(7, UINT64_C(0x123456789), key);
                int64_t bad = -1;
                for (int64_t i = 0; i < n && bad < 0; i++) {
                    float want = (float)(a + (b - a) * rng_uniform_key(key, 0, (uint64_t)i));
                    if (want >= (float)b) want = nextafterf((float)b, (float)a);
                    if (memcmp(&want, &x[i], sizeof want)) bad = i;
                }
                if (bad >= 0) fprintf(stderr, "\npath %d, n %lld: element %lld differs\n", path, (long long)n, (long long)bad);
                CU_ASSERT_EQUAL(bad, -1);
                free(x);
            }
    }
    rng_lanes_isa = -1;
}

/* The lanes themselves at indices whose low word wraps inside a call
 * (2^32 - 5 ..) or at its start (2^32, 2^33 - 16), and with high bits set:
 * every lane is rng_uniform_key's draw, on every path. */
static void test_lanes_wrap(void) {
    const uint64_t starts[5] = {0, UINT64_C(0xfffffffb), UINT64_C(0x100000000), UINT64_C(0x1fffffff0),
                                UINT64_C(0xfffffffffffffff9)};
    uint32_t key[2];
    rng_key(11, 3, key);
    int paths = simd_paths();
    for (int path = 0; path < paths; path++) {
        rng_lanes_isa = path;
        RngLanesFn lanes = rng_lanes_fn();
        for (int s = 0; s < 5; s++) {
            float u[RNG_LANES];
            lanes(key, UINT64_C(0x700000001), starts[s], u);
            int bad = -1;
            for (int l = 0; l < RNG_LANES && bad < 0; l++) {
                float want = rng_uniform_key(key, UINT64_C(0x700000001), starts[s] + (uint64_t)l);
                if (memcmp(&want, &u[l], sizeof want)) bad = l;
            }
            if (bad >= 0) fprintf(stderr, "\npath %d, start %llx: lane %d differs\n", path, (unsigned long long)starts[s], bad);
            CU_ASSERT_EQUAL(bad, -1);
        }
    }
    rng_lanes_isa = -1;
}

/* The dropout masks' lanes (four uniforms per call) likewise, at indices
 * whose counter (index / 4) wraps its low word inside a call or at its
 * start, with high bits set, and the last call before 2^64; with p on and
 * off the grid of uniforms (k 2^-24), 0, below 0, 1 and NaN: every element
 * is the per-element formula, compared in double. */
static void test_dropout_lanes(void) {
    const uint64_t starts[6] = {0, UINT64_C(0xfffffffb) * 4, UINT64_C(0x100000000) * 4, UINT64_C(0x1fffffff0) * 4,
                                UINT64_C(0x2fffffffb) * 4, UINT64_C(0x3ffffffffffffff0) * 4};
    const double ps[7] = {0.5, 0.1, 0.25 + 0x1p-30, 0.0, -0.5, 1.0, NAN};
    /* the threshold: the first grid value at or above p */
    for (int q = 0; q < 3; q++) {
        double t = rng_dropout_threshold(ps[q]);
        CU_ASSERT(t >= ps[q] && t - 0x1p-24 < ps[q]);
    }
    CU_ASSERT(rng_dropout_threshold(0.0) == 0.0f && rng_dropout_threshold(-0.5) == 0.0f);
    CU_ASSERT(rng_dropout_threshold(1.0) == 1.0f && isnan(rng_dropout_threshold(NAN)));
    uint32_t key[2];
    rng_key(11, 3, key);
    int paths = simd_paths();
    for (int path = 0; path < paths; path++) {
        rng_lanes_isa = path;
        RngDropoutFn mask = rng_dropout_fn();
        for (int s = 0; s < 6; s++)
            for (int q = 0; q < 7; q++) {
                float y[RNG_LANES4], keep = 1.5f;
                mask(key, UINT64_C(0x700000001), starts[s], rng_dropout_threshold(ps[q]), keep, y);
                int bad = -1;
                for (int l = 0; l < RNG_LANES4 && bad < 0; l++) {
                    float want = rng_uniform4_key(key, UINT64_C(0x700000001), starts[s] + (uint64_t)l) >= ps[q] ? keep : 0.0f;
                    if (memcmp(&want, &y[l], sizeof want)) bad = l;
                }
                if (bad >= 0)
                    fprintf(stderr, "\npath %d, start %llx, p %g: element %d differs\n", path,
                            (unsigned long long)starts[s], ps[q], bad);
                CU_ASSERT_EQUAL(bad, -1);
            }
    }
    rng_lanes_isa = -1;
}

/* Streams, seeds and steps with high bits, odd sizes, both modes, p = 0;
 * every path the CPU runs (simd_paths). */
static void test_random(void) {
    TType shapes[4] = {F32(64, 1600), F32(3, 5, 7), F32(1), F32(2, 70001)};
    uint64_t seeds[2] = {1, UINT64_C(0xdeadbeef12345678)}, steps[2] = {0, UINT64_C(0x100000003)};
    int paths = simd_paths();
    for (int path = 0; path < paths; path++) {
        rng_lanes_isa = path;
        for (int s = 0; s < 4; s++)
            for (int i = 0; i < 2; i++)
                for (int tr = 0; tr < 2; tr++) {
                    random_case(OP_RANDOM_UNIFORM, &shapes[s], 5 + s, 0, seeds[i], steps[i], tr);
                    random_case(OP_RANDOM_NORMAL, &shapes[s], 9 + s, 0, seeds[i], steps[i], tr);
                    random_case(OP_DROPOUT_MASK, &shapes[s], 1 + s, 0.5, seeds[i], steps[1 - i], tr);
                    random_case(OP_DROPOUT_MASK, &shapes[s], INT64_C(1) << 40, 0.1, seeds[i],
                                steps[i], tr);
                    random_case(OP_DROPOUT_MASK, &shapes[s], 0, 0.0, seeds[i], steps[i], tr);
                }
    }
    rng_lanes_isa = -1;
}

/* ---- threads, dispatch, sizes, OpenBLAS ------------------------------------------- */

/* The helper's result for r's inputs with n threads. */
static void run_threads(Run *r, int n, float *out) {
    rt_set_threads(n);
    RtRandom rnd = {9, 4, 1};
    call(r, &rnd);
    CU_ASSERT_EQUAL(r->rc, 0);
    memcpy(out, r->out, (size_t)r->n * sizeof *out);
}

/* 1, 2 and 3 threads give the same bits (tiles, blocks and partial sums
 * depend on the desc only). */
static void test_thread_count(void) {
    int saved = rt_threads();
    TType x1 = F32(4, 32, 2000), w1 = F32(64, 32, 25), y1 = F32(4, 64, 500);
    TType x2 = F32(24, 1, 28, 28), w2 = F32(32, 1, 3, 3), y2 = F32(24, 32, 26, 26);
    struct {
        Op op;
        TType in[2];
        int nin, nattr;
        int64_t attr[4];
        const TType *given;
        double value;
    } cases[] = {
        {OP_CONV1D, {x1, w1}, 2, 3, {4, 11, 11}, NULL, 0},
        {OP_CONV1D_GRAD_INPUT, {y1, w1}, 2, 3, {4, 11, 11}, &x1, 0},
        {OP_CONV1D_GRAD_WEIGHT, {x1, y1}, 2, 3, {4, 11, 11}, &w1, 0},
        {OP_CONV2D, {x2, w2}, 2, 4, {1, 1, 0, 0}, NULL, 0},
        {OP_CONV2D_GRAD_INPUT, {y2, w2}, 2, 4, {1, 1, 0, 0}, &x2, 0},
        {OP_CONV2D_GRAD_WEIGHT, {x2, y2}, 2, 4, {1, 1, 0, 0}, &w2, 0},
        {OP_MATMUL, {F32(64, 1600), F32(1600, 128)}, 2, 2, {0, 0}, NULL, 0},
        {OP_MATMUL, {F32(64, 1600), F32(64, 128)}, 2, 2, {1, 0}, NULL, 0},
        {OP_MATMUL, {F32(64, 4, 8, 32), F32(64, 4, 32, 8)}, 2, 2, {0, 0}, NULL, 0},
        {OP_DROPOUT_MASK, {F32(1)}, 0, 1, {3}, &y1, 0.5},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        Run r;
        build(&r, cases[c].op, cases[c].in, cases[c].nin, cases[c].attr, cases[c].nattr,
              cases[c].value, cases[c].given);
        fill(&r, FILL_UNIFORM, 77);
        float *one = malloc((size_t)r.n * sizeof *one), *more = malloc((size_t)r.n * sizeof *more);
        run_threads(&r, 1, one);
        for (int n = 2; n <= 3; n++) {
            run_threads(&r, n, more);
            int same = memcmp(one, more, (size_t)r.n * sizeof *one) == 0;
            if (!same)
                fprintf(stderr, "\n  %s differs with %d threads\n", ir_op_info[cases[c].op].name, n);
            CU_ASSERT(same);
        }
        free(one);
        free(more);
        done(&r);
    }
    rt_set_threads(saved);
}

/* Ops the code generator makes itself have no helper (code 3) and no
 * scratch; descs hold up to three inputs; sizes beyond BLAS's int fail
 * with code 2 before touching memory. */
static void test_dispatch(void) {
    RtDesc d;
    memset(&d, 0, sizeof d);
    d.op = OP_ADD, d.nin = 2;
    CU_ASSERT_EQUAL(rt_scratch_floats(&d), 0);
    CU_ASSERT_EQUAL(mmgc_rt_call(&d, NULL, NULL, NULL, NULL), 3);
    d.op = OP_MATMUL, d.nattr = 2;
    d.rank[0] = d.rank[1] = d.rank[2] = 2;
    int64_t big = (int64_t)1 << 31;
    d.shape[0][0] = big, d.shape[0][1] = 2, d.shape[1][0] = 2, d.shape[1][1] = 3;
    d.shape[2][0] = big, d.shape[2][1] = 3;
    CU_ASSERT_EQUAL(rt_scratch_floats(&d), 0);
    CU_ASSERT_EQUAL(mmgc_rt_call(&d, NULL, (void *[]){NULL, NULL}, NULL, NULL), 2);

    Graph *g = ir_graph_new("t");
    TType t = F32(2, 3);
    char err[256];
    int in[4];
    for (int k = 0; k < 4; k++)
        in[k] = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &t, (Loc){0, 0, 0}, err, sizeof err);
    int c3 = ir_build(g, OP_CONCAT, in, 3, AT(0), 0, NULL, (Loc){0, 0, 0}, err, sizeof err);
    int c4 = ir_build(g, OP_CONCAT, in, 4, AT(1), 0, NULL, (Loc){0, 0, 0}, err, sizeof err);
    CU_ASSERT_FATAL(c3 >= 0 && c4 >= 0);
    CU_ASSERT_EQUAL(rt_desc_of(g, c3, &d), 0);
    CU_ASSERT(d.nin == 3 && d.rank[3] == 2 && d.shape[3][0] == 6 && d.shape[3][1] == 3);
    CU_ASSERT_EQUAL(rt_desc_of(g, c4, &d), -1);
    ir_graph_free(g);
}

/* The OPENBLAS_CORETYPE decision: only an unset variable, a Prescott core
 * and AVX-512F lead to SkylakeX; a user's value is never overridden. */
static void test_coretype(void) {
    CU_ASSERT_STRING_EQUAL(blas_coretype_choice(NULL, "Prescott", 1), "SkylakeX");
    CU_ASSERT_STRING_EQUAL(blas_coretype_choice(NULL, "PRESCOTT", 1), "SkylakeX");
    CU_ASSERT_PTR_NULL(blas_coretype_choice(NULL, "Prescott", 0));
    CU_ASSERT_PTR_NULL(blas_coretype_choice("Prescott", "Prescott", 1));
    CU_ASSERT_PTR_NULL(blas_coretype_choice("", "Prescott", 1));
    CU_ASSERT_PTR_NULL(blas_coretype_choice("Haswell", "Haswell", 1));
    CU_ASSERT_PTR_NULL(blas_coretype_choice(NULL, "Zen", 1));
    CU_ASSERT_PTR_NULL(blas_coretype_choice(NULL, "SkylakeX", 1));
    CU_ASSERT_PTR_NULL(blas_coretype_choice(NULL, NULL, 1));
    const char *core = blas_core();
    CU_ASSERT(core && *core);
}

static CU_TestInfo tests[] = {
    {"matmul: ta/tb, broadcast batches, blocks", test_matmul},
    {"a linear layer's weight gradient (A^T @ B, 128 columns): OpenBLAS's bits", test_gemm_tn},
    {"a linear layer's forward product (A @ B, 64 columns at a time): OpenBLAS's bits", test_gemm_nn},
    {"a linear layer's input gradient (A @ B^T, 64 rows at a time): OpenBLAS's bits", test_gemm_nt},
    {"conv1d and its gradients", test_conv1d},
    {"conv2d and its gradients", test_conv2d},
    {"a small convolution's input gradient in one pass: im2col's bits", test_conv_scatter},
    {"shifted product and its taps' gradient: the blocks of consecutive taps are bit-identical", test_shift_runs},
    {"max pooling and its gradient (ties, NaN; over its input too; each vector variant)", test_pool},
    {"gather and scatter; bad indices", test_gather_scatter},
    {"random_uniform, dropout_mask and random_normal bit for bit", test_random},
    {"random lanes across a wrap of the index's low word, every path", test_lanes_wrap},
    {"dropout lanes (four per call) across a wrap of the counter's low word, every path", test_dropout_lanes},
    {"parameter initialization: uniform lanes equal the per-element draws", test_init_lanes},
    {"results do not depend on the thread count", test_thread_count},
    {"dispatch, desc and size errors", test_dispatch},
    {"OpenBLAS coretype decision", test_coretype},
    CU_TEST_INFO_NULL,
};

/* Under tests/llvm/with_core.sh, MMGC_TEST_BLAS_CORE names the core the
 * run is for: skipped (77) if OpenBLAS runs another. */
int main(void) {
    const char *want = getenv("MMGC_TEST_BLAS_CORE");
    if (want && strcasecmp(blas_core(), want) != 0) {
        printf("OpenBLAS runs its %s core, not %s: skipped\n", blas_core(), want);
        return 77;
    }
    return harness_run("rt", tests);
}
