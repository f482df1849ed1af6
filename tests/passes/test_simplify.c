/* test_simplify.c — common subexpression elimination (passes/simplify.c),
 * and the forward graph specialized for evaluation (passes/evaluation.c).
 *
 * Equal nodes are merged into the first (readers and outputs rewired, ids
 * unchanged); sources, and nodes that differ in any input, attribute,
 * value or type, are not. The whole pipeline with simplify is exercised by
 * every model-step, golden and gradient test; here its exact effect.
 */
#include <string.h>

#include "harness.h"
#include "interp.h"
#include "passes.h"

static const char *text =
    "graph g {\n"
    "  %x = input f32[2, 3]\n"
    "  %p = param f32[2, 3] init=zeros\n"
    "  %q = param f32[2, 3] init=zeros\n"
    "  %a = exp(%x) f32[2, 3]\n"
    "  %b = exp(%x) f32[2, 3]\n"
    "  %c = add(%a, %b) f32[2, 3]\n"
    "  %k1 = const {value=2} f32[]\n"
    "  %k2 = const {value=2} f32[]\n"
    "  %k3 = const {value=3} f32[]\n"
    "  %f = mul(%c, %k1) f32[2, 3]\n"
    "  %g = mul(%c, %k2) f32[2, 3]\n"
    "  %h = mul(%c, %k3) f32[2, 3]\n"
    "  %d = mul(%p, %x) f32[2, 3]\n"
    "  %e = mul(%q, %x) f32[2, 3]\n"
    "  %m1 = dropout_mask {stream=0, value=0.5} f32[2, 3]\n"
    "  %m2 = dropout_mask {stream=1, value=0.5} f32[2, 3]\n"
    "  %s1 = reduce_sum(%c) {keepdims=0, axes=[0]} f32[3]\n"
    "  %s2 = reduce_sum(%c) {keepdims=0, axes=[1]} f32[2]\n"
    "  output f = %f\n"
    "  output g = %g\n"
    "  output h = %h\n"
    "  output d = %d\n"
    "  output e = %e\n"
    "  output m1 = %m1\n"
    "  output m2 = %m2\n"
    "  output s1 = %s1\n"
    "  output s2 = %s2\n"
    "}\n";

/* The id of the node named name (the text's names are unique). */
static int id_of(const Graph *g, const char *name) {
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].name && !strcmp(g->nodes[i].name, name)) return i;
    return -1;
}

static void test_cse(void) {
    char err[512];
    Graph *g = ir_parse(text, "t.ir", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    int nnodes = g->nnodes;
    PassError perr;
    CU_ASSERT_EQUAL_FATAL(pass_simplify(g, NULL, &perr), 0);
    CU_ASSERT_EQUAL(ir_verify(g, err, sizeof err), 0);
    CU_ASSERT_EQUAL(g->nnodes, nnodes); /* ids do not change */
    int a = id_of(g, "a"), c = id_of(g, "c"), f = id_of(g, "f");
    CU_ASSERT_EQUAL(g->nodes[c].in[0], a);
    CU_ASSERT_EQUAL(g->nodes[c].in[1], a);           /* exp(x) twice: one */
    CU_ASSERT_EQUAL(ir_output(g, "g"), f);           /* equal constants, so equal products */
    CU_ASSERT_EQUAL(ir_output(g, "h"), id_of(g, "h")); /* another constant */
    CU_ASSERT_EQUAL(ir_output(g, "d"), id_of(g, "d"));
    CU_ASSERT_EQUAL(ir_output(g, "e"), id_of(g, "e")); /* params are never merged */
    CU_ASSERT_EQUAL(g->nodes[id_of(g, "e")].in[0], id_of(g, "q"));
    CU_ASSERT_EQUAL(ir_output(g, "m2"), id_of(g, "m2")); /* another stream */
    CU_ASSERT_EQUAL(ir_output(g, "s2"), id_of(g, "s2")); /* other axes */
    ir_graph_free(g);
}

/* A second run finds nothing more to merge. */
static void test_idempotent(void) {
    char err[512];
    Graph *g = ir_parse(text, "t.ir", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    PassError perr;
    pass_simplify(g, NULL, &perr);
    int outs[16];
    for (int o = 0; o < g->nouts; o++) outs[o] = g->outs[o].node;
    pass_simplify(g, NULL, &perr);
    for (int o = 0; o < g->nouts; o++) CU_ASSERT_EQUAL(g->outs[o].node, outs[o]);
    ir_graph_free(g);
}

/* Evaluation: masks become the constant 1; readers of x * mask (either
 * order) read x; a broadcast product and an output keep their node; ids
 * do not change; in eval mode the interpreter gives the same bits. */
static const char *eval_text =
    "graph g {\n"
    "  %x = input f32[2, 3]\n"
    "  %m = dropout_mask {stream=0, value=0.5} f32[2, 3]\n"
    "  %y = mul(%x, %m) f32[2, 3]\n"
    "  %e = exp(%y) f32[2, 3]\n"
    "  %w = mul(%m, %x) f32[2, 3]\n"
    "  %t = tanh(%w) f32[2, 3]\n"
    "  %mb = dropout_mask {stream=1, value=0.25} f32[2, 1]\n"
    "  %z = mul(%x, %mb) f32[2, 3]\n"
    "  output e = %e\n"
    "  output t = %t\n"
    "  output z = %z\n"
    "  output y = %y\n"
    "}\n";

static void test_evaluation(void) {
    char err[512];
    Graph *g = ir_parse(eval_text, "t.ir", err, sizeof err), *ref = ir_parse(eval_text, "t.ir", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    int nnodes = g->nnodes;
    pass_for_evaluation(g);
    CU_ASSERT_EQUAL(ir_verify(g, err, sizeof err), 0);
    CU_ASSERT_EQUAL(g->nnodes, nnodes);
    int x = id_of(g, "x"), m = id_of(g, "m"), mb = id_of(g, "mb"), y = id_of(g, "y");
    CU_ASSERT(g->nodes[m].op == OP_CONST && g->nodes[m].value == 1.0 && g->nodes[m].nin == 0);
    CU_ASSERT(g->nodes[mb].op == OP_CONST && g->nodes[mb].value == 1.0);
    CU_ASSERT_EQUAL(g->nodes[id_of(g, "e")].in[0], x);
    CU_ASSERT_EQUAL(g->nodes[id_of(g, "t")].in[0], x);
    CU_ASSERT_EQUAL(g->nodes[id_of(g, "z")].in[1], mb); /* broadcast: kept, times 1 */
    CU_ASSERT_EQUAL(ir_output(g, "y"), y);
    Interp *a = interp_new(g, err, sizeof err), *b = interp_new(ref, err, sizeof err);
    CU_ASSERT_FATAL(a && b);
    for (int k = 0; k < 6; k++) interp_f32(a, x)[k] = interp_f32(b, x)[k] = (float)k - 2.5f;
    CU_ASSERT_FATAL(interp_run(a, 0, 7, 3, err, sizeof err) == 0 && interp_run(b, 0, 7, 3, err, sizeof err) == 0);
    const char *outs[4] = {"e", "t", "z", "y"};
    for (int o = 0; o < 4; o++)
        CU_ASSERT(memcmp(interp_f32(a, ir_output(g, outs[o])), interp_f32(b, ir_output(ref, outs[o])), 6 * sizeof(float)) == 0);
    interp_free(a);
    interp_free(b);
    ir_graph_free(g);
    ir_graph_free(ref);
}

static CU_TestInfo tests[] = {
    {"equal nodes merge; sources and differing nodes do not", test_cse},
    {"simplify is idempotent", test_idempotent},
    {"evaluation: masks are ones, multiplies by them skipped, ids kept, same values", test_evaluation},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("simplify", tests); }
