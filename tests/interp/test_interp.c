/* test_interp.c — the reference interpreter and the counter-based RNG.
 *
 * Every op class is checked on small tensors against values written out
 * by hand, or against a naive loop written independently of the kernel
 * (direct convolution instead of im2col, triple loops instead of sgemm).
 * Random test data comes from rng_uniform, so every run sees the same
 * numbers.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "interp.h"
#include "ir.h"
#include "ir_helpers.h"
#include "rng.h"

/* A float array literal and its length. */
#define F(...)                                                                                     \
    (const float[]){__VA_ARGS__}, (int64_t)(sizeof((const float[]){__VA_ARGS__}) / sizeof(float))

/* ---- helpers ---------------------------------------------------------------------- */

/* An input node of type t. */
static int input(Graph *g, TType t) { return B(g, OP_INPUT, NONE, NONE, 0, &t); }

/* A param node of type t, named, with the given init. */
static int param(Graph *g, TType t, const char *name, Init init) {
    int id = B(g, OP_PARAM, NONE, NONE, 0, &t);
    ir_set_name(g, id, name);
    ir_set_init(g, id, init);
    return id;
}

/* An interpreter for g, failing the test if interp_new fails. */
static Interp *make(const Graph *g) {
    char err[256] = "";
    Interp *in = interp_new(g, err, sizeof err);
    if (!in) fprintf(stderr, "\n  interp_new failed: %s\n", err);
    CU_ASSERT_FATAL(in != NULL);
    return in;
}

/* interp_run in training mode with seed 1, step 0, failing the test on error. */
static void run(Interp *in) {
    char err[256] = "";
    int rc = interp_run(in, 1, 1, 0, err, sizeof err);
    if (rc) fprintf(stderr, "\n  interp_run failed: %s\n", err);
    CU_ASSERT_FATAL(rc == 0);
}

/* Copies n floats into the buffer of node id. */
static void set(Interp *in, int id, const float *v, int64_t n) {
    memcpy(interp_f32(in, id), v, (size_t)n * sizeof *v);
}

/* Fills node id with U[-1, 1) numbers from test stream `stream`. */
static void set_random(Interp *in, int id, uint64_t stream) {
    const Graph *g = interp_graph(in);
    float *x = interp_f32(in, id);
    int64_t n = ir_numel(&g->nodes[id].type.shape);
    for (int64_t i = 0; i < n; i++) x[i] = 2 * rng_uniform(12345, stream, 0, (uint64_t)i) - 1;
}

/* Asserts |got[i] - want[i]| <= tol * (1 + |want[i]|) for all i, printing
 * the first mismatch with `what`. */
static void check_close(const float *got, const float *want, int64_t n, double tol,
                        const char *what) {
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        int ok = got[i] == want[i] || d <= tol * (1 + fabs((double)want[i])) ||
                 (isnan(got[i]) && isnan(want[i]));
        if (!ok) {
            fprintf(stderr, "\n  %s: element %" PRId64 " is %.9g, expected %.9g\n", what, i,
                    (double)got[i], (double)want[i]);
            CU_FAIL("values differ");
            return;
        }
    }
    CU_PASS("values agree");
}

/* check_close of node id against a literal. */
static void expect(Interp *in, int id, const float *want, int64_t n, const char *what) {
    const Graph *g = interp_graph(in);
    CU_ASSERT_EQUAL_FATAL(ir_numel(&g->nodes[id].type.shape), n);
    check_close(interp_f32(in, id), want, n, 1e-6, what);
}

/* ---- rng ---------------------------------------------------------------------------- */

/* Philox4x32-10 against the Random123 known-answer vectors. */
static void test_philox_kat(void) {
    static const uint32_t ctr[3][4] = {{0, 0, 0, 0},
                                       {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                                       {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}};
    static const uint32_t key[3][2] = {{0, 0}, {0xffffffff, 0xffffffff}, {0xa4093822, 0x299f31d0}};
    static const uint32_t want[3][4] = {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                                        {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                                        {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (int t = 0; t < 3; t++) {
        uint32_t out[4];
        philox4x32(ctr[t], key[t], out);
        for (int i = 0; i < 4; i++) {
            if (out[i] != want[t][i])
                fprintf(stderr, "\n  vector %d word %d: %08x, expected %08x\n", t, i, out[i],
                        want[t][i]);
            CU_ASSERT_EQUAL(out[i], want[t][i]);
        }
    }
}

/* rng_key's key, for a call that takes it. */
static const uint32_t *key_of(uint64_t seed, uint64_t stream) {
    static uint32_t key[2];
    rng_key(seed, stream, key);
    return key;
}

/* The documented mapping of (seed, stream, step, index) onto Philox, FNV-1a,
 * and the ranges and moments of the uniform and normal draws. */
static void test_rng_draws(void) {
    CU_ASSERT_EQUAL(rng_hash(""), UINT64_C(0xcbf29ce484222325));
    CU_ASSERT_EQUAL(rng_hash("a"), UINT64_C(0xaf63dc4c8601ec8c));
    CU_ASSERT_EQUAL(rng_hash(NULL), rng_hash(""));

    uint64_t seed = UINT64_C(0x123456789abcdef0), stream = UINT64_C(0xfedcba9876543210);
    uint64_t step = UINT64_C(0x0000000700000003), index = UINT64_C(0x0000000500000009);
    uint32_t kctr[4] = {0x76543210, 0xfedcba98, 0, 0}, kkey[2] = {0x9abcdef0, 0x12345678}, k[4];
    philox4x32(kctr, kkey, k);
    uint32_t ctr[4] = {9, 5, 3, 7}, r[4];
    philox4x32(ctr, k, r);
    CU_ASSERT_EQUAL(rng_uniform(seed, stream, step, index), (float)(r[0] >> 8) * 0x1p-24f);
    uint32_t key[2];
    rng_key(seed, stream, key);
    CU_ASSERT(key[0] == k[0] && key[1] == k[1]);
    /* four uniforms per call: index 4 q + w is word w of the call at counter q */
    uint32_t ctr4[4] = {0x40000002, 1, 3, 7}, r4[4]; /* index / 4 = 0x140000002 */
    philox4x32(ctr4, k, r4);
    for (int w = 0; w < 4; w++)
        CU_ASSERT_EQUAL(rng_uniform4_key(key_of(seed, stream), step, UINT64_C(0x500000008) + (uint64_t)w),
                        (float)(r4[w] >> 8) * 0x1p-24f);
    double z = sqrt(-2 * log((r[0] + 1.0) * 0x1p-32)) * cos(2 * M_PI * r[1] * 0x1p-32);
    CU_ASSERT_DOUBLE_EQUAL(rng_normal(seed, stream, step, index), z, 1e-12);

    /* 10^5 draws: uniform in [0, 1) with mean 1/2; normal with mean 0, variance 1 */
    double su = 0, sn = 0, sn2 = 0;
    int n = 100000, in_range = 1;
    for (int i = 0; i < n; i++) {
        float u = rng_uniform(7, 1, 0, (uint64_t)i);
        double v = rng_normal(7, 2, 0, (uint64_t)i);
        in_range &= u >= 0 && u < 1;
        su += u, sn += v, sn2 += v * v;
    }
    CU_ASSERT(in_range);
    CU_ASSERT_DOUBLE_EQUAL(su / n, 0.5, 0.005);
    CU_ASSERT_DOUBLE_EQUAL(sn / n, 0.0, 0.01);
    CU_ASSERT_DOUBLE_EQUAL(sn2 / n, 1.0, 0.02);
    /* distinct streams, steps and seeds give distinct numbers */
    CU_ASSERT_NOT_EQUAL(rng_uniform(7, 1, 0, 0), rng_uniform(7, 2, 0, 0));
    CU_ASSERT_NOT_EQUAL(rng_uniform(7, 1, 0, 0), rng_uniform(7, 1, 1, 0));
    CU_ASSERT_NOT_EQUAL(rng_uniform(7, 1, 0, 0), rng_uniform(8, 1, 0, 0));
}

/* ---- elementwise -------------------------------------------------------------------- */

/* Every unary op on a few values, against libm. */
static void test_unary(void) {
    Graph *g = ir_graph_new("t");
    TType t = T(DT_F32, 2, 1, 5);
    int x = input(g, t);
    static const Op ops[] = {OP_NEG,  OP_EXP,     OP_LOG,  OP_SQRT, OP_RSQRT,
                             OP_TANH, OP_SIGMOID, OP_RELU, OP_ABS,  OP_STEP};
    int y[10];
    for (int k = 0; k < 10; k++) y[k] = B(g, ops[k], IN(x), NONE, 0, NULL);
    Interp *in = make(g);
    set(in, x, F(-2.0f, -0.5f, 0.0f, 0.25f, 3.0f));
    run(in);
    expect(in, y[0], F(2.0f, 0.5f, -0.0f, -0.25f, -3.0f), "neg");
    expect(in, y[1], F(expf(-2), expf(-0.5f), 1, expf(0.25f), expf(3)), "exp");
    expect(in, y[2], F(NAN, NAN, -INFINITY, logf(0.25f), logf(3)), "log");
    expect(in, y[3], F(NAN, NAN, 0, 0.5f, sqrtf(3)), "sqrt");
    expect(in, y[4], F(NAN, NAN, INFINITY, 2, 1 / sqrtf(3)), "rsqrt");
    expect(in, y[5], F(tanhf(-2), tanhf(-0.5f), 0, tanhf(0.25f), tanhf(3)), "tanh");
    expect(in, y[6], F(1 / (1 + expf(2)), 1 / (1 + expf(0.5f)), 0.5f, 1 / (1 + expf(-0.25f)),
                       1 / (1 + expf(-3))), "sigmoid");
    expect(in, y[7], F(0, 0, 0, 0.25f, 3), "relu");
    expect(in, y[8], F(2, 0.5f, 0, 0.25f, 3), "abs");
    expect(in, y[9], F(0, 0, 0, 1, 1), "step");
    interp_free(in);
    ir_graph_free(g);
}

/* sign, floor, sin, cos, stop_gradient, and mod as Python's % on floats
 * (the result has the divisor's sign; a zero result takes it too). */
static void test_sign_floor_trig_mod(void) {
    Graph *g = ir_graph_new("t");
    int x = input(g, T(DT_F32, 1, 6));
    int sg = B(g, OP_SIGN, IN(x), NONE, 0, NULL), fl = B(g, OP_FLOOR, IN(x), NONE, 0, NULL);
    int sn = B(g, OP_SIN, IN(x), NONE, 0, NULL), cs = B(g, OP_COS, IN(x), NONE, 0, NULL);
    int st = B(g, OP_STOP_GRADIENT, IN(x), NONE, 0, NULL);
    int a = input(g, T(DT_F32, 1, 8)), b = input(g, T(DT_F32, 1, 8));
    int md = B(g, OP_MOD, IN(a, b), NONE, 0, NULL);
    Interp *in = make(g);
    set(in, x, F(-2.5f, -0.0f, 0.0f, 0.75f, 3.0f, NAN));
    set(in, a, F(7.5f, -7.5f, 7.5f, -7.5f, 6.0f, -6.0f, 0.0f, 5.0f));
    set(in, b, F(2.0f, 2.0f, -2.0f, -2.0f, 3.0f, 3.0f, -3.0f, 0.0f));
    run(in);
    expect(in, sg, F(-1, -0.0f, 0, 1, 1, NAN), "sign");
    CU_ASSERT_TRUE(signbit(interp_f32(in, sg)[1]) && !signbit(interp_f32(in, sg)[2]));
    expect(in, fl, F(-3, -0.0f, 0, 0, 3, NAN), "floor");
    expect(in, sn, F(sinf(-2.5f), 0, 0, sinf(0.75f), sinf(3.0f), NAN), "sin");
    expect(in, cs, F(cosf(-2.5f), 1, 1, cosf(0.75f), cosf(3.0f), NAN), "cos");
    expect(in, st, F(-2.5f, -0.0f, 0.0f, 0.75f, 3.0f, NAN), "stop_gradient");
    /* Python: 7.5 % 2, -7.5 % 2, 7.5 % -2, -7.5 % -2, 6 % 3, -6 % 3, 0 % -3; x % 0 is NaN here */
    expect(in, md, F(1.5f, 0.5f, -0.5f, -1.5f, 0, 0, -0.0f, NAN), "mod");
    CU_ASSERT_TRUE(!signbit(interp_f32(in, md)[5]) && signbit(interp_f32(in, md)[6]));
    interp_free(in);
    ir_graph_free(g);
}

/* argmax along either axis: the first largest element; a NaN wins. */
static void test_argmax(void) {
    Graph *g = ir_graph_new("t");
    int x = input(g, T(DT_F32, 2, 3, 4));
    int a0 = B(g, OP_ARGMAX, IN(x), AT(0), 0, NULL), a1 = B(g, OP_ARGMAX, IN(x), AT(1), 0, NULL);
    Interp *in = make(g);
    set(in, x, F(1, 5, 5, -1, /**/ 2, 5, NAN, 0, /**/ 2, 9, NAN, -3));
    run(in);
    const int64_t *y0 = interp_i64(in, a0), *y1 = interp_i64(in, a1);
    CU_ASSERT_TRUE(y0[0] == 1 && y0[1] == 2 && y0[2] == 1 && y0[3] == 1);
    CU_ASSERT_TRUE(y1[0] == 1 && y1[1] == 2 && y1[2] == 2);
    interp_free(in);
    ir_graph_free(g);
}

/* Binary ops with broadcasting: [2, 1] with [3] written out, then
 * [3, 1, 5] with [4, 1] and a scalar with [2, 3] against index formulas. */
static void test_binary_broadcast(void) {
    Graph *g = ir_graph_new("t");
    int a = input(g, T(DT_F32, 2, 2, 1)), b = input(g, T(DT_F32, 1, 3));
    int add = B(g, OP_ADD, IN(a, b), NONE, 0, NULL), sub = B(g, OP_SUB, IN(a, b), NONE, 0, NULL);
    int mul = B(g, OP_MUL, IN(a, b), NONE, 0, NULL), div = B(g, OP_DIV, IN(a, b), NONE, 0, NULL);
    int mx = B(g, OP_MAX, IN(a, b), NONE, 0, NULL), mn = B(g, OP_MIN, IN(a, b), NONE, 0, NULL);
    int pw = B(g, OP_POW, IN(a, b), NONE, 0, NULL), gt = B(g, OP_GT, IN(a, b), NONE, 0, NULL);
    int ge = B(g, OP_GE, IN(a, b), NONE, 0, NULL), eq = B(g, OP_EQ, IN(a, b), NONE, 0, NULL);
    int p = input(g, T(DT_F32, 3, 3, 1, 5)), q = input(g, T(DT_F32, 2, 4, 1));
    int pq = B(g, OP_SUB, IN(p, q), NONE, 0, NULL); /* [3, 4, 5] */
    int s = input(g, T(DT_F32, 0)), m = input(g, T(DT_F32, 2, 2, 3));
    int sm = B(g, OP_DIV, IN(s, m), NONE, 0, NULL); /* [2, 3] */
    Interp *in = make(g);
    set(in, a, F(2, 3));
    set(in, b, F(1, 2, 3));
    set_random(in, p, 1);
    set_random(in, q, 2);
    set(in, s, F(6));
    set(in, m, F(1, 2, 3, 4, 5, 6));
    run(in);
    expect(in, add, F(3, 4, 5, 4, 5, 6), "add");
    expect(in, sub, F(1, 0, -1, 2, 1, 0), "sub");
    expect(in, mul, F(2, 4, 6, 3, 6, 9), "mul");
    expect(in, div, F(2, 1, 2.0f / 3, 3, 1.5f, 1), "div");
    expect(in, mx, F(2, 2, 3, 3, 3, 3), "max");
    expect(in, mn, F(1, 2, 2, 1, 2, 3), "min");
    expect(in, pw, F(2, 4, 8, 3, 9, 27), "pow");
    expect(in, gt, F(1, 0, 0, 1, 1, 0), "gt");
    expect(in, ge, F(1, 1, 0, 1, 1, 1), "ge");
    expect(in, eq, F(0, 1, 0, 0, 0, 1), "eq");
    expect(in, sm, F(6, 3, 2, 1.5f, 1.2f, 1), "scalar / matrix");
    float want[60];
    const float *pv = interp_f32(in, p), *qv = interp_f32(in, q);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 5; k++) want[(i * 4 + j) * 5 + k] = pv[i * 5 + k] - qv[j];
    expect(in, pq, want, 60, "[3,1,5] - [4,1]");
    interp_free(in);
    ir_graph_free(g);
}

/* max/min propagate NaN from either side; relu and step give 0 for NaN. */
static void test_nan_rules(void) {
    Graph *g = ir_graph_new("t");
    int a = input(g, T(DT_F32, 1, 3)), b = input(g, T(DT_F32, 1, 3));
    int mx = B(g, OP_MAX, IN(a, b), NONE, 0, NULL), mn = B(g, OP_MIN, IN(a, b), NONE, 0, NULL);
    int r = B(g, OP_RELU, IN(a), NONE, 0, NULL);
    Interp *in = make(g);
    set(in, a, F(NAN, 1, -1));
    set(in, b, F(0, NAN, -2));
    run(in);
    expect(in, mx, F(NAN, NAN, -1), "max");
    expect(in, mn, F(NAN, NAN, -2), "min");
    expect(in, r, F(0, 1, 0), "relu");
    interp_free(in);
    ir_graph_free(g);
}

/* select with a broadcast condition; eq on i64; cast both ways; const. */
static void test_select_eq_cast(void) {
    Graph *g = ir_graph_new("t");
    int c = input(g, T(DT_F32, 2, 2, 1)), a = input(g, T(DT_F32, 2, 2, 3));
    int b = input(g, T(DT_F32, 1, 3));
    int sel = B(g, OP_SELECT, IN(c, a, b), NONE, 0, NULL);
    int i = input(g, T(DT_I64, 1, 4)), j = input(g, T(DT_I64, 0));
    int eq = B(g, OP_EQ, IN(i, j), NONE, 0, NULL);
    TType ti = T(DT_I64, 2, 2, 3), tf = T(DT_F32, 1, 4), tc = T(DT_I64, 1, 2);
    int toi = B(g, OP_CAST, IN(a), NONE, 0, &ti), tof = B(g, OP_CAST, IN(i), NONE, 0, &tf);
    int k = B(g, OP_CONST, NONE, NONE, -2.75, &tc);
    Interp *in = make(g);
    set(in, c, F(0, -1));
    set(in, a, F(1.9f, -1.9f, 2.5f, -0.5f, 1e30f, NAN));
    set(in, b, F(7, 8, 9));
    memcpy(interp_i64(in, i), (int64_t[]){3, -5, 3, 4000000001}, 4 * sizeof(int64_t));
    interp_i64(in, j)[0] = 3;
    run(in);
    expect(in, sel, F(7, 8, 9, -0.5f, 1e30f, NAN), "select");
    expect(in, eq, F(1, 0, 1, 0), "eq i64");
    const int64_t *vi = interp_i64(in, toi);
    CU_ASSERT(vi[0] == 1 && vi[1] == -1 && vi[2] == 2 && vi[3] == 0);
    CU_ASSERT(vi[4] == INT64_MAX && vi[5] == 0);
    expect(in, tof, F(3, -5, 3, 4000000001.0f), "cast i64 -> f32");
    CU_ASSERT(interp_i64(in, k)[0] == -2 && interp_i64(in, k)[1] == -2);
    CU_ASSERT_PTR_NULL(interp_f32(in, i)); /* wrong dtype */
    CU_ASSERT_PTR_NULL(interp_i64(in, a));
    CU_ASSERT_PTR_NULL(interp_f32(in, 999));
    interp_free(in);
    ir_graph_free(g);
}

/* ---- reductions --------------------------------------------------------------------- */

/* x [2, 3, 4] = 0..23 reduced over one, two and all axes, with and without keepdims. */
static void test_reduce(void) {
    Graph *g = ir_graph_new("t");
    int x = input(g, T(DT_F32, 3, 2, 3, 4));
    int s1 = B(g, OP_REDUCE_SUM, IN(x), AT(0, 1), 0, NULL);    /* [2, 4]    */
    int s02 = B(g, OP_REDUCE_SUM, IN(x), AT(1, 0, 2), 0, NULL); /* [1, 3, 1] */
    int sall = B(g, OP_REDUCE_SUM, IN(x), AT(0), 0, NULL);       /* []        */
    int m2 = B(g, OP_REDUCE_MAX, IN(x), AT(1, 2), 0, NULL);      /* [2, 3, 1] */
    int m01 = B(g, OP_REDUCE_MAX, IN(x), AT(0, 0, 1), 0, NULL);  /* [4]       */
    int nx = B(g, OP_NEG, IN(x), NONE, 0, NULL);
    int mneg = B(g, OP_REDUCE_MAX, IN(nx), AT(0, 0, 2), 0, NULL); /* [3] */
    Interp *in = make(g);
    float *xv = interp_f32(in, x);
    for (int i = 0; i < 24; i++) xv[i] = (float)i;
    run(in);
    CU_ASSERT_EQUAL(interp_graph(in)->nodes[s02].type.shape.rank, 3);
    expect(in, s1, F(12, 15, 18, 21, 48, 51, 54, 57), "sum axis 1");
    expect(in, s02, F(60, 92, 124), "sum axes 0,2 keepdims");
    expect(in, sall, F(276), "sum all");
    expect(in, m2, F(3, 7, 11, 15, 19, 23), "max axis 2 keepdims");
    expect(in, m01, F(20, 21, 22, 23), "max axes 0,1");
    expect(in, mneg, F(0, -4, -8), "max of negatives");
    interp_free(in);
    ir_graph_free(g);
}

/* A sum in double: 1 + 2^24 ones is exact in double, not in float. */
static void test_reduce_precision(void) {
    Graph *g = ir_graph_new("t");
    int n = (1 << 24) + 4;
    int x = input(g, T(DT_F32, 1, n));
    int s = B(g, OP_REDUCE_SUM, IN(x), AT(0, 0), 0, NULL);
    Interp *in = make(g);
    float *xv = interp_f32(in, x);
    for (int i = 0; i < n; i++) xv[i] = 1.0f;
    run(in);
    CU_ASSERT_EQUAL(interp_f32(in, s)[0], (float)n);
    interp_free(in);
    ir_graph_free(g);
}

/* ---- data movement ------------------------------------------------------------------ */

/* reshape, broadcast, transpose, concat, slice and pad, on f32 and i64. */
static void test_shape_ops(void) {
    Graph *g = ir_graph_new("t");
    int x = input(g, T(DT_F32, 2, 2, 3)); /* [[0 1 2] [3 4 5]] */
    TType t32 = T(DT_F32, 2, 3, 2), tb = T(DT_F32, 3, 2, 2, 3);
    int rs = B(g, OP_RESHAPE, IN(x), NONE, 0, &t32);
    int bc = B(g, OP_BROADCAST, IN(x), NONE, 0, &tb);
    int tr = B(g, OP_TRANSPOSE, IN(x), AT(1, 0), 0, NULL);
    int y = input(g, T(DT_F32, 2, 2, 1)); /* [[10] [11]] */
    int cat = B(g, OP_CONCAT, IN(y, x, y), AT(1), 0, NULL);
    int sl = B(g, OP_SLICE, IN(x), AT(1, 1, 3), 0, NULL);
    int pd = B(g, OP_PAD, IN(x), AT(0, 1, 2), 0, NULL);
    int z = input(g, T(DT_F32, 3, 2, 3, 4)); /* 0..23 */
    int tz = B(g, OP_TRANSPOSE, IN(z), AT(2, 0, 1), 0, NULL); /* [4, 2, 3] */
    int li = input(g, T(DT_I64, 2, 2, 2));
    int ti = B(g, OP_TRANSPOSE, IN(li), AT(1, 0), 0, NULL);
    int pi = B(g, OP_PAD, IN(li), AT(1, 1, 0), 0, NULL);
    Interp *in = make(g);
    set(in, x, F(0, 1, 2, 3, 4, 5));
    set(in, y, F(10, 11));
    float *zv = interp_f32(in, z);
    for (int i = 0; i < 24; i++) zv[i] = (float)i;
    memcpy(interp_i64(in, li), (int64_t[]){1, 2, 3, (int64_t)1 << 40}, 4 * sizeof(int64_t));
    run(in);
    expect(in, rs, F(0, 1, 2, 3, 4, 5), "reshape");
    expect(in, bc, F(0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5), "broadcast");
    expect(in, tr, F(0, 3, 1, 4, 2, 5), "transpose");
    expect(in, cat, F(10, 0, 1, 2, 10, 11, 3, 4, 5, 11), "concat");
    expect(in, sl, F(1, 2, 4, 5), "slice");
    expect(in, pd, F(0, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0), "pad");
    float want[24];
    for (int k = 0; k < 4; k++) /* tz[k, i, j] = z[i, j, k] */
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) want[(k * 2 + i) * 3 + j] = (float)((i * 3 + j) * 4 + k);
    expect(in, tz, want, 24, "transpose 3-d");
    const int64_t *tiv = interp_i64(in, ti), *piv = interp_i64(in, pi);
    CU_ASSERT(tiv[0] == 1 && tiv[1] == 3 && tiv[2] == 2 && tiv[3] == (int64_t)1 << 40);
    CU_ASSERT(piv[0] == 0 && piv[1] == 1 && piv[2] == 2 && piv[3] == 0 && piv[4] == 3 &&
              piv[5] == (int64_t)1 << 40);
    interp_free(in);
    ir_graph_free(g);
}

/* ---- matmul ------------------------------------------------------------------------- */

/* A 2x2 product written out, then every ta/tb with broadcast batch dims
 * ([2, 1, ...] @ [3, ...] -> [2, 3, 5, 7]) against a triple loop. */
static void test_matmul(void) {
    Graph *g = ir_graph_new("t");
    int p = input(g, T(DT_F32, 2, 2, 2)), q = input(g, T(DT_F32, 2, 2, 2));
    int pq = B(g, OP_MATMUL, IN(p, q), AT(0, 0), 0, NULL);
    int M = 5, K = 4, N = 7, ids[4], a[4], b[4];
    for (int t = 0; t < 4; t++) {
        int ta = t >> 1, tb = t & 1;
        a[t] = input(g, ta ? T(DT_F32, 4, 2, 1, K, M) : T(DT_F32, 4, 2, 1, M, K));
        b[t] = input(g, tb ? T(DT_F32, 3, 3, N, K) : T(DT_F32, 3, 3, K, N));
        ids[t] = B(g, OP_MATMUL, IN(a[t], b[t]), AT(ta, tb), 0, NULL);
    }
    Interp *in = make(g);
    set(in, p, F(1, 2, 3, 4));
    set(in, q, F(5, 6, 7, 8));
    for (int t = 0; t < 4; t++) set_random(in, a[t], 10 + t), set_random(in, b[t], 20 + t);
    run(in);
    expect(in, pq, F(19, 22, 43, 50), "2x2");
    for (int t = 0; t < 4; t++) {
        int ta = t >> 1, tb = t & 1;
        const float *av = interp_f32(in, a[t]), *bv = interp_f32(in, b[t]);
        float want[2 * 3 * 5 * 7];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int m = 0; m < M; m++)
                    for (int n = 0; n < N; n++) {
                        double s = 0;
                        for (int k = 0; k < K; k++) {
                            float x = ta ? av[i * K * M + k * M + m] : av[i * M * K + m * K + k];
                            float y = tb ? bv[j * N * K + n * K + k] : bv[j * K * N + k * N + n];
                            s += (double)x * y;
                        }
                        want[((i * 3 + j) * M + m) * N + n] = (float)s;
                    }
        char what[32];
        snprintf(what, sizeof what, "matmul ta=%d tb=%d", ta, tb);
        check_close(interp_f32(in, ids[t]), want, 2 * 3 * M * N, 1e-5, what);
    }
    interp_free(in);
    ir_graph_free(g);
}

/* ---- convolution -------------------------------------------------------------------- */

/* x at [b, c, h, w] of x [B, C, H, W], or 0 outside. */
static float at4(const float *x, const int64_t *d, int64_t b, int64_t c, int64_t h, int64_t w) {
    if (h < 0 || h >= d[2] || w < 0 || w >= d[3]) return 0;
    return x[((b * d[1] + c) * d[2] + h) * d[3] + w];
}

/* Naive direct 2-D cross-correlation and both gradients (1-D: H = Kh = 1):
 * y[b,o,i,j]    = sum over c,p,q of x[b, c, i*sh+p-ph, j*sw+q-pw] w[o,c,p,q]
 * dx[b,c,h,v]   = sum over o,i,j,p,q with i*sh+p-ph = h, j*sw+q-pw = v of dy[b,o,i,j] w[o,c,p,q]
 * dw[o,c,p,q]   = sum over b,i,j of dy[b,o,i,j] x[b, c, i*sh+p-ph, j*sw+q-pw]
 * Shapes: xd [B, C, H, W], wd [O, C, P, Q], yd [B, O, I, J]. */
static void naive_conv(const float *x, const int64_t *xd, const float *w, const int64_t *wd,
                       const float *dy, const int64_t *yd, int sh, int sw, int ph, int pw,
                       float *y, float *dx, float *dw) {
    int64_t nx = xd[0] * xd[1] * xd[2] * xd[3], nw = wd[0] * wd[1] * wd[2] * wd[3];
    double *ax = calloc((size_t)nx, sizeof *ax), *aw = calloc((size_t)nw, sizeof *aw);
    for (int64_t b = 0; b < yd[0]; b++)
        for (int64_t o = 0; o < yd[1]; o++)
            for (int64_t i = 0; i < yd[2]; i++)
                for (int64_t j = 0; j < yd[3]; j++) {
                    int64_t yi = ((b * yd[1] + o) * yd[2] + i) * yd[3] + j;
                    double s = 0;
                    for (int64_t c = 0; c < wd[1]; c++)
                        for (int64_t p = 0; p < wd[2]; p++)
                            for (int64_t q = 0; q < wd[3]; q++) {
                                int64_t h = i * sh + p - ph, v = j * sw + q - pw;
                                int64_t wi = ((o * wd[1] + c) * wd[2] + p) * wd[3] + q;
                                s += (double)at4(x, xd, b, c, h, v) * w[wi];
                                aw[wi] += (double)dy[yi] * at4(x, xd, b, c, h, v);
                                if (h >= 0 && h < xd[2] && v >= 0 && v < xd[3])
                                    ax[((b * xd[1] + c) * xd[2] + h) * xd[3] + v] +=
                                        (double)dy[yi] * w[wi];
                            }
                    y[yi] = (float)s;
                }
    for (int64_t i = 0; i < nx; i++) dx[i] = (float)ax[i];
    for (int64_t i = 0; i < nw; i++) dw[i] = (float)aw[i];
    free(ax);
    free(aw);
}

/* Builds conv(x, w), conv_grad_input(dy, w), conv_grad_weight(x, dy) with
 * random x, w, dy and compares all three with naive_conv. */
static void check_conv(int two, TType tx, TType tw, const int64_t *attr, int nattr, int sh,
                       int sw, int ph, int pw, const char *what) {
    Graph *g = ir_graph_new("t");
    int x = input(g, tx), w = input(g, tw);
    int y = B(g, two ? OP_CONV2D : OP_CONV1D, IN(x, w), attr, nattr, 0, NULL);
    TType ty = g->nodes[y].type;
    int dy = input(g, ty);
    Op gi_op = two ? OP_CONV2D_GRAD_INPUT : OP_CONV1D_GRAD_INPUT;
    Op gw_op = two ? OP_CONV2D_GRAD_WEIGHT : OP_CONV1D_GRAD_WEIGHT;
    int gi = B(g, gi_op, IN(dy, w), attr, nattr, 0, &tx);
    int gw = B(g, gw_op, IN(x, dy), attr, nattr, 0, &tw);
    Interp *in = make(g);
    set_random(in, x, 31), set_random(in, w, 32), set_random(in, dy, 33);
    run(in);
    /* view 1-D shapes [B, C, L] as [B, C, 1, L] */
    int64_t xd[4], wd[4], yd[4];
    const TType *ts[3] = {&tx, &tw, &ty};
    int64_t *ds[3] = {xd, wd, yd};
    for (int k = 0; k < 3; k++) {
        const int64_t *d = ts[k]->shape.dim;
        int64_t v[4] = {d[0], d[1], two ? d[2] : 1, two ? d[3] : d[2]};
        memcpy(ds[k], v, sizeof v);
    }
    int64_t ny = ir_numel(&ty.shape), nx = ir_numel(&tx.shape), nw = ir_numel(&tw.shape);
    float *wy = malloc((size_t)ny * sizeof(float)), *wx = malloc((size_t)nx * sizeof(float));
    float *ww = malloc((size_t)nw * sizeof(float));
    naive_conv(interp_f32(in, x), xd, interp_f32(in, w), wd, interp_f32(in, dy), yd, sh, sw, ph, pw,
               wy, wx, ww);
    char name[80];
    snprintf(name, sizeof name, "%s forward", what);
    check_close(interp_f32(in, y), wy, ny, 1e-4, name);
    snprintf(name, sizeof name, "%s grad_input", what);
    check_close(interp_f32(in, gi), wx, nx, 1e-4, name);
    snprintf(name, sizeof name, "%s grad_weight", what);
    check_close(interp_f32(in, gw), ww, nw, 1e-4, name);
    free(wy), free(wx), free(ww);
    interp_free(in);
    ir_graph_free(g);
}

/* conv1d: Conv1Net's first layer shape class (kernel 100, stride 4, padding
 * 48/48) on a short signal, asymmetric padding with unused tail samples,
 * and a plain stride-1 case. */
static void test_conv1d(void) {
    check_conv(0, T(DT_F32, 3, 2, 3, 203), T(DT_F32, 3, 5, 3, 100), AT(4, 48, 48), 1, 4, 0, 48,
               "conv1d k100 s4 p48");
    check_conv(0, T(DT_F32, 3, 3, 2, 17), T(DT_F32, 3, 4, 2, 5), AT(3, 2, 7), 1, 3, 0, 2,
               "conv1d k5 s3 p2/7");
    check_conv(0, T(DT_F32, 3, 1, 1, 6), T(DT_F32, 3, 1, 1, 3), AT(1, 0, 0), 1, 1, 0, 0,
               "conv1d k3 s1");
}

/* conv2d: odd sizes, different strides and paddings per axis. */
static void test_conv2d(void) {
    check_conv(1, T(DT_F32, 4, 2, 3, 9, 8), T(DT_F32, 4, 4, 3, 3, 2), AT(2, 3, 1, 2), 2, 3, 1, 2,
               "conv2d k3x2 s2x3 p1x2");
    check_conv(1, T(DT_F32, 4, 3, 1, 28, 28), T(DT_F32, 4, 8, 1, 3, 3), AT(1, 1, 0, 0), 1, 1, 0, 0,
               "conv2d 28x28 k3");
}

/* A 1x1x4 conv1d written out: y[j] = sum_k x[j+k-1] w[k] with padding 1. */
static void test_conv_literal(void) {
    Graph *g = ir_graph_new("t");
    int x = input(g, T(DT_F32, 3, 1, 1, 4)), w = input(g, T(DT_F32, 3, 1, 1, 3));
    int y = B(g, OP_CONV1D, IN(x, w), AT(2, 1, 1), 0, NULL); /* Lo = (4 + 2 - 3) / 2 + 1 = 2 */
    Interp *in = make(g);
    set(in, x, F(1, 2, 3, 4));
    set(in, w, F(1, 10, 100));
    run(in);
    expect(in, y, F(0 * 1 + 1 * 10 + 2 * 100, 2 * 1 + 3 * 10 + 4 * 100), "conv1d literal");
    interp_free(in);
    ir_graph_free(g);
}

/* ---- pooling ---------------------------------------------------------------------- */

/* max_pool1d and its gradient written out: first maximum on ties, and
 * gradients added where windows overlap. */
static void test_max_pool1d(void) {
    Graph *g = ir_graph_new("t");
    TType tx = T(DT_F32, 3, 1, 3, 7);
    int x = input(g, tx);
    int y = B(g, OP_MAX_POOL1D, IN(x), AT(3, 2), 0, NULL); /* [1, 3, 3] */
    int dy = input(g, g->nodes[y].type);
    int dx = B(g, OP_MAX_POOL1D_GRAD, IN(x, dy), AT(3, 2), 0, NULL);
    Interp *in = make(g);
    set(in, x, F(1, 3, 2, 3, 0, 5, 4, /* */ 5, 5, 5, 5, 5, 5, 5, /* */ 0, 0, 9, 0, 0, 0, -1));
    set(in, dy, F(1, 2, 4, 1, 2, 4, 1, 2, 4));
    run(in);
    expect(in, y, F(3, 3, 5, 5, 5, 5, 9, 9, 0), "max_pool1d");
    /* channel 0: windows 0-2, 2-4, 4-6 peak at 1, 3, 5; channel 1: ties go
     * to the first of each window (0, 2, 4); channel 2: 9 at 2 wins the
     * first two windows, and the last window [0, 0, -1] peaks at 4 */
    expect(in, dx, F(0, 1, 0, 2, 0, 4, 0, 1, 0, 2, 0, 4, 0, 0, 0, 0, 3, 0, 4, 0, 0),
           "max_pool1d_grad");
    interp_free(in);
    ir_graph_free(g);
}

/* max_pool2d with overlapping windows (kernel 3x2, stride 2x1) on random
 * data against a naive loop, and its gradient. */
static void test_max_pool2d(void) {
    Graph *g = ir_graph_new("t");
    int x = input(g, T(DT_F32, 4, 2, 3, 7, 6));
    int y = B(g, OP_MAX_POOL2D, IN(x), AT(3, 2, 2, 1), 0, NULL); /* [2, 3, 3, 5] */
    int dy = input(g, g->nodes[y].type);
    int dx = B(g, OP_MAX_POOL2D_GRAD, IN(x, dy), AT(3, 2, 2, 1), 0, NULL);
    Interp *in = make(g);
    set_random(in, x, 41), set_random(in, dy, 42);
    run(in);
    const float *xv = interp_f32(in, x), *dyv = interp_f32(in, dy);
    float wy[2 * 3 * 3 * 5], wdx[2 * 3 * 7 * 6] = {0};
    for (int c = 0; c < 6; c++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++) {
                int bi = -1, bj = -1;
                for (int p = 0; p < 3; p++)
                    for (int q = 0; q < 2; q++) {
                        int h = 2 * i + p, v = j + q;
                        float cur = xv[(c * 7 + h) * 6 + v];
                        if (bi < 0 || cur > xv[(c * 7 + bi) * 6 + bj]) bi = h, bj = v;
                    }
                wy[(c * 3 + i) * 5 + j] = xv[(c * 7 + bi) * 6 + bj];
                wdx[(c * 7 + bi) * 6 + bj] += dyv[(c * 3 + i) * 5 + j];
            }
    expect(in, y, wy, 90, "max_pool2d");
    check_close(interp_f32(in, dx), wdx, 252, 1e-6, "max_pool2d_grad");
    interp_free(in);
    ir_graph_free(g);
}

/* ---- indexing ----------------------------------------------------------------------- */

/* gather and scatter, and the error for an index out of range. */
static void test_gather_scatter(void) {
    Graph *g = ir_graph_new("t");
    int x = input(g, T(DT_F32, 2, 4, 10)), idx = input(g, T(DT_I64, 1, 4));
    int ga = B(g, OP_GATHER, IN(x, idx), NONE, 0, NULL);
    int v = input(g, T(DT_F32, 1, 4));
    TType ts = T(DT_F32, 2, 4, 10);
    int sc = B(g, OP_SCATTER, IN(v, idx), NONE, 0, &ts);
    Interp *in = make(g);
    float *xv = interp_f32(in, x);
    for (int i = 0; i < 40; i++) xv[i] = (float)i;
    memcpy(interp_i64(in, idx), (int64_t[]){0, 9, 3, 3}, 4 * sizeof(int64_t));
    set(in, v, F(1, 2, 3, 4));
    float *scv = interp_f32(in, sc);
    for (int i = 0; i < 40; i++) scv[i] = 99; /* scatter must clear it */
    run(in);
    expect(in, ga, F(0, 19, 23, 33), "gather");
    float want[40] = {0};
    want[0] = 1, want[19] = 2, want[23] = 3, want[33] = 4;
    expect(in, sc, want, 40, "scatter");

    char err[256] = "";
    interp_i64(in, idx)[3] = 12;
    CU_ASSERT_EQUAL(interp_run(in, 0, 1, 0, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "gather: index 12 out of range for 10 classes at row 3");
    interp_i64(in, idx)[3] = -1;
    CU_ASSERT_EQUAL(interp_run(in, 0, 1, 0, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "gather: index -1 out of range for 10 classes at row 3");
    interp_free(in);
    ir_graph_free(g);
}

/* ---- random sources ----------------------------------------------------------------- */

/* random_normal: rng_normal(seed, stream, step, i) rounded to float, so
 * keyed like random_uniform; mean 0, variance 1, about 68% within one
 * standard deviation. */
static void test_random_normal(void) {
    Graph *g = ir_graph_new("t");
    TType t = T(DT_F32, 2, 200, 501);
    int z = B(g, OP_RANDOM_NORMAL, NONE, AT(6), 0, &t);
    Interp *a = make(g);
    char err[256];
    int64_t n = 200 * 501, match = 0, within = 0;
    CU_ASSERT_FATAL(interp_run(a, 1, 42, 7, err, sizeof err) == 0);
    const float *v = interp_f32(a, z);
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; i++) {
        match += v[i] == (float)rng_normal(42, 6, 7, (uint64_t)i);
        within += fabsf(v[i]) < 1;
        sum += v[i], sq += (double)v[i] * v[i];
    }
    CU_ASSERT_EQUAL(match, n);
    CU_ASSERT_DOUBLE_EQUAL(sum / n, 0, 0.01);
    CU_ASSERT_DOUBLE_EQUAL(sq / n, 1, 0.01);
    CU_ASSERT_DOUBLE_EQUAL((double)within / n, 0.6827, 0.005);
    float first = v[0];
    CU_ASSERT_FATAL(interp_run(a, 1, 42, 8, err, sizeof err) == 0);
    CU_ASSERT_NOT_EQUAL(interp_f32(a, z)[0], first); /* another step */
    interp_free(a);
    ir_graph_free(g);
}

/* iota: each element's index along its axis. */
static void test_iota(void) {
    Graph *g = ir_graph_new("t");
    TType t = T(DT_F32, 3, 2, 3, 4);
    int i0 = B(g, OP_IOTA, NONE, AT(0), 0, &t), i1 = B(g, OP_IOTA, NONE, AT(1), 0, &t);
    int i2 = B(g, OP_IOTA, NONE, AT(2), 0, &t);
    Interp *in = make(g);
    run(in);
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 4; c++) {
                int at = (a * 3 + b) * 4 + c;
                CU_ASSERT_TRUE(interp_f32(in, i0)[at] == a && interp_f32(in, i1)[at] == b &&
                               interp_f32(in, i2)[at] == c);
            }
    interp_free(in);
    ir_graph_free(g);
}

/* dropout_mask: the fraction of zeros is near p, kept values are 1/(1-p),
 * the bits depend only on (seed, stream, step), evaluation gives ones;
 * random_uniform matches rng_uniform element by element. */
static void test_dropout_random(void) {
    Graph *g = ir_graph_new("t");
    TType t = T(DT_F32, 2, 200, 501);
    int m = B(g, OP_DROPOUT_MASK, NONE, AT(3), 0.25, &t);
    int m2 = B(g, OP_DROPOUT_MASK, NONE, AT(4), 0.25, &t);
    int u = B(g, OP_RANDOM_UNIFORM, NONE, AT(5), 0, &t);
    Interp *a = make(g), *b = make(g);
    char err[256];
    int64_t n = 200 * 501;
    CU_ASSERT_FATAL(interp_run(a, 1, 42, 7, err, sizeof err) == 0);
    CU_ASSERT_FATAL(interp_run(b, 1, 42, 7, err, sizeof err) == 0);
    const float *ma = interp_f32(a, m), *uv = interp_f32(a, u);
    CU_ASSERT(memcmp(ma, interp_f32(b, m), (size_t)n * sizeof(float)) == 0);
    CU_ASSERT(memcmp(uv, interp_f32(b, u), (size_t)n * sizeof(float)) == 0);
    int64_t zeros = 0, bad = 0, follows = 0, umatch = 0;
    double usum = 0;
    for (int64_t i = 0; i < n; i++) {
        zeros += ma[i] == 0;
        bad += ma[i] != 0 && ma[i] != 1.0f / 0.75f;
        follows += (ma[i] != 0) == (rng_uniform4_key(key_of(42, 3), 7, (uint64_t)i) >= 0.25f);
        umatch += uv[i] == rng_uniform(42, 5, 7, (uint64_t)i) && uv[i] >= 0 && uv[i] < 1;
        usum += uv[i];
    }
    CU_ASSERT_DOUBLE_EQUAL((double)zeros / n, 0.25, 0.005);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(follows, n);
    CU_ASSERT_EQUAL(umatch, n);
    CU_ASSERT_DOUBLE_EQUAL(usum / n, 0.5, 0.005);
    CU_ASSERT(memcmp(ma, interp_f32(a, m2), (size_t)n * sizeof(float)) != 0); /* other stream */
    CU_ASSERT_FATAL(interp_run(b, 1, 42, 8, err, sizeof err) == 0);
    CU_ASSERT(memcmp(ma, interp_f32(b, m), (size_t)n * sizeof(float)) != 0); /* other step */
    CU_ASSERT_FATAL(interp_run(b, 1, 43, 7, err, sizeof err) == 0);
    CU_ASSERT(memcmp(ma, interp_f32(b, m), (size_t)n * sizeof(float)) != 0); /* other seed */
    CU_ASSERT_FATAL(interp_run(b, 0, 42, 7, err, sizeof err) == 0);
    int64_t ones = 0;
    for (int64_t i = 0; i < n; i++) ones += interp_f32(b, m)[i] == 1.0f;
    CU_ASSERT_EQUAL(ones, n); /* evaluation */
    interp_free(a);
    interp_free(b);
    ir_graph_free(g);
}

/* ---- init and updates --------------------------------------------------------------- */

/* Every init kind: bounds, moments, determinism, keyed by name (not id). */
static void test_init(void) {
    Graph *g = ir_graph_new("t");
    int n = 20000;
    int pu = param(g, T(DT_F32, 1, n), "layer.w", (Init){INIT_UNIFORM, -0.1, 0.1});
    int pn = param(g, T(DT_F32, 2, 100, n / 100), "layer.v", (Init){INIT_NORMAL, 2.0, 0.5});
    int po = param(g, T(DT_F32, 1, 3), "layer.g", (Init){INIT_ONES, 0, 0});
    int pz = param(g, T(DT_F32, 1, 3), "layer.b", (Init){INIT_ZEROS, 0, 0});
    TType ts = T(DT_F32, 1, 3);
    int st = B(g, OP_STATE, NONE, NONE, 0, &ts);
    Interp *in = make(g);
    set(in, pz, F(5, 5, 5));
    set(in, st, F(5, 5, 5));
    interp_init(in, 99);
    const float *u = interp_f32(in, pu), *v = interp_f32(in, pn);
    float lo = 1, hi = -1;
    double su = 0, sv = 0, sv2 = 0;
    for (int i = 0; i < n; i++) {
        lo = fminf(lo, u[i]), hi = fmaxf(hi, u[i]);
        su += u[i], sv += v[i], sv2 += (double)v[i] * v[i];
    }
    CU_ASSERT(lo >= -0.1f && hi < 0.1f);
    CU_ASSERT(lo < -0.099f && hi > 0.099f);
    CU_ASSERT_DOUBLE_EQUAL(su / n, 0.0, 0.002);
    CU_ASSERT_DOUBLE_EQUAL(sv / n, 2.0, 0.01);
    CU_ASSERT_DOUBLE_EQUAL(sqrt(sv2 / n - (sv / n) * (sv / n)), 0.5, 0.01);
    expect(in, po, F(1, 1, 1), "ones");
    expect(in, pz, F(0, 0, 0), "zeros");
    expect(in, st, F(0, 0, 0), "state");
    CU_ASSERT_EQUAL(u[17], (float)(-0.1 + 0.2 * rng_uniform(99, rng_hash("layer.w"), 0, 17)));

    /* the same name in another graph, at another id, gets the same values */
    Graph *g2 = ir_graph_new("t2");
    TType t3 = T(DT_F32, 1, 3);
    B(g2, OP_INPUT, NONE, NONE, 0, &t3);
    int pu2 = param(g2, T(DT_F32, 1, n), "layer.w", (Init){INIT_UNIFORM, -0.1, 0.1});
    Interp *in2 = make(g2);
    interp_init(in2, 99);
    CU_ASSERT(memcmp(u, interp_f32(in2, pu2), (size_t)n * sizeof(float)) == 0);
    interp_init(in2, 100);
    CU_ASSERT(memcmp(u, interp_f32(in2, pu2), (size_t)n * sizeof(float)) != 0);
    interp_free(in2);
    ir_graph_free(g2);
    interp_free(in);
    ir_graph_free(g);
}

/* "update:X" outputs are copied into X, all reading the old values (a swap
 * works); an update naming no param or state is an error in interp_new. */
static void test_apply_updates(void) {
    Graph *g = ir_graph_new("t");
    TType t = T(DT_F32, 1, 3), s = T(DT_F32, 0);
    int w = param(g, t, "w", (Init){INIT_ONES, 0, 0});
    int mo = B(g, OP_STATE, NONE, NONE, 0, &t);
    ir_set_name(g, mo, "adam.m.w");
    int a = param(g, s, "a", (Init){INIT_ZEROS, 0, 0});
    int b = param(g, s, "b", (Init){INIT_ZEROS, 0, 0});
    int gr = input(g, t);
    int half = B(g, OP_CONST, NONE, NONE, 0.5, &s);
    int step = B(g, OP_MUL, IN(gr, half), NONE, 0, NULL);
    int nw = B(g, OP_SUB, IN(w, step), NONE, 0, NULL);
    int nm = B(g, OP_ADD, IN(mo, gr), NONE, 0, NULL);
    ir_add_output(g, "loss", nw);
    ir_add_output(g, "update:w", nw);
    ir_add_output(g, "update:adam.m.w", nm);
    ir_add_output(g, "update:a", b);
    ir_add_output(g, "update:b", a);
    Interp *in = make(g);
    interp_init(in, 1);
    interp_f32(in, a)[0] = 1, interp_f32(in, b)[0] = 2;
    set(in, gr, F(2, 4, -6));
    run(in);
    interp_apply_updates(in);
    expect(in, w, F(0, -1, 4), "w");
    expect(in, mo, F(2, 4, -6), "m");
    expect(in, a, F(2), "a after swap");
    expect(in, b, F(1), "b after swap");
    run(in);
    interp_apply_updates(in);
    expect(in, w, F(-1, -3, 7), "w after two steps");
    expect(in, mo, F(4, 8, -12), "m after two steps");
    interp_free(in);

    char err[256] = "";
    ir_add_output(g, "update:nope", nw);
    CU_ASSERT_PTR_NULL(interp_new(g, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "output 'update:nope': there is no param or state named 'nope'");
    ir_graph_free(g);

    g = ir_graph_new("t");
    w = param(g, t, "w", (Init){INIT_ONES, 0, 0});
    ir_add_output(g, "update:w", B(g, OP_CONST, NONE, NONE, 0, &s));
    CU_ASSERT_PTR_NULL(interp_new(g, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "output 'update:w' is f32[] but 'w' is f32[3]");
    ir_graph_free(g);
}

/* interp_new refuses a graph that does not verify. */
static void test_unverified(void) {
    Graph *g = ir_graph_new("t");
    TType t = T(DT_F32, 1, 3);
    B(g, OP_PARAM, NONE, NONE, 0, &t); /* no init */
    char err[256] = "";
    CU_ASSERT_PTR_NULL(interp_new(g, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "node %0 (param): param has no init");
    ir_graph_free(g);
}

static CU_TestInfo tests[] = {
    {"philox known answers", test_philox_kat},
    {"rng draws and mapping", test_rng_draws},
    {"unary ops", test_unary},
    {"sign, floor, sin, cos, stop_gradient, mod", test_sign_floor_trig_mod},
    {"argmax", test_argmax},
    {"iota", test_iota},
    {"random_normal", test_random_normal},
    {"binary ops with broadcasting", test_binary_broadcast},
    {"NaN rules", test_nan_rules},
    {"select, eq, cast, const", test_select_eq_cast},
    {"reductions", test_reduce},
    {"reduce_sum accumulates in double", test_reduce_precision},
    {"data movement", test_shape_ops},
    {"matmul", test_matmul},
    {"conv1d and its gradients", test_conv1d},
    {"conv2d and its gradients", test_conv2d},
    {"conv1d written out", test_conv_literal},
    {"max_pool1d and its gradient", test_max_pool1d},
    {"max_pool2d and its gradient", test_max_pool2d},
    {"gather and scatter", test_gather_scatter},
    {"dropout_mask and random_uniform", test_dropout_random},
    {"interp_init", test_init},
    {"interp_apply_updates", test_apply_updates},
    {"unverified graph", test_unverified},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("interp", tests); }
