/* engine_llvm.c — the LLVM backend behind the runtime's Engine interface.
 *
 * create: verify the graph, plan it (pipeline_plan: fusion's kernels and
 * the memory plan), then find its machine code: in the code cache
 * (code_cache.h) by the key of the graph, plan, host and compiler, or by
 * generating the module, optimizing it (O3, host CPU) and emitting an
 * object, which goes into the cache. With more than one thread a step is
 * cut into one module per thread (at most two), compiled at once and
 * cached as an entry each. The objects are linked by the JIT
 * and handed to the compiled-step engine (engine_compiled.c), which owns
 * the memory and runs it; the JIT is released with the engine. A step not
 * in the cache starts on quick code while the optimized code compiles on
 * a thread of its own (the tiers, below; llvm_backend.h: LlvmTiers).
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
#include "rt_thread.h"
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

/* A step is compiled as one module per thread, up to MAX_PARTS, each
 * optimized and compiled on a thread of its own (llvm_codegen_part); a
 * step of fewer than SPLIT_KERNELS kernels stays one module. */
#define MAX_PARTS 2
#define SPLIT_KERNELS 16

/* How many modules plan's step is compiled as. */
static int compile_parts(const KernelPlan *plan) {
    int t = rt_threads();
    return plan->nk < SPLIT_KERNELS ? 1 : t < MAX_PARTS ? t : MAX_PARTS;
}

/* The cache key of part `part` of nparts of g's code under plan for this
 * host and this compiler. */
static void cache_key(const Graph *g, const KernelPlan *plan, int profiled, int part, int nparts,
                      unsigned char key[CODE_CACHE_KEY_BYTES]) {
    LlvmHostNames h;
    llvm_host_names(&h);
    unsigned major, minor, patch;
    LLVMGetVersion(&major, &minor, &patch);
    char llvm[48];
    snprintf(llvm, sizeof llvm, "%u.%u.%u", major, minor, patch);
    CodeCacheTarget t = {h.triple, h.cpu, h.features, llvm, MMGC_VERSION, MMGC_CODE_SOURCES, profiled, part, nparts};
    code_cache_key(g, plan, &t, key);
    llvm_host_names_free(&h);
}

/* One part's compile: codegen, O3 (or quick: -O0) and the object, on a thread of its own
 * (with an LLVM context and, but for part 0, a target machine of its own). */
typedef struct {
    const Graph *g;
    const KernelPlan *plan;
    int profiled, part, nparts, quick;
    LLVMTargetMachineRef tm; /* borrowed: the JIT's (part 0); NULL: make one */
    LLVMMemoryBufferRef obj; /* out */
    int64_t scratch_floats;  /* out */
    LlvmTimes lt;            /* out: the phases' times */
    int rc;
    char err[512];
} PartJob;

static void *build_part(void *arg) {
    PartJob *p = arg;
    double t0 = now();
    LLVMTargetMachineRef tm = p->tm ? p->tm : llvm_host_machine(1, p->quick, p->err, sizeof p->err);
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = NULL;
    p->rc = tm ? llvm_codegen_part(p->g, p->plan, p->profiled, p->part, p->nparts, ctx, &mod, &p->scratch_floats,
                                   p->err, sizeof p->err)
               : -1;
    double t1 = now();
    if (!p->rc) p->rc = llvm_optimize(mod, tm, p->quick, p->err, sizeof p->err);
    double t2 = now();
    if (!p->rc) p->rc = llvm_emit_object(mod, tm, &p->obj, p->err, sizeof p->err);
    if (mod) LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    if (tm && !p->tm) LLVMDisposeTargetMachine(tm);
    p->lt.codegen += t1 - t0;
    p->lt.optimize += t2 - t1;
    p->lt.jit += now() - t2;
    return NULL;
}

/* The objs[0..nparts) of g's step, the parts built at once (part 0 on
 * this thread, with tm, borrowed), and the scratch mmgc_step needs (the
 * most any part's kernels need). Adds the phases' times to *lt. */
static int build_objects(const Graph *g, const KernelPlan *plan, int profiled, int quick, int nparts,
                         LLVMTargetMachineRef tm, LLVMMemoryBufferRef *objs, int64_t *scratch_floats, LlvmTimes *lt,
                         char *err, size_t errlen) {
    PartJob job[MAX_PARTS];
    pthread_t th[MAX_PARTS];
    int started[MAX_PARTS] = {0}, rc = 0;
    for (int p = 0; p < nparts; p++) {
        job[p] = (PartJob){.g = g, .plan = plan, .profiled = profiled, .part = p, .nparts = nparts,
                           .quick = quick, .tm = p ? NULL : tm};
        if (p > 0) started[p] = !pthread_create(&th[p], NULL, build_part, &job[p]);
    }
    build_part(&job[0]);
    for (int p = 1; p < nparts; p++) {
        if (started[p]) pthread_join(th[p], NULL);
        else build_part(&job[p]); /* no thread to be had: in turn */
    }
    *scratch_floats = 0;
    for (int p = 0; p < nparts; p++) {
        lt->codegen += job[p].lt.codegen, lt->optimize += job[p].lt.optimize, lt->jit += job[p].lt.jit;
        if (job[p].rc && !rc) rc = -1, snprintf(err, errlen, "%s", job[p].err);
        if (!job[p].rc && job[p].scratch_floats > *scratch_floats) *scratch_floats = job[p].scratch_floats;
    }
    if (rc)
        for (int p = 0; p < nparts; p++)
            if (!job[p].rc) LLVMDisposeMemoryBuffer(job[p].obj);
    if (!rc)
        for (int p = 0; p < nparts; p++) objs[p] = job[p].obj;
    return rc;
}

/* Keeps why the cache could not be used, for --time (never an error). */
static void note(LlvmTimes *lt, const char *why, const char *so) {
    snprintf(lt->cache_note, sizeof lt->cache_note, "%s (%s)", why, so);
}

/* The nparts objects of g's step: from the cache (*hit; only if read, and
 * only if every part is there), or (if build) built and then stored (if
 * the cache is on). Without build a miss returns 0 with *hit 0 and no
 * objects. */
static int find_objects(const Graph *g, const KernelPlan *plan, int profiled, int nparts, LLVMTargetMachineRef tm,
                        int read, int build, LLVMMemoryBufferRef *objs, int64_t *scratch_floats, int *hit,
                        LlvmTimes *lt, char *err, size_t errlen) {
    double t0 = now();
    char *dir = code_cache_dir(), why[200]; /* room in cache_note for what follows */
    unsigned char key[MAX_PARTS][CODE_CACHE_KEY_BYTES];
    CodeCacheEntry e[MAX_PARTS];
    int loaded = 0;
    *hit = 0;
    why[0] = 0;
    for (int p = 0; dir && p < nparts; p++) cache_key(g, plan, profiled, p, nparts, key[p]);
    while (dir && read && loaded < nparts && code_cache_load(dir, key[loaded], &e[loaded], why, sizeof why)) loaded++;
    if (dir && read && loaded == nparts) {
        *scratch_floats = 0;
        for (int p = 0; p < nparts; p++) {
            objs[p] = LLVMCreateMemoryBufferWithMemoryRangeCopy((const char *)e[p].object, e[p].size, "mmgc_step");
            if (e[p].scratch_floats > *scratch_floats) *scratch_floats = e[p].scratch_floats;
            free(e[p].object);
        }
        *hit = 1;
        free(dir);
        lt->cache += now() - t0;
        return 0;
    }
    for (int p = 0; p < loaded; p++) free(e[p].object);
    if (dir && read && why[0]) note(lt, why, "compiled again"); /* unreadable, corrupt, another key: rebuilt and replaced */
    lt->cache += now() - t0;
    if (!build) {
        free(dir);
        return 0; /* *hit is 0: not in the cache */
    }
    if (build_objects(g, plan, profiled, 0, nparts, tm, objs, scratch_floats, lt, err, errlen)) {
        free(dir);
        return -1;
    }
    if (!dir) {
        lt->cache_off++;
        return 0;
    }
    double t1 = now();
    int bad_size, stored = 1;
    code_cache_limit(&bad_size);
    for (int p = 0; p < nparts && stored; p++) {
        /* every part carries the step's scratch: a part's own need is not kept apart */
        e[p] = (CodeCacheEntry){(unsigned char *)LLVMGetBufferStart(objs[p]), LLVMGetBufferSize(objs[p]), *scratch_floats};
        if (code_cache_store(dir, key[p], &e[p], why, sizeof why)) note(lt, why, "not cached"), stored = 0;
    }
    if (stored && bad_size) note(lt, "MMGC_CACHE_SIZE is not a size like 512M or 2G", "the cache keeps at most 1G");
    lt->cache_misses++;
    lt->cache += now() - t1;
    free(dir);
    return 0;
}

/* Adds a compile's times to the totals (under the lock: engines compile
 * on several threads at once, and tiers in the background). */
static void add_totals(const LlvmTimes *lt) {
    pthread_mutex_lock(&totals_lock);
    totals.codegen += lt->codegen;
    totals.optimize += lt->optimize;
    totals.jit += lt->jit;
    totals.cache += lt->cache;
    totals.quick += lt->quick;
    totals.modules += lt->modules;
    totals.quick_modules += lt->quick_modules;
    totals.quick_runs += lt->quick_runs;
    totals.cache_hits += lt->cache_hits;
    totals.cache_misses += lt->cache_misses;
    totals.cache_off += lt->cache_off;
    if (lt->cache_note[0]) memcpy(totals.cache_note, lt->cache_note, sizeof totals.cache_note);
    if (lt->tier_note[0]) memcpy(totals.tier_note, lt->tier_note, sizeof totals.tier_note);
    pthread_mutex_unlock(&totals_lock);
}

/* Links objs into a JIT (taking objs and tm) and fills code's entry and
 * owner; -1 with a message. */
static int link_code(LLVMMemoryBufferRef *objs, int nparts, LLVMTargetMachineRef tm, CompiledStep *code, double *secs,
                     char *err, size_t errlen) {
    void *step, *fail_node;
    double t = now();
    LlvmJit *j = llvm_jit(objs, nparts, tm, &step, &fail_node, err, errlen);
    *secs += now() - t;
    if (!j) return -1;
    code->step = (StepFn)(uintptr_t)step;
    code->fail_node = fail_node;
    code->owner = j;
    code->release = release_jit;
    code->poll = NULL;
    return 0;
}

/* The optimized code: the objects (from the cache if read and there, else
 * if build built and stored), then the JIT. A cached object the JIT cannot
 * link (no valid entry should be one, but a cache must never fail a run)
 * is compiled again, and the fresh object replaces it. Returns 0, -1 with
 * a message, or (without build) 1: not in the cache. */
static int compile_optimized(const Graph *g, const KernelPlan *plan, CompiledStep *code, int read, int build,
                             LlvmTimes *lt, char *err, size_t errlen) {
    int nparts = compile_parts(plan);
    for (;; read = 0) {
        double t = now();
        LLVMTargetMachineRef tm = llvm_host_machine(1, 0, err, errlen);
        lt->jit += now() - t;
        LLVMMemoryBufferRef objs[MAX_PARTS];
        int hit;
        if (!tm) return -1;
        if (find_objects(g, plan, code->profiled, nparts, tm, read, build, objs, &code->scratch_floats, &hit, lt,
                         err, errlen)) {
            LLVMDisposeTargetMachine(tm);
            return -1;
        }
        if (!build && !hit) {
            LLVMDisposeTargetMachine(tm);
            return 1;
        }
        if (!link_code(objs, nparts, tm, code, &lt->jit, err, errlen)) {
            lt->cache_hits += hit;
            lt->modules += nparts;
            return 0;
        }
        if (!hit) return -1;
        note(lt, err, "compiled again");
    }
}

/* ---- tiers -------------------------------------------------------------------
 * A step not in the code cache first runs as quick code (SROA and -O0: a
 * tenth of the compile time, 1.5-2x the step time) while its optimized
 * code is compiled, and stored in the cache, on a thread of its own; the
 * engine swaps it in before the first run after it is ready
 * (CompiledStep.poll). Both compute the same bits (llvm_optimize). */

static _Atomic int tier_mode = LLVM_TIERS_ON;
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pending_done = PTHREAD_COND_INITIALIZER;
static int pending; /* background compiles not finished */

/* See llvm_backend.h. */
void llvm_set_tiers(LlvmTiers mode) { tier_mode = (int)mode; }

/* See llvm_backend.h. */
void llvm_tiers_wait(void) {
    pthread_mutex_lock(&pending_lock);
    while (pending) pthread_cond_wait(&pending_done, &pending_lock);
    pthread_mutex_unlock(&pending_lock);
}

static void pending_add(int d) {
    pthread_mutex_lock(&pending_lock);
    pending += d;
    if (!pending) pthread_cond_broadcast(&pending_done);
    pthread_mutex_unlock(&pending_lock);
}

/* The quick code's owner: its JIT, and the optimized code on its way. */
typedef struct {
    const Graph *g;
    KernelPlan plan;       /* a copy of the engine's (same arrays): the engine releases us before freeing them */
    LlvmJit *quick;
    pthread_t thread;
    int started;           /* the thread runs (not with LLVM_TIERS_QUICK_ONLY) */
    _Atomic int done;      /* the background compile has finished; then: */
    int rc;                /* 0: next is the optimized code */
    CompiledStep next;
    int adopted;           /* next belongs to the engine now */
    int runs;              /* runs asked about (poll) before next was adopted */
} Tiered;

static void *optimize_in_background(void *arg) {
    Tiered *u = arg;
    LlvmTimes lt = {0};
    char err[200]; /* room in tier_note for what follows */
    u->next = (CompiledStep){0};
    u->rc = compile_optimized(u->g, &u->plan, &u->next, 0, 1, &lt, err, sizeof err);
    if (u->rc) snprintf(lt.tier_note, sizeof lt.tier_note, "the optimized code failed (%s); the quick code ran", err);
    add_totals(&lt);
    u->done = 1;
    pending_add(-1);
    return NULL;
}

static int poll_tiered(void *owner, CompiledStep *next) {
    Tiered *u = owner;
    if (u->adopted) return 0;
    u->runs++;
    if (!u->done || u->rc) return 0;
    u->runs--; /* the run about to start runs the optimized code */
    *next = u->next;
    u->adopted = 1;
    return 1;
}

/* Waits for the background compile (it may be running still: an engine
 * closed after a few runs), frees the quick code, and the optimized code
 * unless the engine took it. */
static void release_tiered(void *owner) {
    Tiered *u = owner;
    if (u->started) pthread_join(u->thread, NULL);
    if (!u->adopted && !u->rc && u->next.release) u->next.release(u->next.owner);
    llvm_jit_free(u->quick);
    add_totals(&(LlvmTimes){.quick_runs = u->runs});
    free(u);
}

/* Quick code for g now, its optimized code started in the background. */
static int compile_tiered(const Graph *g, const KernelPlan *plan, CompiledStep *code, LlvmTimes *lt, char *err,
                          size_t errlen) {
    int nparts = compile_parts(plan);
    double t = now();
    LLVMTargetMachineRef tm = llvm_host_machine(1, 1, err, errlen);
    LLVMMemoryBufferRef objs[MAX_PARTS];
    LlvmTimes phases = {0}; /* not reported apart: the quick code's time is lt->quick, whole */
    if (!tm) return -1;
    if (build_objects(g, plan, 0, 1, nparts, tm, objs, &code->scratch_floats, &phases, err, errlen)) {
        LLVMDisposeTargetMachine(tm);
        return -1;
    }
    if (link_code(objs, nparts, tm, code, &phases.jit, err, errlen)) return -1;
    lt->quick += now() - t;
    lt->quick_modules += nparts;
    Tiered *u = xcalloc(1, sizeof *u);
    u->g = g;
    u->plan = *plan;
    u->quick = code->owner;
    if (tier_mode != LLVM_TIERS_QUICK_ONLY) {
        pending_add(1);
        if (pthread_create(&u->thread, NULL, optimize_in_background, u)) {
            pending_add(-1);
            free(u);
            llvm_jit_free(code->owner);
            return compile_optimized(g, plan, code, 0, 1, lt, err, errlen); /* no thread to be had: wait for it */
        }
        u->started = 1;
    }
    code->owner = u;
    code->release = release_tiered;
    code->poll = poll_tiered;
    return 0;
}

/* g's code: from the cache, or (tiers on) quick code now and the optimized
 * code in the background, or the optimized code compiled now. The
 * profiled build is never tiered: its times are the optimized code's. */
static int compile(const Graph *g, const KernelPlan *plan, CompiledStep *code, LlvmTimes *lt, char *err,
                   size_t errlen) {
    if (tier_mode == LLVM_TIERS_QUICK_ONLY && !code->profiled) return compile_tiered(g, plan, code, lt, err, errlen);
    int wait = tier_mode == LLVM_TIERS_OFF || code->profiled;
    int rc = compile_optimized(g, plan, code, 1, wait, lt, err, errlen);
    return rc == 1 ? compile_tiered(g, plan, code, lt, err, errlen) : rc;
}

/* compile, timed into a module's own LlvmTimes, then added to the totals. */
static int compile_timed(const Graph *g, const KernelPlan *plan, CompiledStep *code, char *err, size_t errlen) {
    LlvmTimes lt = {0};
    int rc = compile(g, plan, code, &lt, err, errlen);
    add_totals(&lt);
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
