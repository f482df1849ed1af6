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
#include "io_util.h"
#include "mem_usage.h"
#include "out_file.h"
#include "report.h"
#include "run_info.h"
#include "train_impl.h"
#include "profile.h"
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

/* "run.csv" -> "run.jsonl"; other names get ".jsonl" appended. */
static char *jsonl_path(const char *csv) {
    size_t n = strlen(csv);
    char *p = xmalloc(n + 8);
    if (n > 4 && !strcmp(csv + n - 4, ".csv")) snprintf(p, n + 8, "%.*s.jsonl", (int)(n - 4), csv);
    else snprintf(p, n + 8, "%s.jsonl", csv);
    return p;
}

/* Creates the parents of an output file and checks it can be written (a
 * checkpoint only as a regular file: it is replaced atomically). */
static int prepare_file(const char *option, const char *path, char *err, size_t errlen) {
    if (!path || make_parents(path, err, errlen)) return path ? -1 : 0;
    return strcmp(option, "--save") ? out_file_probe(option, path, err, errlen)
                                    : out_file_probe_atomic(option, path, err, errlen);
}

int prepare_outputs(const RunOptions *o, char *err, size_t errlen) {
    char *jpath = o->log_path ? jsonl_path(o->log_path) : NULL, *page = NULL;
    int rc = prepare_file("--save", o->save_path, err, errlen) || prepare_file("--log", o->log_path, err, errlen) ||
             prepare_file("--log", jpath, err, errlen) || prepare_file("--metrics-json", o->metrics_json, err, errlen);
    if (!rc && o->report_dir) {
        size_t n = strlen(o->report_dir) + sizeof "/index.html";
        page = xmalloc(n);
        snprintf(page, n, "%s/index.html", o->report_dir);
        char why[1024];
        if (io_make_dirs(o->report_dir, why, sizeof why)) rc = io_fail(err, errlen, "--report %s", why);
        else rc = out_file_probe_atomic("--report", page, err, errlen);
    }
    if (!rc) rc = prepare_file("--profile", o->profile_json, err, errlen);
    free(jpath);
    free(page);
    return rc ? -1 : 0;
}

int open_logs(Session *s, char *err, size_t errlen) {
    const char *path = s->o->log_path;
    if (!path) return 0;
    int keep = s->o->resume_path != NULL; /* a resumed run continues its log */
    char *jpath = jsonl_path(path);
    int rc = out_file_open(&s->csv, path, keep, err, errlen) || out_file_open(&s->jsonl, jpath, keep, err, errlen);
    free(jpath);
    /* a new log replaces a previous run's at once: the header, and no lines */
    static const char header[] = "epoch,train_loss,val_loss,val_accuracy,seconds,train_accuracy,samples_per_second\n";
    int fresh = s->csv.stream ? !keep : !s->csv.text.n;
    if (!rc && fresh) rc = out_file_append(&s->csv, header, sizeof header - 1, err, errlen);
    if (!rc && !keep) rc = out_file_append(&s->jsonl, "", 0, err, errlen);
    return rc ? -1 : 0;
}

/* A number for JSON: NaN and infinities become null. */
static void json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

/* A string for JSON (quotes and backslashes escaped, control characters dropped). */
static void json_str(FILE *f, const char *v) {
    fputc('"', f);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\') fputc('\\', f);
        if ((unsigned char)*p >= 0x20) fputc(*p, f);
    }
    fputc('"', f);
}

/* A file's text built in memory (open_memstream) with the stdio calls the
 * writers use, then written whole (out_file.h). */
typedef struct {
    FILE *f;
    char *s;
    size_t n;
} Text;

/* Opens t empty; -1 with "PATH: out of memory" when it cannot. */
static int text_open(Text *t, const char *path, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    if ((t->f = open_memstream(&t->s, &t->n))) return 0;
    return io_fail(err, errlen, "%s: out of memory", path);
}

/* Closes t's stream: 0, or -1 (out of memory) with the text freed. */
static int text_close(Text *t, const char *path, char *err, size_t errlen) {
    if (fclose(t->f) == 0) return 0;
    free(t->s);
    t->s = NULL;
    return io_fail(err, errlen, "%s: out of memory", path);
}

int log_epoch(Session *s, int epoch, double train_loss, double val_loss, double val_accuracy, double lr, char *err,
              size_t errlen) {
    if (!s->csv.path) return 0;
    double secs = session_now() - s->epoch_start;
    Text c, j;
    if (text_open(&c, s->csv.path, err, errlen)) return -1;
    if (text_open(&j, s->csv.path, err, errlen)) {
        fclose(c.f), free(c.s);
        return -1;
    }
    /* the epoch's training accuracy (of its steps, dropout on) and rate, as remember() kept them */
    const History *h = &s->hist;
    double train_acc = h->n ? h->train_accuracy[h->n - 1] : NAN, rate = h->n ? h->rate[h->n - 1] : NAN;
    fprintf(c.f, "%d,%.6g,%.6g,%.6g,%.3f,%.6g,%.1f\n", epoch, train_loss, val_loss, val_accuracy, secs, train_acc, rate);
    fprintf(j.f, "{\"epoch\": %d, \"train_loss\": ", epoch);
    json_num(j.f, train_loss);
    fputs(", \"val_loss\": ", j.f);
    json_num(j.f, val_loss);
    fputs(", \"val_accuracy\": ", j.f);
    json_num(j.f, val_accuracy);
    fputs(", \"train_accuracy\": ", j.f);
    json_num(j.f, train_acc);
    fputs(", \"samples_per_second\": ", j.f);
    json_num(j.f, rate);
    if (!isnan(lr)) {
        fputs(", \"lr\": ", j.f);
        json_num(j.f, lr);
    }
    fprintf(j.f, ", \"seconds\": %.3f, \"best\": %s}\n", secs, s->stop.best_epoch == epoch ? "true" : "false");
    int rc = text_close(&c, s->csv.path, err, errlen);
    rc = text_close(&j, s->jsonl.path, rc ? NULL : err, errlen) || rc;
    if (!rc) rc = out_file_append(&s->csv, c.s, c.n, err, errlen) || out_file_append(&s->jsonl, j.s, j.n, err, errlen);
    free(c.s);
    free(j.s);
    return rc ? -1 : 0;
}

int close_logs(Session *s, char *err, size_t errlen) {
    int a = out_file_close(&s->csv, err, errlen);
    int b = out_file_close(&s->jsonl, a ? NULL : err, errlen);
    return a || b ? -1 : 0;
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
static const char *optimizer_name(const Session *s) { return optimizer_names[s->m->train.optimizer.kind]; }

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
    Text t;
    if (text_open(&t, path, err, errlen)) return -1;
    FILE *f = t.f;
    const Metrics *m = &s->metrics;
    fprintf(f, "{\n  \"model\": \"%s\",\n  \"epochs\": %d,\n  \"best_epoch\": %d,\n  \"monitor\": \"%s\",\n  \"best\": ",
            s->m->model, s->hist.n, s->stop.best_epoch, s->m->train.monitor);
    json_num(f, s->stop.best);
    if (s->diverged[0]) {
        fputs(",\n  \"diverged\": ", f);
        json_str(f, s->diverged);
    }
    if (s->tested) {
        fprintf(f, ",\n  \"test_samples\": %lld,\n  \"test_loss\": ", (long long)m->samples);
        json_num(f, metrics_loss(m));
    }
    if (s->tested && m->nclasses) {
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
    if (text_close(&t, path, err, errlen)) return -1;
    int rc = out_file_write(path, t.s, t.n, err, errlen);
    free(t.s);
    return rc;
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
    snprintf(t->text[6], RUN_INFO_TEXT, "data set %.0f MiB; peak resident %.0f MiB once loaded, resident %.0f MiB once compiled, peak %.0f MiB so far",
             s->data_mib, s->rss_load_mib, s->rss_compile_mib, mem_peak_rss_mib());
    t->items[n++] = (ReportItem){"memory", t->text[6]};
    t->n = n;
}

/* Writes the report: the final one (in_progress 0, after the test split was
 * evaluated into s->metrics) or one of a run still training. */
static int report_of(Session *s, int in_progress, char *err, size_t errlen) {
    if (!s->o->report_dir) return 0;
    int tested = !in_progress && s->tested; /* no test metrics while training, nor after a run with no best epoch */
    int c = tested ? s->data.nclasses : 0;
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
    r.test_loss = tested ? metrics_loss(&s->metrics) : NAN;
    r.test_accuracy = c ? metrics_accuracy(&s->metrics) : NAN;
    double *pr = xcalloc((size_t)(2 * c + 1), sizeof *pr);
    for (int i = 0; i < c; i++) pr[i] = metrics_precision(&s->metrics, i), pr[c + i] = metrics_recall(&s->metrics, i);
    r.precision = c ? pr : NULL;
    r.recall = c ? pr + c : NULL;
    r.robustness = s->breakdown ? &s->breakdown->report : NULL;
    r.profile = s->profile ? &s->profile->rep : NULL;
    char note[512];
    const char *notes[1] = {note};
    if (s->diverged[0]) {
        snprintf(note, sizeof note, "Training diverged: %s. %s", s->diverged,
                 s->stop.best_epoch ? "Training stopped there; the chosen epoch is the best one before it."
                                    : "No epoch was best, so there were no weights to test.");
        r.notes = notes, r.nnotes = 1;
    }
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
    if (in_progress || tested) { /* else the weights are not numbers: no samples to show */
        r.ntrain_samples = pick_samples(s, SPLIT_TRAIN, s->fit, s->nfit, r.train_samples, logits, rate, err, errlen);
        r.ntest_samples = pick_samples(s, SPLIT_TEST, s->test, s->ntest, r.test_samples, logits + 5 * nc, rate, err, errlen);
    }
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
