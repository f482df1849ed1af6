/* train.c — the training loop and evaluation; see train.h.
 *
 * One Session holds everything a run needs: the data, the training-step
 * graph (the forward graph plus backward and update), one engine for the
 * step and one for evaluation, both bound to one ParamStore. Logs,
 * checkpoints and the report are in train_io.c.
 */
#include "train.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "breakdown.h"
#include "dist.h"
#include "lr_schedule.h"
#include "mem_usage.h"
#include "passes.h"
#include "profile.h"
#include "progress.h"
#include "train_dist.h"
#include "train_impl.h"
#include "util.h"

/* Streams of the run's random numbers (rng.h), one per purpose. */
enum { STREAM_SPLIT = 1, STREAM_EPOCH = 2, STREAM_SAMPLES = 3 };

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

double session_now(void) { return progress_now(); }

/* ---- setup --------------------------------------------------------------------- */

/* Cuts the validation split from train: the first val_split of a seeded
 * permutation validates, the rest trains. */
/* The validation and fit samples of the training split (none when only
 * evaluating), and the test samples. */
static void split(Session *s) {
    int64_t n = s->data.count[SPLIT_TRAIN];
    int64_t *perm = xmalloc((size_t)n * sizeof *perm);
    dataset_permutation(perm, n, s->seed, STREAM_SPLIT);
    s->nval = (int64_t)llround(s->m->train.val_split * (double)n);
    if (s->nval >= n) s->nval = n > 0 ? n - 1 : 0;
    s->nfit = n - s->nval;
    s->val = xmalloc((size_t)(s->nval + 1) * sizeof *s->val);
    s->fit = xmalloc((size_t)s->nfit * sizeof *s->fit);
    memcpy(s->val, perm, (size_t)s->nval * sizeof *perm);
    memcpy(s->fit, perm + s->nval, (size_t)s->nfit * sizeof *perm);
    free(perm);
    s->ntest = s->data.count[SPLIT_TEST];
    s->test = xmalloc((size_t)(s->ntest + 1) * sizeof *s->test);
    for (int64_t i = 0; i < s->ntest; i++) s->test[i] = i;
}

/* A split with no samples is an error naming it and the data set: train
 * (dataset_load refuses it already) and, when val_split makes one,
 * validation, when training; test always. */
static int check_splits(const Session *s, int training, char *err, size_t n) {
    const char *first = s->data.n ? s->data.t[0].name : "?";
    if (training && s->nfit == 0)
        return snprintf(err, n, "%s: the training split has no samples", s->data_dir), -1;
    if (training && s->nval == 0 && s->m->train.val_split > 0)
        return snprintf(err, n,
                        "%s: the validation split has no samples (val_split %g of %lld training sample%s); set val_split=0 "
                        "to train without one, or add samples",
                        s->data_dir, s->m->train.val_split, (long long)s->data.count[SPLIT_TRAIN],
                        s->data.count[SPLIT_TRAIN] == 1 ? "" : "s"),
               -1;
    if (s->ntest == 0)
        return snprintf(err, n, "%s: the test split has no samples (%s_test.npy is empty); there is nothing to evaluate",
                        s->data_dir, first),
               -1;
    return 0;
}

Graph *train_step_graph(const Elaborated *m, int training, char *err, size_t n) {
    Graph *g = stage_graph(m, training ? STAGE_TRAIN : STAGE_FORWARD, err, n);
    if (g && !training) pass_for_evaluation(g);
    return g;
}

Graph *stage_graph(const Elaborated *m, int stage, char *err, size_t n) {
    Graph *g = ir_clone(m->graph);
    PassConfig cfg = {(Stage)stage, m->train.optimizer, 0, NULL, NULL};
    PassError perr;
    if (pipeline_run(g, &cfg, &perr)) {
        snprintf(err, n, "%s", perr.msg);
        ir_graph_free(g);
        return NULL;
    }
    return g;
}

/* Opens an engine on g (profiled: timing its kernels) and binds it to the parameters. */
static int open_engine(Session *s, Engine *e, const Graph *g, int profiled, char *err, size_t n) {
    int rc = profiled ? engine_open_profiled(e, s->o->engine, g, err, n) : engine_open(e, s->o->engine, g, err, n);
    return rc || params_bind(&s->ps, e, err, n);
}

int session_open(Session *s, const Elaborated *m, const RunOptions *o, int training, char *err, size_t n) {
    memset(s, 0, sizeof *s);
    s->m = m;
    s->o = o;
    s->seed = (uint64_t)m->train.seed;
    s->B = m->train.batch;
    s->tty = isatty(2) && dist_rank() == 0; /* one progress line, rank 0's */
    s->started = time(NULL);
    const Graph *g = m->graph;
    s->logits = ir_output(g, IR_LOGITS);
    s->loss = ir_output(g, IR_LOSS);
    s->sample_loss = ir_output(g, IR_SAMPLE_LOSS);
    s->step_logits = -1;
    const char *dir = o->data_dir ? o->data_dir : m->data;
    if (!dir) {
        snprintf(err, n, "model '%s' names no data directory; add 'data \"DIR\"' to it or pass --data DIR", m->model);
        return -1;
    }
    s->data_dir = dir;
    double t0 = session_now();
    if (dataset_load(&s->data, dir, m, training, err, n)) return -1;
    s->time_load = session_now() - t0;
    s->data_mib = dataset_mib(&s->data);
    s->rss_load_mib = mem_peak_rss_mib(); /* the peak: a file held twice while loading would show here */
    split(s);
    if (check_splits(s, training, err, n)) return -1;
    t0 = session_now();
    if (!(s->step_graph = train_step_graph(m, training, err, n))) return -1;
    /* evaluating only, the step graph is the evaluation graph already */
    if (training && !(s->eval_graph = train_step_graph(m, 0, err, n))) return -1;
    s->lr = training ? ir_input(s->step_graph, IR_LR) : -1;
    if (training && s->data.nclasses) s->step_logits = ir_output(s->step_graph, IR_LOGITS);
    if (params_init(&s->ps, s->step_graph, err, n)) return -1;
    params_reset(&s->ps, s->step_graph, s->seed);
    /* Data parallel: the step graph only lays out the ParamStore (the same
     * slots, so the same checkpoints); two other graphs run the step. */
    int split_step = training && o->shard && dist_parallel();
    if (split_step && o->profile) {
        snprintf(err, n, "--profile times the compiled step of one process; it is not available in data-parallel "
                         "training (mpirun with more than one process)");
        return -1;
    }
    if (split_step && dist_step_open(s, o->shard, err, n)) return -1;
    /* one process trains with two compiled steps (train, evaluate): made at once, on two threads */
    const Graph *ge = training ? s->eval_graph : s->step_graph;
    if (training && !split_step ? engine_open_pair(&s->train, s->step_graph, o->profile, &s->eval, ge, s->o->engine, err, n) ||
                                      params_bind(&s->ps, &s->train, err, n) || params_bind(&s->ps, &s->eval, err, n)
                                : open_engine(s, &s->eval, ge, 0, err, n))
        return -1;
    s->time_compile = session_now() - t0;
    s->rss_compile_mib = mem_rss_mib();
    s->best = xmalloc((s->ps.nfloats + 1) * sizeof *s->best);
    metrics_init(&s->metrics, s->data.nclasses);
    return 0;
}

void session_close(Session *s) {
    dist_step_close(s->dist);
    engine_close(&s->train);
    engine_close(&s->eval);
    params_free(&s->ps);
    ir_graph_free(s->step_graph);
    ir_graph_free(s->eval_graph);
    dataset_free(&s->data);
    metrics_free(&s->metrics);
    breakdown_free(s->breakdown);
    if (s->profile) profile_free(s->profile);
    free(s->profile);
    free(s->val);
    free(s->fit);
    free(s->test);
    free(s->best);
    free(s->hist.train_loss);
    free(s->hist.val_loss);
    free(s->hist.val_accuracy);
    free(s->hist.train_accuracy);
    free(s->hist.seconds);
    free(s->hist.rate);
}

/* ---- batches ----------------------------------------------------------------------- */

/* The training engine gets training = 1, the evaluation engine 0. */
void session_fill(Session *s, Engine *e, int split, const int64_t *idx, int count) {
    dataset_fill(&s->data, s->m, e, split, idx, count, s->B, e == &s->train);
}

/* The label tensor's values in the engine (the first label), or NULL. */
static const int64_t *labels_of(Session *s, Engine *e) {
    for (int t = 0; t < s->data.n; t++)
        if (s->data.t[t].is_label) return engine_i64(e, s->data.t[t].node);
    return NULL;
}

/* Runs evaluation over idx[0..n) of a split into s->metrics. Over
 * several processes each takes every N-th batch and the metrics are summed,
 * so every rank has the same numbers (and decides early stopping alike). */
int session_evaluate(Session *s, int split, const int64_t *idx, int64_t n, char *err, size_t errlen) {
    metrics_reset(&s->metrics);
    Engine *e = &s->eval;
    int64_t nbatches = (n + s->B - 1) / s->B, ranks = dist_size(), first = dist_rank();
    Progress bar;
    progress_start(&bar, s->tty ? stderr : NULL, s->o->progress_prefix, session_now(), 0);
    for (int64_t at = first * s->B; at < n; at += ranks * s->B) {
        int count = (int)(n - at < s->B ? n - at : s->B);
        session_fill(s, e, split, idx + at, count);
        if (e->ops->run(e->impl, 0, s->seed, 0, err, errlen)) return -1;
        const float *sl = s->sample_loss >= 0 ? engine_f32(e, s->sample_loss) : NULL;
        const float *lg = s->logits >= 0 ? engine_f32(e, s->logits) : NULL;
        metrics_add(&s->metrics, sl, engine_f32(e, s->loss)[0], lg, labels_of(s, e), count);
        for (int r = 0; s->pred && lg && r < count; r++)
            s->pred[at + r] = metrics_argmax(lg + (size_t)r * s->data.nclasses, s->data.nclasses);
        double now = session_now();
        progress_update(&bar, now, split == SPLIT_TEST ? "testing" : "validating", at / s->B + 1, nbatches,
                        (double)(at + count) / (now - bar.start), NAN);
    }
    progress_clear(&bar);
    if (ranks > 1) dist_metrics_sum(&s->metrics);
    return 0;
}

/* ---- the loop ------------------------------------------------------------------- */

/* Right predictions among the first `count` rows of the training step's
 * logits (training mode: dropout on, as Keras and Lightning count them). */
static int64_t step_correct(Session *s, Engine *e, int count) {
    const int64_t *y = labels_of(s, e);
    if (s->step_logits < 0 || !y) return 0;
    const float *lg = engine_f32(e, s->step_logits);
    int c = s->data.nclasses;
    int64_t right = 0;
    for (int i = 0; i < count; i++) right += metrics_argmax(lg + (size_t)i * c, c) == y[i];
    return right;
}

/* "nan", "inf" or "-inf". */
static const char *nonfinite(double v) { return isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"; }

/* Does training stop here for Ctrl-C? Data parallel, every rank must
 * answer alike, though SIGINT reaches each at its own moment: the ranks'
 * flags are summed and the sum decides. */
static int stop_requested(Session *s) {
    if (!s->dist) return interrupted;
    int64_t any = interrupted;
    dist_sum_i64(&any, 1);
    return any > 0;
}

/* One step on rows idx[0..count) of the training split: the batch's loss
 * in *loss, the right predictions of its logits in *right, whether to stop
 * after it in *stop. In one process the compiled step; data parallel,
 * every rank's shard and the summed gradients (train_dist.h), where the
 * summed flags decide, so any rank's Ctrl-C stops every rank after the
 * same batch. 0, -1 on error, 2 when the loss is not a finite number (the
 * update is then not applied). */
static int one_step(Session *s, const int64_t *idx, int count, int epoch, double *loss, int64_t *right, int *stop,
                    char *err, size_t errlen) {
    if (s->dist) return dist_step_run(s, idx, count, epoch, interrupted, loss, right, stop, err, errlen);
    Engine *e = &s->train;
    session_fill(s, e, SPLIT_TRAIN, idx, count);
    if (s->lr >= 0) engine_f32(e, s->lr)[0] = (float)lr_schedule_at(&s->m->train.optimizer, epoch - 1, s->step);
    if (e->ops->run(e->impl, 1, s->seed, s->step, err, errlen)) return -1;
    *loss = engine_f32(e, s->loss)[0];
    if (!isfinite(*loss)) return 2;
    e->ops->apply_updates(e->impl);
    *right = step_correct(s, e, count);
    *stop = interrupted;
    return 0;
}

/* One epoch of training from batch s->batch on; the mean training loss in
 * *loss, its training samples/s in s->epoch_rate. On a terminal a progress
 * line shows the batch, the time, the rate and the running loss. Returns 0,
 * -1 on error, 1 when interrupted, 2 when a batch's loss is not a finite
 * number (s->diverged says where; that step's update is not applied). */
static int train_epoch(Session *s, int epoch, double *loss, char *err, size_t errlen) {
    int64_t *order = xmalloc((size_t)s->nfit * sizeof *order);
    dataset_permutation(order, s->nfit, s->seed + (uint64_t)epoch, STREAM_EPOCH);
    for (int64_t i = 0; i < s->nfit; i++) order[i] = s->fit[order[i]];
    int64_t nbatches = (s->nfit + s->B - 1) / s->B;
    double sum = s->epoch_loss_sum, t0 = session_now();
    int64_t seen = s->epoch_samples, start = s->batch, first_seen = seen;
    int rc = 0;
    char label[64];
    snprintf(label, sizeof label, "epoch %d/%d", epoch, s->m->train.max_epochs);
    Progress bar;
    progress_start(&bar, s->tty ? stderr : NULL, s->o->progress_prefix, t0, start);
    for (int64_t b = s->batch; b < nbatches; b++) {
        int count = (int)(s->nfit - b * s->B < s->B ? s->nfit - b * s->B : s->B);
        double step_loss = 0;
        int64_t right = 0;
        int stop = 0;
        rc = one_step(s, order + b * s->B, count, epoch, &step_loss, &right, &stop, err, errlen);
        if (rc == 2)
            snprintf(s->diverged, sizeof s->diverged, "the training loss is %s in epoch %d, batch %lld of %lld",
                     nonfinite(step_loss), epoch, (long long)(b + 1), (long long)nbatches);
        if (rc) break;
        s->step++;
        sum += step_loss * count;
        s->epoch_correct += right;
        seen += count;
        s->batch = b + 1;
        s->epoch_loss_sum = sum;
        s->epoch_samples = seen;
        double now = session_now(), dt = now - t0;
        progress_update(&bar, now, label, b + 1, nbatches, dt > 0 ? (double)(seen - first_seen) / dt : NAN,
                        sum / (double)seen);
        if (stop) {
            rc = s->batch < nbatches ? 1 : 0;
            break;
        }
    }
    progress_clear(&bar);
    double dt = session_now() - t0;
    s->time_train += dt;
    s->epoch_rate = dt > 0 && seen > first_seen ? (double)(seen - first_seen) / dt : NAN;
    free(order);
    *loss = seen ? sum / (double)seen : NAN;
    return rc;
}

/* Appends an epoch's numbers to the history: the losses and accuracies,
 * the training accuracy of the epoch's steps, its seconds and samples/s. */
static void remember(Session *s, double train_loss, double val_loss, double val_acc) {
    int n = s->hist.n + 1;
    History *h = &s->hist;
    double **cols[] = {&h->train_loss, &h->val_loss, &h->val_accuracy, &h->train_accuracy, &h->seconds, &h->rate};
    double train_acc = s->step_logits >= 0 && s->epoch_samples ? (double)s->epoch_correct / (double)s->epoch_samples : NAN;
    double vals[] = {train_loss, val_loss, val_acc, train_acc, session_now() - s->epoch_start, s->epoch_rate};
    for (int i = 0; i < 6; i++) {
        *cols[i] = xrealloc(*cols[i], (size_t)n * sizeof(double));
        (*cols[i])[n - 1] = vals[i];
    }
    h->n = n;
}

/* Validates after an epoch, logs it, and tracks the best weights. 0, -1
 * on error, 2 when the validation loss is not a finite number (the epoch
 * is then not kept: s->diverged says so). */
static int end_epoch(Session *s, int epoch, double train_loss, char *err, size_t errlen) {
    double t0 = session_now();
    double vloss = train_loss, vacc = NAN;
    if (s->nval > 0) {
        if (session_evaluate(s, SPLIT_TRAIN, s->val, s->nval, err, errlen)) return -1;
        vloss = metrics_loss(&s->metrics);
        if (s->data.nclasses) vacc = metrics_accuracy(&s->metrics);
    }
    s->time_eval += session_now() - t0;
    if (!isfinite(vloss)) {
        snprintf(s->diverged, sizeof s->diverged, "the validation loss is %s after epoch %d", nonfinite(vloss), epoch);
        return 2;
    }
    remember(s, train_loss, vloss, vacc);
    int by_acc = !strcmp(s->m->train.monitor, "val_accuracy") && !isnan(vacc);
    int best = early_stop_update(&s->stop, epoch, by_acc ? vacc : vloss);
    if (best) params_save(&s->ps, s->best);
    fprintf(s->o->out, "epoch %3d  train_loss %.4f  val_loss %.4f", epoch, train_loss, vloss);
    if (!isnan(vacc)) fprintf(s->o->out, "  val_accuracy %.4f", vacc);
    double lr = s->lr >= 0 && s->step > 0 ? lr_schedule_at(&s->m->train.optimizer, epoch - 1, s->step - 1) : NAN;
    if (!isnan(lr)) fprintf(s->o->out, "  lr %.4g", lr);
    fprintf(s->o->out, "  %.1f s%s\n", session_now() - s->epoch_start, best ? "  *" : "");
    fflush(s->o->out);
    return log_epoch(s, epoch, train_loss, vloss, vacc, lr, err, errlen);
}

/* Prints the test metrics and the confusion matrix. */
static void print_test(Session *s) {
    FILE *out = s->o->out;
    fprintf(out, "test: loss %.4f", metrics_loss(&s->metrics));
    if (!s->data.nclasses) {
        fputc('\n', out);
        return;
    }
    int c = s->data.nclasses;
    fprintf(out, "  accuracy %.2f%% (%lld of %lld)\n", 100 * metrics_accuracy(&s->metrics),
            (long long)s->metrics.correct, (long long)s->metrics.samples);
    fprintf(out, "confusion matrix (rows: true class, columns: predicted)\n      ");
    for (int j = 0; j < c; j++) fprintf(out, "%6d", j);
    fputc('\n', out);
    for (int i = 0; i < c; i++) {
        fprintf(out, "%6d", i);
        for (int j = 0; j < c; j++) fprintf(out, "%6lld", (long long)s->metrics.confusion[i * c + j]);
        fprintf(out, "   precision %.3f  recall %.3f\n", metrics_precision(&s->metrics, i), metrics_recall(&s->metrics, i));
    }
}

/* Evaluates the (restored) weights on test, and its breakdown; logs,
 * report, metrics file. */
static int finish(Session *s, char *err, size_t errlen) {
    double t0 = session_now();
    /* in one process the test's predictions are kept for the breakdown,
     * which need not then run the test split again */
    int *pred = dist_size() == 1 && s->logits >= 0 ? xmalloc((size_t)(s->ntest + 1) * sizeof *pred) : NULL;
    s->pred = pred;
    int rc = session_evaluate(s, SPLIT_TEST, s->test, s->ntest, err, errlen);
    s->pred = NULL;
    /* the breakdown is only reported: rank 0 computes it alone */
    if (!rc && dist_rank() == 0) rc = breakdown_compute(s, pred, &s->breakdown, err, errlen);
    free(pred);
    if (rc) return -1;
    s->tested = 1;
    s->time_eval += session_now() - t0;
    print_test(s);
    breakdown_print(s->breakdown, s->o->out);
    if (write_metrics_json(s, err, errlen) || write_report(s, err, errlen)) return -1;
    if (s->o->time) {
        fprintf(s->o->out, "time: load %.2f s, compile %.2f s, train %.2f s, evaluate %.2f s (%s backend)\n", s->time_load,
                s->time_compile, s->time_train, s->time_eval, s->o->engine->name);
        fprintf(s->o->out, "memory: data set %.0f MiB; peak resident %.0f MiB once loaded, resident %.0f MiB once compiled, peak %.0f MiB\n",
                s->data_mib, s->rss_load_mib, s->rss_compile_mib, mem_peak_rss_mib());
        if (s->dist) dist_step_print_time(s->dist, s->o->out);
    }
    return 0;
}

/* Runs epochs until max_epochs or early stopping: 0, TRAIN_ERROR,
 * TRAIN_INTERRUPTED (the state saved with --save; if it could not be, an
 * error saying so) or TRAIN_DIVERGED (s->diverged says where; the
 * checkpoint keeps the last finished epoch, never the diverged weights). */
static int loop(Session *s, char *err, size_t errlen) {
    for (int epoch = s->epoch + 1; epoch <= s->m->train.max_epochs; epoch++) {
        s->epoch_start = session_now();
        double loss;
        int rc = train_epoch(s, epoch, &loss, err, errlen);
        if (rc < 0) return TRAIN_ERROR;
        if (rc == 2) return TRAIN_DIVERGED;
        if (rc == 1) {
            char why[768];
            if (!save_checkpoint(s, epoch - 1, why, sizeof why)) return TRAIN_INTERRUPTED;
            snprintf(err, errlen, "interrupted in epoch %d after batch %lld, and the state was not saved: %s", epoch,
                     (long long)s->batch, why);
            return TRAIN_ERROR;
        }
        rc = end_epoch(s, epoch, loss, err, errlen);
        if (rc < 0) return TRAIN_ERROR;
        if (rc == 2) return TRAIN_DIVERGED;
        s->epoch = epoch;
        s->batch = 0;
        s->epoch_loss_sum = 0;
        s->epoch_samples = 0;
        s->epoch_correct = 0;
        if (save_checkpoint(s, epoch, err, errlen) || write_report_epoch(s, err, errlen)) return -1;
        if (stop_requested(s)) return TRAIN_INTERRUPTED;
        if (early_stop_done(&s->stop)) {
            fprintf(s->o->out, "early stopping: no improvement of %s for %d epochs\n", s->m->train.monitor,
                    s->stop.wait);
            break;
        }
    }
    return 0;
}

/* --profile: the training step's time by source line, from the steps
 * taken, printed and (with profile_json) written as JSON; kept for the
 * report. Nothing when no step was taken. */
static int profile_steps(Session *s, char *err, size_t errlen) {
    const EngineProfile *ep = engine_profile(&s->train, 0);
    if (!s->o->profile || !ep || !ep->runs) return 0;
    s->profile = xcalloc(1, sizeof *s->profile);
    if (profile_build(s->step_graph, ep, (const char *const *)s->m->block, s->m->graph->nnodes, s->profile, err, errlen))
        return -1;
    profile_measure_limits(s->profile, PROFILE_LIMIT_SECONDS);
    profile_print(s->profile, s->o->out);
    fflush(s->o->out);
    return s->o->profile_json ? profile_write_json(s->profile, s->o->profile_json, err, errlen) : 0;
}

/* Accuracy needs logits and a label: a loss-only model (a contrastive
 * two-tower model, say) cannot monitor it. 0, or -1 with a message at the
 * setting (at its place in the model file when it was set there). */
static int check_monitor(const Elaborated *m, char *err, size_t errlen) {
    if (strcmp(m->train.monitor, "val_accuracy") || (ir_output(m->graph, IR_LOGITS) >= 0 && m->nlabels > 0)) return 0;
    const Loc *l = &m->train.monitor_loc;
    char where[600] = "";
    if (l->line > 0 && l->file >= 0 && l->file < m->graph->nfiles && m->graph->files[l->file][0] != '<')
        snprintf(where, sizeof where, "%s:%d:%d: ", m->graph->files[l->file], l->line, l->col);
    snprintf(err, errlen,
             "%searly_stopping.monitor is val_accuracy, but model '%s' has %s, so there is no accuracy; monitor val_loss",
             where, m->model, ir_output(m->graph, IR_LOGITS) < 0 ? "no logits (it binds only a loss)" : "no label");
    return -1;
}

/* After the loop: with a best epoch, its weights restored and tested
 * (finish); without one, says so and writes what there is (the metrics
 * file and the report, without test metrics). rc is the loop's outcome,
 * TRAIN_OK or TRAIN_DIVERGED; returns the run's. */
static int conclude(Session *s, int rc, char *err, size_t errlen) {
    const RunOptions *o = s->o;
    if (rc == TRAIN_DIVERGED) fprintf(o->out, "training diverged: %s\n", s->diverged);
    if (s->stop.best_epoch > 0) {
        params_restore(&s->ps, s->best);
        fprintf(o->out, "best epoch %d (%s %.4f): its weights are restored\n", s->stop.best_epoch, s->m->train.monitor,
                s->stop.best);
        if (finish(s, err, errlen)) return TRAIN_ERROR;
        if (rc == TRAIN_DIVERGED)
            snprintf(err, errlen, "training diverged: %s; the results are those of epoch %d, the best before it", s->diverged,
                     s->stop.best_epoch);
        return rc;
    }
    fprintf(o->out, "no epoch was best: there are no weights to test\n");
    if (write_metrics_json(s, err, errlen) || write_report(s, err, errlen)) return TRAIN_ERROR;
    if (rc == TRAIN_DIVERGED)
        snprintf(err, errlen, "training diverged: %s, before any epoch was best; nothing was tested%s", s->diverged,
                 o->save_path ? " or saved" : "");
    else
        snprintf(err, errlen, "no epoch was best (%s never had a value to compare); nothing was tested", s->m->train.monitor);
    return rc == TRAIN_DIVERGED ? TRAIN_DIVERGED : TRAIN_ERROR;
}

int train_model(const Elaborated *m, const RunOptions *o, char *err, size_t errlen) {
    if (check_monitor(m, err, errlen) || prepare_outputs(o, err, errlen)) return TRAIN_ERROR;
    Session s;
    int rc = session_open(&s, m, o, 1, err, errlen);
    int by_acc = !strcmp(m->train.monitor, "val_accuracy");
    early_stop_init(&s.stop, by_acc, m->train.patience, m->train.min_delta);
    if (!rc && o->resume_path) rc = load_checkpoint(&s, o->resume_path, 1, err, errlen);
    if (!rc) rc = open_logs(&s, err, errlen);
    if (!rc) {
        fprintf(o->out, "training %s: %lld samples (%lld for validation), batch %d, %s backend\n", m->model,
                (long long)s.nfit, (long long)s.nval, s.B, o->engine->name);
        fflush(o->out);
        struct sigaction sa = {0}, old;
        sa.sa_handler = on_sigint;
        interrupted = 0; /* before the handler: a Ctrl-C from now on counts */
        sigaction(SIGINT, &sa, &old);
        rc = loop(&s, err, errlen);
        sigaction(SIGINT, &old, NULL);
        if (rc == TRAIN_INTERRUPTED)
            fprintf(o->out, "interrupted: %s%s\n", o->save_path ? "state saved to " : "nothing saved (no --save)",
                    o->save_path ? o->save_path : "");
    }
    /* a profile that cannot be written (a full disk) fails the run, but
     * after the test, the metrics and the report: training's results are
     * not lost for it */
    char why[1024], prof_why[1024];
    int prof_failed = (rc == TRAIN_OK || rc == TRAIN_DIVERGED) && profile_steps(&s, prof_why, sizeof prof_why);
    if (rc == TRAIN_OK || rc == TRAIN_DIVERGED) rc = conclude(&s, rc, err, errlen);
    if (prof_failed && rc != TRAIN_ERROR) {
        snprintf(err, errlen, "%s", prof_why);
        rc = TRAIN_ERROR;
    }
    if (close_logs(&s, why, sizeof why) && rc != TRAIN_ERROR) {
        snprintf(err, errlen, "%s", why);
        rc = TRAIN_ERROR;
    }
    session_close(&s);
    return rc;
}

int eval_model(const Elaborated *m, const RunOptions *o, char *err, size_t errlen) {
    if (prepare_outputs(o, err, errlen)) return TRAIN_ERROR;
    Session s;
    int rc = session_open(&s, m, o, 0, err, errlen);
    if (!rc && o->checkpoint) rc = load_checkpoint(&s, o->checkpoint, 0, err, errlen);
    if (!rc) rc = finish(&s, err, errlen);
    session_close(&s);
    return rc;
}
