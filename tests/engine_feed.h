/* engine_feed.h — fixed inputs for a test's engine, the same on every
 * backend: each input element from one LCG sequence (U(-1, 1)-ish), labels
 * in [0, classes), and the sample-weight node (if weight >= 0) all 1. */
#ifndef MMGC_TEST_ENGINE_FEED_H
#define MMGC_TEST_ENGINE_FEED_H

#include "engine.h"
#include "ir.h"

static inline void test_feed(Engine *e, const Graph *g, unsigned classes, int weight) {
    unsigned s = 7;
    for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        int64_t count = ir_numel(&n->type.shape);
        for (int64_t k = 0; k < count && (n->op == OP_INPUT || n->op == OP_LABEL); k++) {
            s = s * 1664525u + 1013904223u;
            if (n->op == OP_LABEL) engine_i64(e, i)[k] = (int64_t)((s >> 8) % classes);
            else engine_f32(e, i)[k] = i == weight ? 1.0f : (float)((s >> 8) / 8388608.0 - 1.0);
        }
    }
}

#endif
