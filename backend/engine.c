/* engine.c — see engine.h. */
#include "engine.h"


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
