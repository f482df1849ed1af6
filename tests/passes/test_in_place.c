/* test_in_place.c — updates computed into their parameters and state
 * (passes/in_place.c, KernelPlan.update_into and guard).
 *
 * 1. Adam's new parameter and moments are written into the parameter and
 *    moments, after the loss; the memory plan gives them no arena bytes.
 * 2. Each rule refuses: a kernel after the update reads the parameter; a
 *    member after the update in its own loop reads it; the loss comes after
 *    the update. Without a loss there is no guard.
 * 3. plan_check refuses a plan that writes in place against those rules.
 * 4. A loop member is computed over the memory of a value its kernel reads
 *    last (KernelPlan.over), one block of the memory plan; not when a later
 *    kernel reads that value, a later member of the loop reads it, or it is
 *    an output; plan_check refuses such a plan made by hand, and a memory
 *    plan that puts the two apart. A pooling's gradient is computed over
 *    the pooling's input where that dies in it; no other helper's node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adam_graph.h"
#include "fusion.h"
#include "harness.h"
#include "ir_helpers.h"
#include "memplan.h"
#include "passes.h"
#include "plan_check.h"

/* The graph in text. */
static Graph *graph_of(const char *text) {
    char err[512];
    Graph *g = ir_parse(text, "t.ir", err, sizeof err);
    if (!g) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    return g;
}

/* The node named name (a PARAM or STATE), or -1. */
static int named(const Graph *g, const char *name) {
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].name && !strcmp(g->nodes[i].name, name)) return i;
    return -1;
}

/* update_into of the output "update:name" (-2 if there is no such output). */
static int into_of(const Graph *g, const KernelPlan *p, const char *name) {
    char out[64];
    snprintf(out, sizeof out, "update:%s", name);
    int u = ir_output(g, out);
    return u < 0 ? -2 : p->update_into[u];
}

static void test_adam(void) {
    Graph *g = adam_graph(1e-3);
    KernelPlan p;
    MemPlan mp;
    fusion_plan(g, &p);
    memplan_build(g, &p, &mp);
    const char *names[4] = {"w", "w.m", "w.v", "optimizer.step"};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_TRUE_FATAL(named(g, names[i]) >= 0);
        CU_ASSERT_EQUAL(into_of(g, &p, names[i]), named(g, names[i]));
    }
    int loss = ir_output(g, "loss"), u = ir_output(g, "update:w");
    CU_ASSERT_EQUAL(p.guard, loss);
    CU_ASSERT_TRUE(p.kernel_of[loss] < p.kernel_of[u]);
    /* no arena bytes, yet the update's value is there after the step */
    CU_ASSERT_EQUAL(mp.offset[u], -1);
    CU_ASSERT_TRUE(memplan_survives(g, &mp, u));
    CU_ASSERT_EQUAL(mp.ninto, 4);
    char err[256] = "";
    CU_ASSERT_TRUE(plan_check(g, &p, &mp, err, sizeof err));
    memplan_free(&mp);
    fusion_plan_free(&p);
    ir_graph_free(g);
}

/* A kernel after the update reads w: w's update is copied after the step;
 * the moments, which nothing else reads, are still written in place. */
static void test_read_after(void) {
    Graph *g = adam_graph(1e-3);
    int w = named(g, "w");
    TType s = T(DT_F32, 0);
    int r = B(g, OP_REDUCE_SUM, IN(w), AT(0), 0, &s);
    ir_add_output(g, "w_sum", r);
    KernelPlan p;
    fusion_plan(g, &p);
    CU_ASSERT_TRUE(p.kernel_of[r] > p.kernel_of[ir_output(g, "update:w")]);
    CU_ASSERT_EQUAL(into_of(g, &p, "w"), -1);
    CU_ASSERT_EQUAL(into_of(g, &p, "w.m"), named(g, "w.m"));
    CU_ASSERT_EQUAL(into_of(g, &p, "w.v"), named(g, "w.v"));
    /* plan_check refuses the plan that would write w anyway */
    p.update_into[ir_output(g, "update:w")] = w;
    char err[256] = "";
    CU_ASSERT_FALSE(plan_check(g, &p, NULL, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "is not safely computed into node"));
    fusion_plan_free(&p);
    ir_graph_free(g);
}

/* The update of w by hand: %u = w - x, then %t and %v in the same loop;
 * %v reads w (after u: refused) or x (accepted). */
static const char *member_graph(int v_reads_w) {
    static char text[1024];
    snprintf(text, sizeof text,
             "graph g {\n"
             "  %%x = input f32[4]\n"
             "  %%w = param f32[4] init=zeros\n"
             "  %%p = mul(%%x, %%w) f32[4]\n"
             "  %%l = reduce_sum(%%p) {keepdims=0, axes=[]} f32[]\n"
             "  %%u = sub(%%w, %%x) f32[4]\n"
             "  %%t = add(%%u, %%x) f32[4]\n"
             "  %%v = mul(%%t, %s) f32[4]\n"
             "  output loss = %%l\n"
             "  output \"update:w\" = %%u\n"
             "  output v = %%v\n"
             "}\n",
             v_reads_w ? "%w" : "%x");
    return text;
}

static void test_later_member(void) {
    for (int reads = 0; reads < 2; reads++) {
        Graph *g = graph_of(member_graph(reads));
        KernelPlan p;
        fusion_plan(g, &p);
        int u = ir_output(g, "update:w"), v = ir_output(g, "v");
        CU_ASSERT_EQUAL(p.kernel_of[u], p.kernel_of[v]); /* one loop: u, t, v */
        CU_ASSERT_EQUAL(p.update_into[u], reads ? -1 : named(g, "w"));
        CU_ASSERT_EQUAL(p.guard, reads ? -1 : ir_output(g, "loss"));
        fusion_plan_free(&p);
        ir_graph_free(g);
    }
}

/* The loss after the update (it cannot be checked before it), and no loss
 * at all (nothing to check: in place, no guard). */
static void test_guard(void) {
    const char *text = "graph g {\n"
                       "  %%x = input f32[4]\n"
                       "  %%w = param f32[4] init=zeros\n"
                       "  %%u = sub(%%w, %%x) f32[4]\n"
                       "  %%l = reduce_sum(%%x) {keepdims=0, axes=[]} f32[]\n"
                       "  output %s = %%l\n"
                       "  output \"update:w\" = %%u\n"
                       "}\n";
    for (int has_loss = 0; has_loss < 2; has_loss++) {
        char buf[512];
        snprintf(buf, sizeof buf, text, has_loss ? "loss" : "total");
        Graph *g = graph_of(buf);
        KernelPlan p;
        fusion_plan(g, &p);
        int u = ir_output(g, "update:w");
        CU_ASSERT_EQUAL(p.update_into[u], has_loss ? -1 : named(g, "w"));
        CU_ASSERT_EQUAL(p.guard, -1);
        if (!has_loss) { /* plan_check: a guard computed after the update is refused */
            char err[256] = "";
            CU_ASSERT_TRUE(plan_check(g, &p, NULL, err, sizeof err));
            p.guard = ir_output(g, "total");
            CU_ASSERT_TRUE(p.kernel_of[p.guard] > p.kernel_of[u]);
            CU_ASSERT_FALSE(plan_check(g, &p, NULL, err, sizeof err));
        }
        fusion_plan_free(&p);
        ir_graph_free(g);
    }
}

/* e (a loop), m = max(e) (a kernel of its own), d = e - m (a loop that
 * reads e last, unless nodes read it after), s = max(d); nodes come
 * between d and s, outs among the outputs. Node ids: x 0, e 1, m 2, d 3,
 * then nodes', s last. */
static Graph *over_graph(const char *nodes, const char *outs) {
    char text[1024];
    snprintf(text, sizeof text,
             "graph g {\n"
             "  %%x = input f32[8]\n"
             "  %%e = exp(%%x) f32[8]\n"
             "  %%m = reduce_max(%%e) {keepdims=1, axes=[]} f32[1]\n"
             "  %%d = sub(%%e, %%m) f32[8]\n"
             "%s"
             "  %%s = reduce_max(%%d) {keepdims=1, axes=[]} f32[1]\n"
             "  output y = %%s\n"
             "%s"
             "}\n",
             nodes, outs);
    return graph_of(text);
}

enum { OX, OE, OM, OD };

static void test_over(void) {
    Graph *g = over_graph("", "");
    int os = ir_output(g, "y");
    KernelPlan p;
    MemPlan mp;
    fusion_plan(g, &p);
    memplan_build(g, &p, &mp);
    CU_ASSERT_EQUAL(p.over[OD], OE);
    CU_ASSERT_EQUAL(p.over[OE], -1); /* x is an input */
    CU_ASSERT_EQUAL(p.over[os], -1); /* not a loop */
    CU_ASSERT_EQUAL(fusion_storage(&p, OD), OE);
    CU_ASSERT_EQUAL(mp.offset[OD], mp.offset[OE]);
    CU_ASSERT_EQUAL(mp.last[OE], mp.last[OD]); /* the block lives until d's reader */
    CU_ASSERT_EQUAL(mp.nover, 1);
    CU_ASSERT_FALSE(memplan_survives(g, &mp, OE)); /* d overwrote it */
    char err[256] = "";
    CU_ASSERT_TRUE(plan_check(g, &p, &mp, err, sizeof err));
    /* a memory plan where the block is free before d's reader is refused */
    mp.last[OE]--;
    CU_ASSERT_FALSE(plan_check(g, &p, &mp, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "node 3 is not in the memory of node 1 within its live range");
    memplan_free(&mp);
    fusion_plan_free(&p);
    ir_graph_free(g);
}

/* e read after d's kernel (by a kernel, as an output, by a later member of
 * d's loop): d gets memory of its own. */
static void test_over_refused(void) {
    const char *nodes[3] = {"  %z = reduce_max(%e) {keepdims=1, axes=[]} f32[1]\n", "",
                            "  %q = mul(%d, %e) f32[8]\n  %r = reduce_max(%q) {keepdims=1, axes=[]} f32[1]\n"};
    const char *outs[3] = {"  output z = %z\n", "  output e = %e\n", "  output r = %r\n"};
    for (int i = 0; i < 3; i++) {
        Graph *g = over_graph(nodes[i], outs[i]);
        KernelPlan p;
        fusion_plan(g, &p);
        CU_ASSERT_EQUAL(p.over[OD], -1);
        if (i == 2) { /* q, the last member reading e, is computed over it instead */
            int q = OD + 1;
            CU_ASSERT_EQUAL(p.kernel_of[q], p.kernel_of[OD]);
            CU_ASSERT_EQUAL(p.over[q], OE);
            p.over[q] = -1;
        }
        char err[256] = "";
        CU_ASSERT_TRUE(plan_check(g, &p, NULL, err, sizeof err));
        p.over[OD] = OE; /* by hand: refused */
        CU_ASSERT_FALSE(plan_check(g, &p, NULL, err, sizeof err));
        CU_ASSERT_STRING_EQUAL(err, "node 3 is not safely computed over node 1");
        fusion_plan_free(&p);
        ir_graph_free(g);
    }
}

/* e = exp(x) pooled (p), the pooling's gradient g of dy over e, summed
 * (s); `later` reads e after g. Node ids: x 0, dy 1, e 2, p 3, g 4. */
static void test_over_pool_grad(void) {
    for (int later = 0; later < 2; later++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "graph g {\n"
                 "  %%x = input f32[2, 3, 4, 4]\n"
                 "  %%dy = input f32[2, 3, 2, 2]\n"
                 "  %%e = exp(%%x) f32[2, 3, 4, 4]\n"
                 "  %%p = max_pool2d(%%e) {kernel_h=2, kernel_w=2, stride_h=2, stride_w=2} f32[2, 3, 2, 2]\n"
                 "  %%g = max_pool2d_grad(%%e, %%dy) {kernel_h=2, kernel_w=2, stride_h=2, stride_w=2} f32[2, 3, 4, 4]\n"
                 "  %%s = reduce_max(%%g) {keepdims=0, axes=[]} f32[]\n"
                 "%s"
                 "  output s = %%s\n"
                 "  output p = %%p\n"
                 "}\n",
                 later ? "  %t = reduce_max(%e) {keepdims=0, axes=[]} f32[]\n  output t = %t\n" : "");
        Graph *g = graph_of(text);
        KernelPlan p;
        fusion_plan(g, &p);
        CU_ASSERT_EQUAL(p.over[4], later ? -1 : 2);
        CU_ASSERT_EQUAL(p.over[3], -1); /* the pooling itself: not its input's shape, nor an op that may */
        char err[256] = "";
        CU_ASSERT_TRUE(plan_check(g, &p, NULL, err, sizeof err));
        if (!later) { /* by hand: the pooling computed over e is refused */
            p.over[3] = 2;
            CU_ASSERT_FALSE(plan_check(g, &p, NULL, err, sizeof err));
            CU_ASSERT_STRING_EQUAL(err, "node 3 is not safely computed over node 2");
        }
        fusion_plan_free(&p);
        ir_graph_free(g);
    }
}

static CU_TestInfo tests[] = {
    {"Adam's parameter and moments are updated in place, after the loss", test_adam},
    {"a kernel reading the parameter after its update keeps the copy", test_read_after},
    {"a later member of the update's loop reading the parameter keeps the copy", test_later_member},
    {"the loss must come before the update; no loss, no guard", test_guard},
    {"a loop member is computed over a value its kernel reads last", test_over},
    {"not over a value read later, an output, or read by a later member", test_over_refused},
    {"a pooling's gradient over the pooling's input, unless read later", test_over_pool_grad},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("in_place", tests); }
