/* test_gradcheck.c — every op's gradient rule against finite differences.
 *
 * Driven by the op table (tests/op_cases.c): an op with a vector-Jacobian
 * product in ops.def must have a row there, or the suite fails. Each row builds
 *   loss = sum(op(inputs) * r)      (r a fixed random input)
 * runs autodiff, executes the graph with the reference interpreter, and
 * compares d loss / d input with central differences (in double, around
 * points chosen away from kinks), with a per-op tolerance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "op_cases.h"
#include "interp.h"
#include "passes.h"

/* Builds loss = sum(op(p0, p1, ...) * r); returns the graph (inputs in
 * params[], r in *r), NULL on failure or (with *r = -1) for a row whose
 * op gives i64, which has no gradient to check. */
static Graph *build_case(const OpCase *c, int *params, int *r) {
    int y;
    Graph *g = op_case_graph(c, &y);
    *r = 0;
    if (!g) return NULL;
    if (g->nodes[y].type.dtype != DT_F32) {
        ir_graph_free(g);
        *r = -1;
        return NULL;
    }
    char err[512];
    Loc loc = {0, 0, 0};
    for (int k = 0; k < c->nin; k++) params[k] = g->nodes[y].in[k];
    TType rt = {DT_F32, g->nodes[y].type.shape};
    *r = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &rt, loc, err, sizeof err);
    ir_set_name(g, *r, "r");
    int prod[2] = {y, *r};
    int m = ir_build(g, OP_MUL, prod, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
    int64_t all[1 + IR_MAX_RANK] = {0};
    int na = 1;
    for (int i = 0; i < rt.shape.rank; i++) all[na++] = i;
    int loss = ir_build(g, OP_REDUCE_SUM, &m, 1, all, na, 0, NULL, loc, err, sizeof err);
    ir_add_output(g, "loss", loss);
    return g;
}

/* Runs the graph; returns the loss. */
static double run(Interp *in, const Graph *g) {
    char err[256];
    if (interp_run(in, 1, 1, 0, err, sizeof err)) {
        fprintf(stderr, "\ninterp: %s\n", err);
        return NAN;
    }
    return interp_f32(in, ir_output(g, "loss"))[0];
}

/* Checks one case; returns 1 if every gradient matches. */
static int check_case(const OpCase *c) {
    int params[3], r;
    Graph *g = build_case(c, params, &r);
    if (!g) return r == -1;
    PassConfig cfg = {STAGE_TRAIN, {.kind = OPT_SGD, .lr = 0.1}, 0, NULL, NULL};
    PassError perr;
    if (pass_autodiff(g, &cfg, &perr)) {
        fprintf(stderr, "\n%s: autodiff: %s\n", ir_op_info[c->op].name, perr.msg);
        ir_graph_free(g);
        return 0;
    }
    char err[256];
    Interp *in = interp_new(g, err, sizeof err);
    if (!in) {
        fprintf(stderr, "\n%s: %s\n", ir_op_info[c->op].name, err);
        ir_graph_free(g);
        return 0;
    }
    for (int k = 0; k < c->nin; k++) {
        int64_t n = ir_numel(&g->nodes[params[k]].type.shape);
        if (c->in[k].range == R_INDEX)
            op_fill(interp_i64(in, params[k]), n, R_INDEX, c->in[k].classes, k);
        else op_fill(interp_f32(in, params[k]), n, c->in[k].range, 0, k);
    }
    op_fill(interp_f32(in, r), ir_numel(&g->nodes[r].type.shape), R_ANY, 0, 0);
    run(in, g);
    int ok = 1;
    for (int k = 0; k < c->nin && ok; k++) {
        if (c->in[k].range == R_INDEX) continue;
        int gid = ir_output(g, k == 0 ? "grad:p0" : k == 1 ? "grad:p1" : "grad:p2");
        int64_t n = ir_numel(&g->nodes[params[k]].type.shape);
        float *grad = malloc((size_t)n * sizeof *grad);
        run(in, g);
        memcpy(grad, interp_f32(in, gid), (size_t)n * sizeof *grad);
        float *x = interp_f32(in, params[k]);
        const double eps = 1e-2;
        for (int64_t i = 0; i < n && ok; i++) {
            float keep = x[i];
            x[i] = (float)(keep + eps);
            double up = run(in, g);
            x[i] = (float)(keep - eps);
            double down = run(in, g);
            x[i] = keep;
            double fd = (up - down) / (2 * eps);
            if (fabs(fd - grad[i]) > (c->tol ? c->tol : 1e-3) * (1 + fabs(fd))) {
                fprintf(stderr, "\n%s: d loss / d input %d [%lld]: autodiff %.6f, finite differences %.6f\n",
                        ir_op_info[c->op].name, k, (long long)i, grad[i], fd);
                ok = 0;
            }
        }
        free(grad);
    }
    interp_free(in);
    ir_graph_free(g);
    return ok;
}

/* Every op with a gradient rule has a row in the op table, and the
 * gradient of every such row matches finite differences. */
static void test_every_op(void) {
    for (int op = 0; op < OP_COUNT; op++) {
        if (autodiff_has_rule((Op)op) && !op_has_case((Op)op))
            fprintf(stderr, "\nop '%s' has a gradient rule but no row in tests/op_cases.c\n", ir_op_info[op].name);
        CU_ASSERT_TRUE(op_has_case((Op)op) || !autodiff_has_rule((Op)op));
    }
    for (int i = 0; i < op_ncases; i++) {
        if (!autodiff_has_rule(op_cases[i].op)) continue;
        int ok = check_case(&op_cases[i]);
        if (!ok) fprintf(stderr, "FAILED: gradient of case %d (%s)\n", i, ir_op_info[op_cases[i].op].name);
        CU_ASSERT_TRUE(ok);
    }
}

/* stop_gradient cuts the gradient: loss = sum(p * stop_gradient(p)) has
 * d loss / d p = p, where without the cut it would be 2p. */
static void test_stop_gradient(void) {
    Graph *g = ir_graph_new("t");
    char err[256];
    Loc loc = {0, 0, 0};
    TType t = {DT_F32, {1, {5}}};
    int p = ir_build(g, OP_PARAM, NULL, 0, NULL, 0, 0, &t, loc, err, sizeof err);
    ir_set_name(g, p, "p");
    g->nodes[p].init = (Init){INIT_ZEROS, 0, 0};
    int sg = ir_build(g, OP_STOP_GRADIENT, &p, 1, NULL, 0, 0, NULL, loc, err, sizeof err);
    int prod[2] = {p, sg};
    int m = ir_build(g, OP_MUL, prod, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
    int64_t all[2] = {0, 0};
    ir_add_output(g, "loss", ir_build(g, OP_REDUCE_SUM, &m, 1, all, 2, 0, NULL, loc, err, sizeof err));
    PassConfig cfg = {STAGE_TRAIN, {.kind = OPT_SGD, .lr = 0.1}, 0, NULL, NULL};
    PassError perr;
    CU_ASSERT_EQUAL_FATAL(pass_autodiff(g, &cfg, &perr), 0);
    Interp *in = interp_new(g, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    for (int i = 0; i < 5; i++) interp_f32(in, p)[i] = (float)i - 1.5f;
    run(in, g);
    const float *grad = interp_f32(in, ir_output(g, "grad:p"));
    for (int i = 0; i < 5; i++) CU_ASSERT_EQUAL(grad[i], (float)i - 1.5f);
    interp_free(in);
    ir_graph_free(g);
}

/* A gradient reaching an op without a rule is an error at its location. */
static void test_missing_rule(void) {
    Graph *g = ir_graph_new("t");
    int f = ir_file(g, "model.mmg");
    char err[256];
    TType tx = {DT_F32, {3, {1, 2, 9}}}, tw = {DT_F32, {3, {3, 2, 3}}}, tdy = {DT_F32, {3, {1, 3, 7}}};
    Loc loc = {f, 4, 7};
    int x = ir_build(g, OP_PARAM, NULL, 0, NULL, 0, 0, &tx, loc, err, sizeof err);
    int w = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &tw, loc, err, sizeof err);
    int dy = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &tdy, loc, err, sizeof err);
    ir_set_name(g, x, "x");
    g->nodes[x].init = (Init){INIT_ZEROS, 0, 0};
    int in[2] = {x, dy};
    int64_t attr[3] = {1, 0, 0};
    loc.line = 9;
    int gw = ir_build(g, OP_CONV1D_GRAD_WEIGHT, in, 2, attr, 3, 0, &tw, loc, err, sizeof err);
    int64_t all[4] = {0, 0, 1, 2};
    int prod[2] = {gw, w};
    int m = ir_build(g, OP_MUL, prod, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
    int loss = ir_build(g, OP_REDUCE_SUM, &m, 1, all, 4, 0, NULL, loc, err, sizeof err);
    ir_add_output(g, "loss", loss);
    PassConfig cfg = {STAGE_TRAIN, {.kind = OPT_SGD, .lr = 0.1}, 0, NULL, NULL};
    PassError perr;
    CU_ASSERT_EQUAL(pass_autodiff(g, &cfg, &perr), -1);
    CU_ASSERT_STRING_EQUAL(perr.msg, "no gradient rule for op 'conv1d_grad_weight'");
    CU_ASSERT_EQUAL(perr.loc.line, 9);
    CU_ASSERT_EQUAL(perr.loc.file, f);
    ir_graph_free(g);
}

/* The graph of text (the text IR) after autodiff, and in *d its output
 * "grad:NAME" (NULL and a test failure if either step fails). */
static Graph *differentiate(const char *text, const char *name, int *d) {
    char err[256], out[64];
    Graph *g = ir_parse(text, "t.ir", err, sizeof err);
    if (!g) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_PTR_NOT_NULL(g);
    if (!g) return NULL;
    PassConfig cfg = {STAGE_GRAD, {.kind = OPT_SGD, .lr = 0.1}, 0, NULL, NULL};
    PassError perr;
    snprintf(out, sizeof out, "grad:%s", name);
    if (pass_autodiff(g, &cfg, &perr) || (*d = ir_output(g, out)) < 0) {
        CU_FAIL("autodiff");
        ir_graph_free(g);
        return NULL;
    }
    return g;
}

/* relu, then a max pool (2 x 2 or 2 wide, stride 2): the gradient of the
 * relu's input is the pool's gradient of the masked pooled gradient
 * (autodiff.c, vjp_relu), with no multiply at the input's size, and its
 * values are r at each window's maximum where it is positive, 0
 * elsewhere, as worked out here. */
static void test_relu_pool(void) {
    for (int two = 0; two < 2; two++) {
        char text[1024], err[256];
        const char *shape = two ? "2, 3, 6, 6" : "2, 3, 6", *pooled = two ? "2, 3, 3, 3" : "2, 3, 3";
        snprintf(text, sizeof text,
                 "graph g {\n"
                 "  %%p = param f32[%s] init=zeros\n"
                 "  %%r = input f32[%s]\n"
                 "  %%y = relu(%%p) f32[%s]\n"
                 "  %%z = max_pool%dd(%%y) {%s} f32[%s]\n"
                 "  %%m = mul(%%z, %%r) f32[%s]\n"
                 "  %%l = reduce_sum(%%m) {keepdims=0, axes=[]} f32[]\n"
                 "  output loss = %%l\n"
                 "}\n",
                 shape, pooled, shape, two ? 2 : 1,
                 two ? "kernel_h=2, kernel_w=2, stride_h=2, stride_w=2" : "kernel=2, stride=2", pooled, pooled);
        int d = -1;
        Graph *g = differentiate(text, "p", &d);
        if (!g) return;
        const Node *dn = &g->nodes[d];
        CU_ASSERT_EQUAL(dn->op, two ? OP_MAX_POOL2D_GRAD : OP_MAX_POOL1D_GRAD);
        CU_ASSERT_EQUAL(g->nodes[dn->in[1]].op, OP_MUL);
        CU_ASSERT_EQUAL(ir_numel(&g->nodes[dn->in[1]].type.shape), 2 * 3 * (two ? 9 : 3));
        Interp *in = interp_new(g, err, sizeof err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(in);
        int p = -1, r = ir_input(g, "r");
        for (int id = 0; id < g->nnodes; id++)
            if (g->nodes[id].op == OP_PARAM) p = id;
        int64_t n = two ? 2 * 3 * 36 : 2 * 3 * 6, w = 6;
        float *x = interp_f32(in, p), *rr = interp_f32(in, r);
        for (int64_t i = 0; i < n; i++) x[i] = (float)((i * 7919 % 23) - 11) * 0.25f + 0.1f; /* no ties, no zeros */
        for (int64_t i = 0; i < n / (two ? 4 : 2); i++) rr[i] = 1.0f + (float)i;
        CU_ASSERT_EQUAL_FATAL(interp_run(in, 1, 1, 0, err, sizeof err), 0);
        const float *grad = interp_f32(in, d);
        int bad = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t plane = i / (two ? 36 : 6), at = i % (two ? 36 : 6);
            int64_t row = two ? at / w : 0, col = two ? at % w : at;
            int64_t win = plane * (two ? 9 : 3) + (two ? row / 2 * 3 + col / 2 : col / 2);
            /* the window's first maximum */
            int64_t best = -1;
            for (int64_t a = 0; a < (two ? 2 : 1); a++)
                for (int64_t b = 0; b < 2; b++) {
                    int64_t j = plane * (two ? 36 : 6) + (two ? (row / 2 * 2 + a) * w + col / 2 * 2 + b : col / 2 * 2 + b);
                    if (best < 0 || (x[j] > 0 ? x[j] : 0) > (x[best] > 0 ? x[best] : 0)) best = j;
                }
            float want = best == i && x[i] > 0 ? rr[win] : 0.0f;
            if (grad[i] != want) bad++;
        }
        CU_ASSERT_EQUAL(bad, 0);
        interp_free(in);
        ir_graph_free(g);
    }
}

/* A bias, ReLU and a max pool: the bias gradient sums the pooled
 * gradient (autodiff.c, sum_to: reshape(reduce_sum(m)) with m of the
 * pooled size), each channel's sum of r over the windows whose maximum
 * is positive, as worked out here; windows apart (2-D, 2 x 2), windows
 * that overlap (1-D, 3 wide, stride 2) and a tail no window reads (1-D,
 * 4 wide, stride 4 over 6). */
static void test_bias_pool(void) {
    static const struct {
        const char *shape, *bias, *pooled, *attrs;
        int two, len, kernel, stride, out;
    } cases[] = {
        {"2, 3, 6, 6", "3, 1, 1", "2, 3, 3, 3", "kernel_h=2, kernel_w=2, stride_h=2, stride_w=2", 1, 6, 2, 2, 3},
        {"2, 3, 7", "3, 1", "2, 3, 3", "kernel=3, stride=2", 0, 7, 3, 2, 3},
        {"2, 3, 6", "3, 1", "2, 3, 1", "kernel=4, stride=4", 0, 6, 4, 4, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char text[1024], err[256];
        int two = cases[c].two;
        snprintf(text, sizeof text,
                 "graph g {\n"
                 "  %%b = param f32[%s] init=zeros\n"
                 "  %%x = input f32[%s]\n"
                 "  %%r = input f32[%s]\n"
                 "  %%a = add(%%x, %%b) f32[%s]\n"
                 "  %%y = relu(%%a) f32[%s]\n"
                 "  %%z = max_pool%dd(%%y) {%s} f32[%s]\n"
                 "  %%m = mul(%%z, %%r) f32[%s]\n"
                 "  %%l = reduce_sum(%%m) {keepdims=0, axes=[]} f32[]\n"
                 "  output loss = %%l\n"
                 "}\n",
                 cases[c].bias, cases[c].shape, cases[c].pooled, cases[c].shape, cases[c].shape, two ? 2 : 1,
                 cases[c].attrs, cases[c].pooled, cases[c].pooled);
        int d = -1;
        Graph *g = differentiate(text, "b", &d);
        if (!g) return;
        const Node *dn = &g->nodes[d];
        CU_ASSERT_EQUAL_FATAL(dn->op, OP_RESHAPE);
        const Node *sum = &g->nodes[dn->in[0]];
        CU_ASSERT_EQUAL_FATAL(sum->op, OP_REDUCE_SUM);
        int64_t L = cases[c].len, K = cases[c].kernel, S = cases[c].stride, O = cases[c].out;
        int64_t plane = two ? L * L : L, pooled = two ? O * O : O;
        CU_ASSERT_EQUAL(ir_numel(&g->nodes[sum->in[0]].type.shape), 2 * 3 * pooled);
        Interp *in = interp_new(g, err, sizeof err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(in);
        int b = -1, x = ir_input(g, "x"), r = ir_input(g, "r");
        for (int id = 0; id < g->nnodes; id++)
            if (g->nodes[id].op == OP_PARAM) b = id;
        float *bb = interp_f32(in, b), *xx = interp_f32(in, x), *rr = interp_f32(in, r);
        for (int ch = 0; ch < 3; ch++) bb[ch] = 0.3f * (float)ch - 0.2f;
        for (int64_t i = 0; i < 6 * plane; i++) xx[i] = (float)((i * 7919 % 23) - 11) * 0.25f + 0.1f;
        for (int64_t i = 0; i < 6 * pooled; i++) rr[i] = 1.0f + (float)i;
        CU_ASSERT_EQUAL_FATAL(interp_run(in, 1, 1, 0, err, sizeof err), 0);
        const float *grad = interp_f32(in, d);
        for (int ch = 0; ch < 3; ch++) {
            float want = 0.0f;
            for (int n = 0; n < 2; n++)
                for (int64_t w = 0; w < pooled; w++) { /* window w's largest x + b */
                    const float *xp = xx + (n * 3 + ch) * plane;
                    float best = -1e30f;
                    for (int64_t u = 0; u < (two ? K : 1); u++)
                        for (int64_t v = 0; v < K; v++) {
                            int64_t at = two ? (w / O * S + u) * L + w % O * S + v : w * S + v;
                            if (xp[at] + bb[ch] > best) best = xp[at] + bb[ch];
                        }
                    if (best > 0) want += rr[(n * 3 + ch) * pooled + w];
                }
            CU_ASSERT_EQUAL(grad[ch], want);
        }
        interp_free(in);
        ir_graph_free(g);
    }
    /* a bias along the pooled axis: its gradient sums the pool's gradient */
    int d = -1;
    Graph *g = differentiate("graph g {\n"
                        "  %b = param f32[7] init=zeros\n"
                        "  %x = input f32[2, 3, 7]\n"
                        "  %a = add(%x, %b) f32[2, 3, 7]\n"
                        "  %y = relu(%a) f32[2, 3, 7]\n"
                        "  %z = max_pool1d(%y) {kernel=3, stride=2} f32[2, 3, 3]\n"
                        "  %l = reduce_sum(%z) {keepdims=0, axes=[]} f32[]\n"
                        "  output loss = %l\n"
                        "}\n",
                        "b", &d);
    if (!g) return;
    const Node *dn = &g->nodes[d];
    CU_ASSERT_EQUAL_FATAL(dn->op, OP_RESHAPE);
    CU_ASSERT_EQUAL(g->nodes[g->nodes[dn->in[0]].in[0]].op, OP_MAX_POOL1D_GRAD);
    ir_graph_free(g);
}

static CU_TestInfo tests[] = {
    {"bias, relu, max pool: the bias gradient sums the pooled gradient", test_bias_pool},
    {"relu then max pool: the mask before the scatter, the same gradient", test_relu_pool},
    {"every op's gradient against finite differences", test_every_op},
    {"stop_gradient cuts the gradient", test_stop_gradient},
    {"a gradient through an op without a rule is an error", test_missing_rule},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("gradcheck", tests); }
