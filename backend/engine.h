/* engine.h — the one interface between the runtime and a backend.
 *
 * An Engine runs one compiled graph (a training step or an evaluation)
 * once per batch. Sources can be bound to memory the runtime owns, so the
 * training step and the evaluation share one block of parameters. The
 * reference interpreter implements it (backend/interp/engine_interp.c).
 */
#ifndef MMGC_ENGINE_H
#define MMGC_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* What a profiled engine measured (see EngineOps.create_profiled): the
 * step's kernels as the backend planned them (passes/fusion.h) and the
 * time spent in each. */
typedef struct {
    int nk;                    /* kernels, in the order the step runs them  */
    const int *kernel_of;      /* [g->nnodes]: a node's kernel, or -1        */
    const unsigned char *kept; /* [g->nnodes]: the node's value is stored    */
    const uint64_t *kernel_ns; /* [nk]: nanoseconds inside each kernel, summed over the runs */
    uint64_t step_ns;          /* nanoseconds of the step calls, summed      */
    uint64_t runs;             /* step calls measured                        */
    int threads;               /* threads the step ran on                    */
    const int *view_of;        /* [g->nnodes]: the value a node is a view of (no copy), or -1; NULL: none */
} EngineProfile;

typedef struct {
    const char *name;
    /* Prepares g (which must outlive the engine); NULL with a message on failure. */
    void *(*create)(const Graph *g, char *err, size_t errlen);
    /* Makes external source `node` (input, label, param, state) use
     * `memory`; 0 or -1. */
    int (*bind)(void *impl, int node, void *memory);
    /* The buffer of a node (inputs are written here before a run, outputs
     * read after). External sources (input, label, param, state) and
     * outputs always have one; another node may have none (NULL) when a
     * backend fuses it away, inlines it, or reuses its memory. */
    void *(*buffer)(void *impl, int node);
    /* One pass over the graph; training selects dropout; 0 or -1 with a message. */
    int (*run)(void *impl, int training, uint64_t seed, uint64_t step, char *err, size_t errlen);
    /* Writes every update:NAME output into the PARAM or STATE NAME, none
     * when the loss (ir_update_guard) is not finite. A backend may have
     * written some during run already (the LLVM one computes an update
     * in place where nothing reads the old value after it: fusion.h), so
     * between run and apply_updates a PARAM or STATE holds its value from
     * before or after; after apply_updates, the update's. */
    void (*apply_updates)(void *impl);
    void (*destroy)(void *impl);
    /* Optional (NULL: the backend cannot profile). As create, but each run
     * also times every kernel of the step (a different build of the step:
     * the one create makes has no timing in it). */
    void *(*create_profiled)(const Graph *g, char *err, size_t errlen);
    /* Optional: what a profiled engine measured since it was made or last
     * reset (reset: zero the counters first); NULL when not profiling.
     * Owned by the engine, valid until the next run. */
    const EngineProfile *(*profile)(void *impl, int reset);
} EngineOps;

typedef struct {
    const EngineOps *ops;
    void *impl;
    const Graph *g;
} Engine;

/* The reference interpreter. */
extern const EngineOps engine_interp;
/* The LLVM backend: the graph JIT-compiled for the host (backend/llvm). */
extern const EngineOps engine_llvm;
/* A program's own steps, compiled ahead of time (backend/llvm/engine_aot.c). */
extern const EngineOps engine_aot;

/* The backends linked into this program, the default first, NULL-ended:
 * defined once per program (backend/backends.c for mmgc: llvm, interp), so
 * a program without LLVM links a list without it. */
extern const EngineOps *const engine_backends[];

/* The backend named `name` ("interp", "llvm"), or NULL; the default one. */
const EngineOps *engine_find(const char *name);
const EngineOps *engine_default(void);
/* "llvm, interp": the registered names, for messages. */
const char *engine_names(void);

int engine_open(Engine *e, const EngineOps *ops, const Graph *g, char *err, size_t errlen);
/* engine_open of a on ga (engine_open_profiled if profiled_a) and b on gb
 * at once, b on a second thread: a training run's step and evaluation
 * compile in the time of the larger.
 * 0, or -1 with the first failure's message and neither engine open. */
int engine_open_pair(Engine *a, const Graph *ga, int profiled_a, Engine *b, const Graph *gb, const EngineOps *ops, char *err,
                     size_t errlen);
/* engine_open with create_profiled; -1 with "profiling needs the llvm
 * backend ..." when ops cannot profile. */
int engine_open_profiled(Engine *e, const EngineOps *ops, const Graph *g, char *err, size_t errlen);
/* The engine's profile (EngineOps.profile), or NULL. */
const EngineProfile *engine_profile(Engine *e, int reset);
void engine_close(Engine *e);

static inline float *engine_f32(Engine *e, int node) { return (float *)e->ops->buffer(e->impl, node); }
static inline int64_t *engine_i64(Engine *e, int node) { return (int64_t *)e->ops->buffer(e->impl, node); }

#endif
