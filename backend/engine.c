/* engine.c — see engine.h. */
#include "engine.h"

#include <pthread.h>
#include <stdio.h>


int engine_open(Engine *e, const EngineOps *ops, const Graph *g, char *err, size_t errlen) {
    e->ops = ops;
    e->g = g;
    e->impl = ops->create(g, err, errlen);
    return e->impl ? 0 : -1;
}

/* One engine_open on a thread of its own. */
typedef struct {
    Engine *e;
    const EngineOps *ops;
    const Graph *g;
    int profiled;
    int rc;
    char err[512];
} OpenJob;

static void *open_job(void *arg) {
    OpenJob *j = arg;
    j->rc = j->profiled ? engine_open_profiled(j->e, j->ops, j->g, j->err, sizeof j->err)
                        : engine_open(j->e, j->ops, j->g, j->err, sizeof j->err);
    return NULL;
}

int engine_open_pair(Engine *a, const Graph *ga, int profiled_a, Engine *b, const Graph *gb, const EngineOps *ops, char *err,
                     size_t errlen) {
    OpenJob ja = {a, ops, ga, profiled_a, 0, ""}, jb = {b, ops, gb, 0, 0, ""};
    pthread_t t;
    int threaded = pthread_create(&t, NULL, open_job, &jb) == 0;
    if (!threaded) open_job(&jb); /* no thread to be had: one after the other */
    open_job(&ja);
    int ra = ja.rc;
    if (ra) snprintf(err, errlen, "%s", ja.err);
    if (threaded) pthread_join(t, NULL);
    if (ra == 0 && jb.rc == 0) return 0;
    if (ra == 0) snprintf(err, errlen, "%s", jb.err);
    if (ra == 0) engine_close(a);
    if (jb.rc == 0) engine_close(b);
    return -1;
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
