/* test_language.c — what .mmg means: parameter sharing at any depth,
 * compile-time `if` and `for`, operators, model bindings after `extends`,
 * compile-time functions. Each case compiles a small program and checks
 * the graph it made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "harness.h"

/* The node named name, or -1. */
static int node_named(const Compiled *c, const char *name) {
    const Graph *g = c->model.graph;
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].name && !strcmp(g->nodes[i].name, name)) return i;
    return -1;
}

/* The parameter paths of the model, in order, comma-separated. */
static char *param_names(const Compiled *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    const Graph *g = c->model.graph;
    for (int i = 0, n = 0; i < g->nnodes; i++)
        if (g->nodes[i].op == OP_PARAM) fprintf(m, "%s%s", n++ ? "," : "", g->nodes[i].name);
    fclose(m);
    return buf;
}

static void expect_params(const char *text, const char *want) {
    Compiled c;
    if (compile_text_ok(&c, text)) {
        char *got = param_names(&c);
        if (strcmp(got, want)) fprintf(stderr, "\nparams: %s\n  want: %s\n", got, want);
        CU_ASSERT_STRING_EQUAL(got, want);
        free(got);
    }
    compile_free(&c);
}

#define HEAD "import \"nn.mmg\"\nimport \"losses.mmg\"\n"
#define MODEL(body) \
    "model m {\n  input a: [B, 4], b: [B, 4]\n  label y: [B] i64\n" body "\n  loss = cross_entropy(logits, y)\n}\n"

/* A block bound to a name shares every parameter beneath it, to any depth:
 * mlp calls linear twice, and both calls of the instance use the same two. */
static void test_sharing_depth(void) {
    expect_params(HEAD "def mlp(x: [B, n]) -> [B, 8] { return linear(relu(linear(x, 8)), 8) }\n"
                       "def twice(x: [B, n], y: [B, n]) -> [B, 8] { enc = mlp(); return enc(x) + enc(y) }\n"
                  MODEL("  shared = mlp()\n  logits = linear(shared(a) + shared(b) + twice(a, b), 3)"),
                  "shared.linear.w,shared.linear.b,shared.linear_2.w,shared.linear_2.b,"
                  "twice.enc.linear.w,twice.enc.linear.b,twice.enc.linear_2.w,twice.enc.linear_2.b,"
                  "linear.w,linear.b");
    /* an instance made inside a shared instance is shared too */
    expect_params(HEAD "def inner(x: [B, n]) -> [B, 4] { p = linear(out: 4); return p(x) * p(x) }\n"
                  MODEL("  s = inner()\n  logits = linear(s(a) + s(b), 3)"),
                  "s.p.w,s.p.b,linear.w,linear.b");
}

/* linear(x, n, bias: false) has no bias; `if` picks a branch at compile time. */
static void test_bias_false(void) {
    expect_params(HEAD MODEL("  logits = linear(linear(a, 5, bias: false), 3)"), "linear.w,linear_2.w,linear_2.b");
}

/* `for` unrolls: each iteration's calls and params get their own names. */
static void test_for(void) {
    expect_params(HEAD "def stack(x: [B, n], layers: int) -> [B, n] {\n"
                       "  h = x\n"
                       "  for i in range(layers) {\n"
                       "    param g: [n] = ones()\n"
                       "    h = relu(linear(h, n)) * g + h\n"
                       "  }\n"
                       "  return h\n"
                       "}\n" MODEL("  logits = linear(stack(a, 3), 3)"),
                  "stack.g,stack.linear.w,stack.linear.b,stack.g_2,stack.linear_2.w,stack.linear_2.b,"
                  "stack.g_3,stack.linear_3.w,stack.linear_3.b,linear.w,linear.b");
    /* a list, nested if/else if/else, and the loop variable as a value */
    expect_params(HEAD "def pick(x: [B, n]) -> [B, n] {\n"
                       "  h = x\n"
                       "  for w in [1, 2, 4] {\n"
                       "    if w == 1 { h = h * w }\n"
                       "    else if w < 4 { h = linear(h, n) }\n"
                       "    else { h = linear(h, n, bias: false) }\n"
                       "  }\n"
                       "  return h\n"
                       "}\n" MODEL("  logits = linear(pick(a), 3)"),
                  "pick.linear.w,pick.linear.b,pick.linear_2.w,linear.w,linear.b");
}

/* Arithmetic on numbers happens at compile time, with these types. */
static void test_compile_time_numbers(void) {
    static const struct {
        const char *expr;
        const char *want; /* the int value, or "f" and the float */
        long long i;
        double f;
    } cases[] = {
        {"8 / 2", "i", 4, 0},           {"7 / 2", "f", 0, 3.5},          {"2 ** 10", "i", 1024, 0},
        {"2 ** -1", "f", 0, 0.5},       {"-2 ** 2", "i", -4, 0},         {"2 ** 3 ** 2", "i", 512, 0},
        {"floordiv(7, 2)", "i", 3, 0},  {"floordiv(-7, 2)", "i", -4, 0}, {"floordiv(7.5, 2)", "f", 0, 3},
        {"len(range(2, 9, 3))", "i", 3, 0}, {"len(range(5, 0, -1))", "i", 5, 0}, {"len(range(0))", "i", 0, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char text[1024];
        /* the value becomes a parameter's first dimension (int) or a constant (float) */
        if (cases[k].want[0] == 'i')
            snprintf(text, sizeof text,
                     HEAD "def f(x: [B, n]) -> [B, n] { param w: [%s + 10, n] = zeros(); return x }\n" MODEL(
                         "  logits = linear(f(a), 3)"),
                     cases[k].expr);
        else
            snprintf(text, sizeof text, HEAD MODEL("  c = a * 0 + (%s)\n  logits = linear(c, 3)"), cases[k].expr);
        Compiled c;
        if (compile_text_ok(&c, text)) {
            const Graph *g = c.model.graph;
            if (cases[k].want[0] == 'i') {
                int w = node_named(&c, "f.w");
                CU_ASSERT_TRUE_FATAL(w >= 0);
                if (g->nodes[w].type.shape.dim[0] != cases[k].i + 10)
                    fprintf(stderr, "\n%s = %lld, expected %lld\n", cases[k].expr,
                            (long long)g->nodes[w].type.shape.dim[0] - 10, cases[k].i);
                CU_ASSERT_EQUAL(g->nodes[w].type.shape.dim[0], cases[k].i + 10);
            } else {
                int found = 0;
                for (int i = 0; i < g->nnodes; i++)
                    found |= g->nodes[i].op == OP_CONST && g->nodes[i].value == cases[k].f;
                if (!found) fprintf(stderr, "\n%s: no constant %g\n", cases[k].expr, cases[k].f);
                CU_ASSERT_TRUE(found);
            }
        }
        compile_free(&c);
    }
}

/* Comparisons and ** on tensors: a < b is gt(b, a), a != b is 1 - eq(a, b). */
static void test_tensor_operators(void) {
    static const struct {
        const char *expr;
        Op op;
        int swapped;
    } cases[] = {
        {"a > b", OP_GT, 0}, {"a < b", OP_GT, 1}, {"a >= b", OP_GE, 0}, {"a <= b", OP_GE, 1},
        {"a == b", OP_EQ, 0}, {"a ** b", OP_POW, 0}, {"a != b", OP_SUB, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char text[512];
        snprintf(text, sizeof text, HEAD MODEL("  r = %s\n  logits = linear(r, 3)"), cases[k].expr);
        Compiled c;
        if (compile_text_ok(&c, text)) {
            const Graph *g = c.model.graph;
            int r = node_named(&c, "r"), a = node_named(&c, "a"), b = node_named(&c, "b");
            CU_ASSERT_TRUE_FATAL(r >= 0 && a >= 0 && b >= 0);
            const Node *n = &g->nodes[r];
            CU_ASSERT_EQUAL(n->op, cases[k].op);
            if (cases[k].op == OP_SUB) { /* 1 - eq(a, b) */
                CU_ASSERT_EQUAL(g->nodes[n->in[0]].op, OP_CONST);
                n = &g->nodes[n->in[1]];
                CU_ASSERT_EQUAL(n->op, OP_EQ);
            }
            CU_ASSERT_EQUAL(n->in[0], cases[k].swapped ? b : a);
            CU_ASSERT_EQUAL(n->in[1], cases[k].swapped ? a : b);
        }
        compile_free(&c);
    }
}

/* A child model's override may read a binding the child adds after it:
 * bindings resolve by name after all overrides. */
static void test_extends_order(void) {
    Compiled c;
    if (compile_text_ok(&c, "import \"image_conv2net.mmg\"\nimport \"nn.mmg\"\n"
                       "model child extends image_conv2net {\n"
                       "  loss = cross_entropy(extra, digit) + cross_entropy(logits, digit)\n"
                       "  extra = linear(reshape(image, [B, 784]), 10)\n}\n")) {
        CU_ASSERT_TRUE(node_named(&c, "linear.w") >= 0);
        CU_ASSERT_TRUE(node_named(&c, "extra") >= 0);
    }
    compile_free(&c);
}

/* A block may return several values, each checked against its pattern;
 * `a, b = f(x)` unpacks them, in a body and in a model. */
static void test_multiple_results(void) {
    const char *prog = HEAD "def two(x: [B, n]) -> [B, 6], [B, 3] {\n"
                            "  e = relu(linear(x, 6))\n"
                            "  return e, linear(e, 3)\n"
                            "}\n"
                            "def head(x: [B, n]) -> [B, 3] { e, l = two(x); return l + sum(e, axis: 1, keepdims: true) }\n"
                       MODEL("  emb, logits = two(a)\n  other = head(b)");
    Compiled c;
    if (compile_text_ok(&c, prog)) {
        const Graph *g = c.model.graph;
        int emb = node_named(&c, "two.e"); /* named where it was first bound */
        CU_ASSERT_TRUE_FATAL(emb >= 0);
        CU_ASSERT_EQUAL(g->nodes[emb].type.shape.dim[1], 6);
        int logits = ir_output(g, "logits");
        CU_ASSERT_TRUE_FATAL(logits >= 0);
        CU_ASSERT_EQUAL(g->nodes[logits].type.shape.dim[1], 3);
        CU_ASSERT_TRUE(node_named(&c, "head.two.linear.w") >= 0);
    }
    compile_free(&c);
}

/* A user's block may take a library block's name: the nearest definition
 * wins, so the user's file sees its own softmax while the library's
 * attention keeps the library's. */
static void test_nearest_definition(void) {
    Compiled c;
    if (compile_text_ok(&c, HEAD "def softmax(x: [..., n], axis: int = -1) -> [..., n] { return x }\n"
                        MODEL("  s = softmax(a)\n"
                              "  att = multihead_attention(reshape(a, [B, 1, 4]), reshape(b, [B, 1, 4]),\n"
                              "                            reshape(b, [B, 1, 4]), heads: 2)\n"
                              "  logits = linear(s + reshape(att, [B, 4]), 3)"))) {
        const Graph *g = c.model.graph;
        CU_ASSERT_EQUAL(node_named(&c, "s"), -1); /* the user's softmax returned a itself */
        int exps = 0;
        for (int i = 0; i < g->nnodes; i++) exps += g->nodes[i].op == OP_EXP;
        CU_ASSERT_TRUE(exps > 0); /* the library's softmax, inside attention */
    }
    compile_free(&c);
}

/* Lists at compile time: + joins, * repeats; shape() and rank() read a
 * tensor's type; `training` and `sample_weight` are inputs the runtime
 * feeds, made when a block reads them. */
static void test_lists_and_runtime_inputs(void) {
    Compiled c;
    if (compile_text_ok(&c, HEAD MODEL("  r = reshape(a, [B] + [1] * (rank(a) - 1) + [len(shape(b)) * 2])\n"
                                       "  logits = linear(reshape(r, [B, 4]) * training + sum(sample_weight), 3)"))) {
        const Graph *g = c.model.graph;
        int r = node_named(&c, "r"), t = node_named(&c, "training"), w = node_named(&c, "sample_weight");
        CU_ASSERT_TRUE_FATAL(r >= 0 && t >= 0 && w >= 0);
        CU_ASSERT_EQUAL(g->nodes[r].type.shape.rank, 3); /* [B, 1, 4] */
        CU_ASSERT_EQUAL(g->nodes[t].op, OP_INPUT);
        CU_ASSERT_EQUAL(g->nodes[t].type.shape.rank, 0);
        CU_ASSERT_EQUAL(c.model.training_node, t);
        CU_ASSERT_EQUAL(c.model.weight_node, w); /* one node, shared with the loss's mean */
    }
    compile_free(&c);
}

static CU_TestInfo tests[] = {
    {"a shared instance shares every parameter beneath it", test_sharing_depth},
    {"linear(bias: false) has no bias; if decides at compile time", test_bias_false},
    {"for unrolls, naming each iteration's parameters", test_for},
    {"arithmetic on numbers at compile time", test_compile_time_numbers},
    {"comparison operators and ** on tensors", test_tensor_operators},
    {"a child model's override reads its own new binding", test_extends_order},
    {"a block returns several values; a, b = f(x) unpacks them", test_multiple_results},
    {"the nearest definition of a name wins", test_nearest_definition},
    {"compile-time lists, shape(), rank(); training and sample_weight", test_lists_and_runtime_inputs},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("language", tests); }
