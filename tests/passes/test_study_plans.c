/* test_study_plans.c — the compiled structure of every study model, as
 * numbers: for its forward graph and its training step (batch 64, the
 * model's optimizer), the kernels of the fusion plan, the computed nodes,
 * the loop kernels and the nodes they fuse, the values kept in memory, the
 * updates computed into their parameters or state and the values computed
 * over a value their kernel reads last (in_place.c), and the memory plan's
 * arena (the planned peak) in bytes.
 *
 * These are what `--emit=kernels` and `--emit=memplan` print on their last
 * lines. A change to fusion, autodiff, simplify or memory planning that
 * splits a fused kernel, keeps a value it did not keep, copies an update it
 * computed in place, writes to fresh memory a value it computed over a
 * dying one, or grows the arena
 * fails here with the model's new row printed, ready to paste after a look
 * at why: a faster plan is a reason to update the table, an accident is
 * not. */
#include <stdio.h>
#include <string.h>

#include "frontend/compile.h"
#include "fusion.h"
#include "harness.h"
#include "memplan.h"
#include "passes.h"

typedef struct {
    const char *model, *stage;
    int kernels, computed, loops, fused, kept, in_place, over;
    long long arena;
} PlanRow;

static const PlanRow expected[] = {
#include "study_plans.def"
};

/* The row of model at stage ("forward" or "train"); 0 if it compiled. */
static int measure(const char *model, const char *stage, PlanRow *r) {
    char path[256];
    snprintf(path, sizeof path, "models/%s.mmg", model);
    Compiled c;
    if (!compile_file_ok(&c, path, NULL, 0)) return -1;
    if (!strcmp(stage, "train")) {
        PassConfig cfg = {STAGE_TRAIN, c.model.train.optimizer, 0, NULL, NULL};
        PassError perr;
        if (pipeline_run(c.model.graph, &cfg, &perr)) {
            fprintf(stderr, "\n%s: %s\n", path, perr.msg);
            compile_free(&c);
            return -1;
        }
    }
    const Graph *g = c.model.graph;
    KernelPlan p;
    MemPlan mp;
    fusion_plan(g, &p);
    memplan_build(g, &p, &mp);
    *r = (PlanRow){model, stage, p.nk, 0, 0, 0, 0, mp.ninto, mp.nover, (long long)mp.size};
    for (int k = 0; k < p.nk; k++) { /* counted as fusion_print counts them */
        const FusedKernel *fk = &p.k[k];
        r->computed += fk->n;
        if (fk->loop && fk->n > 1) r->loops++, r->fused += fk->n;
        for (int m = 0; m < fk->n; m++) r->kept += p.kept[fk->nodes[m]];
    }
    memplan_free(&mp);
    fusion_plan_free(&p);
    compile_free(&c);
    return 0;
}

static void test_study_plans(void) {
    int n = (int)(sizeof expected / sizeof expected[0]);
    CU_ASSERT_EQUAL(n, 20); /* ten models, two stages */
    for (int i = 0; i < n; i++) {
        const PlanRow *e = &expected[i];
        PlanRow r;
        CU_ASSERT_EQUAL_FATAL(measure(e->model, e->stage, &r), 0);
        int same = r.kernels == e->kernels && r.computed == e->computed && r.loops == e->loops &&
                   r.fused == e->fused && r.kept == e->kept && r.in_place == e->in_place && r.over == e->over && r.arena == e->arena;
        if (!same)
            fprintf(stderr, "\n%s %s changed; now:\n    {\"%s\", \"%s\", %d, %d, %d, %d, %d, %d, %d, %lld},\n", e->model,
                    e->stage, r.model, r.stage, r.kernels, r.computed, r.loops, r.fused, r.kept, r.in_place, r.over,
                    r.arena);
        CU_ASSERT(same);
    }
}

static CU_TestInfo tests[] = {
    {"each study model's kernels, loops, kept values, updates in place, values over others and arena", test_study_plans},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("study_plans", tests); }
