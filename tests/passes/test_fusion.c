/* test_fusion.c — the kernel plan (passes/fusion.h).
 *
 * 1. Small graphs in the text IR against their expected plan, printed as
 *    --emit=kernels prints it: chains fuse, a value read elsewhere is kept,
 *    a kernel closes when another kernel reads it, a reduce_sum joins the
 *    loop of its input where it can, constants are inlined unless a
 *    non-elementwise op reads them, the shape limit.
 * 2. Adam's update of a parameter is one loop kernel that keeps only the
 *    graph's outputs (the gradient, the new parameter and moments).
 * 3. Every model's training step: plan_check (tests/passes/plan_check.h)
 *    on its kernel and memory plans.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adam_graph.h"
#include "frontend/compile.h"
#include "fusion.h"
#include "harness.h"
#include "passes.h"
#include "plan_check.h"

/* The plan of the graph in text, as fusion_print writes it (static). */
static const char *plan_of(const char *text) {
    static char out[4096];
    char err[512];
    Graph *g = ir_parse(text, "t.ir", err, sizeof err);
    if (!g) {
        snprintf(out, sizeof out, "parse error: %s", err);
        return out;
    }
    KernelPlan p;
    fusion_plan(g, &p);
    FILE *f = fmemopen(out, sizeof out, "w");
    fusion_print(g, &p, f);
    fclose(f);
    fusion_plan_free(&p);
    ir_graph_free(g);
    return out;
}

/* A linear layer with bias and relu: the matmul alone, add + relu fused;
 * the constant fill of a const read by a reduction gets its own kernel. */
static void test_chain(void) {
    ASSERT_STR(plan_of("graph g {\n"
                       "  %x = input f32[4, 8]\n"
                       "  %w = param f32[8, 3] init=zeros\n"
                       "  %b = param f32[3] init=zeros\n"
                       "  %h = matmul(%x, %w) {ta=0, tb=0} f32[4, 3]\n"
                       "  %a = add(%h, %b) f32[4, 3]\n"
                       "  %y = relu(%a) f32[4, 3]\n"
                       "  %two = const {value=2} f32[]\n"
                       "  %z = mul(%y, %two) f32[4, 3]\n"
                       "  output y = %z\n"
                       "}\n"),
               "kernel 0: matmul: %h*\n"
               "kernel 1: loop f32[4, 3]: %a %y %z*\n"
               "2 kernels for 4 computed nodes (1 loops fuse 3 nodes); 2 values kept in memory (*)\n");
}

/* A value read by another kernel (here reduce_max's) closes its kernel:
 * the divide after it cannot join it, and reads the kept value from
 * memory. */
static void test_closed(void) {
    ASSERT_STR(plan_of("graph g {\n"
                       "  %x = input f32[4, 8]\n"
                       "  %e = exp(%x) f32[4, 8]\n"
                       "  %s = reduce_max(%e) {keepdims=1, axes=[1]} f32[4, 1]\n"
                       "  %d = div(%e, %s) f32[4, 8]\n"
                       "  %n = neg(%d) f32[4, 8]\n"
                       "  output y = %n\n"
                       "}\n"),
               "kernel 0: loop f32[4, 8]: %e*\n"
               "kernel 1: reduce_max: %s*\n"
               "kernel 2: loop f32[4, 8]: %d %n*\n"
               "3 kernels for 4 computed nodes (1 loops fuse 2 nodes); 3 values kept in memory (*)\n");
}

/* A reduce_sum of a member joins its open loop kernel as the last node
 * and closes it (the divide reads %e from memory); %e is kept for it, and
 * a member only the sum reads (%t) is not. It does not join a closed
 * kernel, one reading FUSION_MAX_SHAPES shapes, or, when it adds in
 * partial sums (a trailing reduced run of 4 or more), one with an input
 * that walks that run neither whole nor not at all ([2, 1, 8] against
 * [2, 4, 8] over axes 1 and 2). */
static void test_reduce_joins(void) {
    ASSERT_STR(plan_of("graph g {\n"
                       "  %x = input f32[4, 8]\n"
                       "  %e = exp(%x) f32[4, 8]\n"
                       "  %t = tanh(%e) f32[4, 8]\n"
                       "  %s = reduce_sum(%t) {keepdims=1, axes=[1]} f32[4, 1]\n"
                       "  %d = div(%e, %s) f32[4, 8]\n"
                       "  output y = %d\n"
                       "}\n"),
               "kernel 0: loop f32[4, 8] + reduce_sum: %e* %t %s*\n"
               "kernel 1: loop f32[4, 8]: %d*\n"
               "2 kernels for 4 computed nodes (1 loops fuse 3 nodes); 3 values kept in memory (*)\n");
    /* closed: a matmul read %e before the sum */
    ASSERT_STR(plan_of("graph g {\n"
                       "  %x = input f32[8, 8]\n"
                       "  %e = exp(%x) f32[8, 8]\n"
                       "  %m = matmul(%e, %x) {ta=0, tb=0} f32[8, 8]\n"
                       "  %s = reduce_sum(%e) {keepdims=0, axes=[0]} f32[8]\n"
                       "  output m = %m\n"
                       "  output s = %s\n"
                       "}\n"),
               "kernel 0: loop f32[8, 8]: %e*\n"
               "kernel 1: matmul: %m*\n"
               "kernel 2: reduce_sum: %s*\n"
               "3 kernels for 3 computed nodes (0 loops fuse 0 nodes); 3 values kept in memory (*)\n");
    /* four shapes read: no room for the partial sums */
    ASSERT_STR(plan_of("graph g {\n"
                       "  %x = input f32[2, 4, 8]\n"
                       "  %a = input f32[8]\n"
                       "  %b = input f32[4, 8]\n"
                       "  %c = input f32[2, 1, 8]\n"
                       "  %p = add(%x, %a) f32[2, 4, 8]\n"
                       "  %q = mul(%p, %b) f32[2, 4, 8]\n"
                       "  %r = sub(%q, %c) f32[2, 4, 8]\n"
                       "  %s = reduce_sum(%r) {keepdims=0, axes=[0]} f32[4, 8]\n"
                       "  output s = %s\n"
                       "}\n"),
               "kernel 0: loop f32[2, 4, 8]: %p %q %r*\n"
               "kernel 1: reduce_sum: %s*\n"
               "2 kernels for 4 computed nodes (1 loops fuse 3 nodes); 2 values kept in memory (*)\n");
    /* partial sums over the trailing run [4, 8]: [2, 1, 8] walks it in neither way */
    ASSERT_STR(plan_of("graph g {\n"
                       "  %x = input f32[2, 4, 8]\n"
                       "  %c = input f32[2, 1, 8]\n"
                       "  %r = sub(%x, %c) f32[2, 4, 8]\n"
                       "  %s = reduce_sum(%r) {keepdims=0, axes=[1, 2]} f32[2]\n"
                       "  output s = %s\n"
                       "}\n"),
               "kernel 0: loop f32[2, 4, 8]: %r*\n"
               "kernel 1: reduce_sum: %s*\n"
               "2 kernels for 2 computed nodes (0 loops fuse 0 nodes); 2 values kept in memory (*)\n");
    /* ... while [2, 1, 1] (not at all) and [4, 8] (whole) do */
    ASSERT_STR(plan_of("graph g {\n"
                       "  %x = input f32[2, 4, 8]\n"
                       "  %c = input f32[2, 1, 1]\n"
                       "  %b = input f32[4, 8]\n"
                       "  %r = sub(%x, %c) f32[2, 4, 8]\n"
                       "  %q = mul(%r, %b) f32[2, 4, 8]\n"
                       "  %s = reduce_sum(%q) {keepdims=0, axes=[1, 2]} f32[2]\n"
                       "  output s = %s\n"
                       "}\n"),
               "kernel 0: loop f32[2, 4, 8] + reduce_sum: %r %q %s*\n"
               "1 kernels for 3 computed nodes (1 loops fuse 3 nodes); 1 values kept in memory (*)\n");
}

/* Two open chains read by one node merge into one kernel; a value that is
 * an output stays in the loop but is kept. */
static void test_merge(void) {
    ASSERT_STR(plan_of("graph g {\n"
                       "  %x = input f32[16]\n"
                       "  %y = input f32[16]\n"
                       "  %a = exp(%x) f32[16]\n"
                       "  %b = tanh(%y) f32[16]\n"
                       "  %c = mul(%a, %b) f32[16]\n"
                       "  %d = sqrt(%c) f32[16]\n"
                       "  output c = %c\n"
                       "  output d = %d\n"
                       "}\n"),
               "kernel 0: loop f32[16]: %a %b %c* %d*\n"
               "1 kernels for 4 computed nodes (1 loops fuse 4 nodes); 2 values kept in memory (*)\n");
}

/* A const read by a matmul is a kernel of its own; a const read only by
 * elementwise ops is no kernel; shapes differ: no fusion across them. */
static void test_consts_and_shapes(void) {
    ASSERT_STR(plan_of("graph g {\n"
                       "  %x = input f32[2, 3]\n"
                       "  %one = const {value=1} f32[3, 3]\n"
                       "  %h = matmul(%x, %one) {ta=0, tb=0} f32[2, 3]\n"
                       "  %half = const {value=0.5} f32[]\n"
                       "  %s = reduce_sum(%h) {keepdims=0, axes=[1]} f32[2]\n"
                       "  %t = mul(%s, %half) f32[2]\n"
                       "  %u = add(%one, %half) f32[3, 3]\n"
                       "  output t = %t\n"
                       "  output u = %u\n"
                       "}\n"),
               "kernel 0: loop f32[3, 3]: %one*\n"
               "kernel 1: matmul: %h*\n"
               "kernel 2: reduce_sum: %s*\n"
               "kernel 3: loop f32[2]: %t*\n"
               "kernel 4: loop f32[3, 3]: %u*\n"
               "5 kernels for 5 computed nodes (0 loops fuse 0 nodes); 5 values kept in memory (*)\n");
}

/* A node that would make its kernel read a fifth shape starts a new one. */
static void test_shape_limit(void) {
    ASSERT_STR(plan_of("graph g {\n"
                       "  %x = input f32[2, 3, 4]\n"
                       "  %a = input f32[4]\n"
                       "  %b = input f32[3, 1]\n"
                       "  %c = input f32[2, 1, 1]\n"
                       "  %d = input f32[1, 3, 4]\n"
                       "  %p = add(%x, %a) f32[2, 3, 4]\n"
                       "  %q = mul(%p, %b) f32[2, 3, 4]\n"
                       "  %r = sub(%q, %c) f32[2, 3, 4]\n"
                       "  %s = div(%r, %d) f32[2, 3, 4]\n"
                       "  %t = neg(%s) f32[2, 3, 4]\n"
                       "  output y = %t\n"
                       "}\n"),
               "kernel 0: loop f32[2, 3, 4]: %p %q %r*\n"
               "kernel 1: loop f32[2, 3, 4]: %s %t*\n"
               "2 kernels for 5 computed nodes (2 loops fuse 5 nodes); 2 values kept in memory (*)\n");
}

/* A convolution's bias and ReLU go into its call (KernelPlan.in_call)
 * when only they read its output and the ReLU is computed over it; not
 * when another node reads the convolution, the bias is no one-a-channel
 * value, or the ReLU's value is a graph output (never computed over
 * another). A bias alone goes in too. */
static const char *conv_graph_pre(const char *bias_shape, const char *pre, const char *addend, const char *tail) {
    static char text[1024];
    snprintf(text, sizeof text,
             "graph g {\n"
             "  %%x = input f32[2, 1, 5, 5]\n"
             "  %%w = param f32[4, 1, 3, 3] init=zeros\n"
             "  %%b = param f32%s init=zeros\n"
             "  %%c = conv2d(%%x, %%w) {stride_h=1, stride_w=1, pad_h=0, pad_w=0} f32[2, 4, 3, 3]\n"
             "%s"
             "  %%a = add(%%c, %s) f32[2, 4, 3, 3]\n"
             "%s}\n",
             bias_shape, pre, addend, tail);
    return text;
}

static const char *conv_graph(const char *bias_shape, const char *tail) {
    return conv_graph_pre(bias_shape, "", "%b", tail);
}

static void test_conv_epilogue(void) {
    const char *pool = "  %h = max_pool2d(%r) {kernel_h=2, kernel_w=2, stride_h=1, stride_w=1} f32[2, 4, 2, 2]\n"
                       "  output y = %h\n";
    char tail[512];
    snprintf(tail, sizeof tail, "  %%r = relu(%%a) f32[2, 4, 3, 3]\n%s", pool);
    ASSERT_STR(plan_of(conv_graph("[4, 1, 1]", tail)),
               "kernel 0: conv2d: %c* (and kernel 1's bias and ReLU, in its call)\n"
               "kernel 1: loop f32[2, 4, 3, 3]: %a %r*=>%c (in the call of kernel 0)\n"
               "kernel 2: max_pool2d: %h*\n"
               "3 kernels for 4 computed nodes (1 loops fuse 2 nodes); 3 values kept in memory (*), 1 computed over "
               "a value their kernel reads last (=>); 1 convolution adds its bias in its call\n");
    /* the bias alone */
    ASSERT_STR(plan_of(conv_graph("[4, 1, 1]", "  %h = max_pool2d(%a) {kernel_h=2, kernel_w=2, stride_h=1, stride_w=1} "
                                                "f32[2, 4, 2, 2]\n  output y = %h\n")),
               "kernel 0: conv2d: %c* (and kernel 1's bias, in its call)\n"
               "kernel 1: loop f32[2, 4, 3, 3]: %a*=>%c (in the call of kernel 0)\n"
               "kernel 2: max_pool2d: %h*\n"
               "3 kernels for 3 computed nodes (0 loops fuse 0 nodes); 3 values kept in memory (*), 1 computed over "
               "a value their kernel reads last (=>); 1 convolution adds its bias in its call\n");
    /* the convolution read by another node too */
    snprintf(tail, sizeof tail, "  %%r = relu(%%a) f32[2, 4, 3, 3]\n"
                                "  %%m = max_pool2d(%%c) {kernel_h=2, kernel_w=2, stride_h=1, stride_w=1} f32[2, 4, 2, 2]\n%s"
                                "  output z = %%m\n", pool);
    CU_ASSERT_PTR_NULL(strstr(plan_of(conv_graph("[4, 1, 1]", tail)), "in its call"));
    /* ... also when that node's kernel runs before the loop's (the ReLU
     * may then be computed over the convolution, which the call must not
     * overwrite before the other kernel has read it) */
    snprintf(tail, sizeof tail, "  %%r = relu(%%a) f32[2, 4, 3, 3]\n%s  output z = %%m\n", pool);
    const char *early = plan_of(conv_graph_pre(
        "[4, 1, 1]", "  %m = max_pool2d(%c) {kernel_h=2, kernel_w=2, stride_h=1, stride_w=1} f32[2, 4, 2, 2]\n", "%b",
        tail));
    CU_ASSERT_PTR_NOT_NULL(strstr(early, "=>%c"));
    CU_ASSERT_PTR_NULL(strstr(early, "in its call"));
    /* ... and plan_check refuses that plan made by hand (node ids: x 0, w 1,
     * b 2, c 3, m 4, a 5, r 6), where it takes the planned one */
    char err[256] = "";
    for (int hand = 0; hand < 2; hand++) {
        Graph *g = ir_parse(conv_graph_pre("[4, 1, 1]",
                                           hand ? "  %m = max_pool2d(%c) {kernel_h=2, kernel_w=2, stride_h=1, "
                                                  "stride_w=1} f32[2, 4, 2, 2]\n"
                                                : "",
                                           "%b", hand ? tail : "  %r = relu(%a) f32[2, 4, 3, 3]\n  %h = max_pool2d(%r) "
                                                         "{kernel_h=2, kernel_w=2, stride_h=1, stride_w=1} f32[2, 4, 2, "
                                                         "2]\n  output y = %h\n"),
                            "t.ir", err, sizeof err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        KernelPlan p;
        fusion_plan(g, &p);
        if (hand) p.in_call[5] = p.in_call[6] = 3;
        CU_ASSERT_EQUAL(p.in_call[4], hand ? -1 : 3); /* without m, node 4 is the add */
        CU_ASSERT_EQUAL(plan_check(g, &p, NULL, err, sizeof err), !hand);
        if (hand) CU_ASSERT_STRING_EQUAL(err, "node 5 is not safely computed in the call of node 3");
        fusion_plan_free(&p);
        ir_graph_free(g);
    }
    /* a bias computed after the convolution: not there yet when its call runs */
    snprintf(tail, sizeof tail, "  %%r = relu(%%a) f32[2, 4, 3, 3]\n%s", pool);
    const char *late = plan_of(conv_graph_pre("[4, 1, 1]", "  %e = exp(%b) f32[4, 1, 1]\n", "%e", tail));
    CU_ASSERT_PTR_NOT_NULL(strstr(late, "kernel 1: loop f32[4, 1, 1]: %e*"));
    CU_ASSERT_PTR_NULL(strstr(late, "in its call"));
    Graph *g = ir_parse(conv_graph_pre("[4, 1, 1]", "  %e = exp(%b) f32[4, 1, 1]\n", "%e", tail), "t.ir", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    KernelPlan p;
    fusion_plan(g, &p);
    p.in_call[5] = p.in_call[6] = 3; /* by hand (e 4, a 5, r 6): refused */
    CU_ASSERT_FALSE(plan_check(g, &p, NULL, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "node 5 is not safely computed in the call of node 3");
    fusion_plan_free(&p);
    ir_graph_free(g);
    /* a bias for every position, not one a channel */
    snprintf(tail, sizeof tail, "  %%r = relu(%%a) f32[2, 4, 3, 3]\n%s", pool);
    CU_ASSERT_PTR_NULL(strstr(plan_of(conv_graph("[4, 3, 3]", tail)), "in its call"));
    CU_ASSERT_PTR_NOT_NULL(strstr(plan_of(conv_graph("[4, 1, 1]", tail)), "in its call"));
    /* the ReLU an output */
    CU_ASSERT_PTR_NULL(strstr(plan_of(conv_graph("[4, 1, 1]", "  %r = relu(%a) f32[2, 4, 3, 3]\n  output y = %r\n")),
                              "in its call"));
}

/* Adam: the whole update of w (moments, bias correction, step) is one loop. */
static void test_adam_one_loop(void) {
    Graph *g = adam_graph(1e-3);
    KernelPlan p;
    fusion_plan(g, &p);
    int w = ir_output(g, "update:w"), m = ir_output(g, "update:w.m"), v = ir_output(g, "update:w.v");
    int d = ir_output(g, "grad:w");
    CU_ASSERT_TRUE_FATAL(w >= 0 && m >= 0 && v >= 0 && d >= 0);
    int k = p.kernel_of[w];
    CU_ASSERT_EQUAL(p.kernel_of[m], k);
    CU_ASSERT_EQUAL(p.kernel_of[v], k);
    CU_ASSERT_EQUAL(p.kernel_of[d], k);
    CU_ASSERT_TRUE(p.k[k].loop);
    int kept = 0;
    for (int i = 0; i < p.k[k].n; i++) kept += p.kept[p.k[k].nodes[i]];
    if (kept != 4) fusion_print(g, &p, stderr);
    CU_ASSERT_EQUAL(kept, 4); /* the outputs grad:w and the new w, m, v: nothing else goes to memory */
    CU_ASSERT_TRUE(p.k[k].n >= 10);    /* the ~12 elementwise steps of the update */
    fusion_plan_free(&p);
    ir_graph_free(g);
}

/* The plans of a model's training step are a valid schedule and a sound
 * memory plan. */
static int check_model(const char *path) {
    Compiled c;
    if (!compile_train_step(&c, path)) return compile_free(&c), 0;
    KernelPlan p;
    MemPlan mp;
    fusion_plan(c.model.graph, &p);
    memplan_build(c.model.graph, &p, &mp);
    char err[256] = "";
    int ok = plan_check(c.model.graph, &p, &mp, err, sizeof err) && mp.size < mp.naive;
    if (!ok) fprintf(stderr, "\n%s: %s\n", path, err);
    memplan_free(&mp);
    fusion_plan_free(&p);
    compile_free(&c);
    return ok;
}

static void test_every_model(void) { compile_each_model(check_model); }

static CU_TestInfo tests[] = {
    {"a chain after a matmul fuses into one loop", test_chain},
    {"a kernel closes when another kernel reads it", test_closed},
    {"a reduce_sum joins the open loop of its input, where it can", test_reduce_joins},
    {"open chains merge; outputs are kept", test_merge},
    {"constants: inlined, or a kernel when a matmul reads them", test_consts_and_shapes},
    {"a loop kernel reads at most FUSION_MAX_SHAPES shapes", test_shape_limit},
    {"a convolution's bias and ReLU in its call, only where nothing else reads it", test_conv_epilogue},
    {"Adam's update of a parameter is one loop", test_adam_one_loop},
    {"every model's training step: a valid schedule and a sound memory plan", test_every_model},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("fusion", tests); }
