/* breakdown.c — see breakdown.h. */
#include "breakdown.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

const char *const breakdown_group_key[BREAKDOWN_GROUPS] = {"clean", "image_ruined", "audio_ruined", "both_ruined"};
static const char *const group_name[BREAKDOWN_GROUPS] = {"clean", "image ruined", "audio ruined", "both ruined"};

/* The derangement's seed and stream: fixed, so that every run on a test
 * set swaps the same samples whatever its own seed. */
enum { SWAP_SEED = 20240601, SWAP_STREAM = 16 };

/* ---- the meta file ------------------------------------------------------------------- */

int breakdown_read_meta(const char *dir, int64_t n, int64_t **flags, char *err, size_t errlen) {
    char path[1024];
    snprintf(path, sizeof path, "%s/meta_test.npy", dir);
    *flags = NULL;
    struct stat st;
    if (stat(path, &st) && errno == ENOENT) return 1;
    NpyArray raw, a;
    if (npy_read(path, &raw, err, errlen)) return -1;
    if (raw.dtype != 'l' && raw.dtype != 'i' && raw.dtype != 'b') {
        snprintf(err, errlen, "%s: dtype %s, expected int64 (or another integer dtype)", path, npy_descr(raw.dtype));
        npy_free(&raw);
        return -1;
    }
    if (raw.rank != 2 || raw.shape[0] != n || raw.shape[1] != 2) {
        Shape got = {raw.rank, {0}};
        memcpy(got.dim, raw.shape, sizeof got.dim);
        char gbuf[128];
        ir_shape_str(&got, gbuf, sizeof gbuf);
        snprintf(err, errlen, "%s: shape %s, expected [%lld, 2] (a row per test sample: image ruined, audio ruined)", path,
                 gbuf, (long long)n);
        npy_free(&raw);
        return -1;
    }
    char why[512] = "";
    int rc = npy_convert(&raw, 'l', &a, why, sizeof why);
    npy_free(&raw);
    if (rc) { /* cannot happen for an integer dtype; kept for safety */
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    const int64_t *v = a.data;
    for (int64_t i = 0; i < 2 * n; i++)
        if (v[i] != 0 && v[i] != 1) {
            snprintf(err, errlen, "%s: value %lld of sample %lld, column %d (%s), expected 0 or 1", path, (long long)v[i],
                     (long long)(i / 2), (int)(i % 2), i % 2 ? "audio" : "image");
            npy_free(&a);
            return -1;
        }
    *flags = xmalloc((size_t)(2 * n + 1) * sizeof **flags);
    memcpy(*flags, v, (size_t)(2 * n) * sizeof **flags);
    npy_free(&a);
    return 0;
}

/* ---- evaluation with one input altered ------------------------------------------------ */

enum { KEEP, ZERO, SWAP };

/* The first label tensor of the data set, or NULL. */
static const DataTensor *label_tensor(const Session *s) {
    for (int t = 0; t < s->data.n; t++)
        if (s->data.t[t].is_label) return &s->data.t[t];
    return NULL;
}

/* Evaluates the test split into m with input tensor `t` kept, zeroed or
 * swapped (sample i gets sample swap[i]'s values); with pred, each
 * sample's predicted class too. */
static int evaluate(Session *s, const DataTensor *t, int mode, const int64_t *swap, Metrics *m, int *pred, char *err,
                    size_t errlen) {
    metrics_reset(m);
    Engine *e = &s->eval;
    const DataTensor *y = label_tensor(s);
    int c = s->data.nclasses;
    for (int64_t at = 0; at < s->ntest; at += s->B) {
        int count = (int)(s->ntest - at < s->B ? s->ntest - at : s->B);
        const int64_t *idx = s->test + at;
        session_fill(s, e, SPLIT_TEST, idx, count);
        if (mode != KEEP) {
            float *dst = engine_f32(e, t->node);
            const float *src = t->split[SPLIT_TEST].data;
            size_t row = (size_t)t->sample;
            for (int r = 0; r < count; r++) {
                if (mode == ZERO) memset(dst + r * row, 0, row * sizeof *dst);
                else memcpy(dst + r * row, src + (size_t)swap[idx[r]] * row, row * sizeof *dst);
            }
        }
        if (e->ops->run(e->impl, 0, s->seed, 0, err, errlen)) return -1;
        const float *sl = s->sample_loss >= 0 ? engine_f32(e, s->sample_loss) : NULL;
        const float *lg = engine_f32(e, s->logits);
        metrics_add(m, sl, engine_f32(e, s->loss)[0], lg, engine_i64(e, y->node), count);
        for (int r = 0; pred && r < count; r++) pred[at + r] = metrics_argmax(lg + (size_t)r * c, c);
    }
    return 0;
}

/* A seeded permutation p, then p[k] -> p[k+1] around the cycle (the
 * identity for n = 1, which has no other). */
int64_t *breakdown_derangement(int64_t n) {
    int64_t *p = xmalloc((size_t)(n + 1) * sizeof *p), *d = xmalloc((size_t)(n + 1) * sizeof *d);
    dataset_permutation(p, n, SWAP_SEED, SWAP_STREAM);
    for (int64_t k = 0; k < n; k++) d[p[k]] = p[(k + 1) % n];
    free(p);
    return d;
}

/* ---- the parts ---------------------------------------------------------------------- */

/* Group counts from the predictions, the labels and the meta flags. */
static void groups(Breakdown *b, const Session *s, const int *pred, const int64_t *flags) {
    const int64_t *y = label_tensor(s)->split[SPLIT_TEST].data;
    for (int64_t i = 0; i < s->ntest; i++) {
        int64_t k = s->test[i];
        int g = (int)(flags[2 * k] + 2 * flags[2 * k + 1]); /* 0 clean, 1 image, 2 audio, 3 both */
        b->group[g].samples++;
        b->correct[g] += pred[i] == y[k];
    }
    for (int g = 0; g < BREAKDOWN_GROUPS; g++) {
        b->group[g].name = group_name[g];
        b->group[g].accuracy = b->group[g].samples ? (double)b->correct[g] / (double)b->group[g].samples : NAN;
    }
    b->has_groups = 1;
}

/* The largest off-diagonal cells of the confusion matrix. */
static void pairs(Breakdown *b, const Metrics *m) {
    int c = m->nclasses;
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            int64_t n = m->confusion[i * c + j];
            if (i == j || n == 0) continue;
            int at = b->npairs; /* insert after every pair with a count >= n (row-major order breaks ties) */
            while (at > 0 && b->pair[at - 1].count < n) at--;
            if (at >= BREAKDOWN_PAIRS) continue;
            int last = b->npairs < BREAKDOWN_PAIRS ? b->npairs : BREAKDOWN_PAIRS - 1;
            memmove(&b->pair[at + 1], &b->pair[at], (size_t)(last - at) * sizeof b->pair[0]);
            b->pair[at] = (ReportPair){i, j, n};
            if (b->npairs < BREAKDOWN_PAIRS) b->npairs++;
        }
}

int breakdown_compute(Session *s, const int *test_pred, Breakdown **out, char *err, size_t errlen) {
    *out = NULL;
    if (!s->data.nclasses || s->logits < 0 || !label_tensor(s)) return 0;
    int64_t *flags = NULL;
    int rc = breakdown_read_meta(s->data_dir, s->data.count[SPLIT_TEST], &flags, err, errlen);
    if (rc < 0) return -1;
    Breakdown *b = xcalloc(1, sizeof *b);
    Metrics m;
    metrics_init(&m, s->data.nclasses);
    int *pred = test_pred ? NULL : xmalloc((size_t)(s->ntest + 1) * sizeof *pred); /* the test pass's, run here */
    int64_t *swap = breakdown_derangement(s->data.count[SPLIT_TEST]);
    rc = 0;
    if (flags && pred) rc = evaluate(s, NULL, KEEP, NULL, &m, pred, err, errlen);
    if (flags && !rc) groups(b, s, pred ? pred : test_pred, flags);
    b->ablation = xcalloc((size_t)s->data.n + 1, sizeof *b->ablation);
    for (int t = 0; !rc && t < s->data.n; t++) {
        const DataTensor *d = &s->data.t[t];
        if (d->is_label) continue;
        ReportAblation *a = &b->ablation[b->nablation++];
        a->input = d->name;
        rc = evaluate(s, d, ZERO, NULL, &m, NULL, err, errlen);
        a->zeroed = metrics_accuracy(&m);
        if (!rc) rc = evaluate(s, d, SWAP, swap, &m, NULL, err, errlen);
        a->swapped = metrics_accuracy(&m);
    }
    pairs(b, &s->metrics);
    b->report = (ReportRobustness){b->has_groups ? b->group : NULL, b->ablation, b->pair,
                                   b->has_groups ? BREAKDOWN_GROUPS : 0, b->nablation, b->npairs};
    free(swap);
    free(pred);
    free(flags);
    metrics_free(&m);
    if (rc) {
        breakdown_free(b);
        return -1;
    }
    *out = b;
    return 0;
}

void breakdown_free(Breakdown *b) {
    if (!b) return;
    free(b->ablation);
    free(b);
}

/* ---- output --------------------------------------------------------------------------- */

/* "91.20%" or "n/a". */
static void pct(FILE *out, double v) {
    if (isfinite(v)) fprintf(out, "%.2f%%", 100 * v);
    else fputs("n/a", out);
}

void breakdown_print(const Breakdown *b, FILE *out) {
    if (!b) return;
    if (b->has_groups) {
        fputs("accuracy by corruption (test)\n", out);
        for (int g = 0; g < BREAKDOWN_GROUPS; g++) {
            fprintf(out, "  %-14s", b->group[g].name);
            pct(out, b->group[g].accuracy);
            fprintf(out, "  (%lld samples)\n", (long long)b->group[g].samples);
        }
    }
    if (b->nablation) {
        fputs("accuracy with one input replaced (test)\n", out);
        for (int i = 0; i < b->nablation; i++) {
            fprintf(out, "  %-14s zeroed ", b->ablation[i].input);
            pct(out, b->ablation[i].zeroed);
            fputs("  swapped ", out);
            pct(out, b->ablation[i].swapped);
            fputc('\n', out);
        }
    }
    fputs("most confused (true -> predicted):", out);
    for (int i = 0; i < b->npairs; i++)
        fprintf(out, "%s %d -> %d (%lld)", i ? "," : "", b->pair[i].truth, b->pair[i].predicted, (long long)b->pair[i].count);
    fputs(b->npairs ? "\n" : " none\n", out);
}

/* A number for JSON: NaN and infinities become null. */
static void num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

/* A string for JSON (model names are identifiers; quotes and backslashes escaped anyway). */
static void str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void breakdown_json(const Breakdown *b, FILE *f) {
    if (!b) return;
    if (b->has_groups) {
        fputs(",\n  \"robustness\": {", f);
        for (int g = 0; g < BREAKDOWN_GROUPS; g++) {
            fprintf(f, "%s\n    \"%s\": {\"accuracy\": ", g ? "," : "", breakdown_group_key[g]);
            num(f, b->group[g].accuracy);
            fprintf(f, ", \"samples\": %lld}", (long long)b->group[g].samples);
        }
        fputs("\n  }", f);
    }
    fputs(",\n  \"ablation\": {", f);
    for (int i = 0; i < b->nablation; i++) {
        const char *kind[2] = {"zeroed", "swapped"};
        double v[2] = {b->ablation[i].zeroed, b->ablation[i].swapped};
        for (int k = 0; k < 2; k++) {
            char key[300];
            snprintf(key, sizeof key, "%s_%s", b->ablation[i].input, kind[k]);
            fputs(i || k ? ", " : "", f);
            str(f, key);
            fputs(": ", f);
            num(f, v[k]);
        }
    }
    fputs("},\n  \"confused_pairs\": [", f);
    for (int i = 0; i < b->npairs; i++)
        fprintf(f, "%s{\"true\": %d, \"predicted\": %d, \"count\": %lld}", i ? ", " : "", b->pair[i].truth,
                b->pair[i].predicted, (long long)b->pair[i].count);
    fputc(']', f);
}
