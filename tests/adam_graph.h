/* adam_graph.h — the smallest training step with Adam, for tests of what
 * the optimizer's update becomes (test_fusion, test_in_place, test_llvm):
 * loss = sum(x * w), x an input and w a parameter, both [5, 7], through
 * the training passes. Fails the test if it does not build. */
#ifndef MMGC_TEST_ADAM_GRAPH_H
#define MMGC_TEST_ADAM_GRAPH_H

#include <stdio.h>

#include "harness.h"
#include "ir.h"
#include "passes.h"

static inline Graph *adam_graph(double lr) {
    char err[512];
    Graph *g = ir_parse("graph g {\n"
                        "  %x = input f32[5, 7]\n"
                        "  %w = param f32[5, 7] init=zeros\n"
                        "  %p = mul(%x, %w) f32[5, 7]\n"
                        "  %l = reduce_sum(%p) {keepdims=0, axes=[]} f32[]\n"
                        "  output loss = %l\n"
                        "}\n",
                        "adam.ir", err, sizeof err);
    if (!g) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    PassConfig cfg = {STAGE_TRAIN, {.kind = OPT_ADAM, .lr = lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8}, 0, NULL, NULL};
    PassError perr;
    int rc = pipeline_run(g, &cfg, &perr);
    if (rc) fprintf(stderr, "\n%s\n", perr.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return g;
}

#endif
