/* study_report.c — see study_report.h. Per method (a run of the study),
 * the mean and sample standard deviation over its seeds; the study's own
 * figures beside ours where the study file gives them (`reference`). */
#include "study_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io_util.h"
#include "json_tree.h"
#include "report_svg.h"
#include "util.h"

enum { MAX_COLS = 32 };

static const char *const group_key[STUDY_NGROUPS] = {"clean", "image_ruined", "audio_ruined", "both_ruined"};
static const char *const group_title[STUDY_NGROUPS] = {"clean", "image ruined", "audio ruined", "both ruined"};

/* ---- one run's metrics ---------------------------------------------------------------- */

int study_result_read(const char *path, StudyResult *r, char *err, size_t errlen) {
    char local[256];
    if (!err) err = local, errlen = sizeof local;
    memset(r, 0, sizeof *r);
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return snprintf(err, errlen, "%s: cannot read", path), -1;
    Json root;
    int rc = json_parse(text, len, path, "file", 0, 1, &root, err, errlen);
    free(text);
    if (rc) return -1;
    r->test_accuracy = json_number_or(json_get(&root, "test_accuracy"), NAN);
    r->test_loss = json_number_or(json_get(&root, "test_loss"), NAN);
    r->epochs = (int)json_number_or(json_get(&root, "epochs"), 0);
    r->best_epoch = (int)json_number_or(json_get(&root, "best_epoch"), 0);
    r->diverged = json_get(&root, "diverged") != NULL;
    const Json *rob = json_get(&root, "robustness");
    for (int g = 0; g < STUDY_NGROUPS; g++)
        r->group[g] = json_number_or(json_get(json_get(rob, group_key[g]), "accuracy"), NAN);
    const Json *abl = json_get(&root, "ablation");
    if (abl && abl->type == JSON_OBJ) {
        r->ablation_keys = xcalloc((size_t)abl->n + 1, sizeof *r->ablation_keys);
        r->ablation = xcalloc((size_t)abl->n + 1, sizeof *r->ablation);
        for (int i = 0; i < abl->n; i++) {
            r->ablation_keys[r->nablation] = xstrdup(abl->keys[i]);
            r->ablation[r->nablation++] = json_number_or(&abl->items[i], NAN);
        }
    }
    json_free(&root);
    if (isnan(r->test_loss)) {
        study_result_free(r);
        return snprintf(err, errlen, "%s: no test_loss (an unfinished run?)", path), -1;
    }
    return 0;
}

void study_result_free(StudyResult *r) {
    for (int i = 0; i < r->nablation; i++) free(r->ablation_keys[i]);
    free(r->ablation_keys);
    free(r->ablation);
    memset(r, 0, sizeof *r);
}

/* ---- per method ----------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int baseline, n;          /* seeds with results */
    double acc, acc_sd, loss, loss_sd, epochs, sec_per_epoch;
    long long params;
    double group[STUDY_NGROUPS];
    double col[MAX_COLS];     /* ablation columns */
    const StudyReference *ref;
} Method;

/* Mean and sample standard deviation of the finite x[0..n); NaN if none. */
static void mean_sd(const double *x, int n, double *mean, double *sd) {
    double s = 0, s2 = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) s += x[i], k++;
    *mean = k ? s / k : NAN;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) s2 += (x[i] - *mean) * (x[i] - *mean);
    if (sd) *sd = k > 1 ? sqrt(s2 / (k - 1)) : k ? 0 : NAN;
}

typedef struct {
    const StudySpec *spec;
    const StudyEntry *e;
    StudyResult *r;  /* per entry; ok[i] when read */
    int *ok;
    int n;
    Method *m;
    int nm;
    const char *cols[MAX_COLS]; /* the ablation keys seen, in order */
    int ncols;
    int groups;      /* some run has accuracies by corruption group */
} Study;

/* Groups the entries by method (in the study's order) and averages. */
static void summarize(Study *s) {
    s->m = xcalloc((size_t)s->spec->nruns + 1, sizeof *s->m);
    for (int i = 0; i < s->n; i++)
        for (int k = 0; s->ok[i] && k < s->r[i].nablation; k++) {
            int c = 0;
            while (c < s->ncols && strcmp(s->cols[c], s->r[i].ablation_keys[k])) c++;
            if (c == s->ncols && c < MAX_COLS) s->cols[s->ncols++] = s->r[i].ablation_keys[k];
        }
    double *x = xcalloc((size_t)s->n + 1, sizeof *x);
    for (int r = 0; r < s->spec->nruns; r++) {
        Method *m = &s->m[s->nm++];
        m->name = s->spec->runs[r].name;
        m->baseline = s->spec->runs[r].baseline;
        for (int k = 0; k < s->spec->nrefs; k++)
            if (!strcmp(s->spec->refs[k].method, m->name)) m->ref = &s->spec->refs[k];
        int idx[1024], n = 0;
        for (int i = 0; i < s->n && n < 1024; i++)
            if (!strcmp(s->e[i].name, m->name)) {
                m->params = s->e[i].params;
                if (s->ok[i]) idx[n++] = i;
            }
        m->n = n;
#define COLLECT(expr) for (int k = 0; k < n; k++) { const StudyResult *R = &s->r[idx[k]]; const StudyEntry *E = &s->e[idx[k]]; (void)R; (void)E; x[k] = (expr); }
        COLLECT(R->test_accuracy) mean_sd(x, n, &m->acc, &m->acc_sd);
        COLLECT(R->test_loss) mean_sd(x, n, &m->loss, &m->loss_sd);
        COLLECT(R->epochs) mean_sd(x, n, &m->epochs, NULL);
        COLLECT(R->epochs > 0 ? E->seconds / R->epochs : NAN) mean_sd(x, n, &m->sec_per_epoch, NULL);
        for (int g = 0; g < STUDY_NGROUPS; g++) {
            COLLECT(R->group[g]) mean_sd(x, n, &m->group[g], NULL);
            s->groups |= isfinite(m->group[g]);
        }
        for (int c = 0; c < s->ncols; c++) {
            COLLECT(NAN) /* the column's value where the run has it */
            for (int k = 0; k < n; k++) {
                const StudyResult *R = &s->r[idx[k]];
                for (int a = 0; a < R->nablation; a++)
                    if (!strcmp(R->ablation_keys[a], s->cols[c])) x[k] = R->ablation[a];
            }
            mean_sd(x, n, &m->col[c], NULL);
        }
#undef COLLECT
    }
    free(x);
}

/* ---- text ------------------------------------------------------------------------------ */

static void pct(RBuf *b, double v) {
    if (isfinite(v)) rb_printf(b, "%.2f%%", 100 * v);
    else rb_str(b, "—");
}

/* v with one decimal, or a dash when there is none. */
static void num1(RBuf *b, double v) {
    if (isfinite(v)) rb_printf(b, "%.1f", v);
    else rb_str(b, "—");
}

static void pct_sd(RBuf *b, double v, double sd, int n) {
    if (!isfinite(v)) return rb_str(b, "—");
    rb_printf(b, "%.2f", 100 * v);
    if (n > 1) rb_printf(b, " ± %.2f", 100 * sd);
    rb_str(b, "%");
}

/* An argument as a shell reads it back. */
static void shell_word(RBuf *b, const char *s) {
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=+-:,@") == strlen(s))
        return rb_str(b, s);
    rb_str(b, "'");
    for (; *s; s++) *s == '\'' ? rb_str(b, "'\\''") : rb_add(b, s, 1);
    rb_str(b, "'");
}

static void command(RBuf *b, char **argv) {
    for (int i = 0; argv[i]; i++) {
        if (i) rb_str(b, " ");
        shell_word(b, argv[i]);
    }
}

/* Table 1 and the robustness table, as Markdown. */
static void tables_md(RBuf *b, const Study *s) {
    int refs = s->spec->nrefs > 0;
    rb_printf(b, "## Table 1: test metrics, mean ± std over %d seed%s\n\n", s->spec->nseeds, s->spec->nseeds > 1 ? "s" : "");
    rb_str(b, "| method | test accuracy | test loss | parameters | epochs | s/epoch |");
    rb_str(b, refs ? " study's accuracy | study's loss |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
                   : "\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (int i = 0; i < s->nm; i++) {
        const Method *m = &s->m[i];
        rb_printf(b, "| %s%s | ", m->name, m->baseline ? " (baseline)" : "");
        pct_sd(b, m->acc, m->acc_sd, m->n);
        if (isfinite(m->loss) && m->loss < 1e4) rb_printf(b, m->n > 1 ? " | %.3f ± %.3f" : " | %.3f", m->loss, m->loss_sd);
        else if (isfinite(m->loss)) rb_printf(b, m->n > 1 ? " | %.3g ± %.3g" : " | %.3g", m->loss, m->loss_sd);
        else rb_str(b, " | —");
        rb_printf(b, " | %lld | ", m->params);
        num1(b, m->epochs);
        rb_str(b, " | ");
        num1(b, m->sec_per_epoch);
        rb_str(b, " |");
        if (refs && m->ref) {
            rb_str(b, " ");
            pct(b, m->ref->test_accuracy);
            rb_printf(b, " | %.3f |", m->ref->test_loss);
        } else if (refs)
            rb_str(b, " | |");
        rb_str(b, "\n");
    }
    rb_str(b, "\n## Robustness: test accuracy when a modality is lost (mean over seeds)\n\n");
    if (!s->groups && !s->ncols) {
        rb_str(b, "No figures: the runs' metrics have no robustness or ablation results.\n");
        return;
    }
    if (s->groups)
        rb_str(b, "Ruined: the test samples whose image or audio got the data set's heavy corruption "
                  "(meta_test.npy). ");
    rb_str(b, "Zeroed, swapped: the whole test set with that input replaced by zeros, or by another sample's.\n\n"
              "| method |");
    int g0 = s->groups ? 0 : STUDY_NGROUPS;
    for (int g = g0; g < STUDY_NGROUPS; g++) rb_printf(b, " %s |", group_title[g]);
    for (int c = 0; c < s->ncols; c++) rb_printf(b, " %s |", s->cols[c]);
    rb_str(b, "\n| --- |");
    for (int c = g0; c < STUDY_NGROUPS + s->ncols; c++) rb_str(b, " ---: |");
    rb_str(b, "\n");
    for (int i = 0; i < s->nm; i++) {
        rb_printf(b, "| %s |", s->m[i].name);
        for (int g = g0; g < STUDY_NGROUPS; g++) rb_str(b, " "), pct(b, s->m[i].group[g]), rb_str(b, " |");
        for (int c = 0; c < s->ncols; c++) rb_str(b, " "), pct(b, s->m[i].col[c]), rb_str(b, " |");
        rb_str(b, "\n");
    }
}

/* The path of a run's folder relative to the study's (entries live under it). */
static const char *relative(const char *dir, const char *out) {
    size_t n = strlen(out);
    return !strncmp(dir, out, n) && dir[n] == '/' ? dir + n + 1 : dir;
}

/* A file of the study's folder (the contrastive table's), or NULL. */
static char *slurp(const char *out, const char *name) {
    char path[2048];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", out, name);
    return read_file(path, &len);
}

static void study_md(RBuf *b, const Study *s, const char *out) {
    rb_printf(b, "# Study %s\n\n%d methods x %d seeds (", s->spec->name, s->spec->nruns, s->spec->nseeds);
    for (int i = 0; i < s->spec->nseeds; i++) rb_printf(b, "%s%lld", i ? ", " : "seeds ", s->spec->seeds[i]);
    rb_str(b, "), each trained under its model's protocol (validation split, early stopping, best weights "
              "restored) and measured on the test split.");
    if (s->spec->nrefs)
        rb_str(b, " The study's figures are those the study file gives as its reference.");
    rb_str(b, "\n\n");
    tables_md(b, s);
    rb_str(b, "\n## Runs\n\n| method | seed | test accuracy | test loss | epochs | time | command |\n"
              "| --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (int i = 0; i < s->n; i++) {
        const StudyEntry *e = &s->e[i];
        rb_printf(b, "| [%s](%s/report/index.html) | %lld | ", e->name, relative(e->dir, out), e->seed);
        if (s->ok[i]) {
            pct(b, s->r[i].test_accuracy);
            rb_printf(b, "%s | %.4f | %d | %.0f s | `", s->r[i].diverged ? " (diverged)" : "", s->r[i].test_loss,
                      s->r[i].epochs, e->seconds);
        } else
            rb_str(b, "not finished | | | | `");
        command(b, e->argv);
        rb_str(b, "` |\n");
    }
    char *table2 = s->spec->contrastive_table ? slurp(out, "table2.md") : NULL;
    if (table2) { /* its heading one level down */
        rb_str(b, table2[0] == '#' ? "\n#" : "\n");
        rb_str(b, table2);
        rb_str(b, "\n![The coefficients against the temperature](temperature.svg)\n");
    }
    free(table2);
}

/* ---- results.csv and results.json ------------------------------------------------------- */

static void csv_num(RBuf *b, double v) {
    if (isfinite(v)) rb_printf(b, ",%.6g", v);
    else rb_str(b, ",");
}

static void results_csv(RBuf *b, const Study *s) {
    rb_str(b, "method,baseline,seed,test_accuracy,test_loss,epochs,best_epoch,parameters,seconds,seconds_per_epoch");
    for (int g = 0; g < STUDY_NGROUPS; g++) rb_printf(b, ",%s", group_key[g]);
    for (int c = 0; c < s->ncols; c++) rb_printf(b, ",%s", s->cols[c]);
    rb_str(b, ",folder,command\n");
    for (int i = 0; i < s->n; i++) {
        const StudyEntry *e = &s->e[i];
        const StudyResult *r = &s->r[i];
        rb_str(b, "\"");
        for (const char *c = e->name; *c; c++) *c == '"' ? rb_str(b, "\"\"") : rb_add(b, c, 1);
        rb_printf(b, "\",%d,%lld", e->baseline, e->seed);
        if (!s->ok[i]) {
            rb_str(b, ",,,,,");
            rb_printf(b, ",%lld,%.1f,", e->params, e->seconds);
            for (int c = 0; c < STUDY_NGROUPS + s->ncols; c++) rb_str(b, ",");
        } else {
            csv_num(b, r->test_accuracy);
            csv_num(b, r->test_loss);
            rb_printf(b, ",%d,%d,%lld,%.1f", r->epochs, r->best_epoch, e->params, e->seconds);
            csv_num(b, r->epochs ? e->seconds / r->epochs : NAN);
            for (int g = 0; g < STUDY_NGROUPS; g++) csv_num(b, r->group[g]);
            for (int c = 0; c < s->ncols; c++) {
                double v = NAN;
                for (int a = 0; a < r->nablation; a++)
                    if (!strcmp(r->ablation_keys[a], s->cols[c])) v = r->ablation[a];
                csv_num(b, v);
            }
        }
        rb_printf(b, ",%s,\"", e->dir);
        RBuf cmd = {0};
        command(&cmd, e->argv);
        for (const char *c = cmd.s; *c; c++) *c == '"' ? rb_str(b, "\"\"") : rb_add(b, c, 1);
        free(cmd.s);
        rb_str(b, "\"\n");
    }
}

static void json_num(RBuf *b, double v) {
    if (isfinite(v)) rb_printf(b, "%.17g", v);
    else rb_str(b, "null");
}

static void json_str(RBuf *b, const char *s) {
    rb_str(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') rb_printf(b, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) rb_printf(b, "\\u%04x", *s);
        else rb_add(b, s, 1);
    }
    rb_str(b, "\"");
}

static void results_json(RBuf *b, const Study *s) {
    rb_str(b, "{\n  \"study\": ");
    json_str(b, s->spec->name);
    rb_str(b, ",\n  \"methods\": [");
    for (int i = 0; i < s->nm; i++) {
        const Method *m = &s->m[i];
        rb_str(b, i ? ",\n    {\"method\": " : "\n    {\"method\": ");
        json_str(b, m->name);
        rb_printf(b, ", \"baseline\": %s, \"seeds\": %d, \"test_accuracy_mean\": ", m->baseline ? "true" : "false", m->n);
        json_num(b, m->acc);
        rb_str(b, ", \"test_accuracy_std\": "), json_num(b, m->acc_sd);
        rb_str(b, ", \"test_loss_mean\": "), json_num(b, m->loss);
        rb_str(b, ", \"test_loss_std\": "), json_num(b, m->loss_sd);
        rb_printf(b, ", \"parameters\": %lld, \"epochs_mean\": ", m->params);
        json_num(b, m->epochs);
        rb_str(b, ", \"seconds_per_epoch\": "), json_num(b, m->sec_per_epoch);
        for (int g = 0; g < STUDY_NGROUPS; g++) rb_printf(b, ", \"%s\": ", group_key[g]), json_num(b, m->group[g]);
        for (int c = 0; c < s->ncols; c++) rb_str(b, ", "), json_str(b, s->cols[c]), rb_str(b, ": "), json_num(b, m->col[c]);
        if (m->ref) {
            rb_str(b, ", \"reference_test_accuracy\": "), json_num(b, m->ref->test_accuracy);
            rb_str(b, ", \"reference_test_loss\": "), json_num(b, m->ref->test_loss);
        }
        rb_str(b, "}");
    }
    rb_str(b, "\n  ],\n  \"runs\": [");
    for (int i = 0; i < s->n; i++) {
        const StudyEntry *e = &s->e[i];
        const StudyResult *r = &s->r[i];
        rb_str(b, i ? ",\n    {\"method\": " : "\n    {\"method\": ");
        json_str(b, e->name);
        rb_printf(b, ", \"seed\": %lld, \"finished\": %s, \"test_accuracy\": ", e->seed, s->ok[i] ? "true" : "false");
        json_num(b, s->ok[i] ? r->test_accuracy : NAN);
        rb_str(b, ", \"test_loss\": "), json_num(b, s->ok[i] ? r->test_loss : NAN);
        rb_printf(b, ", \"epochs\": %d, \"best_epoch\": %d, \"parameters\": %lld, \"seconds\": ", r->epochs, r->best_epoch,
                  e->params);
        json_num(b, e->seconds);
        for (int g = 0; g < STUDY_NGROUPS; g++) rb_printf(b, ", \"%s\": ", group_key[g]), json_num(b, r->group[g]);
        for (int a = 0; a < r->nablation; a++)
            rb_str(b, ", "), json_str(b, r->ablation_keys[a]), rb_str(b, ": "), json_num(b, r->ablation[a]);
        rb_str(b, ", \"folder\": "), json_str(b, e->dir);
        RBuf cmd = {0};
        command(&cmd, e->argv);
        rb_str(b, ", \"command\": "), json_str(b, cmd.s);
        free(cmd.s);
        rb_str(b, "}");
    }
    rb_str(b, "\n  ]\n}\n");
}

/* ---- index.html ------------------------------------------------------------------------ */

static const char *const CSS =
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
    "td:first-child,th:first-child{text-align:left}svg{display:block;margin:1em 0}\n";

static void html_table(RBuf *b, const Study *s) {
    int refs = s->spec->nrefs > 0;
    rb_str(b, "<table>\n<tr><th>method</th><th>test accuracy</th><th>test loss</th><th>parameters</th><th>epochs</th>"
              "<th>s/epoch</th>");
    if (refs) rb_str(b, "<th>study's accuracy</th><th>study's loss</th>");
    rb_str(b, "</tr>\n");
    for (int i = 0; i < s->nm; i++) {
        const Method *m = &s->m[i];
        RBuf cell = {0};
        pct_sd(&cell, m->acc, m->acc_sd, m->n);
        rb_str(b, "<tr><td>");
        rb_text(b, m->name);
        rb_str(b, "</td><td>");
        rb_text(b, cell.s);
        free(cell.s);
        if (isfinite(m->loss)) rb_printf(b, m->loss < 1e4 ? "</td><td>%.3f" : "</td><td>%.3g", m->loss);
        else rb_str(b, "</td><td>");
        rb_printf(b, "</td><td>%lld</td><td>", m->params);
        num1(b, m->epochs);
        rb_str(b, "</td><td>");
        num1(b, m->sec_per_epoch);
        rb_str(b, "</td>");
        if (refs && m->ref) {
            rb_str(b, "<td>");
            RBuf c2 = {0};
            pct(&c2, m->ref->test_accuracy);
            rb_text(b, c2.s);
            free(c2.s);
            rb_printf(b, "</td><td>%.3f</td>", m->ref->test_loss);
        } else if (refs)
            rb_str(b, "<td></td><td></td>");
        rb_str(b, "</tr>\n");
    }
    rb_str(b, "</table>\n");
}

static void study_html(RBuf *b, const Study *s, const char *out) {
    rb_str(b, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\" xml:lang=\"en\">\n<head>\n"
              "<meta charset=\"utf-8\"/>\n<title>Study ");
    rb_text(b, s->spec->name);
    rb_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Study ", CSS);
    rb_text(b, s->spec->name);
    rb_printf(b, "</h1>\n<p>%d methods &#215; %d seeds; bars show the mean test accuracy, whiskers one standard "
                 "deviation over the seeds%s.</p>\n",
              s->spec->nruns, s->spec->nseeds, s->spec->nrefs ? ", diamonds the study's own figure" : "");
    const char **names = xcalloc((size_t)s->nm + 1, sizeof *names);
    double *mean = xcalloc((size_t)s->nm + 1, sizeof *mean), *sd = xcalloc((size_t)s->nm + 1, sizeof *sd),
           *mark = xcalloc((size_t)s->nm + 1, sizeof *mark);
    for (int i = 0; i < s->nm; i++) {
        names[i] = s->m[i].name;
        mean[i] = s->m[i].acc, sd[i] = s->m[i].n > 1 ? s->m[i].acc_sd : NAN;
        mark[i] = s->m[i].ref ? s->m[i].ref->test_accuracy : NAN;
    }
    rb_str(b, "<h2>Table 1</h2>\n");
    svg_bar_chart(b, "Test accuracy by method", names, mean, sd, mark, s->nm);
    html_table(b, s);
    int g0 = s->groups ? 0 : STUDY_NGROUPS, ns = STUDY_NGROUPS - g0 + s->ncols;
    const char **series = xcalloc((size_t)ns + 1, sizeof *series);
    double *v = xcalloc((size_t)(s->nm * ns) + 1, sizeof *v);
    for (int k = 0; k < ns; k++) series[k] = g0 + k < STUDY_NGROUPS ? group_title[g0 + k] : s->cols[g0 + k - STUDY_NGROUPS];
    for (int i = 0; i < s->nm; i++)
        for (int k = 0; k < ns; k++)
            v[i * ns + k] = g0 + k < STUDY_NGROUPS ? s->m[i].group[g0 + k] : s->m[i].col[g0 + k - STUDY_NGROUPS];
    rb_str(b, "<h2>Robustness</h2>\n");
    if (ns) {
        rb_str(b, "<p>Test accuracy on the samples whose image or audio got the data set's heavy corruption, and on "
                  "the whole test set with one input zeroed or swapped with another sample's.</p>\n");
        svg_grouped_bars(b, "Test accuracy when a modality is lost", names, s->nm, series, ns, v);
    } else
        rb_str(b, "<p>No figures: the runs' metrics have no robustness or ablation results.</p>\n");
    rb_str(b, "<h2>Runs</h2>\n<table>\n<tr><th>method</th><th>seed</th><th>test accuracy</th><th>epochs</th>"
              "<th>report</th></tr>\n");
    for (int i = 0; i < s->n; i++) {
        rb_str(b, "<tr><td>");
        rb_text(b, s->e[i].name);
        rb_printf(b, "</td><td>%lld</td><td>", s->e[i].seed);
        RBuf c = {0};
        s->ok[i] ? pct(&c, s->r[i].test_accuracy) : rb_str(&c, "not finished");
        rb_text(b, c.s);
        free(c.s);
        rb_printf(b, "</td><td>%d</td><td><a href=\"", s->ok[i] ? s->r[i].epochs : 0);
        rb_text(b, relative(s->e[i].dir, out));
        rb_str(b, "/report/index.html\">report</a></td></tr>\n");
    }
    rb_str(b, "</table>\n");
    char *table2 = s->spec->contrastive_table ? slurp(out, "table2.md") : NULL;
    char *svg = s->spec->contrastive_table ? slurp(out, "temperature.svg") : NULL;
    if (table2 && svg) {
        rb_str(b, "<h2>Contrastive losses: Table 2 and the temperature</h2>\n<pre>");
        rb_text(b, table2);
        rb_str(b, "</pre>\n");
        const char *start = strstr(svg, "<svg"); /* inline, without an XML declaration */
        if (start) rb_str(b, start);
    }
    free(table2), free(svg);
    rb_str(b, "</body>\n</html>\n");
    free(names), free(mean), free(sd), free(mark), free(series), free(v);
}

/* ---- the files ----------------------------------------------------------------------- */

static int write_text(const char *out, const char *name, const RBuf *b, char *err, size_t errlen) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", out, name);
    if (b->oom) return snprintf(err, errlen, "%s: out of memory", path), -1;
    IoPart part = {b->s, b->n};
    return io_write_atomic(path, path, &part, 1, err, errlen);
}

int study_report_write(const char *out, const StudySpec *spec, const StudyEntry *e, int n, FILE *print, char *err,
                       size_t errlen) {
    Study s = {spec, e, xcalloc((size_t)n + 1, sizeof *s.r), xcalloc((size_t)n + 1, sizeof *s.ok), n, NULL, 0, {0}, 0, 0};
    for (int i = 0; i < n; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/metrics.json", e[i].dir);
        s.ok[i] = study_result_read(path, &s.r[i], NULL, 0) == 0;
    }
    summarize(&s);
    RBuf md = {0}, csv = {0}, json = {0}, html = {0};
    study_md(&md, &s, out);
    results_csv(&csv, &s);
    results_json(&json, &s);
    study_html(&html, &s, out);
    int rc = io_make_dirs(out, err, errlen) || write_text(out, "study.md", &md, err, errlen) ||
             write_text(out, "results.csv", &csv, err, errlen) || write_text(out, "results.json", &json, err, errlen) ||
             write_text(out, "index.html", &html, err, errlen);
    if (!rc && print) {
        RBuf t = {0};
        tables_md(&t, &s);
        fprintf(print, "%s\nthe study's files: %s/study.md, results.csv, results.json, index.html\n", t.s, out);
        free(t.s);
    }
    free(md.s), free(csv.s), free(json.s), free(html.s);
    for (int i = 0; i < n; i++) study_result_free(&s.r[i]);
    free(s.r), free(s.ok), free(s.m);
    return rc ? -1 : 0;
}
