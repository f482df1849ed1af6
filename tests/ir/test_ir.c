/* test_ir.c — the graph IR: shapes, shape rules, verifier, text form,
 * DOT output and flop counts. Every check compares exact values or exact
 * messages, so a changed rule or message shows up here.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ir.h"
#include "ir_helpers.h"
#define OP_CASES_NO_ROW_MACROS
#include "op_cases.h"

/* Asserts that haystack contains needle, showing both if not. */
#define ASSERT_HAS(haystack, needle)                                                               \
    do {                                                                                           \
        const char *h_ = (haystack), *n_ = (needle);                                               \
        if (!strstr(h_, n_)) fprintf(stderr, "\n  missing: %s\n  in:\n%s\n", n_, h_);             \
        CU_ASSERT_PTR_NOT_NULL(strstr(h_, n_));                                                    \
    } while (0)

/* Adds an input node of type t. */
static int src(Graph *g, TType t) { return B(g, OP_INPUT, NONE, NONE, 0, &t); }

/* Adds a param node of type t with init zeros. */
static int param(Graph *g, TType t) {
    int id = B(g, OP_PARAM, NONE, NONE, 0, &t);
    ir_set_init(g, id, (Init){INIT_ZEROS, 0, 0});
    return id;
}

/* The inferred type as text, or "error: <message>". */
static const char *infer_str(const Graph *g, Op op, const int *in, int nin, const int64_t *attr,
                             int nattr, const TType *given, char *buf, size_t n) {
    TType t;
    char err[200]; /* "error: " + err fits the callers' 256 bytes */
    if (ir_infer(g, op, in, nin, attr, nattr, given, &t, err, sizeof err) == 0)
        return ir_type_str(&t, buf, n);
    snprintf(buf, n, "error: %s", err);
    return buf;
}

/* INFER(op, inputs, attrs, given) with `g` and `buf` in scope. */
#define INFER(op, in, attr, given) infer_str(g, op, in, attr, given, buf, sizeof buf)

/* The text form of g in a malloc'd string. */
static char *print_str(const Graph *g) {
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    CU_ASSERT_FATAL(f != NULL);
    ir_print(g, f);
    fclose(f);
    return s;
}

/* The DOT form of g in a malloc'd string. */
static char *dot_str(const Graph *g) {
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    CU_ASSERT_FATAL(f != NULL);
    ir_print_dot(g, f);
    fclose(f);
    return s;
}

/* ---- op table and shapes -------------------------------------------------- */

/* The op table, name lookup and attribute schemas match ops.def. */
static void test_op_table(void) {
    for (int i = 0; i < OP_COUNT; i++) CU_ASSERT_EQUAL(ir_op_by_name(ir_op_info[i].name), (Op)i);
    CU_ASSERT_EQUAL(ir_op_by_name("conv2d"), OP_CONV2D);
    CU_ASSERT_EQUAL(ir_op_by_name("convolution"), OP_COUNT);
    CU_ASSERT_EQUAL(ir_op_info[OP_CONCAT].arity, -1);
    CU_ASSERT_EQUAL(ir_op_info[OP_SELECT].cls, OC_EW);
    AttrSchema s;
    ir_attr_schema(OP_REDUCE_SUM, &s);
    CU_ASSERT(s.n == 2 && s.nfixed == 1 && s.has_list && !s.has_value);
    ASSERT_STR(s.at[1].name, "axes");
    CU_ASSERT(s.at[1].kind == ATTR_LIST && s.at[1].slot == 1);
    ir_attr_schema(OP_DROPOUT_MASK, &s);
    CU_ASSERT(s.n == 2 && s.nfixed == 1 && !s.has_list && s.has_value);
    CU_ASSERT(s.at[0].kind == ATTR_INT && s.at[0].slot == 0);
    CU_ASSERT(s.at[1].kind == ATTR_VALUE && s.at[1].slot == -1);
    ir_attr_schema(OP_RELU, &s);
    CU_ASSERT_EQUAL(s.n, 0);
}

/* Every op of ops.def has a row in the per-op table, and every row's
 * node gets the type the row says. */
static void test_every_op_case(void) {
    for (int op = 0; op < OP_COUNT; op++) {
        if (!op_has_case((Op)op)) fprintf(stderr, "\n  op '%s' has no row in tests/op_cases.c\n", ir_op_info[op].name);
        CU_ASSERT_TRUE(op_has_case((Op)op));
    }
    for (int i = 0; i < op_ncases; i++) {
        int y;
        Graph *g = op_case_graph(&op_cases[i], &y);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        char buf[160];
        ir_type_str(&g->nodes[y].type, buf, sizeof buf);
        if (strcmp(buf, op_cases[i].type))
            fprintf(stderr, "\n  case %d (%s): type %s, expected %s\n", i, ir_op_info[op_cases[i].op].name, buf,
                    op_cases[i].type);
        ASSERT_STR(buf, op_cases[i].type);
        ir_graph_free(g);
    }
}

/* numel, shape equality and the printed forms of shapes and types. */
static void test_shape_basics(void) {
    char buf[160];
    TType t = T(DT_F32, 4, 64, 1, 28, 28), r0 = T(DT_I64, 0);
    CU_ASSERT_EQUAL(ir_numel(&t.shape), 50176);
    CU_ASSERT_EQUAL(ir_numel(&r0.shape), 1);
    ASSERT_STR(ir_shape_str(&t.shape, buf, sizeof buf), "[64, 1, 28, 28]");
    ASSERT_STR(ir_shape_str(&r0.shape, buf, sizeof buf), "[]");
    ASSERT_STR(ir_type_str(&t, buf, sizeof buf), "f32[64, 1, 28, 28]");
    ASSERT_STR(ir_type_str(&r0, buf, sizeof buf), "i64[]");
    ASSERT_STR(ir_type_str(&t, buf, 8), "f32[64,"); /* truncated, terminated */
    ASSERT_STR(ir_dtype_name(DT_F32), "f32");
    ASSERT_STR(ir_dtype_name(DT_I64), "i64");
    TType u = T(DT_F32, 4, 64, 1, 28, 27);
    CU_ASSERT_TRUE(ir_shape_eq(&t.shape, &t.shape));
    CU_ASSERT_FALSE(ir_shape_eq(&t.shape, &u.shape));
    CU_ASSERT_FALSE(ir_shape_eq(&t.shape, &r0.shape));
}

/* Broadcasts a and b; returns the shape text or "fail". */
static const char *bcast(TType a, TType b, char *buf, size_t n) {
    Shape s;
    if (ir_broadcast(&a.shape, &b.shape, &s) != 0) return "fail";
    return ir_shape_str(&s, buf, n);
}

/* Numpy broadcasting, right-aligned, and the pairs that do not broadcast. */
static void test_broadcast(void) {
    char buf[160];
    ASSERT_STR(bcast(T(DT_F32, 3, 64, 1, 28), T(DT_F32, 2, 5, 1), buf, sizeof buf), "[64, 5, 28]");
    ASSERT_STR(bcast(T(DT_F32, 2, 4, 1), T(DT_F32, 2, 1, 4), buf, sizeof buf), "[4, 4]");
    ASSERT_STR(bcast(T(DT_F32, 0), T(DT_F32, 1, 3), buf, sizeof buf), "[3]");
    ASSERT_STR(bcast(T(DT_F32, 1, 3), T(DT_F32, 0), buf, sizeof buf), "[3]");
    ASSERT_STR(bcast(T(DT_F32, 2, 64, 10), T(DT_F32, 1, 10), buf, sizeof buf), "[64, 10]");
    ASSERT_STR(bcast(T(DT_F32, 2, 2, 3), T(DT_F32, 2, 3, 2), buf, sizeof buf), "fail");
    ASSERT_STR(bcast(T(DT_F32, 1, 3), T(DT_F32, 2, 3, 4), buf, sizeof buf), "fail");
}

/* ---- shape rules ---------------------------------------------------------- */

/* Elementwise ops broadcast; comparisons give f32; cast takes its dtype. */
static void test_infer_elementwise(void) {
    char buf[256];
    Graph *g = ir_graph_new("t");
    int x = src(g, T(DT_F32, 3, 64, 1, 28)), y = src(g, T(DT_F32, 2, 5, 1));
    int s = src(g, T(DT_F32, 0)), l = src(g, T(DT_I64, 1, 64)), m = src(g, T(DT_I64, 2, 1, 1));
    ASSERT_STR(INFER(OP_ADD, IN(x, y), NONE, NULL), "f32[64, 5, 28]");
    ASSERT_STR(INFER(OP_POW, IN(s, x), NONE, NULL), "f32[64, 1, 28]");
    ASSERT_STR(INFER(OP_GT, IN(x, y), NONE, NULL), "f32[64, 5, 28]");
    ASSERT_STR(INFER(OP_EQ, IN(l, m), NONE, NULL), "f32[1, 64]");
    ASSERT_STR(INFER(OP_SELECT, IN(s, x, y), NONE, NULL), "f32[64, 5, 28]");
    ASSERT_STR(INFER(OP_RSQRT, IN(y), NONE, NULL), "f32[5, 1]");
    TType ti = T(DT_I64, 3, 64, 1, 28);
    ASSERT_STR(INFER(OP_CAST, IN(x), NONE, &ti), "i64[64, 1, 28]");
    ir_graph_free(g);
}

/* Reductions drop or keep the axes; no axes means all. */
static void test_infer_reduce(void) {
    char buf[256];
    Graph *g = ir_graph_new("t");
    int x = src(g, T(DT_F32, 3, 64, 10, 7));
    ASSERT_STR(INFER(OP_REDUCE_SUM, IN(x), AT(0, 1), NULL), "f32[64, 7]");
    ASSERT_STR(INFER(OP_REDUCE_SUM, IN(x), AT(1, 1), NULL), "f32[64, 1, 7]");
    ASSERT_STR(INFER(OP_REDUCE_MAX, IN(x), AT(0, 0, 2), NULL), "f32[10]");
    ASSERT_STR(INFER(OP_REDUCE_MAX, IN(x), AT(0), NULL), "f32[]");
    ASSERT_STR(INFER(OP_REDUCE_SUM, IN(x), AT(1), NULL), "f32[1, 1, 1]");
    ir_graph_free(g);
}

/* reshape, broadcast, transpose, concat, slice and pad. */
static void test_infer_data_movement(void) {
    char buf[256];
    Graph *g = ir_graph_new("t");
    int x = src(g, T(DT_F32, 2, 64, 1600)), v = src(g, T(DT_F32, 1, 10));
    int a = src(g, T(DT_F32, 3, 2, 3, 4)), b = src(g, T(DT_F32, 3, 2, 5, 4));
    TType r = T(DT_F32, 4, 64, 64, 5, 5), bc = T(DT_F32, 3, 4, 64, 10);
    ASSERT_STR(INFER(OP_RESHAPE, IN(x), NONE, &r), "f32[64, 64, 5, 5]");
    ASSERT_STR(INFER(OP_BROADCAST, IN(v), NONE, &bc), "f32[4, 64, 10]");
    ASSERT_STR(INFER(OP_TRANSPOSE, IN(a), AT(2, 0, 1), NULL), "f32[4, 2, 3]");
    ASSERT_STR(INFER(OP_CONCAT, IN(a, b, a), AT(1), NULL), "f32[2, 11, 4]");
    ASSERT_STR(INFER(OP_CONCAT, IN(v), AT(0), NULL), "f32[10]");
    ASSERT_STR(INFER(OP_SLICE, IN(a), AT(2, 1, 3), NULL), "f32[2, 3, 2]");
    ASSERT_STR(INFER(OP_SLICE, IN(a), AT(2, 4, 4), NULL), "f32[2, 3, 0]");
    ASSERT_STR(INFER(OP_PAD, IN(a), AT(1, 2, 1), NULL), "f32[2, 6, 4]");
    ir_graph_free(g);
}

/* The audio stem (8000 -> 2000 -> 500), its gradients and 1-d pooling. */
static void test_infer_conv1d(void) {
    char buf[256];
    Graph *g = ir_graph_new("t");
    /* an audio stem: 8000 samples -> 2000 -> 500 */
    int x = src(g, T(DT_F32, 3, 64, 1, 8000)), w1 = src(g, T(DT_F32, 3, 16, 1, 100));
    ASSERT_STR(INFER(OP_CONV1D, IN(x, w1), AT(4, 48, 48), NULL), "f32[64, 16, 2000]");
    int h = src(g, T(DT_F32, 3, 64, 16, 2000)), w2 = src(g, T(DT_F32, 3, 32, 16, 25));
    ASSERT_STR(INFER(OP_CONV1D, IN(h, w2), AT(4, 11, 11), NULL), "f32[64, 32, 500]");
    TType xt = T(DT_F32, 3, 64, 1, 8000), wt = T(DT_F32, 3, 16, 1, 100);
    ASSERT_STR(INFER(OP_CONV1D_GRAD_INPUT, IN(h, w1), AT(4, 48, 48), &xt), "f32[64, 1, 8000]");
    ASSERT_STR(INFER(OP_CONV1D_GRAD_WEIGHT, IN(x, h), AT(4, 48, 48), &wt), "f32[16, 1, 100]");
    int p = src(g, T(DT_F32, 3, 64, 32, 500));
    ASSERT_STR(INFER(OP_MAX_POOL1D, IN(p), AT(4, 4), NULL), "f32[64, 32, 125]");
    ASSERT_STR(INFER(OP_MAX_POOL1D, IN(p), AT(3, 2), NULL), "f32[64, 32, 249]");
    int dy = src(g, T(DT_F32, 3, 64, 32, 125));
    ASSERT_STR(INFER(OP_MAX_POOL1D_GRAD, IN(p, dy), AT(4, 4), NULL), "f32[64, 32, 500]");
    ir_graph_free(g);
}

/* The image stem (28 -> 26 -> 13), its gradients and 2-d pooling. */
static void test_infer_conv2d_pool(void) {
    char buf[256];
    Graph *g = ir_graph_new("t");
    int x = src(g, T(DT_F32, 4, 64, 1, 28, 28)), w = src(g, T(DT_F32, 4, 32, 1, 3, 3));
    ASSERT_STR(INFER(OP_CONV2D, IN(x, w), AT(1, 1, 0, 0), NULL), "f32[64, 32, 26, 26]");
    ASSERT_STR(INFER(OP_CONV2D, IN(x, w), AT(2, 1, 1, 0), NULL), "f32[64, 32, 14, 26]");
    int y = src(g, T(DT_F32, 4, 64, 32, 26, 26));
    ASSERT_STR(INFER(OP_MAX_POOL2D, IN(y), AT(2, 2, 2, 2), NULL), "f32[64, 32, 13, 13]");
    int dp = src(g, T(DT_F32, 4, 64, 32, 13, 13));
    ASSERT_STR(INFER(OP_MAX_POOL2D_GRAD, IN(y, dp), AT(2, 2, 2, 2), NULL), "f32[64, 32, 26, 26]");
    TType xt = T(DT_F32, 4, 64, 1, 28, 28), wt = T(DT_F32, 4, 32, 1, 3, 3);
    ASSERT_STR(INFER(OP_CONV2D_GRAD_INPUT, IN(y, w), AT(1, 1, 0, 0), &xt), "f32[64, 1, 28, 28]");
    ASSERT_STR(INFER(OP_CONV2D_GRAD_WEIGHT, IN(x, y), AT(1, 1, 0, 0), &wt), "f32[32, 1, 3, 3]");
    ir_graph_free(g);
}

/* matmul with ta/tb and broadcast batch dims. */
static void test_infer_matmul(void) {
    char buf[256];
    Graph *g = ir_graph_new("t");
    int a = src(g, T(DT_F32, 2, 64, 128)), b = src(g, T(DT_F32, 2, 128, 10));
    int at = src(g, T(DT_F32, 2, 128, 64)), bt = src(g, T(DT_F32, 2, 10, 128));
    ASSERT_STR(INFER(OP_MATMUL, IN(a, b), AT(0, 0), NULL), "f32[64, 10]");
    ASSERT_STR(INFER(OP_MATMUL, IN(at, b), AT(1, 0), NULL), "f32[64, 10]");
    ASSERT_STR(INFER(OP_MATMUL, IN(a, bt), AT(0, 1), NULL), "f32[64, 10]");
    ASSERT_STR(INFER(OP_MATMUL, IN(at, bt), AT(1, 1), NULL), "f32[64, 10]");
    /* batch dims [2, 1] and [4] broadcast to [2, 4]; a is [K=5, M=3] (ta), b [N=6, K=5] (tb) */
    int ba = src(g, T(DT_F32, 4, 2, 1, 5, 3)), bb = src(g, T(DT_F32, 3, 4, 6, 5));
    ASSERT_STR(INFER(OP_MATMUL, IN(ba, bb), AT(1, 1), NULL), "f32[2, 4, 3, 6]");
    int c = src(g, T(DT_F32, 3, 7, 64, 128));
    ASSERT_STR(INFER(OP_MATMUL, IN(c, b), AT(0, 0), NULL), "f32[7, 64, 10]");
    ir_graph_free(g);
}

/* gather, scatter and the given types of sources. */
static void test_infer_index_and_sources(void) {
    char buf[256];
    Graph *g = ir_graph_new("t");
    int x = src(g, T(DT_F32, 2, 64, 10)), idx = src(g, T(DT_I64, 1, 64)), v = src(g, T(DT_F32, 1, 64));
    TType oh = T(DT_F32, 2, 64, 10), p = T(DT_F32, 2, 3, 4), li = T(DT_I64, 1, 64);
    ASSERT_STR(INFER(OP_GATHER, IN(x, idx), NONE, NULL), "f32[64]");
    ASSERT_STR(INFER(OP_SCATTER, IN(v, idx), NONE, &oh), "f32[64, 10]");
    ASSERT_STR(INFER(OP_PARAM, NONE, NONE, &p), "f32[3, 4]");
    ASSERT_STR(INFER(OP_LABEL, NONE, NONE, &li), "i64[64]");
    ASSERT_STR(INFER(OP_DROPOUT_MASK, NONE, AT(3), &p), "f32[3, 4]");
    ASSERT_STR(INFER(OP_RANDOM_UNIFORM, NONE, AT(9), &p), "f32[3, 4]");
    ir_graph_free(g);
}

/* The exact message of each kind of shape error. */
static void test_infer_errors(void) {
    char buf[256];
    Graph *g = ir_graph_new("t");
    int a = src(g, T(DT_F32, 2, 64, 128)), b = src(g, T(DT_F32, 2, 64, 256));
    int w = src(g, T(DT_F32, 2, 256, 10)), f = src(g, T(DT_F32, 2, 64, 1600));
    int x3 = src(g, T(DT_F32, 4, 64, 3, 28, 28)), k = src(g, T(DT_F32, 4, 32, 1, 3, 3));
    int v = src(g, T(DT_F32, 1, 10)), i = src(g, T(DT_I64, 1, 10));
    int s = src(g, T(DT_F32, 3, 2, 1, 80)), ks = src(g, T(DT_F32, 3, 4, 1, 100));
    int sm = src(g, T(DT_F32, 2, 4, 4)), dy = src(g, T(DT_F32, 3, 2, 4, 10));
    TType r = T(DT_F32, 2, 64, 100), big = T(DT_F32, 0);
    big.shape.rank = 7;
    TType ir = T(DT_I64, 2, 64, 1600), sx = T(DT_F32, 3, 2, 1, 80);
    ASSERT_STR(INFER(OP_ADD, IN(a, b), NONE, NULL), "error: cannot broadcast f32[64, 128] and f32[64, 256]");
    ASSERT_STR(INFER(OP_MATMUL, IN(a, w), AT(0, 0), NULL),
               "error: matmul: inner dimensions differ: f32[64, 128] @ f32[256, 10] (128 vs 256)");
    ASSERT_STR(INFER(OP_MATMUL, IN(a, w), AT(1, 0), NULL),
               "error: matmul: inner dimensions differ: f32[64, 128]^T @ f32[256, 10] (64 vs 256)");
    ASSERT_STR(INFER(OP_MATMUL, IN(v, w), AT(0, 0), NULL),
               "error: matmul: operands need rank >= 2, got f32[10] @ f32[256, 10]");
    ASSERT_STR(INFER(OP_CONV2D, IN(x3, k), AT(1, 1, 0, 0), NULL),
               "error: conv2d: input has 3 channels but the weight expects 1");
    ASSERT_STR(INFER(OP_CONV2D, IN(x3, k), AT(1, 1, 0), NULL),
               "error: conv2d: expected 4 attributes (stride_h stride_w pad_h pad_w), got 3");
    ASSERT_STR(INFER(OP_CONV1D, IN(s, ks), AT(1, 5, 5), NULL),
               "error: conv1d: kernel length 100 exceeds the padded input length 90 (80 + 5 + 5)");
    ASSERT_STR(INFER(OP_CONV1D, IN(s, ks), AT(0, 50, 50), NULL), "error: conv1d: stride must be >= 1, got 0");
    ASSERT_STR(INFER(OP_CONV1D_GRAD_INPUT, IN(dy, ks), AT(1, 20, 20), &sx),
               "error: conv1d_grad_input: dy is f32[2, 4, 10] but the forward op gives f32[2, 4, 21]");
    ASSERT_STR(INFER(OP_MAX_POOL2D, IN(sm), AT(2, 2, 2, 2), NULL),
               "error: max_pool2d: expected x [B, C, H, W], got f32[4, 4]");
    ASSERT_STR(INFER(OP_RESHAPE, IN(f), NONE, &r),
               "error: reshape: f32[64, 1600] has 102400 elements, f32[64, 100] has 6400");
    ASSERT_STR(INFER(OP_RESHAPE, IN(f), NONE, &ir), "error: reshape: dtypes differ: f32[64, 1600] and i64[64, 1600]");
    ASSERT_STR(INFER(OP_RESHAPE, IN(f), NONE, NULL), "error: reshape: the result type must be given");
    ASSERT_STR(INFER(OP_INPUT, NONE, NONE, &big), "error: input: result type has rank 7; the limit is 6");
    ASSERT_STR(INFER(OP_CONCAT, IN(v), AT(1), NULL), "error: concat: axis 1 out of range for rank 1");
    ASSERT_STR(INFER(OP_CONCAT, IN(a, b), AT(0), NULL),
               "error: concat: f32[64, 128] and f32[64, 256] differ outside axis 0");
    ASSERT_STR(INFER(OP_CONCAT, NONE, AT(0), NULL), "error: concat: expected at least 1 input, got 0");
    ASSERT_STR(INFER(OP_ADD, IN(a), NONE, NULL), "error: add: expected 2 inputs, got 1");
    ASSERT_STR(INFER(OP_RELU, IN(a, b), NONE, NULL), "error: relu: expected 1 input, got 2");
    ASSERT_STR(INFER(OP_ADD, IN(a, 99), NONE, NULL), "error: add: input 1 refers to node %99, which does not exist");
    ASSERT_STR(INFER(OP_ADD, IN(v, i), NONE, NULL), "error: add: input 1 is i64[10], expected f32");
    ASSERT_STR(INFER(OP_EQ, IN(v, i), NONE, NULL), "error: eq: dtypes differ: f32[10] and i64[10]");
    ASSERT_STR(INFER(OP_RELU, IN(a), AT(1), NULL), "error: relu: expected no attributes, got 1");
    ASSERT_STR(INFER(OP_REDUCE_SUM, IN(a), NONE, NULL),
               "error: reduce_sum: expected at least 1 attribute (keepdims axes[]), got 0");
    ASSERT_STR(INFER(OP_REDUCE_SUM, IN(a), AT(0, 1, 0), NULL),
               "error: reduce_sum: axes must be sorted and unique, got [1, 0]");
    ASSERT_STR(INFER(OP_REDUCE_MAX, IN(a), AT(0, 2), NULL), "error: reduce_max: axis 2 out of range for rank 2");
    ASSERT_STR(INFER(OP_REDUCE_MAX, IN(a), AT(2), NULL), "error: reduce_max: keepdims must be between 0 and 1, got 2");
    ASSERT_STR(INFER(OP_TRANSPOSE, IN(a), AT(0, 0), NULL), "error: transpose: [0, 0] is not a permutation of 0..1");
    ASSERT_STR(INFER(OP_TRANSPOSE, IN(a), AT(0), NULL), "error: transpose: perm [0] has 1 entries for rank 2");
    ASSERT_STR(INFER(OP_SLICE, IN(sm), AT(1, 3, 2), NULL), "error: slice: range 3..2 does not fit axis 1 of size 4");
    ASSERT_STR(INFER(OP_SLICE, IN(sm), AT(1, 0, 5), NULL), "error: slice: range 0..5 does not fit axis 1 of size 4");
    ASSERT_STR(INFER(OP_PAD, IN(sm), AT(0, -1, 0), NULL),
               "error: pad: padding must be between 0 and 4294967296, got -1 and 0");
    ASSERT_STR(INFER(OP_GATHER, IN(a, v), NONE, NULL),
               "error: gather: expected x f32[N, C] and idx i64[N], got f32[64, 128] and f32[10]");
    ASSERT_STR(INFER(OP_BROADCAST, IN(w), NONE, &r), "error: broadcast: cannot broadcast f32[256, 10] to f32[64, 100]");
    ASSERT_STR(INFER(OP_PARAM, NONE, NONE, &ir), "error: param: the type is i64[64, 1600], expected f32");
    char unknown[64];
    snprintf(unknown, sizeof unknown, "error: unknown op %d", (int)OP_COUNT);
    ASSERT_STR(INFER((Op)OP_COUNT, NONE, NONE, NULL), unknown);
    ir_graph_free(g);
}

/* ---- verifier ------------------------------------------------------------- */

/* ir_verify's message for g, or "ok". */
static const char *verify_str(const Graph *g, char *buf, size_t n) {
    if (ir_verify(g, buf, n) == 0) snprintf(buf, n, "ok");
    return buf;
}

/* A well-formed graph with files, names, an init and an output verifies. */
static void test_verify_accepts(void) {
    char buf[256];
    Graph *g = ir_graph_new("t");
    int f = ir_file(g, "a.mmg");
    CU_ASSERT_EQUAL(ir_file(g, "b.mmg"), 1);
    CU_ASSERT_EQUAL(ir_file(g, "a.mmg"), f);
    int x = src(g, T(DT_F32, 2, 4, 3)), w = param(g, T(DT_F32, 2, 3, 2));
    int y = B(g, OP_MATMUL, IN(x, w), AT(0, 0), 0, NULL);
    ir_set_name(g, x, "x");
    ir_set_name(g, w, "layer.w");
    ir_add_output(g, "logits", y);
    g->nodes[y].loc = (Loc){1, 3, 7};
    ASSERT_STR(verify_str(g, buf, sizeof buf), "ok");
    CU_ASSERT_EQUAL(ir_output(g, "logits"), y);
    CU_ASSERT_EQUAL(ir_output(g, "loss"), -1);
    ir_graph_free(g);
}

/* Each broken invariant gives its exact message, naming the node. */
static void test_verify_rejects(void) {
    char buf[256];
    TType t = T(DT_F32, 1, 3), t2 = T(DT_F32, 1, 2);
    Loc nowhere = {0, 0, 0};
    /* a forward reference: node 1 reads node 2 */
    Graph *g = ir_graph_new("t");
    src(g, t);
    ir_add(g, OP_RELU, t, IN(2), NONE, 0, nowhere);
    src(g, t);
    ASSERT_STR(verify_str(g, buf, sizeof buf), "node %1 (relu): input 0 is %2, which is not an earlier node");
    ir_graph_free(g);
    /* a stored type that is not the inferred one */
    g = ir_graph_new("t");
    int a = src(g, T(DT_F32, 2, 2, 3));
    ir_add(g, OP_ADD, T(DT_F32, 2, 2, 4), IN(a, a), NONE, 0, nowhere);
    ASSERT_STR(verify_str(g, buf, sizeof buf), "node %1 (add): stored type f32[2, 4] differs from the inferred f32[2, 3]");
    ir_graph_free(g);
    /* a name used twice */
    g = ir_graph_new("t");
    ir_set_name(g, src(g, t), "x");
    ir_set_name(g, src(g, t), "y");
    ir_set_name(g, src(g, t), "x");
    ASSERT_STR(verify_str(g, buf, sizeof buf), "node %2 (input): name 'x' is also used by node %0");
    ir_graph_free(g);
    /* a shape rule that fails: the op prefix is not repeated */
    g = ir_graph_new("t");
    a = src(g, t);
    int b = src(g, t2);
    ir_add(g, OP_MATMUL, t, IN(a, b), AT(0, 0), 0, nowhere);
    ir_add(g, OP_SUB, t, IN(a, b), NONE, 0, nowhere);
    ASSERT_STR(verify_str(g, buf, sizeof buf),
               "node %2 (matmul): operands need rank >= 2, got f32[3] @ f32[2]");
    g->nodes[2].op = OP_MUL;
    ASSERT_STR(verify_str(g, buf, sizeof buf), "node %2 (mul): expected no attributes, got 2");
    g->nodes[2].nattr = 0;
    ASSERT_STR(verify_str(g, buf, sizeof buf), "node %2 (mul): cannot broadcast f32[3] and f32[2]");
    ir_graph_free(g);
    /* a param without init, a location outside the file table, a dangling output */
    g = ir_graph_new("t");
    int p = B(g, OP_PARAM, NONE, NONE, 0, &t);
    ASSERT_STR(verify_str(g, buf, sizeof buf), "node %0 (param): param has no init");
    ir_set_init(g, p, (Init){INIT_NORMAL, 0, 0.1});
    g->nodes[p].loc = (Loc){0, 4, 2};
    ASSERT_STR(verify_str(g, buf, sizeof buf), "node %0 (param): location file 0 is not in the file table (size 0)");
    ir_file(g, "m.mmg");
    ir_add_output(g, "y", 5);
    ASSERT_STR(verify_str(g, buf, sizeof buf), "output 'y' refers to node %5, which does not exist");
    g->outs[0].node = p;
    ASSERT_STR(verify_str(g, buf, sizeof buf), "ok");
    ir_graph_free(g);
}

/* ---- text form ------------------------------------------------------------ */

/* The small model of the format description, built through the API. */
static Graph *small_graph(void) {
    Graph *g = ir_graph_new("mnist");
    int f0 = ir_file(g, "models/mnist.mmg"), f1 = ir_file(g, "models/lib/nn.mmg");
    TType ti = T(DT_F32, 4, 64, 1, 28, 28), tw = T(DT_F32, 4, 32, 1, 3, 3), ts = T(DT_F32, 0);
    char err[256];
    int x = ir_build(g, OP_INPUT, NONE, NONE, 0, &ti, (Loc){f0, 5, 13}, err, sizeof err);
    int w = ir_build(g, OP_PARAM, NONE, NONE, 0, &tw, (Loc){f1, 12, 5}, err, sizeof err);
    int c = ir_build(g, OP_CONV2D, IN(x, w), AT(1, 1, 0, 0), 0, NULL, (Loc){f1, 14, 12}, err, sizeof err);
    int r = ir_build(g, OP_REDUCE_SUM, IN(c), AT(0, 1), 0, NULL, (Loc){f0, 9, 3}, err, sizeof err);
    int h = ir_build(g, OP_CONST, NONE, NONE, 0.5, &ts, (Loc){0, 0, 0}, err, sizeof err);
    int y = ir_build(g, OP_MUL, IN(r, h), NONE, 0, NULL, (Loc){f0, 10, 3}, err, sizeof err);
    CU_ASSERT_FATAL(x >= 0 && w >= 0 && c >= 0 && r >= 0 && h >= 0 && y >= 0);
    ir_set_name(g, x, "image");
    ir_set_name(g, w, "multimodal.conv2net.conv2d.w");
    ir_set_init(g, w, (Init){INIT_UNIFORM, -0.333333333, 0.333333333});
    ir_set_name(g, y, "logits");
    ir_add_output(g, "logits", y);
    return g;
}

static const char small_text[] =
    "graph mnist {\n"
    "  file 0 \"models/mnist.mmg\"\n"
    "  file 1 \"models/lib/nn.mmg\"\n"
    "  %image = input f32[64, 1, 28, 28] @0:5:13\n"
    "  %multimodal.conv2net.conv2d.w = param f32[32, 1, 3, 3] init=uniform(-0.333333333, "
    "0.333333333) @1:12:5\n"
    "  %2 = conv2d(%image, %multimodal.conv2net.conv2d.w) {stride_h=1, stride_w=1, pad_h=0, "
    "pad_w=0} f32[64, 32, 26, 26] @1:14:12\n"
    "  %3 = reduce_sum(%2) {keepdims=0, axes=[1]} f32[64, 26, 26] @0:9:3\n"
    "  %4 = const {value=0.5} f32[]\n"
    "  %logits = mul(%3, %4) f32[64, 26, 26] @0:10:3\n"
    "  output logits = %logits\n"
    "}\n";

/* The format description example: exact text, and it parses back. */
static void test_print_exact(void) {
    Graph *g = small_graph();
    char *s = print_str(g), err[256];
    ASSERT_STR(s, small_text);
    Graph *back = ir_parse(small_text, "small.ir", err, sizeof err);
    if (!back) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    char *s2 = print_str(back);
    ASSERT_STR(s2, small_text);
    CU_ASSERT_EQUAL(ir_output(back, "logits"), 5);
    free(s);
    free(s2);
    ir_graph_free(back);
    ir_graph_free(g);
}

/* A model's state carries its init (batch norm's running statistics), an
 * optimizer's none; both print and parse back. */
static void test_state_init(void) {
    static const char text[] = "graph g {\n"
                               "  %bn.running_var = state f32[4] init=ones\n"
                               "  %adam.m = state f32[4]\n"
                               "  %2 = add(%bn.running_var, %adam.m) f32[4]\n"
                               "  output y = %2\n"
                               "}\n";
    char err[256];
    Graph *g = ir_parse(text, "state.ir", err, sizeof err);
    if (!g) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g->nodes[0].init.kind, INIT_ONES);
    CU_ASSERT_EQUAL(g->nodes[1].init.kind, INIT_NONE);
    char *s = print_str(g);
    ASSERT_STR(s, text);
    free(s);
    ir_graph_free(g);
}

/* %NAME only for unique identifier names, else %ID. */
static void test_node_label(void) {
    char buf[64];
    Graph *g = ir_graph_new("t");
    TType t = T(DT_F32, 1, 3);
    for (int i = 0; i < 5; i++) src(g, t);
    ir_set_name(g, 0, "x");
    ir_set_name(g, 1, "x");
    ir_set_name(g, 2, "enc.y_2");
    ir_set_name(g, 3, "not an identifier");
    ASSERT_STR(ir_node_label(g, 0, buf, sizeof buf), "%0");
    ASSERT_STR(ir_node_label(g, 1, buf, sizeof buf), "%1");
    ASSERT_STR(ir_node_label(g, 2, buf, sizeof buf), "%enc.y_2");
    ASSERT_STR(ir_node_label(g, 3, buf, sizeof buf), "%3");
    ASSERT_STR(ir_node_label(g, 4, buf, sizeof buf), "%4");
    char *s = print_str(g);
    ASSERT_HAS(s, "  %1 = input f32[3]\n  %enc.y_2 = input f32[3]\n  %3 = input f32[3]\n");
    free(s);
    ir_graph_free(g);
}

/* Builds a graph that uses every op at least once. */
static Graph *all_ops_graph(void) {
    Graph *g = ir_graph_new("all ops");
    ir_file(g, "models/all.mmg");
    int f1 = ir_file(g, "lib/\"odd\" \\ path\tname\n.mmg");
    TType tx = T(DT_F32, 3, 2, 3, 8), tl = T(DT_I64, 1, 2), tw = T(DT_F32, 3, 4, 3, 3);
    TType ts = T(DT_F32, 0), tr = T(DT_F32, 2, 2, 4), tc = T(DT_I64, 3, 2, 3, 8);
    int x = B(g, OP_INPUT, NONE, NONE, 0, &tx), lbl = B(g, OP_LABEL, NONE, NONE, 0, &tl);
    int w1 = B(g, OP_PARAM, NONE, NONE, 0, &tw), c = B(g, OP_CONST, NONE, NONE, 0.1, &ts);
    B(g, OP_CONST, NONE, NONE, 1.0 / 3.0, &ts);
    B(g, OP_CONST, NONE, NONE, -INFINITY, &ts);
    B(g, OP_RANDOM_UNIFORM, NONE, AT(7), 0, &tr);
    B(g, OP_DROPOUT_MASK, NONE, AT(8), 0.25, &tr);
    B(g, OP_RANDOM_NORMAL, NONE, AT(9), 0, &tr);
    B(g, OP_IOTA, NONE, AT(1), 0, &tr);
    B(g, OP_STATE, NONE, NONE, 0, &tr);
    ir_set_name(g, x, "x");
    ir_set_name(g, lbl, "y.label");
    ir_set_name(g, w1, "enc.conv.w");
    ir_set_init(g, w1, (Init){INIT_UNIFORM, -1.0 / 3.0, 1.0 / 3.0});
    g->nodes[w1].loc = (Loc){f1, 3, 4};
    for (Op op = OP_NEG; op <= OP_STEP; op++) B(g, op, IN(x), NONE, 0, NULL);
    B(g, OP_CAST, IN(x), NONE, 0, &tc);
    int gt = -1;
    for (Op op = OP_ADD; op <= OP_GE; op++) gt = B(g, op, IN(x, c), NONE, 0, NULL);
    B(g, OP_EQ, IN(lbl, lbl), NONE, 0, NULL);
    B(g, OP_SELECT, IN(gt, x, c), NONE, 0, NULL);
    B(g, OP_REDUCE_SUM, IN(x), AT(0, 1), 0, NULL);
    B(g, OP_REDUCE_MAX, IN(x), AT(1), 0, NULL);
    TType t68 = T(DT_F32, 2, 6, 8), t23 = T(DT_F32, 2, 2, 3);
    int resh = B(g, OP_RESHAPE, IN(x), NONE, 0, &t68);
    B(g, OP_BROADCAST, IN(c), NONE, 0, &t23);
    B(g, OP_TRANSPOSE, IN(x), AT(0, 2, 1), 0, NULL);
    B(g, OP_CONCAT, IN(x, x, x), AT(1), 0, NULL);
    B(g, OP_SLICE, IN(x), AT(2, 1, 5), 0, NULL);
    B(g, OP_PAD, IN(x), AT(2, 1, 2), 0, NULL);
    TType t85 = T(DT_F32, 2, 8, 5);
    int wm = B(g, OP_PARAM, NONE, NONE, 0, &t85);
    ir_set_init(g, wm, (Init){INIT_NORMAL, 0, 0.05});
    int mm = B(g, OP_MATMUL, IN(resh, wm), AT(0, 0), 0, NULL);
    int c1 = B(g, OP_CONV1D, IN(x, w1), AT(1, 1, 1), 0, NULL);
    B(g, OP_CONV1D_GRAD_INPUT, IN(c1, w1), AT(1, 1, 1), 0, &tx);
    B(g, OP_CONV1D_GRAD_WEIGHT, IN(x, c1), AT(1, 1, 1), 0, &tw);
    TType tx2 = T(DT_F32, 4, 2, 1, 6, 6), tw2 = T(DT_F32, 4, 2, 1, 3, 3);
    int x2 = B(g, OP_INPUT, NONE, NONE, 0, &tx2), w2 = param(g, tw2);
    int c2 = B(g, OP_CONV2D, IN(x2, w2), AT(1, 1, 0, 0), 0, NULL);
    B(g, OP_CONV2D_GRAD_INPUT, IN(c2, w2), AT(1, 1, 0, 0), 0, &tx2);
    B(g, OP_CONV2D_GRAD_WEIGHT, IN(x2, c2), AT(1, 1, 0, 0), 0, &tw2);
    int p1 = B(g, OP_MAX_POOL1D, IN(x), AT(2, 2), 0, NULL);
    B(g, OP_MAX_POOL1D_GRAD, IN(x, p1), AT(2, 2), 0, NULL);
    int p2 = B(g, OP_MAX_POOL2D, IN(x2), AT(2, 2, 2, 2), 0, NULL);
    B(g, OP_MAX_POOL2D_GRAD, IN(x2, p2), AT(2, 2, 2, 2), 0, NULL);
    TType t25 = T(DT_F32, 2, 2, 5);
    int lg = B(g, OP_PARAM, NONE, NONE, 0, &t25);
    ir_set_init(g, lg, (Init){INIT_ONES, 0, 0});
    int ga = B(g, OP_GATHER, IN(lg, lbl), NONE, 0, NULL);
    int sc = B(g, OP_SCATTER, IN(ga, lbl), NONE, 0, &t25);
    B(g, OP_ARGMAX, IN(x), AT(1), 0, NULL);
    g->nodes[sc].loc = (Loc){0, 40, 1};
    ir_add_output(g, "logits", mm);
    ir_add_output(g, "loss", ga);
    ir_add_output(g, "odd name", sc);
    return g;
}

/* Asserts that a and b hold the same nodes, files and outputs. */
static void assert_same_graph(const Graph *a, const Graph *b) {
    CU_ASSERT_FATAL(a->nnodes == b->nnodes && a->nouts == b->nouts && a->nfiles == b->nfiles);
    ASSERT_STR(a->name, b->name);
    for (int i = 0; i < a->nfiles; i++) ASSERT_STR(a->files[i], b->files[i]);
    for (int i = 0; i < a->nnodes; i++) {
        const Node *m = &a->nodes[i], *n = &b->nodes[i];
        CU_ASSERT(m->op == n->op && m->type.dtype == n->type.dtype);
        CU_ASSERT(ir_shape_eq(&m->type.shape, &n->type.shape));
        CU_ASSERT(m->nin == n->nin && m->nattr == n->nattr);
        CU_ASSERT(m->nin == 0 || memcmp(m->in, n->in, (size_t)m->nin * sizeof *m->in) == 0);
        CU_ASSERT(memcmp(m->attr, n->attr, (size_t)m->nattr * sizeof *m->attr) == 0);
        CU_ASSERT(m->value == n->value && m->init.kind == n->init.kind);
        CU_ASSERT(m->init.a == n->init.a && m->init.b == n->init.b);
        CU_ASSERT((!m->name && !n->name) || (m->name && n->name && !strcmp(m->name, n->name)));
        CU_ASSERT(m->loc.file == n->loc.file && m->loc.line == n->loc.line && m->loc.col == n->loc.col);
    }
    for (int i = 0; i < a->nouts; i++) {
        ASSERT_STR(a->outs[i].name, b->outs[i].name);
        CU_ASSERT_EQUAL(a->outs[i].node, b->outs[i].node);
    }
}

/* Every op of ops.def: print -> parse -> print gives the same text and graph. */
static void test_roundtrip_every_op(void) {
    char err[512];
    Graph *g = all_ops_graph();
    int covered[OP_COUNT] = {0};
    for (int i = 0; i < g->nnodes; i++) covered[g->nodes[i].op] = 1;
    for (int op = 0; op < OP_COUNT; op++) {
        if (!covered[op]) fprintf(stderr, "\n  op %s is not in the round-trip graph\n", ir_op_info[op].name);
        CU_ASSERT_TRUE(covered[op]);
    }
    if (ir_verify(g, err, sizeof err)) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_EQUAL_FATAL(ir_verify(g, err, sizeof err), 0);
    char *s1 = print_str(g);
    ASSERT_HAS(s1, "graph \"all ops\" {\n");
    ASSERT_HAS(s1, "  file 1 \"lib/\\\"odd\\\" \\\\ path\\tname\\n.mmg\"\n");
    ASSERT_HAS(s1, "  %enc.conv.w = param f32[4, 3, 3] init=uniform(-0.33333333333333331, "
                   "0.33333333333333331) @1:3:4\n");
    ASSERT_HAS(s1, " = const {value=0.1} f32[]\n");
    ASSERT_HAS(s1, " = const {value=0.33333333333333331} f32[]\n");
    ASSERT_HAS(s1, " = const {value=-inf} f32[]\n");
    ASSERT_HAS(s1, " = dropout_mask {stream=8, value=0.25} f32[2, 4]\n");
    ASSERT_HAS(s1, " = conv1d(%x, %enc.conv.w) {stride=1, pad_l=1, pad_r=1} f32[2, 4, 8]\n");
    ASSERT_HAS(s1, " = reduce_max(%x) {keepdims=1, axes=[]} f32[1, 1, 1]\n");
    ASSERT_HAS(s1, " = concat(%x, %x, %x) {axis=1} f32[2, 9, 8]\n");
    ASSERT_HAS(s1, " = scatter(%");
    ASSERT_HAS(s1, "  output \"odd name\" = %");
    Graph *back = ir_parse(s1, "all.ir", err, sizeof err);
    if (!back) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    assert_same_graph(g, back);
    char *s2 = print_str(back);
    ASSERT_STR(s2, s1);
    free(s1);
    free(s2);
    ir_graph_free(back);
    ir_graph_free(g);
}

/* ir_parse's error for text (or "ok"), checking that NULL comes with it. */
static const char *parse_err(const char *text, char *buf, size_t n) {
    Graph *g = ir_parse(text, "t.ir", buf, n);
    if (!g) return buf;
    ir_graph_free(g);
    return "ok";
}

/* Parse errors come as "file:line:col: message", exactly. */
static void test_parse_errors(void) {
    char b[512];
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[2, 3 @0:1:1\n}\n", b, sizeof b), "t.ir:2:23: expected ']'");
    ASSERT_STR(parse_err("graph g {\n  %x = frobnicate f32[2]\n}\n", b, sizeof b), "t.ir:2:8: unknown op 'frobnicate'");
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[2]\n  %y = relu(%z) f32[2]\n}\n", b, sizeof b),
               "t.ir:3:13: unknown node %z");
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[2, 8]\n"
                         "  %y = reduce_sum(%x) {keepdims=0, axis=[1]} f32[2]\n}\n", b, sizeof b),
               "t.ir:3:36: reduce_sum has no attribute 'axis'");
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[2, 8]\n"
                         "  %y = reduce_sum(%x) {keepdims=0} f32[2]\n}\n", b, sizeof b),
               "t.ir:3:34: missing attribute 'axes'");
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[2]\n  %y = relu(%x) f32[3]\n}\n", b, sizeof b),
               "t.ir:3:3: node %1 (relu): stored type f32[3] differs from the inferred f32[2]");
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[2]\n  %y = add(%x) f32[2]\n}\n", b, sizeof b),
               "t.ir:3:3: node %1 (add): expected 2 inputs, got 1");
    ASSERT_STR(parse_err("graph g {\n  %w = param f32[2]\n}\n", b, sizeof b),
               "t.ir:2:3: node %0 (param): param has no init");
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[2] init=zeros\n}\n", b, sizeof b),
               "t.ir:2:21: only a param or a state has an init");
    ASSERT_STR(parse_err("graph g {\n  %3 = input f32[2]\n}\n", b, sizeof b),
               "t.ir:2:3: expected %0, the index of this node");
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[2]\n  %x = input f32[2]\n}\n", b, sizeof b),
               "t.ir:3:3: %x is already defined");
    ASSERT_STR(parse_err("graph g {\n  %x = input f16[2]\n}\n", b, sizeof b), "t.ir:2:14: unknown dtype 'f16'");
    ASSERT_STR(parse_err("graph g {\n  %x = relu f32[2]\n}\n", b, sizeof b),
               "t.ir:2:3: node %0 (relu): expected 1 input, got 0");
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[1, 1, 1, 1, 1, 1, 1]\n}\n", b, sizeof b),
               "t.ir:2:36: too many dimensions (at most 6)");
    ASSERT_STR(parse_err("graph g {\n  file 0 \"a.mmg\n}\n", b, sizeof b), "t.ir:2:10: unterminated string");
    ASSERT_STR(parse_err("graph g {\n  file 1 \"a.mmg\"\n}\n", b, sizeof b), "t.ir:2:8: expected file 0");
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[2] @0:1:1\n}\n", b, sizeof b),
               "t.ir:2:3: node %0 (input): location file 0 is not in the file table (size 0)");
    ASSERT_STR(parse_err("graph g {\n  output y = %q\n}\n", b, sizeof b), "t.ir:2:14: unknown node %q");
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[2]\n  output y = %x\n  output y = %x\n}\n", b, sizeof b),
               "t.ir:4:10: output 'y' is declared twice");
    ASSERT_STR(parse_err("graph g {\n  %x = const {value=} f32[]\n}\n", b, sizeof b), "t.ir:2:21: expected a number");
    ASSERT_STR(parse_err("graph g {\n}\n}\n", b, sizeof b), "t.ir:3:1: expected end of input");
    ASSERT_STR(parse_err("graph g {\n  %x = input f32[2]\n", b, sizeof b),
               "t.ir:3:1: expected a node, 'file', 'output' or '}'");
    ASSERT_STR(parse_err("digraph g {}", b, sizeof b), "t.ir:1:1: expected 'graph'");
    /* comments and free spacing are fine */
    ASSERT_STR(parse_err("# a comment\ngraph g{%x=input f32[ 2 ]#x\noutput y=%0}", b, sizeof b), "ok");
}

/* ---- dot and flops -------------------------------------------------------- */

/* The whole DOT output of a small graph. */
static void test_dot(void) {
    Graph *g = ir_graph_new("g");
    TType tx = T(DT_F32, 2, 4, 3), tw = T(DT_F32, 2, 3, 2), tl = T(DT_I64, 1, 4);
    int x = src(g, tx), w = param(g, tw), y = B(g, OP_MATMUL, IN(x, w), AT(0, 0), 0, NULL);
    B(g, OP_LABEL, NONE, NONE, 0, &tl);
    ir_set_name(g, x, "x");
    ir_set_name(g, w, "w");
    ir_add_output(g, "lo\"gits", y);
    char *s = dot_str(g);
    ASSERT_STR(s, "digraph \"g\" {\n"
                  "  node [fontname=\"monospace\"];\n"
                  "  n0 [label=\"%x\\ninput\\nf32[4, 3]\", shape=box, style=filled, fillcolor=\"#cfe2ff\"];\n"
                  "  n1 [label=\"%w\\nparam\\nf32[3, 2]\", shape=box, style=filled, fillcolor=\"#d1e7dd\"];\n"
                  "  n2 [label=\"%2\\nmatmul\\nf32[4, 2]\", peripheries=2];\n"
                  "  n0 -> n2;\n"
                  "  n1 -> n2;\n"
                  "  n3 [label=\"%3\\nlabel\\ni64[4]\", shape=box, style=filled, fillcolor=\"#fff3cd\"];\n"
                  "  out0 [label=\"output lo\\\"gits\", shape=doubleoctagon];\n"
                  "  n2 -> out0;\n"
                  "}\n");
    free(s);
    ir_graph_free(g);
}

/* Flop counts of matmul, convolutions, pooling and cheap ops. */
static void test_flops(void) {
    Graph *g = ir_graph_new("t");
    int a = src(g, T(DT_F32, 2, 64, 128)), b = src(g, T(DT_F32, 2, 128, 10));
    int at = src(g, T(DT_F32, 2, 128, 64));
    int mm = B(g, OP_MATMUL, IN(a, b), AT(0, 0), 0, NULL);
    int mt = B(g, OP_MATMUL, IN(at, b), AT(1, 0), 0, NULL);
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, mm), 163840.0, 0); /* 2 * 64 * 10 * 128 */
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, mt), 163840.0, 0);
    int x = src(g, T(DT_F32, 4, 64, 1, 28, 28)), w = src(g, T(DT_F32, 4, 32, 1, 3, 3));
    int c = B(g, OP_CONV2D, IN(x, w), AT(1, 1, 0, 0), 0, NULL);
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, c), 24920064.0, 0); /* 2 * 64 * 32 * 26 * 26 * 9 */
    TType tx = T(DT_F32, 4, 64, 1, 28, 28), tw = T(DT_F32, 4, 32, 1, 3, 3);
    int gi = B(g, OP_CONV2D_GRAD_INPUT, IN(c, w), AT(1, 1, 0, 0), 0, &tx);
    int gw = B(g, OP_CONV2D_GRAD_WEIGHT, IN(x, c), AT(1, 1, 0, 0), 0, &tw);
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, gi), 24920064.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, gw), 24920064.0, 0);
    int s = src(g, T(DT_F32, 3, 2, 1, 8000)), k = src(g, T(DT_F32, 3, 16, 1, 100));
    int c1 = B(g, OP_CONV1D, IN(s, k), AT(4, 48, 48), 0, NULL);
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, c1), 12800000.0, 0); /* 2 * 2 * 16 * 2000 * 100 */
    int p = B(g, OP_MAX_POOL2D, IN(c), AT(2, 2, 2, 2), 0, NULL);
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, p), 1384448.0, 0); /* 64 * 32 * 13 * 13 * 4 */
    int pg = B(g, OP_MAX_POOL2D_GRAD, IN(c, p), AT(2, 2, 2, 2), 0, NULL);
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, pg), 1384448.0, 0);
    int r = B(g, OP_RELU, IN(mm), NONE, 0, NULL), sum = B(g, OP_REDUCE_SUM, IN(mm), AT(0, 1), 0, NULL);
    TType ti = T(DT_I64, 2, 64, 10);
    int cast = B(g, OP_CAST, IN(mm), NONE, 0, &ti);
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, r), 640.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, sum), 640.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, cast), 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(ir_node_flops(g, a), 0.0, 0);
    ir_graph_free(g);
}

static CU_TestInfo tests[] = {
    {"every op has a row in the op table, with its inferred type", test_every_op_case},
    {"op table", test_op_table},
    {"shape basics", test_shape_basics},
    {"broadcast", test_broadcast},
    {"infer elementwise", test_infer_elementwise},
    {"infer reduce", test_infer_reduce},
    {"infer data movement", test_infer_data_movement},
    {"infer conv1d and pool1d", test_infer_conv1d},
    {"infer conv2d and pool2d", test_infer_conv2d_pool},
    {"infer matmul", test_infer_matmul},
    {"infer index and sources", test_infer_index_and_sources},
    {"infer error messages", test_infer_errors},
    {"verify accepts", test_verify_accepts},
    {"verify rejects", test_verify_rejects},
    {"print exact text", test_print_exact},
    {"node labels", test_node_label},
    {"a state's init", test_state_init},
    {"round trip of every op", test_roundtrip_every_op},
    {"parse errors", test_parse_errors},
    {"dot", test_dot},
    {"flops", test_flops},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("ir", tests); }
