/* ckpt_resume.c — see ckpt_resume.h. Numbers are read strictly: the whole
 * value, no leading space, no trailing text, no overflow. */
#include "ckpt_resume.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ckpt_resume_lists[RESUME_NLISTS] = {"train_loss", "val_loss", "val_accuracy", "train_accuracy"};

/* The value of key, or NULL with "PATH: no 'KEY' ..." in err. */
static const char *field(const Checkpoint *c, const char *path, const char *key, char *err, size_t errlen) {
    const char *v = ckpt_meta(c, key);
    if (!v) snprintf(err, errlen, "%s: no '%s' in the metadata (where training stood), so it cannot be resumed from", path, key);
    return v;
}

/* A decimal integer (optionally negative) filling all of v, into *out; 0 or -1. */
static int parse_int(const char *v, int64_t *out) {
    if (!*v || (*v != '-' && (*v < '0' || *v > '9'))) return -1;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (*end || errno || end == v || (*v == '-' && !v[1])) return -1;
    *out = x;
    return 0;
}

/* A number (strtod's syntax, "nan" and "inf" too) filling all of v; 0 or -1. */
static int parse_num(const char *v, double *out) {
    if (!*v || *v == ' ' || (*v >= '\t' && *v <= '\r')) return -1;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end) return -1;
    *out = x;
    return 0;
}

/* Integer field key in [lo, hi] into *out; else a message that says the
 * range and, in why, what bounds it. */
static int int_field(const Checkpoint *c, const char *path, const char *key, int64_t lo, int64_t hi, const char *why,
                     int64_t *out, char *err, size_t errlen) {
    const char *v = field(c, path, key, err, errlen);
    if (!v) return -1;
    if (parse_int(v, out)) {
        snprintf(err, errlen, "%s: metadata '%s' is '%s', not an integer", path, key, v);
        return -1;
    }
    if (*out < lo || *out > hi) {
        if (lo == hi) snprintf(err, errlen, "%s: metadata '%s' is %lld; it must be %lld (%s)", path, key, (long long)*out, (long long)lo, why);
        else snprintf(err, errlen, "%s: metadata '%s' is %lld; it must be %lld to %lld (%s)", path, key, (long long)*out,
                      (long long)lo, (long long)hi, why);
        return -1;
    }
    return 0;
}

/* Number field key into *out. */
static int num_field(const Checkpoint *c, const char *path, const char *key, double *out, char *err, size_t errlen) {
    const char *v = field(c, path, key, err, errlen);
    if (!v) return -1;
    if (parse_num(v, out)) {
        snprintf(err, errlen, "%s: metadata '%s' is '%s', not a number", path, key, v);
        return -1;
    }
    return 0;
}

/* The list key: exactly n comma-separated numbers (none: ""), into a new array *out. */
static int list_field(const Checkpoint *c, const char *path, const char *key, int n, double **out, char *err,
                      size_t errlen) {
    const char *v = field(c, path, key, err, errlen);
    if (!v) return -1;
    int count = *v ? 1 : 0;
    for (const char *p = v; *p; p++) count += *p == ',';
    if (count != n) {
        snprintf(err, errlen, "%s: metadata '%s' holds %d value%s, but 'epoch' is %d (one per finished epoch)", path, key,
                 count, count == 1 ? "" : "s", n);
        return -1;
    }
    double *x = malloc(((size_t)n + 1) * sizeof *x);
    if (!x) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    const char *p = v;
    for (int i = 0; i < n; i++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[64];
        if (len >= sizeof item || (memcpy(item, p, len), item[len] = 0, parse_num(item, &x[i]))) {
            snprintf(err, errlen, "%s: metadata '%s' value %d is '%.*s', not a number", path, key, i + 1,
                     len > 40 ? 40 : (int)len, p);
            free(x);
            return -1;
        }
        p += len + 1;
    }
    *out = x;
    return 0;
}

int ckpt_resume_read(const Checkpoint *c, const char *path, const ResumeBounds *b, ResumeState *out, char *err,
                     size_t errlen) {
    memset(out, 0, sizeof *out);
    int64_t epoch, batch, step, seed, best_epoch, wait, correct;
    int64_t nb = b->batch_size > 0 ? (b->samples + b->batch_size - 1) / b->batch_size : 0;
    char why[160];
    if (int_field(c, path, "epoch", 0, b->max_epochs, "the model's max_epochs", &epoch, err, errlen))
        return -1;
    snprintf(why, sizeof why, "an epoch has %lld batch%s", (long long)nb, nb == 1 ? "" : "es");
    if (int_field(c, path, "batch", 0, nb > 0 ? nb - 1 : 0, why, &batch, err, errlen)) return -1;
    const char *v = field(c, path, "step", err, errlen);
    if (!v) return -1;
    uint64_t want = (uint64_t)epoch * (uint64_t)nb + (uint64_t)batch;
    if (parse_int(v, &step) || step < 0) {
        snprintf(err, errlen, "%s: metadata 'step' is '%s', not a non-negative integer", path, v);
        return -1;
    }
    if ((uint64_t)step != want) {
        snprintf(err, errlen,
                 "%s: metadata 'step' is %lld, but epoch %lld and batch %lld at %lld batches an epoch make %llu steps "
                 "(was it trained on other data or with another batch size?)",
                 path, (long long)step, (long long)epoch, (long long)batch, (long long)nb, (unsigned long long)want);
        return -1;
    }
    if (!(v = field(c, path, "seed", err, errlen))) return -1;
    char *end;
    errno = 0;
    unsigned long long sd = strtoull(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || errno) {
        snprintf(err, errlen, "%s: metadata 'seed' is '%s', not a non-negative integer", path, v);
        return -1;
    }
    if (sd != b->seed) {
        snprintf(err, errlen,
                 "%s: metadata 'seed' is %llu, but the model's seed is %llu (the validation split and the order of the "
                 "batches follow it)", path, sd, (unsigned long long)b->seed);
        return -1;
    }
    seed = (int64_t)sd;
    if (int_field(c, path, "best_epoch", 0, epoch, "0: no best epoch yet", &best_epoch, err, errlen))
        return -1;
    double best, loss_sum;
    if (num_field(c, path, "best", &best, err, errlen)) return -1;
    if (best_epoch > 0 && isnan(best)) {
        snprintf(err, errlen, "%s: metadata 'best' is '%s', but best_epoch is %lld", path, ckpt_meta(c, "best"),
                 (long long)best_epoch);
        return -1;
    }
    snprintf(why, sizeof why, "the epochs since best_epoch %lld, of %lld", (long long)best_epoch, (long long)epoch);
    if (int_field(c, path, "wait", 0, epoch - best_epoch, why, &wait, err, errlen)) return -1;
    if (num_field(c, path, "epoch_loss_sum", &loss_sum, err, errlen)) return -1;
    int64_t seen = batch * b->batch_size < b->samples ? batch * b->batch_size : b->samples;
    snprintf(why, sizeof why, "right predictions among the %lld samples of the epoch's first %lld batch%s", (long long)seen,
             (long long)batch, batch == 1 ? "" : "es");
    if (int_field(c, path, "epoch_correct", 0, seen, why, &correct, err, errlen)) return -1;
    for (int k = 0; k < RESUME_NLISTS; k++)
        if (list_field(c, path, ckpt_resume_lists[k], (int)epoch, &out->lists[k], err, errlen)) {
            ckpt_resume_free(out);
            return -1;
        }
    out->epoch = (int)epoch, out->batch = batch, out->step = (uint64_t)step, out->seed = (uint64_t)seed;
    out->best_epoch = (int)best_epoch, out->wait = (int)wait, out->best = best, out->epoch_loss_sum = loss_sum;
    out->epoch_correct = correct;
    return 0;
}

void ckpt_resume_free(ResumeState *r) {
    for (int k = 0; k < RESUME_NLISTS; k++) free(r->lists[k]), r->lists[k] = NULL;
}
