/* engine.c — see engine.h. */
#include "engine.h"

#include <string.h>

/* Every backend linked into this program. */
static const EngineOps *const backends[] = {&engine_llvm, &engine_interp};

const EngineOps *engine_find(const char *name) {
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (!strcmp(backends[i]->name, name)) return backends[i];
    return NULL;
}

int engine_open(Engine *e, const EngineOps *ops, const Graph *g, char *err, size_t errlen) {
    e->ops = ops;
    e->g = g;
    e->impl = ops->create(g, err, errlen);
    return e->impl ? 0 : -1;
}

void engine_close(Engine *e) {
    if (e->impl) e->ops->destroy(e->impl);
    e->impl = NULL;
}
