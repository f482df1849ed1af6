/* bench_step.c — the time of a model's training step (or evaluation step)
 * on a backend, with random data: what bench/ reports, for mmgc's backends
 * (mmgc-bench-step) and for a program compiled ahead of time (PROGRAM
 * bench), from one loop. */
#include "bench_step.h"

#include <stdlib.h>
#include <time.h>

#include "mem_usage.h"
#include "params.h"
#include "profile.h"
#include "train.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Random inputs, labels in [0, classes) (the logits' width, else 2),
 * sample weights 1, the training flag as given. */
static void fill(Engine *e, const Graph *g, const Elaborated *m, int training) {
    unsigned s = 12345;
    int logits = ir_output(m->graph, IR_LOGITS);
    const Shape *ls = logits >= 0 ? &m->graph->nodes[logits].type.shape : NULL;
    int64_t classes = ls && ls->rank > 0 ? ls->dim[ls->rank - 1] : 2;
    for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        if (n->op != OP_INPUT && n->op != OP_LABEL) continue;
        int64_t count = ir_numel(&n->type.shape);
        for (int64_t k = 0; k < count; k++) {
            s = s * 1664525u + 1013904223u;
            if (n->op == OP_LABEL) engine_i64(e, i)[k] = (int64_t)((s >> 8) % (unsigned)classes);
            else if (i == m->weight_node) engine_f32(e, i)[k] = 1.0f;
            else if (i == m->training_node) engine_f32(e, i)[k] = (float)training;
            else engine_f32(e, i)[k] = (float)((s >> 8) / 8388608.0 - 1.0);
        }
    }
}

/* --profile: the table of the steps measured, and its JSON if asked. */
static int report_profile(Engine *e, const Graph *g, const Elaborated *m, const char *json, FILE *out, char *err, size_t n) {
    Profile p;
    if (profile_build(g, engine_profile(e, 0), (const char *const *)m->block, m->graph->nnodes, &p, err, n)) return -1;
    profile_measure_limits(&p, PROFILE_LIMIT_SECONDS);
    profile_print(&p, out);
    int rc = json ? profile_write_json(&p, json, err, n) : 0;
    profile_free(&p);
    return rc;
}

int bench_steps(const Elaborated *m, const EngineOps *ops, int steps, int eval, int profile, const char *profile_json,
                FILE *out, char *err, size_t n) {
    Graph *g = train_step_graph(m, !eval, err, n);
    if (!g) return -1;
    ParamStore ps;
    Engine e = {0};
    int rc = -1;
    if (params_init(&ps, g, err, n) == 0) {
        int opened = profile ? engine_open_profiled(&e, ops, g, err, n) : engine_open(&e, ops, g, err, n);
        if (opened == 0 && params_bind(&ps, &e, err, n) == 0) {
            params_reset(&ps, g, 0);
            fill(&e, g, m, !eval);
            double *ms = calloc((size_t)steps, sizeof *ms);
            rc = 0;
            for (int i = -2; i < steps && !rc; i++) { /* two warm-up steps */
                if (i == 0 && profile) engine_profile(&e, 1); /* the warm-up is not profiled */
                double t0 = now_ms();
                rc = e.ops->run(e.impl, !eval, 0, (uint64_t)(i + 2), err, n);
                if (!eval) e.ops->apply_updates(e.impl);
                if (i >= 0) ms[i] = now_ms() - t0;
            }
            if (!rc) {
                qsort(ms, (size_t)steps, sizeof *ms, cmp);
                fprintf(out, "%.2f ms/step  %.0f MiB peak  (%s, batch %d, %d %ssteps)\n", ms[steps / 2],
                        mem_peak_rss_mib(), ops->name, m->train.batch, steps, eval ? "evaluation " : "");
                if (profile) rc = report_profile(&e, g, m, profile_json, out, err, n);
            }
            free(ms);
        }
        engine_close(&e);
        params_free(&ps);
    }
    ir_graph_free(g);
    return rc;
}
