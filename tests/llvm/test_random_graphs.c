/* test_random_graphs.c — fusion, memory planning and the LLVM backend on
 * graphs nobody wrote by hand.
 *
 * Seeded random graphs of elementwise ops (with broadcasting), select,
 * constants, reductions (kept and dropped axes) and broadcasts, with a few
 * random nodes declared outputs: small shapes, and shapes large enough for
 * the thread pool. For each graph the kernel and memory plans must pass
 * plan_check, and every value the LLVM engine keeps must agree with the
 * interpreter over two runs (the second over memory the first left
 * behind).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "harness.h"
#include "plan_check.h"

static uint64_t state;

static unsigned next(unsigned n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(state >> 33) % n;
}

/* A graph of about `ops` random nodes over [a, b]-ish shapes; NULL if the
 * draw made nothing but inputs. */
static Graph *random_graph(int64_t a, int64_t b, int ops) {
    Graph *g = ir_graph_new("random");
    const Shape shapes[5] = {{2, {a, b}}, {2, {a, 1}}, {1, {b}}, {0, {0}}, {2, {1, b}}};
    static const Op unary[] = {OP_NEG, OP_TANH, OP_RELU, OP_ABS, OP_SIGMOID, OP_STEP, OP_EXP};
    static const Op binary[] = {OP_ADD, OP_SUB, OP_MUL, OP_MAX, OP_MIN, OP_GT};
    char err[256], name[16];
    Loc loc = {0, 0, 0};
    int ids[256], n = 0, inputs = 1 + (int)next(3);
    for (int i = 0; i < inputs; i++) {
        TType t = {DT_F32, shapes[i == 0 ? 0 : next(5)]};
        ids[n] = ir_build(g, OP_INPUT, NULL, 0, NULL, 0, 0, &t, loc, err, sizeof err);
        snprintf(name, sizeof name, "in%d", i);
        ir_set_name(g, ids[n++], name);
    }
    for (int s = 0; s < ops && n < 250; s++) {
        int x[3] = {ids[next((unsigned)n)], ids[next((unsigned)n)], ids[next((unsigned)n)]}, id = -1;
        unsigned r = next(10);
        const Shape *sx = &g->nodes[x[0]].type.shape;
        if (r < 3) {
            id = ir_build(g, unary[next(7)], x, 1, NULL, 0, 0, NULL, loc, err, sizeof err);
        } else if (r < 6) {
            id = ir_build(g, binary[next(6)], x, 2, NULL, 0, 0, NULL, loc, err, sizeof err);
        } else if (r == 6) {
            TType t = {DT_F32, shapes[next(5)]};
            id = ir_build(g, OP_CONST, NULL, 0, NULL, 0, (double)next(7) - 3, &t, loc, err, sizeof err);
        } else if (r == 7 && sx->rank == 2) {
            int64_t attr[2] = {next(2), next(2)}; /* keepdims, axis */
            id = ir_build(g, next(2) ? OP_REDUCE_SUM : OP_REDUCE_MAX, x, 1, attr, 1 + (int)next(2), 0, NULL, loc,
                          err, sizeof err);
        } else if (r == 8) {
            TType t = {DT_F32, shapes[0]};
            id = ir_build(g, OP_BROADCAST, x, 1, NULL, 0, 0, &t, loc, err, sizeof err);
        } else if (r == 9) {
            id = ir_build(g, OP_SELECT, x, 3, NULL, 0, 0, NULL, loc, err, sizeof err);
        }
        if (id >= 0) ids[n++] = id; /* a draw that does not type-check is skipped */
    }
    if (n == inputs) return ir_graph_free(g), NULL;
    ir_add_output(g, "last", ids[n - 1]);
    for (int i = inputs; i < n - 1; i++)
        if (next(4) == 0) {
            snprintf(name, sizeof name, "o%d", i);
            ir_add_output(g, name, ids[i]);
        }
    return g;
}

/* Equal, or both NaN, or within 1e-4 relative (exp and tanh may round
 * differently from libm's float versions). */
static int close_enough(float x, float y) {
    if (isnan(x) || isnan(y)) return isnan(x) && isnan(y);
    if (isinf(x) || isinf(y)) return x == y;
    return fabsf(x - y) <= 1e-4f * (1 + fabsf(x) + fabsf(y));
}

/* Plans, compiles and runs g on both engines; 1 if all agrees. */
static int check_graph(Graph *g, const char *what) {
    char err[512];
    KernelPlan kp;
    MemPlan mp;
    fusion_plan(g, &kp);
    memplan_build(g, &kp, &mp);
    err[0] = 0;
    int ok = plan_check(g, &kp, &mp, err, sizeof err);
    if (!ok) fprintf(stderr, "\n%s: %s\n", what, err);
    memplan_free(&mp);
    fusion_plan_free(&kp);
    Engine l = {0}, r = {0};
    if (ok && (engine_open(&l, &engine_llvm, g, err, sizeof err) || engine_open(&r, &engine_interp, g, err, sizeof err))) {
        fprintf(stderr, "\n%s: %s\n", what, err);
        ok = 0;
    }
    for (int id = 0; ok && id < g->nnodes; id++) {
        if (g->nodes[id].op != OP_INPUT) continue;
        float *x = engine_f32(&l, id), *y = engine_f32(&r, id);
        for (int64_t k = 0; k < ir_numel(&g->nodes[id].type.shape); k++)
            x[k] = y[k] = (float)((int)next(2001) - 1000) / 500.0f;
    }
    for (int run = 0; run < 2 && ok; run++) {
        if (l.ops->run(l.impl, 1, 1, 0, err, sizeof err) || r.ops->run(r.impl, 1, 1, 0, err, sizeof err)) {
            fprintf(stderr, "\n%s: %s\n", what, err);
            ok = 0;
        }
        for (int id = 0; ok && id < g->nnodes; id++) {
            const float *x = engine_f32(&l, id), *y = engine_f32(&r, id);
            for (int64_t k = 0; x && ok && k < ir_numel(&g->nodes[id].type.shape); k++)
                if (!close_enough(x[k], y[k])) {
                    fprintf(stderr, "\n%s: node %d (%s) [%lld]: llvm %g, interp %g\n", what, id,
                            ir_op_info[g->nodes[id].op].name, (long long)k, x[k], y[k]);
                    ok = 0;
                }
        }
        for (int o = 0; ok && o < g->nouts; o++)
            if (!engine_f32(&l, g->outs[o].node)) fprintf(stderr, "\n%s: output without a buffer\n", what), ok = 0;
    }
    if (l.impl) engine_close(&l);
    if (r.impl) engine_close(&r);
    if (!ok) ir_print(g, stderr);
    return ok;
}

/* count graphs from seeds base.., shapes [a + 0..4, b + 0..5]. */
static void run_graphs(int count, uint64_t base, int64_t a, int64_t b) {
    int failed = 0;
    for (int i = 0; i < count && failed < 3; i++) {
        state = base + (uint64_t)i * 7919;
        Graph *g = random_graph(a + next(5), b + next(6), 5 + (int)next(25));
        if (!g) continue;
        char what[64];
        snprintf(what, sizeof what, "random graph %llu", (unsigned long long)(base + (uint64_t)i * 7919));
        int ok = check_graph(g, what);
        failed += !ok;
        CU_ASSERT_TRUE(ok);
        ir_graph_free(g);
    }
}

static void test_small(void) { run_graphs(120, 1, 1, 1); }

/* 64K+ elements: loops split over the thread pool. */
static void test_large(void) { run_graphs(12, 1000003, 257, 260); }

static CU_TestInfo tests[] = {
    {"small random graphs: plans valid, llvm equals the interpreter", test_small},
    {"large random graphs (thread pool): plans valid, llvm equals the interpreter", test_large},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("random_graphs", tests); }
