/* engine_llvm.c — the LLVM backend behind the runtime's Engine interface.
 *
 * create: verify the graph, plan it (pipeline_plan: fusion's kernels and
 * the memory plan), generate the module, optimize it (O3, host CPU), JIT
 * it, and hand the code to the compiled-step engine (engine_compiled.c),
 * which owns the memory and runs it; the JIT is released with the engine.
 */
#include <stdint.h>
#include <time.h>

#include "cg.h"
#include "engine_compiled.h"
#include "llvm_backend.h"
#include "memplan.h"
#include "passes.h"
#include "rt.h"
#include "util.h"

/* Compile times of every engine this process made (see llvm_times). */
static LlvmTimes totals;

/* See llvm_backend.h. */
LlvmTimes llvm_times(void) { return totals; }

/* Seconds on the monotonic clock. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void release_jit(void *owner) { llvm_jit_free(owner); }

/* Codegen, O3, JIT; adds the phases' times to the totals. */
static int compile(const Graph *g, const KernelPlan *plan, CompiledStep *code, char *err, size_t errlen) {
    double t0 = now();
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMModuleRef mod;
    if (llvm_codegen(g, plan, code->profiled, LLVMOrcThreadSafeContextGetContext(tsc), &mod, &code->scratch_floats, err, errlen)) {
        LLVMOrcDisposeThreadSafeContext(tsc);
        return -1;
    }
    double t1 = now();
    LLVMTargetMachineRef tm = llvm_host_machine(1, err, errlen);
    if (!tm || llvm_optimize(mod, tm, err, errlen)) {
        if (tm) LLVMDisposeTargetMachine(tm);
        LLVMDisposeModule(mod);
        LLVMOrcDisposeThreadSafeContext(tsc);
        return -1;
    }
    double t2 = now();
    void *step, *fail_node;
    LlvmJit *j = llvm_jit(tsc, mod, tm, &step, &fail_node, err, errlen); /* takes tsc, mod and tm */
    if (!j) return -1;
    code->step = (StepFn)(uintptr_t)step;
    code->fail_node = fail_node;
    code->owner = j;
    code->release = release_jit;
    double t3 = now();
    totals.codegen += t1 - t0;
    totals.optimize += t2 - t1;
    totals.jit += t3 - t2;
    totals.modules++;
    return 0;
}

/* Verifies g, plans and compiles it (with profiling marks or without),
 * allocates its memory; NULL + message on failure. */
static void *create_as(const Graph *g, int profiled, char *err, size_t errlen) {
    if (ir_verify(g, err, errlen)) return NULL;
    KernelPlan plan;
    MemPlan mem;
    if (pipeline_plan(g, &plan, &mem, err, errlen)) return NULL;
    CompiledStep code = {0};
    code.profiled = profiled;
    if (compile(g, &plan, &code, err, errlen)) {
        fusion_plan_free(&plan);
        memplan_free(&mem);
        return NULL;
    }
    return compiled_new(g, &plan, &mem, &code, err, errlen);
}

static void *create(const Graph *g, char *err, size_t errlen) { return create_as(g, 0, err, errlen); }
static void *create_profiled(const Graph *g, char *err, size_t errlen) { return create_as(g, 1, err, errlen); }

const EngineOps engine_llvm = {"llvm",       create,          compiled_bind, compiled_buffer, compiled_run,
                               compiled_apply_updates, compiled_destroy, create_profiled, compiled_profile};
