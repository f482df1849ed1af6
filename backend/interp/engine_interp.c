/* engine_interp.c — the interpreter behind the runtime's Engine interface. */
#include "engine.h"
#include "fpmode.h"
#include "interp.h"

static void *create(const Graph *g, char *err, size_t errlen) { return interp_new(g, err, errlen); }
static int bind(void *impl, int node, void *memory) { return interp_bind(impl, node, memory); }

static void *buffer(void *impl, int node) {
    Interp *in = impl;
    const Graph *g = interp_graph(in);
    return g->nodes[node].type.dtype == DT_I64 ? (void *)interp_i64(in, node) : (void *)interp_f32(in, node);
}

/* A training step with denormals flushed to zero, as the compiled
 * engines run it (fpmode.h). */
static int run(void *impl, int training, uint64_t seed, uint64_t step, char *err, size_t errlen) {
    if (!training) return interp_run(impl, training, seed, step, err, errlen);
    FpMode caller = fp_flush_denormals();
    int rc = interp_run(impl, training, seed, step, err, errlen);
    fp_set_mode(caller);
    return rc;
}

static void apply_updates(void *impl) { interp_apply_updates(impl); }
static void destroy(void *impl) { interp_free(impl); }

const EngineOps engine_interp = {"interp", create, bind, buffer, run, apply_updates, destroy, NULL, NULL};
