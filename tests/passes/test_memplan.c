/* test_memplan.c — the memory plan (passes/memplan.h).
 *
 * A small graph against its expected plan, printed as --emit=memplan
 * prints it: values that are never live together share memory, values
 * live together do not, outputs live to the end. Reshapes are views: the
 * memory of what they reshape, which lives as long as they are read.
 * Every model's plan is checked in test_fusion (plan_check), random graphs
 * in test_random_graphs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "memplan.h"
#include "plan_check.h"

/* Two chains: e -> m -> d -> s, then t -> u; r adds s and u. Kernels run
 * in node order (0..6). d is the last reader of e, of e's shape, so d is
 * computed over e (in_place.c): one block, live from kernel 0 to d's last
 * reader (3); t comes after both and takes it; m and s share 64 bytes; u
 * and r fill what is free when they are live. Worked by hand from the rule
 * in memplan.h (largest first, lowest free offset). The reductions are
 * reduce_max: a reduce_sum would join the loop whose value it sums
 * (fusion.h), and the kernels would not be these. */
static const char *plan_text =
    "graph g {\n"
    "  %x = input f32[1024]\n"
    "  %e = exp(%x) f32[1024]\n"
    "  %m = reduce_max(%e) {keepdims=1, axes=[]} f32[1]\n"
    "  %d = sub(%e, %m) f32[1024]\n"
    "  %s = reduce_max(%d) {keepdims=1, axes=[]} f32[1]\n"
    "  %t = tanh(%x) f32[1024]\n"
    "  %u = reduce_max(%t) {keepdims=1, axes=[]} f32[1]\n"
    "  %r = add(%s, %u) f32[1]\n"
    "  output y = %r\n"
    "}\n";

static void test_small(void) {
    char err[512], out[4096];
    Graph *g = ir_parse(plan_text, "t.ir", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    KernelPlan kp;
    MemPlan mp;
    fusion_plan(g, &kp);
    memplan_build(g, &kp, &mp);
    FILE *f = fmemopen(out, sizeof out, "w");
    memplan_print(g, &mp, f);
    fclose(f);
    ASSERT_STR(out,
               "%e                                       f32[1024]                offset          0  bytes       4096  kernels 0..3\n"
               "%m                                       f32[1]                   offset       4096  bytes         64  kernels 1..2\n"
               "%d                                       f32[1024]                offset          0  bytes       4096  kernels 2..3  over %e\n"
               "%s                                       f32[1]                   offset       4096  bytes         64  kernels 3..6\n"
               "%t                                       f32[1024]                offset          0  bytes       4096  kernels 4..5\n"
               "%u                                       f32[1]                   offset       4160  bytes         64  kernels 5..6\n"
               "%r                                       f32[1]                   offset          0  bytes         64  kernels 6..7\n"
               "6 values, 1 computed over others: planned peak 0.0 MiB, 0.0 MiB without reuse (50%)\n");
    CU_ASSERT_EQUAL(mp.size, 4096 + 2 * 64);
    CU_ASSERT_EQUAL(mp.naive, 2 * 4096 + 4 * 64);
    /* %e's memory is overwritten by %d, then reused by %t: only the output
     * and what nothing later overwrites survive the step */
    CU_ASSERT_FALSE(memplan_survives(g, &mp, 1));
    CU_ASSERT_FALSE(memplan_survives(g, &mp, 3));
    CU_ASSERT_TRUE(memplan_survives(g, &mp, 4)); /* %s: nothing after it takes its 64 bytes */
    CU_ASSERT_TRUE(memplan_survives(g, &mp, 7));
    CU_ASSERT_FALSE(memplan_survives(g, &mp, 0)); /* an input: not planned */
    memplan_free(&mp);
    fusion_plan_free(&kp);
    ir_graph_free(g);
}

/* %e is reshaped twice (%v, then %w of %v); %t comes after %v's kernel
 * but before %w's last reader, so it may not take %e's memory. */
static const char *view_text =
    "graph g {\n"
    "  %x = input f32[4, 256]\n"
    "  %e = exp(%x) f32[4, 256]\n"
    "  %v = reshape(%e) f32[1024]\n"
    "  %w = reshape(%v) f32[32, 32]\n"
    "  %t = tanh(%x) f32[4, 256]\n"
    "  %u = reduce_max(%t) {keepdims=0, axes=[]} f32[]\n"
    "  %s = reduce_sum(%w) {keepdims=0, axes=[]} f32[]\n"
    "  %r = add(%s, %u) f32[]\n"
    "  output y = %r\n"
    "}\n";

static void test_views(void) {
    char err[512];
    Graph *g = ir_parse(view_text, "t.ir", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    enum { E = 1, V = 2, W = 3, T = 4 };
    KernelPlan kp;
    MemPlan mp;
    fusion_plan(g, &kp);
    memplan_build(g, &kp, &mp);
    CU_ASSERT_EQUAL(kp.view_of[V], E);
    CU_ASSERT_EQUAL(kp.view_of[W], E); /* a view of a view views the value */
    CU_ASSERT_EQUAL(kp.view_of[E], -1);
    CU_ASSERT_EQUAL(kp.view_of[T], -1);
    CU_ASSERT_EQUAL(mp.nvalues, 5); /* e, t, u, s, r */
    CU_ASSERT_EQUAL(mp.nviews, 2);
    CU_ASSERT_EQUAL(mp.offset[V], mp.offset[E]);
    CU_ASSERT_EQUAL(mp.offset[W], mp.offset[E]);
    CU_ASSERT_EQUAL(mp.last[E], mp.last[W]); /* %e lives until %w's reader */
    CU_ASSERT_TRUE(mp.offset[T] >= mp.offset[E] + 4096 || mp.offset[T] + 4096 <= mp.offset[E]);
    CU_ASSERT_EQUAL(mp.naive, 2 * 4096 + 3 * 64); /* views take no memory of their own */
    CU_ASSERT_TRUE(plan_check(g, &kp, &mp, err, sizeof err));
    CU_ASSERT_TRUE(memplan_survives(g, &mp, V) == memplan_survives(g, &mp, E));
    /* a view elsewhere than what it views, or outliving it, is unsound */
    mp.offset[W] += 64;
    CU_ASSERT_FALSE(plan_check(g, &kp, &mp, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "node 3 is not a view of node 1 in its memory and live range");
    mp.offset[W] -= 64;
    mp.last[E]--;
    CU_ASSERT_FALSE(plan_check(g, &kp, &mp, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "node 3 is not a view of node 1 in its memory and live range");
    mp.last[E]++;
    mp.view_of[T] = E, mp.offset[T] = mp.offset[E]; /* tanh is no view */
    CU_ASSERT_FALSE(plan_check(g, &kp, &mp, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "node 4 is not a view of node 1 in its memory and live range");
    memplan_free(&mp);
    fusion_plan_free(&kp);
    ir_graph_free(g);
}

/* %e [64, 1024] (256 KiB) dies at %m's kernel; %b [64, 512] comes after
 * it. First fit would put %b at 0, its second half on %e's first; the
 * plan centers it on %e instead (64 KiB in), so each half of %b is in the
 * same half of %e, and the arena is no larger. */
static const char *halves_text =
    "graph g {\n"
    "  %x = input f32[64, 1024]\n"
    "  %y = input f32[64, 512]\n"
    "  %e = exp(%x) f32[64, 1024]\n"
    "  %m = reduce_max(%e) {keepdims=0, axes=[]} f32[]\n"
    "  %b = tanh(%y) f32[64, 512]\n"
    "  %s = reduce_max(%b) {keepdims=0, axes=[]} f32[]\n"
    "  %r = add(%m, %s) f32[]\n"
    "  output y = %r\n"
    "}\n";

static void test_halves(void) {
    char err[512];
    Graph *g = ir_parse(halves_text, "t.ir", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    enum { E = 2, M = 3, B = 4 };
    KernelPlan kp;
    MemPlan mp;
    fusion_plan(g, &kp);
    memplan_build(g, &kp, &mp);
    CU_ASSERT_TRUE(kp.kept[E] && kp.kept[B]);
    CU_ASSERT_TRUE(mp.last[E] < mp.first[B]);
    CU_ASSERT_EQUAL(mp.offset[E], 0);
    CU_ASSERT_EQUAL(mp.offset[B], 64 * 1024);
    CU_ASSERT_EQUAL(mp.offset[M], 256 * 1024);
    CU_ASSERT_EQUAL(mp.size, 256 * 1024 + 64); /* %m after %e; %s and %r below %b */
    CU_ASSERT_TRUE(plan_check(g, &kp, &mp, err, sizeof err));
    memplan_free(&mp);
    fusion_plan_free(&kp);
    ir_graph_free(g);
}

/* Centering %a on %r as it is placed would leave no room for %c (live
 * with %a) below the arena's first-fit peak, so the plan is first fit's:
 * %r, %a and %d at 0, %c after %a, %md after %d. Then %d moves to where
 * its halves meet those of the values it shares memory with: at 0 half of
 * it meets the other half of %r and of %a; centered on %a it would cover
 * %md (live with it); centered on %c (160 KiB in), its halves meet those
 * of %c and only half of it meets the other half of %r. Nothing else can
 * move. Worked by hand from memplan.h. */
static const char *moves_text =
    "graph g {\n"
    "  %x = input f32[64, 1024]\n"
    "  %y = input f32[64, 512]\n"
    "  %z = input f32[64, 256]\n"
    "  %r = exp(%x) f32[64, 1024]\n"
    "  %m = reduce_max(%r) {keepdims=0, axes=[]} f32[]\n"
    "  %a = tanh(%y) f32[64, 512]\n"
    "  %ma = reduce_max(%a) {keepdims=0, axes=[]} f32[]\n"
    "  %c = sub(%y, %ma) f32[64, 512]\n"
    "  %mc = reduce_max(%c) {keepdims=0, axes=[]} f32[]\n"
    "  %s = add(%a, %mc) f32[64, 512]\n"
    "  %ms = reduce_max(%s) {keepdims=0, axes=[]} f32[]\n"
    "  %d = exp(%z) f32[64, 256]\n"
    "  %md = reduce_max(%d) {keepdims=0, axes=[]} f32[]\n"
    "  %t = add(%m, %ms) f32[]\n"
    "  %u = add(%t, %md) f32[]\n"
    "  output y = %u\n"
    "}\n";

static void test_moves(void) {
    char err[512];
    Graph *g = ir_parse(moves_text, "t.ir", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    enum { R = 3, A = 5, C = 7, S = 9, D = 11 };
    KernelPlan kp;
    MemPlan mp;
    fusion_plan(g, &kp);
    memplan_build(g, &kp, &mp);
    CU_ASSERT_TRUE(kp.kept[R] && kp.kept[A] && kp.kept[C] && kp.kept[D]);
    CU_ASSERT_EQUAL(kp.over[S], A);
    CU_ASSERT_TRUE(mp.last[R] < mp.first[A] && mp.first[C] < mp.last[A] && mp.last[A] < mp.first[D]);
    CU_ASSERT_EQUAL(mp.offset[R], 0);
    CU_ASSERT_EQUAL(mp.offset[A], 0);
    CU_ASSERT_EQUAL(mp.offset[C], 128 * 1024);
    CU_ASSERT_EQUAL(mp.offset[D], 160 * 1024);
    CU_ASSERT_EQUAL(mp.size, 256 * 1024 + 2 * 64);
    CU_ASSERT_TRUE(plan_check(g, &kp, &mp, err, sizeof err));
    memplan_free(&mp);
    fusion_plan_free(&kp);
    ir_graph_free(g);
}

static CU_TestInfo tests[] = {
    {"a small graph's plan, exactly", test_small},
    {"reshapes are views of the value they reshape", test_views},
    {"a large value's halves on the halves of the one before it", test_halves},
    {"first fit's peak kept, then a large value moved to suit its halves", test_moves},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("memplan", tests); }
