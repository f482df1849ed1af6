/* engine.c — see engine.h. */
#include "engine.h"

#include <stdio.h>


int engine_open(Engine *e, const EngineOps *ops, const Graph *g, char *err, size_t errlen) {
    e->ops = ops;
    e->g = g;
    e->impl = ops->create(g, err, errlen);
    return e->impl ? 0 : -1;
}

int engine_open_profiled(Engine *e, const EngineOps *ops, const Graph *g, char *err, size_t errlen) {
    e->ops = ops;
    e->g = g;
    e->impl = NULL;
    if (!ops->create_profiled) {
        snprintf(err, errlen, "profiling needs the llvm backend (the %s backend does not time its kernels)", ops->name);
        return -1;
    }
    e->impl = ops->create_profiled(g, err, errlen);
    return e->impl ? 0 : -1;
}

const EngineProfile *engine_profile(Engine *e, int reset) {
    return e->impl && e->ops->profile ? e->ops->profile(e->impl, reset) : NULL;
}

void engine_close(Engine *e) {
    if (e->impl) e->ops->destroy(e->impl);
    e->impl = NULL;
}
