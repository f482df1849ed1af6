/* engine_aot.c — the engine of a program compiled ahead of time: the step
 * for a graph is the object code linked into the program for a graph of
 * the same fingerprint; planning (pipeline_plan) and memory are the
 * compiled-step engine's, exactly as the JIT has them. No LLVM here. */
#include <inttypes.h>
#include <stdio.h>

#include "aot.h"
#include "engine_compiled.h"
#include "passes.h"

/* Finds g's compiled step and hands it to the compiled-step engine. */
static void *create(const Graph *g, char *err, size_t errlen) {
    if (ir_verify(g, err, errlen)) return NULL;
    uint64_t fp = ir_fingerprint(g);
    const AotStep *s = NULL;
    for (int i = 0; i < mmgc_aot_model.nsteps && !s; i++)
        if (mmgc_aot_model.steps[i].fingerprint == fp) s = &mmgc_aot_model.steps[i];
    if (!s) {
        snprintf(err, errlen,
                 "this program has no code for this step (graph %016" PRIx64 "): a --set that changes the model "
                 "or its training step (batch, lr, optimizer, fusion, ...) needs a new 'mmgc --aot' build",
                 fp);
        return NULL;
    }
    KernelPlan plan;
    MemPlan mem;
    if (pipeline_plan(g, &plan, &mem, err, errlen)) return NULL;
    CompiledStep code = {(StepFn)s->step, s->fail_node, s->scratch_floats, NULL, NULL, 0, NULL};
    return compiled_new(g, &plan, &mem, &code, err, errlen);
}

const EngineOps engine_aot = {"aot",        create,          compiled_bind, compiled_buffer, compiled_run,
                              compiled_apply_updates, compiled_destroy, NULL, compiled_profile};
