/* run_info.c — see run_info.h. */
#include "run_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_util.h"
#include "sha256.h"

/* "adam(lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-08)": the optimizer as it would be written. */
static void optimizer_text(const OptimizerSpec *o, char *buf, size_t n) {
    int len = snprintf(buf, n, "%s(lr: %g", optimizer_names[o->kind], o->lr);
    if (o->kind == OPT_MOMENTUM) len += snprintf(buf + len, n - (size_t)len, ", momentum: %g", o->momentum);
    if (o->kind >= OPT_ADAM)
        len += snprintf(buf + len, n - (size_t)len, ", beta1: %g, beta2: %g, eps: %g", o->beta1, o->beta2, o->eps);
    if (o->weight_decay != 0 || o->kind == OPT_ADAMW)
        len += snprintf(buf + len, n - (size_t)len, ", weight_decay: %g", o->weight_decay);
    snprintf(buf + len, n - (size_t)len, ")");
}

/* "constant", "step(every: 10, gamma: 0.5)" or "cosine(t_max: 100, min_lr: 0)". */
static void schedule_text(const LrSchedule *l, char *buf, size_t n) {
    if (l->kind == LR_STEP) snprintf(buf, n, "step(every: %d, gamma: %g)", l->every, l->gamma);
    else if (l->kind == LR_COSINE) snprintf(buf, n, "cosine(t_max: %d, min_lr: %g)", l->t_max, l->min_lr);
    else snprintf(buf, n, "constant");
}

/* ["*.b", "*norm*"] */
static void patterns_text(const OptimizerSpec *o, char *buf, size_t n) {
    int len = snprintf(buf, n, "[");
    for (int i = 0; i < o->nno_decay && (size_t)len < n; i++)
        len += snprintf(buf + len, n - (size_t)len, "%s\"%s\"", i ? ", " : "", o->no_decay[i]);
    if ((size_t)len < n) snprintf(buf + len, n - (size_t)len, "]");
}

int run_info_settings(const TrainSettings *t, ReportItem items[RUN_INFO_SETTINGS], char text[][RUN_INFO_TEXT]) {
    static const char *const keys[RUN_INFO_SETTINGS] = {
        "seed",     "batch",     "max_epochs",     "val_split",       "optimizer",
        "schedule", "warmup",    "clip_grad_norm", "no_decay",        "early_stopping.monitor",
        "early_stopping.patience", "early_stopping.min_delta"};
    const OptimizerSpec *o = &t->optimizer;
    snprintf(text[0], RUN_INFO_TEXT, "%lld", t->seed);
    snprintf(text[1], RUN_INFO_TEXT, "%d", t->batch);
    snprintf(text[2], RUN_INFO_TEXT, "%d", t->max_epochs);
    snprintf(text[3], RUN_INFO_TEXT, "%g", t->val_split);
    optimizer_text(o, text[4], RUN_INFO_TEXT);
    schedule_text(&o->schedule, text[5], RUN_INFO_TEXT);
    snprintf(text[6], RUN_INFO_TEXT, "%d%s", o->schedule.warmup, o->schedule.warmup ? " steps" : " (none)");
    snprintf(text[7], RUN_INFO_TEXT, "%g%s", o->clip_grad_norm, o->clip_grad_norm > 0 ? "" : " (none)");
    patterns_text(o, text[8], RUN_INFO_TEXT);
    snprintf(text[9], RUN_INFO_TEXT, "%s", t->monitor);
    snprintf(text[10], RUN_INFO_TEXT, "%d", t->patience);
    snprintf(text[11], RUN_INFO_TEXT, "%g", t->min_delta);
    for (int i = 0; i < RUN_INFO_SETTINGS; i++) items[i] = (ReportItem){keys[i], text[i]};
    return RUN_INFO_SETTINGS;
}

/* The number after "sample_rate": in the "audio" object of a manifest's text, or 0. */
static int audio_rate(const char *json) {
    const char *a = strstr(json, "\"audio\"");
    const char *r = a ? strstr(a, "\"sample_rate\"") : NULL;
    if (!r) return 0;
    r += strlen("\"sample_rate\"");
    while (*r == ' ' || *r == ':') r++;
    long v = strtol(r, NULL, 10);
    return v > 0 && v <= 1000000 ? (int)v : 0;
}

void run_info_manifest(const char *dir, DataManifest *out) {
    memset(out, 0, sizeof *out);
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (sha256_file(path, out->sha256, err, sizeof err)) return;
    out->found = 1;
    FILE *f = fopen(path, "rb");
    if (!f) return;
    static const size_t cap = 1 << 20; /* a manifest is a few KB */
    char *text = malloc(cap + 1);
    long long n = text ? io_read(f, text, cap, path, err, sizeof err) : -1;
    if (n >= 0) {
        text[n] = 0;
        out->audio_rate = audio_rate(text);
    }
    free(text);
    fclose(f);
}
