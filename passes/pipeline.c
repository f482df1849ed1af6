/* pipeline.c — the passes, in order. Reading this list is reading the
 * compiler: each pass takes the graph the one before it leaves, and the
 * verifier checks the graph between any two. */
#include <string.h>

#include "passes.h"

typedef struct {
    const char *name;
    PassFn run;
    Stage from;  /* the first stage that runs it */
} Pass;

static const Pass passes[] = {
    {"autodiff", pass_autodiff, STAGE_TRAIN},   /* + backward: grad:NAME outputs        */
    {"optimizer", pass_optimizer, STAGE_TRAIN}, /* + update:NAME outputs, optimizer state */
    {"simplify", pass_simplify, STAGE_TRAIN},   /* one node per distinct value            */
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
