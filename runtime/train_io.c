/* train_io.c — what a run leaves on disk: per-epoch logs (CSV and JSON
 * lines), checkpoints (ckpt_layout.h: the chosen weights, what resuming
 * needs and where training stood), the final metrics as JSON, and the
 * HTML report. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "breakdown.h"
#include "ckpt_layout.h"
#include "ckpt_resume.h"
#include "report.h"
#include "run_info.h"
#include "train_impl.h"
#include "util.h"

/* ---- logs ------------------------------------------------------------------------ */

/* Creates the directories above path (like mkdir -p of its dirname). */
static int make_parents(const char *path, char *err, size_t errlen) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(dir, 0755) && errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory '%s': %s", dir, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

int prepare_outputs(Session *s, char *err, size_t errlen) {
    const char *paths[] = {s->o->log_path, s->o->metrics_json, s->o->save_path};
    for (int i = 0; i < 3; i++)
        if (paths[i] && make_parents(paths[i], err, errlen)) return -1;
    return 0;
}

/* "run.csv" -> "run.jsonl"; other names get ".jsonl" appended. */
static char *jsonl_path(const char *csv) {
    size_t n = strlen(csv);
    char *p = xmalloc(n + 8);
    if (n > 4 && !strcmp(csv + n - 4, ".csv")) snprintf(p, n + 8, "%.*s.jsonl", (int)(n - 4), csv);
    else snprintf(p, n + 8, "%s.jsonl", csv);
    return p;
}

int open_logs(Session *s, char *err, size_t errlen) {
    const char *path = s->o->log_path;
    if (!path) return 0;
    const char *mode = s->o->resume_path ? "a" : "w";
    char *jpath = jsonl_path(path);
    s->csv = fopen(path, mode);
    s->jsonl = s->csv ? fopen(jpath, mode) : NULL;
    if (!s->csv || !s->jsonl) {
        snprintf(err, errlen, "cannot write '%s': %s", s->csv ? jpath : path, strerror(errno));
        free(jpath);
        return -1;
    }
    free(jpath);
    if (ftell(s->csv) == 0) fprintf(s->csv, "epoch,train_loss,val_loss,val_accuracy,seconds\n");
    return 0;
}

/* A number for JSON: NaN and infinities become null. */
static void json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

int log_epoch(Session *s, int epoch, double train_loss, double val_loss, double val_accuracy, double lr) {
    if (!s->csv) return 0;
    double secs = session_now() - s->epoch_start;
    fprintf(s->csv, "%d,%.6g,%.6g,%.6g,%.3f\n", epoch, train_loss, val_loss, val_accuracy, secs);
    fprintf(s->jsonl, "{\"epoch\": %d, \"train_loss\": ", epoch);
    json_num(s->jsonl, train_loss);
    fputs(", \"val_loss\": ", s->jsonl);
    json_num(s->jsonl, val_loss);
    fputs(", \"val_accuracy\": ", s->jsonl);
    json_num(s->jsonl, val_accuracy);
    if (!isnan(lr)) {
        fputs(", \"lr\": ", s->jsonl);
        json_num(s->jsonl, lr);
    }
    fprintf(s->jsonl, ", \"seconds\": %.3f, \"best\": %s}\n", secs, s->stop.best_epoch == epoch ? "true" : "false");
    fflush(s->csv);
    fflush(s->jsonl);
    return 0;
}

void close_logs(Session *s) {
    if (s->csv) fclose(s->csv);
    if (s->jsonl) fclose(s->jsonl);
    s->csv = s->jsonl = NULL;
}

/* ---- checkpoints -------------------------------------------------------------------- */

/* A list of doubles as "1.5,2.25,..." (NaN as "nan"). */
static char *join(const double *v, int n) {
    size_t cap = (size_t)n * 24 + 2, len = 0;
    char *out = xmalloc(cap);
    out[0] = 0;
    for (int i = 0; i < n; i++) len += (size_t)snprintf(out + len, cap - len, "%s%.9g", i ? "," : "", v[i]);
    return out;
}

/* The name of the model's optimizer, as the model file writes it. */
static const char *optimizer_name(const Session *s) {
    static const char *const names[] = {"sgd", "momentum", "adam", "adamw"};
    return names[s->m->train.optimizer.kind];
}

int save_checkpoint(Session *s, int epoch, char *err, size_t errlen) {
    const char *path = s->o->save_path;
    if (!path) return 0;
    char num[9][32];
    snprintf(num[0], 32, "%d", epoch);
    snprintf(num[1], 32, "%lld", (long long)s->batch);
    snprintf(num[2], 32, "%llu", (unsigned long long)s->step);
    snprintf(num[3], 32, "%llu", (unsigned long long)s->seed);
    snprintf(num[4], 32, "%d", s->stop.best_epoch);
    snprintf(num[5], 32, "%.17g", s->stop.best);
    snprintf(num[6], 32, "%d", s->stop.wait);
    snprintf(num[7], 32, "%.17g", s->epoch_loss_sum);
    snprintf(num[8], 32, "%lld", (long long)s->epoch_correct);
    char *hist[4] = {join(s->hist.train_loss, s->hist.n), join(s->hist.val_loss, s->hist.n),
                     join(s->hist.val_accuracy, s->hist.n), join(s->hist.train_accuracy, s->hist.n)};
    const char *keys[] = {"optimizer", "epoch", "batch", "step", "seed", "best_epoch", "best", "wait", "epoch_loss_sum",
                          "epoch_correct", "train_loss", "val_loss", "val_accuracy", "train_accuracy"};
    const char *values[] = {optimizer_name(s), num[0], num[1], num[2], num[3], num[4], num[5], num[6],
                            num[7], num[8], hist[0], hist[1], hist[2], hist[3]};
    /* the plain names hold the best weights so far; the last ones while no epoch was best */
    int best = s->stop.best_epoch > 0;
    CkptContents c = {s->m->model, best ? s->best : s->ps.block, best ? "best" : "last", best ? s->stop.best_epoch : epoch,
                      keys, values, (int)(sizeof keys / sizeof keys[0])};
    int rc = ckpt_layout_write(path, &s->ps, &c, err, errlen);
    for (int i = 0; i < 4; i++) free(hist[i]);
    return rc;
}

/* An array of n NaNs (at least one slot). */
static double *unknown(int n) {
    double *v = xmalloc((size_t)(n + 1) * sizeof *v);
    for (int i = 0; i < n; i++) v[i] = NAN;
    return v;
}

/* Restores where training stood from the metadata, every field checked
 * against this run first (ckpt_resume.h); 0, or -1 with a message and s
 * as it was. */
static int restore_progress(Session *s, const Checkpoint *c, const char *path, char *err, size_t errlen) {
    ResumeBounds b = {s->m->train.max_epochs, s->nfit, s->B, s->seed};
    ResumeState r;
    if (ckpt_resume_read(c, path, &b, &r, err, errlen)) return -1;
    s->epoch = r.epoch;
    s->batch = r.batch;
    s->step = r.step;
    s->stop.best_epoch = r.best_epoch;
    s->stop.best = r.best;
    s->stop.wait = r.wait;
    s->epoch_loss_sum = r.epoch_loss_sum;
    s->epoch_correct = r.epoch_correct;
    s->epoch_samples = s->batch * s->B < s->nfit ? s->batch * s->B : s->nfit;
    History *h = &s->hist;
    h->n = r.epoch;
    h->train_loss = r.lists[RESUME_TRAIN_LOSS];
    h->val_loss = r.lists[RESUME_VAL_LOSS];
    h->val_accuracy = r.lists[RESUME_VAL_ACCURACY];
    h->train_accuracy = r.lists[RESUME_TRAIN_ACCURACY];
    h->seconds = unknown(h->n); /* times are not kept: not known */
    h->rate = unknown(h->n);
    return 0;
}

int load_checkpoint(Session *s, const char *path, int training, char *err, size_t errlen) {
    Checkpoint *c = ckpt_layout_read(path, err, errlen);
    if (!c) return -1;
    int rc = training ? ckpt_layout_resume(c, path, &s->ps, optimizer_name(s), err, errlen) ||
                            ckpt_layout_weights(c, path, &s->ps, s->best, err, errlen) ||
                            restore_progress(s, c, path, err, errlen)
                      : ckpt_layout_weights(c, path, &s->ps, s->ps.block, err, errlen);
    ckpt_free(c);
    return rc ? -1 : 0;
}

/* ---- final metrics and report ---------------------------------------------------------- */

int write_metrics_json(Session *s, char *err, size_t errlen) {
    const char *path = s->o->metrics_json;
    if (!path) return 0;
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    const Metrics *m = &s->metrics;
    fprintf(f, "{\n  \"model\": \"%s\",\n  \"epochs\": %d,\n  \"best_epoch\": %d,\n  \"monitor\": \"%s\",\n  \"best\": ",
            s->m->model, s->hist.n, s->stop.best_epoch, s->m->train.monitor);
    json_num(f, s->stop.best);
    fprintf(f, ",\n  \"test_samples\": %lld,\n  \"test_loss\": ", (long long)m->samples);
    json_num(f, metrics_loss(m));
    if (m->nclasses) {
        fputs(",\n  \"test_accuracy\": ", f);
        json_num(f, metrics_accuracy(m));
        fputs(",\n  \"confusion\": [", f);
        for (int i = 0; i < m->nclasses; i++) {
            fprintf(f, "%s\n    [", i ? "," : "");
            for (int j = 0; j < m->nclasses; j++) fprintf(f, "%s%lld", j ? ", " : "", (long long)m->confusion[i * m->nclasses + j]);
            fputc(']', f);
        }
        fputs("\n  ],\n  \"precision\": [", f);
        for (int i = 0; i < m->nclasses; i++) fprintf(f, "%s%.6f", i ? ", " : "", metrics_precision(m, i));
        fputs("],\n  \"recall\": [", f);
        for (int i = 0; i < m->nclasses; i++) fprintf(f, "%s%.6f", i ? ", " : "", metrics_recall(m, i));
        fputc(']', f);
        breakdown_json(s->breakdown, f);
    }
    fputs("\n}\n", f);
    if (fclose(f)) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Five samples of a split drawn at random: their views and their logits.
 * Inputs of shape [C, L] are waveforms, and sound at `rate` Hz. */
static int pick_samples(Session *s, int split, const int64_t *pool, int64_t npool, ReportSample *out, float *logits,
                        int rate, char *err, size_t errlen) {
    int n = npool < 5 ? (int)npool : 5;
    if (n > s->B) n = s->B;
    int64_t *perm = xmalloc((size_t)(npool + 1) * sizeof *perm), idx[5];
    dataset_permutation(perm, npool, s->seed, 3 + (uint64_t)split);
    for (int i = 0; i < n; i++) idx[i] = pool[perm[i]];
    free(perm);
    session_fill(s, &s->eval, split, idx, n);
    if (n && s->eval.ops->run(s->eval.impl, 0, s->seed, 0, err, errlen)) return -1;
    int c = s->data.nclasses;
    for (int i = 0; i < n; i++) {
        ReportSample *r = &out[i];
        memset(r, 0, sizeof *r);
        r->label = -1; /* unknown without a label, or without classes */
        for (int t = 0; t < s->data.n; t++) {
            const DataTensor *d = &s->data.t[t];
            if (d->is_label) {
                if (c && r->label < 0) r->label = (int)((const int64_t *)d->split[split].data)[idx[i]];
                continue;
            }
            if (r->nviews == 4) continue;
            ReportView *v = &r->views[r->nviews++];
            const Shape *shape = &s->m->graph->nodes[d->node].type.shape;
            v->name = d->name;
            v->rank = shape->rank - 1;
            for (int k = 1; k < shape->rank && k <= 4; k++) v->shape[k - 1] = shape->dim[k];
            v->sample_rate = v->rank == 2 ? rate : 0;
            if (v->rank == 1) /* a feature vector: drawn as a curve, like a waveform */
                v->rank = 2, v->shape[1] = v->shape[0], v->shape[0] = 1;
            if (v->rank != 2 && v->rank != 3) r->nviews--; /* nothing to draw */
            v->data = (const float *)d->split[split].data + idx[i] * d->sample;
        }
        if (c) {
            memcpy(logits + i * c, engine_f32(&s->eval, s->logits) + i * c, (size_t)c * sizeof *logits);
            r->logits = logits + i * c;
        }
    }
    return n;
}

/* "4,489,770" */
static void grouped(long long v, char *buf, size_t n) {
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", v), at = 0;
    for (int i = 0; i < len && (size_t)at + 2 < n; i++) {
        if (i && (len - i) % 3 == 0) buf[at++] = ',';
        buf[at++] = digits[i];
    }
    buf[at] = 0;
}

/* "2026-12-01 13:04:26 UTC" */
static void utc(time_t t, char *buf, size_t n) {
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm)) snprintf(buf, n, "unknown");
}

/* Whether an input of the model is a waveform ([B, C, L]) and so can be played. */
static int has_waveform(const Session *s) {
    for (int t = 0; t < s->data.n; t++)
        if (!s->data.t[t].is_label && s->m->graph->nodes[s->data.t[t].node].type.shape.rank == 3) return 1;
    return 0;
}

/* The Run table: how to run it again and on what. */
typedef struct {
    ReportItem items[12];
    char text[8][RUN_INFO_TEXT];
    int n;
} RunTable;

static void run_table(Session *s, const DataManifest *man, int rate, RunTable *t) {
    const char *dir = s->o->data_dir ? s->o->data_dir : s->m->data;
    char params[32];
    grouped((long long)s->ps.nparams, params, sizeof params);
    utc(s->started, t->text[0], RUN_INFO_TEXT);
    utc(time(NULL), t->text[1], RUN_INFO_TEXT);
    if (man->found) snprintf(t->text[2], RUN_INFO_TEXT, "SHA-256 %s (%s/manifest.json)", man->sha256, dir);
    else snprintf(t->text[2], RUN_INFO_TEXT, "none: %s has no manifest.json", dir);
    snprintf(t->text[3], RUN_INFO_TEXT, "%lld train, %lld validation, %lld test", (long long)s->nfit, (long long)s->nval,
             (long long)s->ntest);
    snprintf(t->text[4], RUN_INFO_TEXT, "%s trainable", params);
    snprintf(t->text[5], RUN_INFO_TEXT, "played at %d Hz (%s)", rate,
             man->audio_rate ? "the manifest's sample rate" : "assumed: no sample rate in a manifest");
    int n = 0;
    t->items[n++] = (ReportItem){"command", s->o->command_line};
    t->items[n++] = (ReportItem){"started", t->text[0]};
    t->items[n++] = (ReportItem){"page written", t->text[1]};
    t->items[n++] = (ReportItem){"mmgc", MMGC_VERSION};
    t->items[n++] = (ReportItem){"backend", s->o->engine->name};
    t->items[n++] = (ReportItem){"data", dir};
    t->items[n++] = (ReportItem){"data manifest", t->text[2]};
    t->items[n++] = (ReportItem){"samples", t->text[3]};
    t->items[n++] = (ReportItem){"parameters", t->text[4]};
    if (has_waveform(s)) t->items[n++] = (ReportItem){"audio", t->text[5]};
    t->n = n;
}

/* Writes the report: the final one (in_progress 0, after the test split was
 * evaluated into s->metrics) or one of a run still training. */
static int report_of(Session *s, int in_progress, char *err, size_t errlen) {
    if (!s->o->report_dir) return 0;
    int c = in_progress ? 0 : s->data.nclasses; /* no test metrics while training */
    ReportData r;
    memset(&r, 0, sizeof r);
    r.model = s->m->model;
    r.subtitle = s->o->engine->name;
    r.nepochs = s->hist.n;
    r.train_loss = s->hist.train_loss;
    r.val_loss = s->hist.val_loss;
    r.val_accuracy = s->data.nclasses ? s->hist.val_accuracy : NULL; /* a loss-only model has no accuracy */
    r.train_accuracy = s->step_logits >= 0 ? s->hist.train_accuracy : NULL;
    r.epoch_seconds = s->hist.seconds;
    r.epoch_rate = s->hist.rate;
    r.in_progress = in_progress;
    r.max_epochs = s->m->train.max_epochs;
    r.best_epoch = s->stop.best_epoch;
    r.nclasses = s->data.nclasses;
    r.confusion = c ? s->metrics.confusion : NULL;
    r.test_loss = in_progress ? NAN : metrics_loss(&s->metrics);
    r.test_accuracy = c ? metrics_accuracy(&s->metrics) : NAN;
    double *pr = xcalloc((size_t)(2 * c + 1), sizeof *pr);
    for (int i = 0; i < c; i++) pr[i] = metrics_precision(&s->metrics, i), pr[c + i] = metrics_recall(&s->metrics, i);
    r.precision = c ? pr : NULL;
    r.recall = c ? pr + c : NULL;
    r.robustness = s->breakdown ? &s->breakdown->report : NULL;
    DataManifest man;
    run_info_manifest(s->o->data_dir ? s->o->data_dir : s->m->data, &man);
    int rate = man.audio_rate ? man.audio_rate : 8000; /* the study's rate */
    RunTable run;
    run_table(s, &man, rate, &run);
    r.run = run.items, r.nrun = run.n;
    ReportItem settings[RUN_INFO_SETTINGS];
    char (*text)[RUN_INFO_TEXT] = xmalloc(RUN_INFO_SETTINGS * sizeof *text);
    r.settings = settings;
    r.nsettings = run_info_settings(&s->m->train, settings, text);
    int nc = s->data.nclasses;
    Metrics keep = s->metrics; /* the sample runs below do not touch metrics */
    float *logits = xcalloc((size_t)(10 * (nc ? nc : 1) + 1), sizeof *logits);
    int rc = 0;
    r.ntrain_samples = pick_samples(s, SPLIT_TRAIN, s->fit, s->nfit, r.train_samples, logits, rate, err, errlen);
    r.ntest_samples = pick_samples(s, SPLIT_TEST, s->test, s->ntest, r.test_samples, logits + 5 * nc, rate, err, errlen);
    if (r.ntrain_samples < 0 || r.ntest_samples < 0) rc = -1;
    if (!rc) rc = report_write(s->o->report_dir, &r, err, errlen);
    s->metrics = keep;
    free(logits);
    free(pr);
    free(text);
    return rc;
}

int write_report(Session *s, char *err, size_t errlen) { return report_of(s, 0, err, errlen); }

int write_report_epoch(Session *s, char *err, size_t errlen) { return report_of(s, 1, err, errlen); }
