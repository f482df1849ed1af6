/* step_time.c — the time of one training step (forward, loss, backward,
 * optimizer update) of a model, on one backend, with random data.
 *
 *   mmgc-bench-step MODEL.mmg [--backend=interp|llvm] [--steps N] [--set K=V ...]
 *
 * Prints the median milliseconds per step over N steps (after 2 warm-up
 * steps) and the peak resident memory. bench/run.sh puts it beside PyTorch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "elaborate.h"
#include "engine.h"
#include "params.h"
#include "passes.h"
#include "program.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Random inputs, labels in [0, classes), sample weights 1. */
static void fill(Engine *e, const Graph *g, const Elaborated *m) {
    unsigned s = 12345;
    for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        if (n->op != OP_INPUT && n->op != OP_LABEL) continue;
        int64_t count = ir_numel(&n->type.shape);
        for (int64_t k = 0; k < count; k++) {
            s = s * 1664525u + 1013904223u;
            if (n->op == OP_LABEL) engine_i64(e, i)[k] = (int64_t)((s >> 8) % 10);
            else engine_f32(e, i)[k] = i == m->weight_node ? 1.0f : (float)((s >> 8) / 8388608.0 - 1.0);
        }
    }
}

int main(int argc, char **argv) {
    const char *file = NULL, *backend = "interp";
    int steps = 20, nsets = 0;
    SetOption *sets = calloc((size_t)argc, sizeof *sets);
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--backend=", 10)) backend = argv[i] + 10;
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--set") && i + 1 < argc) sets[nsets++].text = argv[++i];
        else file = argv[i];
    }
    const EngineOps *ops = engine_find(backend);
    if (!file || !ops || steps < 1) {
        fprintf(stderr, "usage: mmgc-bench-step MODEL.mmg [--backend=interp|llvm] [--steps N] [--set K=V]\n");
        return 2;
    }
    Program p;
    program_init(&p);
    program_default_libdirs(&p);
    Elaborated m = {0};
    char err[1024];
    if (program_load(&p, file) || elaborate(&p, NULL, sets, nsets, &m)) {
        diag_print(&p.diag, stderr);
        return 1;
    }
    PassConfig cfg = {STAGE_TRAIN, m.train.optimizer, 0, NULL, NULL};
    PassError perr;
    ParamStore ps;
    Engine e = {0};
    if (pipeline_run(m.graph, &cfg, &perr) || params_init(&ps, m.graph, err, sizeof err) ||
        engine_open(&e, ops, m.graph, err, sizeof err) || params_bind(&ps, &e, err, sizeof err)) {
        fprintf(stderr, "mmgc-bench-step: %s\n", perr.msg[0] ? perr.msg : err);
        return 1;
    }
    params_reset(&ps, m.graph, 0);
    fill(&e, m.graph, &m);
    double *ms = calloc((size_t)steps, sizeof *ms);
    for (int i = -2; i < steps; i++) {
        double t0 = now();
        if (e.ops->run(e.impl, 1, 0, (uint64_t)(i + 2), err, sizeof err)) {
            fprintf(stderr, "mmgc-bench-step: %s\n", err);
            return 1;
        }
        e.ops->apply_updates(e.impl);
        if (i >= 0) ms[i] = now() - t0;
    }
    qsort(ms, (size_t)steps, sizeof *ms, cmp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%.2f ms/step  %.0f MiB peak  (%s, batch %d, %d steps)\n", ms[steps / 2], ru.ru_maxrss / 1024.0, backend,
           m.train.batch, steps);
    free(ms);
    engine_close(&e);
    params_free(&ps);
    elaborated_free(&m);
    program_free(&p);
    free(sets);
    return 0;
}
