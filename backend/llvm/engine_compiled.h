/* engine_compiled.h — an Engine over a step already compiled to machine
 * code (see engine_compiled.c): what the LLVM JIT and a program built ahead
 * of time share. No LLVM here. */
#ifndef MMGC_ENGINE_COMPILED_H
#define MMGC_ENGINE_COMPILED_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "fusion.h"
#include "memplan.h"
#include "rt.h"

/* int32_t mmgc_step(void **bufs, const RtRandom *rnd, float *scratch):
 * 0, or the code of the helper that failed (its node in *fail_node). */
typedef int32_t (*StepFn)(void **bufs, const RtRandom *rnd, float *scratch);

/* A step's machine code: its entry, where it records a failing node, the
 * scratch it needs, and who owns the code (released with the engine). */
typedef struct CompiledStep CompiledStep;
struct CompiledStep {
    StepFn step;
    int32_t *fail_node;
    int64_t scratch_floats;
    void *owner;
    void (*release)(void *owner);
    int profiled; /* the step calls mmgc_prof_enter/leave around its kernels (rt_prof.h) */
    /* Optional (NULL: this code is final): asked before each run whether
     * faster code for the same step and plan is ready (compiled in the
     * background: engine_llvm.c's tiers). If so it fills *next (with an
     * owner of its own) and returns 1; the engine then releases this code
     * and runs next from then on. Both must compute the same bits. */
    int (*poll)(void *owner, CompiledStep *next);
};

/* An engine for g whose code was generated from plan and mem (taken over,
 * freed with the engine, also on failure); NULL with a message if memory
 * runs out or an update pairs with nothing. */
void *compiled_new(const Graph *g, KernelPlan *plan, MemPlan *mem, const CompiledStep *code, char *err,
                   size_t errlen);

/* The EngineOps functions every compiled backend shares. */
int compiled_bind(void *impl, int node, void *memory);
void *compiled_buffer(void *impl, int node);
int compiled_run(void *impl, int training, uint64_t seed, uint64_t step, char *err, size_t errlen);
void compiled_apply_updates(void *impl);
void compiled_destroy(void *impl);
/* The kernel times of a step compiled with profiling (NULL otherwise). */
const EngineProfile *compiled_profile(void *impl, int reset);

#endif
