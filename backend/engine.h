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
    /* Writes every update:NAME output into the PARAM or STATE NAME. */
    void (*apply_updates)(void *impl);
    void (*destroy)(void *impl);
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
/* engine_open of a on ga and b on gb at once, b on a second thread: a
 * training run's step and evaluation compile in the time of the larger.
 * 0, or -1 with the first failure's message and neither engine open. */
int engine_open_pair(Engine *a, const Graph *ga, Engine *b, const Graph *gb, const EngineOps *ops, char *err,
                     size_t errlen);
void engine_close(Engine *e);

static inline float *engine_f32(Engine *e, int node) { return (float *)e->ops->buffer(e->impl, node); }
static inline int64_t *engine_i64(Engine *e, int node) { return (int64_t *)e->ops->buffer(e->impl, node); }

#endif
