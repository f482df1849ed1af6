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
    int rc;
    char err[512];
} OpenJob;

static void *open_job(void *arg) {
    OpenJob *j = arg;
    j->rc = engine_open(j->e, j->ops, j->g, j->err, sizeof j->err);
    return NULL;
}

int engine_open_pair(Engine *a, const Graph *ga, Engine *b, const Graph *gb, const EngineOps *ops, char *err,
                     size_t errlen) {
    OpenJob jb = {b, ops, gb, 0, ""};
    pthread_t t;
    int threaded = pthread_create(&t, NULL, open_job, &jb) == 0;
    if (!threaded) open_job(&jb); /* no thread to be had: one after the other */
    int ra = engine_open(a, ops, ga, err, errlen);
    if (threaded) pthread_join(t, NULL);
    if (ra == 0 && jb.rc == 0) return 0;
    if (ra == 0) snprintf(err, errlen, "%s", jb.err);
    if (ra == 0) engine_close(a);
    if (jb.rc == 0) engine_close(b);
    return -1;
}

void engine_close(Engine *e) {
    if (e->impl) e->ops->destroy(e->impl);
    e->impl = NULL;
}
