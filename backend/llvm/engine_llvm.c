/* engine_llvm.c — the LLVM backend behind the runtime's Engine interface.
 *
 * create: verify the graph, plan it (pipeline_plan: fusion's kernels and
 * the memory plan), then find its machine code: in the code cache
 * (code_cache.h) by the key of the graph, plan, host and compiler, or by
 * generating the module, optimizing it (O3, host CPU) and emitting an
 * object, which goes into the cache. Either object is linked by the JIT
 * and handed to the compiled-step engine (engine_compiled.c), which owns
 * the memory and runs it; the JIT is released with the engine.
 */
#include <llvm-c/Core.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cg.h"
#include "code_cache.h"
#include "code_sources.h"
#include "engine_compiled.h"
#include "llvm_backend.h"
#include "memplan.h"
#include "passes.h"
#include "rt.h"
#include "util.h"

/* Compile times of every engine this process made (see llvm_times);
 * engines may compile on several threads at once (engine_open_pair). */
static LlvmTimes totals;
static pthread_mutex_t totals_lock = PTHREAD_MUTEX_INITIALIZER;

/* See llvm_backend.h. */
LlvmTimes llvm_times(void) {
    pthread_mutex_lock(&totals_lock);
    LlvmTimes t = totals;
    pthread_mutex_unlock(&totals_lock);
    return t;
}

/* Seconds on the monotonic clock. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void release_jit(void *owner) { llvm_jit_free(owner); }

/* The cache key of g's code under plan for this host and this compiler. */
static void cache_key(const Graph *g, const KernelPlan *plan, int profiled, unsigned char key[CODE_CACHE_KEY_BYTES]) {
    LlvmHostNames h;
    llvm_host_names(&h);
    unsigned major, minor, patch;
    LLVMGetVersion(&major, &minor, &patch);
    char llvm[48];
    snprintf(llvm, sizeof llvm, "%u.%u.%u", major, minor, patch);
    CodeCacheTarget t = {h.triple, h.cpu, h.features, llvm, MMGC_VERSION, MMGC_CODE_SOURCES, profiled};
    code_cache_key(g, plan, &t, key);
    llvm_host_names_free(&h);
}

/* Codegen, O3 and the object: *obj, and the scratch mmgc_step needs.
 * Borrows tm; adds the phases' times to *lt. */
static int build_object(const Graph *g, const KernelPlan *plan, int profiled, LLVMTargetMachineRef tm,
                        LLVMMemoryBufferRef *obj, int64_t *scratch_floats, LlvmTimes *lt, char *err, size_t errlen) {
    double t0 = now();
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = NULL;
    int rc = llvm_codegen(g, plan, profiled, ctx, &mod, scratch_floats, err, errlen);
    double t1 = now();
    if (!rc) rc = llvm_optimize(mod, tm, err, errlen);
    double t2 = now();
    if (!rc) rc = llvm_emit_object(mod, tm, obj, err, errlen);
    if (mod) LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    lt->codegen += t1 - t0;
    lt->optimize += t2 - t1;
    lt->jit += now() - t2;
    return rc;
}

/* Keeps why the cache could not be used, for --time (never an error). */
static void note(LlvmTimes *lt, const char *why, const char *so) {
    snprintf(lt->cache_note, sizeof lt->cache_note, "%s (%s)", why, so);
}

/* The object for g: from the cache (*hit; only if read), or built and
 * then stored (if the cache is on). */
static int find_object(const Graph *g, const KernelPlan *plan, int profiled, LLVMTargetMachineRef tm, int read,
                       LLVMMemoryBufferRef *obj, int64_t *scratch_floats, int *hit, LlvmTimes *lt, char *err,
                       size_t errlen) {
    double t0 = now();
    char *dir = code_cache_dir(), why[200]; /* room in cache_note for what follows */
    unsigned char key[CODE_CACHE_KEY_BYTES];
    CodeCacheEntry e;
    *hit = 0;
    if (dir) cache_key(g, plan, profiled, key);
    if (dir && read && code_cache_load(dir, key, &e, why, sizeof why)) {
        *obj = LLVMCreateMemoryBufferWithMemoryRangeCopy((const char *)e.object, e.size, "mmgc_step");
        *scratch_floats = e.scratch_floats;
        *hit = 1;
        free(e.object);
        free(dir);
        lt->cache += now() - t0;
        return 0;
    }
    if (dir && read && why[0]) note(lt, why, "compiled again"); /* unreadable, corrupt, another key: rebuilt and replaced */
    lt->cache += now() - t0;
    if (build_object(g, plan, profiled, tm, obj, scratch_floats, lt, err, errlen)) {
        free(dir);
        return -1;
    }
    if (!dir) {
        lt->cache_off++;
        return 0;
    }
    double t1 = now();
    e = (CodeCacheEntry){(unsigned char *)LLVMGetBufferStart(*obj), LLVMGetBufferSize(*obj), *scratch_floats};
    int bad_size;
    code_cache_limit(&bad_size);
    if (code_cache_store(dir, key, &e, why, sizeof why)) note(lt, why, "not cached");
    else if (bad_size) note(lt, "MMGC_CACHE_SIZE is not a size like 512M or 2G", "the cache keeps at most 1G");
    lt->cache_misses++;
    lt->cache += now() - t1;
    free(dir);
    return 0;
}

/* The object (cached or built), then the JIT. A cached object the JIT
 * cannot link (no valid entry should be one, but a cache must never fail
 * a run) is compiled again, and the fresh object replaces it. */
static int compile(const Graph *g, const KernelPlan *plan, CompiledStep *code, LlvmTimes *lt, char *err,
                   size_t errlen) {
    LlvmJit *j = NULL;
    void *step, *fail_node;
    for (int read = 1; !j; read = 0) {
        double t = now();
        LLVMTargetMachineRef tm = llvm_host_machine(1, err, errlen);
        lt->jit += now() - t;
        LLVMMemoryBufferRef obj;
        int hit;
        if (!tm) return -1;
        if (find_object(g, plan, code->profiled, tm, read, &obj, &code->scratch_floats, &hit, lt, err, errlen)) {
            LLVMDisposeTargetMachine(tm);
            return -1;
        }
        t = now();
        j = llvm_jit(obj, tm, &step, &fail_node, err, errlen); /* takes obj and tm */
        lt->jit += now() - t;
        if (!j && !hit) return -1;
        if (!j) note(lt, err, "compiled again");
        else lt->cache_hits += hit;
    }
    code->step = (StepFn)(uintptr_t)step;
    code->fail_node = fail_node;
    code->owner = j;
    code->release = release_jit;
    lt->modules++;
    return 0;
}

/* compile, timed into a module's own LlvmTimes, then added to the totals
 * (under the lock: engines compile on several threads at once). */
static int compile_timed(const Graph *g, const KernelPlan *plan, CompiledStep *code, char *err, size_t errlen) {
    LlvmTimes lt = {0};
    int rc = compile(g, plan, code, &lt, err, errlen);
    pthread_mutex_lock(&totals_lock);
    totals.codegen += lt.codegen;
    totals.optimize += lt.optimize;
    totals.jit += lt.jit;
    totals.cache += lt.cache;
    totals.modules += lt.modules;
    totals.cache_hits += lt.cache_hits;
    totals.cache_misses += lt.cache_misses;
    totals.cache_off += lt.cache_off;
    if (lt.cache_note[0]) memcpy(totals.cache_note, lt.cache_note, sizeof totals.cache_note);
    pthread_mutex_unlock(&totals_lock);
    return rc;
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
    if (compile_timed(g, &plan, &code, err, errlen)) {
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
