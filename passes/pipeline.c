/* pipeline.c — the passes, in order. Reading this file is reading the
 * compiler after the front end (frontend/elaborate.h makes the forward
 * graph from .mmg):
 *
 *   pipeline_run   autodiff -> optimizer -> simplify    the training step,
 *                  ir_verify after each                  one graph
 *   pipeline_plan  fusion -> memory planning             the planned step,
 *                  plan_check after them (debug builds)  what a backend compiles
 *
 * The LLVM JIT and ahead-of-time compilation both take their plan from
 * pipeline_plan, so a program compiled ahead of time runs the same kernels
 * over the same memory as the JIT. */
#include <string.h>

#include "passes.h"
#include "plan_check.h"

typedef struct {
    const char *name;
    PassFn run;
    Stage from;  /* the first stage that runs it */
} Pass;

static const Pass passes[] = {
    {"autodiff", pass_autodiff, STAGE_GRAD},    /* + backward: grad:NAME outputs        */
    {"optimizer", pass_optimizer, STAGE_TRAIN}, /* + update:NAME outputs, optimizer state */
    {"simplify", pass_simplify, STAGE_GRAD},    /* one node per distinct value            */
};

#define NPASSES (int)(sizeof passes / sizeof passes[0])

int pipeline_has_pass(const char *name) {
    for (int i = 0; i < NPASSES; i++)
        if (!strcmp(passes[i].name, name)) return 1;
    return 0;
}

const char *pipeline_pass_names(void) { return "autodiff, optimizer, simplify"; }

int pipeline_run(Graph *g, const PassConfig *cfg, PassError *err) {
    for (int i = 0; i < NPASSES; i++) {
        if (cfg->stage < passes[i].from) continue;
        if (passes[i].run(g, cfg, err)) return -1;
        char msg[512];
        if (ir_verify(g, msg, sizeof msg)) {
            err->loc = (Loc){0, 0, 0};
            snprintf(err->msg, sizeof err->msg, "internal error: the graph after %s is invalid: %.400s", passes[i].name,
                     msg);
            return -1;
        }
        if (cfg->dump_after && cfg->dump && !strcmp(cfg->dump_after, passes[i].name)) ir_print(g, cfg->dump);
    }
    return 0;
}

int pipeline_plan(const Graph *g, KernelPlan *plan, MemPlan *mem, char *err, size_t errlen) {
    fusion_plan(g, plan);
    if (mem) memplan_build(g, plan, mem);
#ifndef NDEBUG
    char why[400];
    if (!plan_check(g, plan, mem, why, sizeof why)) {
        snprintf(err, errlen, "internal error: the kernel or memory plan is invalid: %s", why);
        fusion_plan_free(plan);
        if (mem) memplan_free(mem);
        return -1;
    }
#else
    (void)err, (void)errlen;
#endif
    return 0;
}
