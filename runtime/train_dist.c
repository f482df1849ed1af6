/* train_dist.c — see train_dist.h. */
#include "train_dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "dist.h"
#include "lr_schedule.h"
#include "passes.h"
#include "util.h"

struct DistStep {
    const Elaborated *shard;   /* the model at batch Bs */
    Graph *grad_graph, *update_graph;
    Engine grad, update;
    int Bs;                    /* rows of a shard: ceil(B / N) */
    Dataset data;              /* s->data's arrays under the shard graph's node ids */
    int label, logits, loss;   /* in the gradient step (-1 if absent) */
    int lr;                    /* the update step's input "optimizer.lr", or -1 */
    int *grad_out, *grad_in;   /* per ParamStore slot: its gradient output / input, -1 if not a parameter */
    int *averaged;             /* per ParamStore slot: a model's own state, averaged over ranks */
    float *pack;               /* what is summed: W_r grads, the model's state, then the step's numbers */
    size_t npack;
    /* --time, over every step: the gradient step, waiting for the slowest
     * rank (a barrier, only with --time), the sum itself, the update step */
    double grad_seconds, wait_seconds, sum_seconds, update_seconds;
    int64_t steps;
};

/* After the parameters and the state in the packed block. */
enum { X_LOSS, X_WEIGHT, X_CORRECT, X_STOP, NX };

/* A graph of every PARAM of m, each gradient an INPUT made the output
 * grad:NAME, through the optimizer pass: the update alone, on gradients
 * computed elsewhere. Same names as the single-process step, so its
 * moments and step count are the same slots of the ParamStore (and of a
 * checkpoint). */
static Graph *update_graph(const Elaborated *m, char *err, size_t n) {
    Graph *g = ir_graph_new("update");
    Builder b = {g, {0, 0, 0}};
    const Graph *f = m->graph;
    for (int i = 0; i < f->nnodes; i++) {
        if (f->nodes[i].op != OP_PARAM) continue;
        TType t = f->nodes[i].type;
        const char *name = f->nodes[i].name;
        int p = b_op(&b, OP_PARAM, NULL, 0, NULL, 0, 0, &t);
        ir_set_name(g, p, name);
        ir_set_init(g, p, f->nodes[i].init);
        int in = b_op(&b, OP_INPUT, NULL, 0, NULL, 0, 0, &t);
        ir_set_name(g, in, arena_printf(&g->arena, "dist." IR_GRAD "%s", name));
        ir_add_output(g, arena_printf(&g->arena, IR_GRAD "%s", name), in);
    }
    PassConfig cfg = {STAGE_TRAIN, m->train.optimizer, 0, NULL, NULL};
    PassError perr;
    char why[512];
    if (pass_optimizer(g, &cfg, &perr) || pass_simplify(g, &cfg, &perr)) {
        snprintf(err, n, "%s", perr.msg);
        ir_graph_free(g);
        return NULL;
    }
    if (ir_verify(g, why, sizeof why)) {
        snprintf(err, n, "internal error: the data-parallel update step is invalid: %s", why);
        ir_graph_free(g);
        return NULL;
    }
    return g;
}

/* The node of input or label `name` in the shard model, or -1. */
static int shard_node(const Elaborated *shard, const char *name, int is_label) {
    const ModelIO *io = is_label ? shard->labels : shard->inputs;
    int n = is_label ? shard->nlabels : shard->ninputs;
    for (int i = 0; i < n; i++)
        if (!strcmp(io[i].name, name)) return io[i].node;
    return -1;
}

/* Binds every PARAM and STATE of e's graph to the store's slot of the same
 * name (the two steps have their own node ids). */
static int bind_by_name(ParamStore *ps, Engine *e, char *err, size_t n) {
    for (int i = 0; i < e->g->nnodes; i++) {
        const Node *nd = &e->g->nodes[i];
        if (nd->op != OP_PARAM && nd->op != OP_STATE) continue;
        const ParamSlot *p = nd->name ? params_find(ps, nd->name) : NULL;
        if (!p) return snprintf(err, n, "internal error: '%s' of the data-parallel step is not a parameter of the model", nd->name ? nd->name : "?"), -1;
        if (e->ops->bind(e->impl, i, ps->block + p->offset))
            return snprintf(err, n, "cannot bind parameter '%s'", nd->name), -1;
    }
    return 0;
}

/* Lays out the packed block over the ParamStore's slots. */
static int layout(Session *s, DistStep *d, char *err, size_t n) {
    const ParamStore *ps = &s->ps;
    d->grad_out = xmalloc((size_t)(ps->n + 1) * sizeof *d->grad_out);
    d->grad_in = xmalloc((size_t)(ps->n + 1) * sizeof *d->grad_in);
    d->averaged = xmalloc((size_t)(ps->n + 1) * sizeof *d->averaged);
    size_t at = 0;
    for (int i = 0; i < ps->n; i++) {
        const ParamSlot *p = &ps->slots[i];
        Op op = s->step_graph->nodes[p->node].op;
        d->grad_out[i] = d->grad_in[i] = -1;
        d->averaged[i] = op == OP_STATE && !p->is_state;
        if (op == OP_PARAM) {
            char name[512];
            snprintf(name, sizeof name, IR_GRAD "%s", p->name);
            d->grad_out[i] = ir_output(d->grad_graph, name);
            snprintf(name, sizeof name, "dist." IR_GRAD "%s", p->name);
            d->grad_in[i] = ir_input(d->update_graph, name);
            if (d->grad_out[i] < 0 || d->grad_in[i] < 0)
                return snprintf(err, n, "internal error: no gradient of '%s' in the data-parallel step", p->name), -1;
        }
        if (op == OP_PARAM || d->averaged[i]) at += (size_t)ir_numel(&p->shape);
    }
    d->npack = at + NX;
    d->pack = xmalloc(d->npack * sizeof *d->pack);
    return 0;
}

int dist_step_open(Session *s, const Elaborated *shard, char *err, size_t n) {
    DistStep *d = s->dist = xcalloc(1, sizeof *d);
    d->shard = shard;
    d->Bs = shard->train.batch;
    d->label = d->logits = d->loss = d->lr = -1;
    d->data = s->data;
    d->data.t = xmalloc((size_t)(s->data.n + 1) * sizeof *d->data.t);
    for (int t = 0; t < s->data.n; t++) {
        d->data.t[t] = s->data.t[t];
        d->data.t[t].node = shard_node(shard, s->data.t[t].name, s->data.t[t].is_label);
        if (d->data.t[t].node < 0)
            return snprintf(err, n, "internal error: no '%s' in the data-parallel step", s->data.t[t].name), -1;
        if (d->data.t[t].is_label && d->label < 0) d->label = d->data.t[t].node;
    }
    if (!(d->grad_graph = stage_graph(shard, STAGE_GRAD, err, n)) || !(d->update_graph = update_graph(s->m, err, n))) return -1;
    d->loss = ir_output(d->grad_graph, IR_LOSS);
    if (s->data.nclasses) d->logits = ir_output(d->grad_graph, IR_LOGITS);
    d->lr = ir_input(d->update_graph, IR_LR);
    if (layout(s, d, err, n)) return -1;
    if (engine_open(&d->grad, s->o->engine, d->grad_graph, err, n) || bind_by_name(&s->ps, &d->grad, err, n) ||
        engine_open(&d->update, s->o->engine, d->update_graph, err, n) || bind_by_name(&s->ps, &d->update, err, n))
        return -1;
    return 0;
}

void dist_step_close(DistStep *d) {
    if (!d) return;
    engine_close(&d->grad);
    engine_close(&d->update);
    ir_graph_free(d->grad_graph);
    ir_graph_free(d->update_graph);
    free(d->data.t);
    free(d->grad_out);
    free(d->grad_in);
    free(d->averaged);
    free(d->pack);
    free(d);
}

/* Right predictions among the first `count` rows of the gradient step. */
static float shard_correct(Session *s, DistStep *d, int count) {
    if (d->logits < 0 || d->label < 0) return 0;
    const float *lg = engine_f32(&d->grad, d->logits);
    const int64_t *y = engine_i64(&d->grad, d->label);
    int c = s->data.nclasses, right = 0;
    for (int i = 0; i < count; i++) right += metrics_argmax(lg + (size_t)i * c, c) == y[i];
    return (float)right;
}

/* Packs this rank's W_r * gradients, the model's state and the step's numbers. */
static void pack(Session *s, DistStep *d, int rows, const float *x) {
    const ParamStore *ps = &s->ps;
    float w = (float)rows, *at = d->pack;
    for (int i = 0; i < ps->n; i++) {
        size_t k = (size_t)ir_numel(&ps->slots[i].shape);
        if (d->grad_out[i] >= 0) {
            const float *g = engine_f32(&d->grad, d->grad_out[i]);
            for (size_t j = 0; j < k; j++) at[j] = rows ? w * g[j] : 0.0f;
        } else if (d->averaged[i])
            memcpy(at, ps->block + ps->slots[i].offset, k * sizeof *at);
        else
            continue;
        at += k;
    }
    memcpy(at, x, NX * sizeof *x);
}

/* The summed block: the global gradient (divided by W) into the update
 * step's inputs, the model's state averaged over ranks into the store. */
static void unpack(Session *s, DistStep *d, float w) {
    ParamStore *ps = &s->ps;
    const float *at = d->pack;
    float ranks = (float)dist_size();
    for (int i = 0; i < ps->n; i++) {
        size_t k = (size_t)ir_numel(&ps->slots[i].shape);
        if (d->grad_out[i] >= 0) {
            float *g = engine_f32(&d->update, d->grad_in[i]);
            for (size_t j = 0; j < k; j++) g[j] = at[j] / w;
        } else if (d->averaged[i]) {
            float *v = ps->block + ps->slots[i].offset;
            for (size_t j = 0; j < k; j++) v[j] = at[j] / ranks;
        } else
            continue;
        at += k;
    }
}

int dist_step_run(Session *s, const int64_t *idx, int count, int epoch, int interrupted, double *loss,
                  int64_t *correct, int *stop, char *err, size_t n) {
    DistStep *d = s->dist;
    int rank = dist_rank(), lo = rank * d->Bs;
    int rows = count - lo < 0 ? 0 : count - lo > d->Bs ? d->Bs : count - lo;
    float x[NX] = {0, (float)rows, 0, interrupted ? 1.0f : 0.0f};
    double t0 = session_now();
    if (rows > 0) {
        dataset_fill(&d->data, d->shard, &d->grad, SPLIT_TRAIN, idx + lo, rows, d->Bs, 1);
        /* each rank its own dropout masks: the shards' rows are different samples */
        uint64_t seed = s->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)rank);
        if (d->grad.ops->run(d->grad.impl, 1, seed, s->step, err, n)) return -1;
        d->grad.ops->apply_updates(d->grad.impl); /* the model's own state, per shard */
        x[X_LOSS] = (float)rows * (d->loss >= 0 ? engine_f32(&d->grad, d->loss)[0] : 0.0f);
        x[X_CORRECT] = shard_correct(s, d, rows);
    }
    pack(s, d, rows, x);
    double t1 = session_now();
    if (s->o->time) dist_barrier(); /* so that the sum's time is the sum's, not the wait for the slowest rank */
    double t2 = session_now();
    dist_sum_f32(d->pack, d->npack);
    double t3 = session_now();
    d->grad_seconds += t1 - t0;
    d->wait_seconds += t2 - t1;
    d->sum_seconds += t3 - t2;
    d->steps++;
    const float *sum = d->pack + d->npack - NX;
    float w = sum[X_WEIGHT];
    *loss = (double)sum[X_LOSS] / (double)w;
    *correct = (int64_t)sum[X_CORRECT];
    *stop = sum[X_STOP] > 0;
    unpack(s, d, w);
    if (!isfinite(*loss)) return 2;
    if (d->lr >= 0) engine_f32(&d->update, d->lr)[0] = (float)lr_schedule_at(&s->m->train.optimizer, epoch - 1, s->step);
    if (d->update.ops->run(d->update.impl, 1, s->seed, s->step, err, n)) return -1;
    d->update.ops->apply_updates(d->update.impl);
    d->update_seconds += session_now() - t3;
    return 0;
}

void dist_step_print_time(const DistStep *d, FILE *out) {
    double per = d->steps ? 1e3 / (double)d->steps : 0.0;
    fprintf(out,
            "time: data parallel over %d processes, batch %d each, %lld steps; per step: gradients %.2f ms, wait for the "
            "slowest rank %.2f ms, all-reduce of %.2f MiB %.2f ms, update %.2f ms\n",
            dist_size(), d->Bs, (long long)d->steps, per * d->grad_seconds, per * d->wait_seconds,
            (double)d->npack * sizeof(float) / (1024.0 * 1024.0), per * d->sum_seconds, per * d->update_seconds);
}

void dist_metrics_sum(Metrics *m) {
    int c = m->nclasses;
    size_t ni = 2 + (size_t)c * (size_t)c;
    int64_t *v = xmalloc(ni * sizeof *v);
    v[0] = m->samples;
    v[1] = m->correct;
    if (c) memcpy(v + 2, m->confusion, (size_t)c * (size_t)c * sizeof *v);
    dist_sum_f64(&m->loss_sum, 1);
    dist_sum_i64(v, ni);
    m->samples = v[0];
    m->correct = v[1];
    if (c) memcpy(m->confusion, v + 2, (size_t)c * (size_t)c * sizeof *v);
    free(v);
}
