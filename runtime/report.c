/* report.c — see report.h. Checks the data, lays out the page (the charts
 * themselves are in report_svg.c and report_image.c), writes it atomically.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_util.h"
#include "report_svg.h"

#define MAX_CLASSES 1000
#define MAX_IMAGE_SIDE 1024

/* ---- checking the data ------------------------------------------------------------ */

/* Checks one view of sample k of a set ("train" or "test"). */
static int check_view(const char *dir, const char *set, int k, int v, const ReportView *view, char *err, size_t errlen) {
    const char *name = view->name ? view->name : "?";
    int image = view->rank == 3, wave = view->rank == 2;
    if (!image && !wave)
        return io_fail(err, errlen, "%s: %s sample %d, view %d ('%s'): rank %d cannot be drawn (rank 3 [1, H, W] is an image, "
                       "rank 2 [1, L] a waveform)", dir, set, k + 1, v + 1, name, view->rank);
    for (int d = 0; d < view->rank; d++)
        if (view->shape[d] < 1 || (image && view->shape[d] > MAX_IMAGE_SIDE) || view->shape[d] > ((int64_t)1 << 30))
            return io_fail(err, errlen, "%s: %s sample %d, view %d ('%s'): dimension %d is %lld (1 to %d)", dir, set, k + 1,
                           v + 1, name, d, (long long)view->shape[d], image ? MAX_IMAGE_SIDE : 1 << 30);
    if (!view->data) return io_fail(err, errlen, "%s: %s sample %d, view %d ('%s'): data is NULL", dir, set, k + 1, v + 1, name);
    return 0;
}

/* Checks samples[0, n) of a set. */
static int check_samples(const char *dir, const char *set, const ReportSample *s, int n, int nclasses, char *err,
                         size_t errlen) {
    if (n < 0 || n > 5) return io_fail(err, errlen, "%s: %d %s samples (0 to 5)", dir, n, set);
    for (int k = 0; k < n; k++) {
        if (s[k].nviews < 0 || s[k].nviews > 4)
            return io_fail(err, errlen, "%s: %s sample %d has %d views (0 to 4)", dir, set, k + 1, s[k].nviews);
        if (s[k].label < -1 || s[k].label >= nclasses)
            return io_fail(err, errlen, "%s: %s sample %d: label %d is out of range (-1 to %d)", dir, set, k + 1, s[k].label,
                           nclasses - 1);
        for (int v = 0; v < s[k].nviews; v++)
            if (check_view(dir, set, k, v, &s[k].views[v], err, errlen) != 0) return -1;
    }
    return 0;
}

/* Checks the robustness figures (if any): counts, pointers, classes in range. */
static int check_robustness(const char *dir, const ReportRobustness *q, int nclasses, char *err, size_t errlen) {
    if (!q) return 0;
    if (q->ngroups < 0 || q->nablation < 0 || q->npairs < 0 || (q->ngroups && !q->groups) ||
        (q->nablation && !q->ablation) || (q->npairs && !q->pairs))
        return io_fail(err, errlen, "%s: bad robustness figures (%d groups, %d ablations, %d pairs)", dir, q->ngroups,
                       q->nablation, q->npairs);
    for (int i = 0; i < q->ngroups; i++)
        if (q->groups[i].samples < 0)
            return io_fail(err, errlen, "%s: robustness group %d has %lld samples", dir, i + 1, (long long)q->groups[i].samples);
    for (int i = 0; i < q->npairs; i++) {
        const ReportPair *p = &q->pairs[i];
        if (p->truth < 0 || p->truth >= nclasses || p->predicted < 0 || p->predicted >= nclasses || p->count < 0)
            return io_fail(err, errlen, "%s: confused pair %d (%d, %d, count %lld) is out of range (classes 0 to %d)", dir,
                           i + 1, p->truth, p->predicted, (long long)p->count, nclasses - 1);
    }
    return 0;
}

/* Checks the counts, ranges and pointers the page will read. */
static int check_data(const char *dir, const ReportData *r, char *err, size_t errlen) {
    if (r->nepochs < 0) return io_fail(err, errlen, "%s: nepochs is %d", dir, r->nepochs);
    if (r->best_epoch < 0 || r->best_epoch > r->nepochs)
        return io_fail(err, errlen, "%s: best_epoch %d is out of range (0 to %d)", dir, r->best_epoch, r->nepochs);
    if (r->nclasses < 0 || r->nclasses > MAX_CLASSES)
        return io_fail(err, errlen, "%s: nclasses %d is out of range (0 to %d)", dir, r->nclasses, MAX_CLASSES);
    if (r->nnotes < 0 || (r->nnotes && !r->notes)) return io_fail(err, errlen, "%s: bad notes (%d, %s)", dir, r->nnotes, r->notes ? "set" : "NULL");
    if (r->nrun < 0 || (r->nrun && !r->run)) return io_fail(err, errlen, "%s: bad run items (%d, %s)", dir, r->nrun, r->run ? "set" : "NULL");
    if (r->nsettings < 0 || (r->nsettings && !r->settings))
        return io_fail(err, errlen, "%s: bad settings (%d, %s)", dir, r->nsettings, r->settings ? "set" : "NULL");
    for (int i = 0; r->confusion && i < r->nclasses * r->nclasses; i++)
        if (r->confusion[i] < 0)
            return io_fail(err, errlen, "%s: confusion[%d][%d] is negative (%lld)", dir, i / r->nclasses, i % r->nclasses,
                           (long long)r->confusion[i]);
    if (check_samples(dir, "train", r->train_samples, r->ntrain_samples, r->nclasses, err, errlen) != 0) return -1;
    if (check_robustness(dir, r->robustness, r->nclasses, err, errlen) != 0) return -1;
    return check_samples(dir, "test", r->test_samples, r->ntest_samples, r->nclasses, err, errlen);
}

/* ---- the page ------------------------------------------------------------------------ */

static const char CSS[] =
    "body { font-family: sans-serif; color: #222; max-width: 1240px; margin: 24px auto; padding: 0 16px; "
    "overflow-wrap: anywhere; }\n"
    "h1 { margin-bottom: 4px; } .subtitle { color: #555; margin-top: 0; } .key { color: #333; }\n"
    "figure { margin: 28px 0; } figcaption { color: #444; margin-top: 6px; max-width: 900px; }\n"
    ".row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }\n"
    ".samples { gap: 12px; }\n"
    ".sample { border: 1px solid #ddd; border-radius: 6px; padding: 8px; }\n"
    ".sample-title { margin: 0 0 6px; font-size: 13px; }\n"
    ".views { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; margin-bottom: 4px; }\n"
    ".view { font-size: 11px; color: #555; }\n"
    ".ok { color: #2ca02c; } .wrong { color: #d62728; } .empty { color: #888; font-style: italic; }\n"
    "table { border-collapse: collapse; margin-bottom: 12px; } th, td { border: 1px solid #ccc; padding: 3px 10px; text-align: right; }\n"
    "th:first-child, td:first-child { text-align: left; }\n"
    "table.info th { text-align: left; font-weight: normal; color: #555; } table.info td { text-align: left; }\n"
    "tr.best td { font-weight: bold; } .status { color: #8a5a00; }\n"
    "audio { display: block; width: 240px; height: 32px; margin-top: 4px; }\n"
    "td.src { text-align: left; }\n";

/* The first index of the largest finite logit, or -1. */
static int argmax(const float *x, int n) {
    int best = -1;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && (best < 0 || x[i] > x[best])) best = i;
    return best;
}

/* The softmax probability of class k (over the finite logits). */
static double softmax_at(const float *x, int n, int k) {
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) sum += exp((double)x[i] - x[k]);
    return 1 / sum;
}

/* "94.50%" or "n/a". */
static void put_pct(RBuf *b, double v) {
    if (isfinite(v)) rb_printf(b, "%.2f%%", 100 * v);
    else rb_str(b, "n/a");
}

/* "0.2780" or "n/a". */
static void put_num(RBuf *b, double v) {
    if (isfinite(v)) rb_printf(b, "%.4f", v);
    else rb_str(b, "n/a");
}

/* One sample: a title line, its views, its logits. */
static void sample_block(RBuf *b, const ReportData *r, const char *const *names, const char *set, int k, const ReportSample *s) {
    int pred = s->logits && r->nclasses > 0 ? argmax(s->logits, r->nclasses) : -1;
    rb_printf(b, "<div class=\"sample\" id=\"%s-sample-%d\">\n<p class=\"sample-title\"><b>%s #%d</b> &#183; true ", set, k + 1, set, k + 1);
    if (s->label >= 0) rb_text(b, names[s->label]);
    else rb_str(b, "unknown");
    if (pred >= 0) {
        rb_printf(b, " &#183; predicted <b class=\"%s\">", s->label < 0 ? "pred" : pred == s->label ? "ok" : "wrong");
        rb_text(b, names[pred]);
        rb_printf(b, "</b> (p = %.3f)", softmax_at(s->logits, r->nclasses, pred));
    }
    rb_str(b, "</p>\n<div class=\"views\">\n");
    for (int v = 0; v < s->nviews; v++) {
        const ReportView *view = &s->views[v];
        rb_str(b, "<div class=\"view\">");
        if (view->rank == 3) svg_image(b, view->name ? view->name : "image", view->data, view->shape[1], view->shape[2]);
        else svg_waveform(b, view->name ? view->name : "waveform", view->data, view->shape[1]);
        if (view->rank == 2 && view->sample_rate > 0)
            html_audio(b, view->name ? view->name : "audio", view->data, view->shape[1], view->sample_rate);
        rb_str(b, "<br/>");
        rb_text(b, view->name);
        if (view->shape[0] > 1) rb_printf(b, " (channel 1 of %lld)", (long long)view->shape[0]);
        rb_str(b, "</div>\n");
    }
    rb_str(b, "</div>\n");
    if (s->logits && r->nclasses > 0) svg_logits(b, s->logits, r->nclasses, names, s->label, pred);
    else rb_str(b, "<p class=\"empty\">No logits.</p>");
    rb_str(b, "</div>\n");
}

/* Is there an accuracy to show? Not for a model without classes (a loss only). */
static int has_accuracy(const ReportData *r) { return r->nclasses > 0 || isfinite(r->test_accuracy); }

/* Figure 1: the loss chart and the accuracy chart. */
static void fig_training(RBuf *b, const ReportData *r) {
    rb_str(b, "<figure id=\"training\">\n<div class=\"row\">\n");
    Series loss[2], acc[2];
    int n = 0, na = 0;
    if (r->train_loss) loss[n++] = (Series){r->train_loss, "training loss", "#1f77b4"};
    if (r->val_loss) loss[n++] = (Series){r->val_loss, "validation loss", "#ff7f0e"};
    if (r->train_accuracy) acc[na++] = (Series){r->train_accuracy, "training accuracy", "#9467bd"};
    if (r->val_accuracy) acc[na++] = (Series){r->val_accuracy, "validation accuracy", "#2ca02c"};
    if (r->nepochs == 0 || (n == 0 && na == 0)) rb_str(b, "<p class=\"empty\">No training history.</p>\n");
    else {
        if (n) svg_line_chart(b, "Loss", "loss", loss, n, r->nepochs, r->best_epoch, 0);
        if (na) svg_line_chart(b, na == 2 || r->train_accuracy ? "Accuracy" : "Validation accuracy", "accuracy", acc, na,
                               r->nepochs, r->best_epoch, 1);
    }
    rb_printf(b, "</div>\n<figcaption>Figure 1. Training loss and validation loss per epoch%s%s",
              r->train_accuracy ? ", training accuracy (of the training steps, dropout on)" : "",
              r->val_accuracy ? (r->train_accuracy ? " and validation accuracy per epoch" : ", and validation accuracy per epoch") : "");
    if (r->best_epoch) rb_printf(b, "; the dashed line marks the chosen epoch, %d, whose weights are evaluated below", r->best_epoch);
    rb_str(b, ".</figcaption>\n</figure>\n");
}

/* A number of `decimals`, or "n/a". */
static void put_fixed(RBuf *b, double v, int decimals) {
    if (isfinite(v)) rb_printf(b, "%.*f", decimals, v);
    else rb_str(b, "n/a");
}

/* Table 1: one row per epoch, the chosen one in bold. */
static void table_epochs(RBuf *b, const ReportData *r) {
    if (r->nepochs == 0) return;
    const double *cols[] = {r->train_loss, r->train_accuracy, r->val_loss, r->val_accuracy, r->epoch_seconds, r->epoch_rate};
    static const char *const heads[] = {"train loss", "train accuracy", "val loss", "val accuracy", "seconds", "samples/s"};
    rb_str(b, "<figure id=\"epochs\">\n<table class=\"epochs\">\n<tr><th>epoch</th>");
    for (int c = 0; c < 6; c++)
        if (cols[c]) rb_printf(b, "<th>%s</th>", heads[c]);
    rb_str(b, "</tr>\n");
    for (int e = 0; e < r->nepochs; e++) {
        rb_printf(b, "<tr%s><td>%d%s</td>", e + 1 == r->best_epoch ? " class=\"best\"" : "", e + 1,
                  e + 1 == r->best_epoch ? " *" : "");
        for (int c = 0; c < 6; c++) {
            if (!cols[c]) continue;
            rb_str(b, "<td>");
            if (c == 1 || c == 3) put_pct(b, cols[c][e]);
            else if (c == 4) put_fixed(b, cols[c][e], 1);
            else if (c == 5) put_fixed(b, cols[c][e], 0);
            else put_num(b, cols[c][e]);
            rb_str(b, "</td>");
        }
        rb_str(b, "</tr>\n");
    }
    rb_str(b, "</table>\n<figcaption>Table 1. Per epoch");
    if (r->best_epoch) rb_printf(b, "; * marks the chosen epoch, %d", r->best_epoch);
    if (r->train_accuracy) rb_str(b, "; training accuracy counts the predictions of the training steps (dropout on), "
                                     "as Keras and Lightning do");
    if (r->epoch_rate) rb_str(b, "; samples/s is the training samples per second of the epoch's steps");
    rb_str(b, ".</figcaption>\n</figure>\n");
}

/* What a still-training page says where test results will be. */
static const char IN_PROGRESS[] = "<p class=\"empty\">Still training: the test set is evaluated when training ends.</p>\n";

/* Figure 2: the confusion matrix. */
static void fig_confusion(RBuf *b, const ReportData *r, const char *const *names) {
    rb_str(b, "<figure id=\"confusion\">\n");
    if (r->confusion && r->nclasses > 0) svg_confusion(b, r->nclasses, names, r->confusion);
    else if (r->in_progress) rb_str(b, IN_PROGRESS);
    else rb_str(b, "<p class=\"empty\">No confusion matrix.</p>\n");
    rb_str(b, "<figcaption>Figure 2. Confusion matrix on the test set: true class down, predicted class across, "
              "the count in each cell, the shade its share of the true class.</figcaption>\n</figure>\n");
}

/* Figures 3 and 4: the samples of one set. */
static void fig_samples(RBuf *b, const ReportData *r, const char *const *names, const char *set, const char *setname,
                        const ReportSample *s, int n, int number) {
    rb_printf(b, "<figure id=\"%s-samples\">\n<div class=\"row samples\">\n", set);
    for (int k = 0; k < n; k++) sample_block(b, r, names, set, k, &s[k]);
    if (n == 0) rb_str(b, "<p class=\"empty\">No samples.</p>\n");
    rb_printf(b, "</div>\n<figcaption>Figure %d. %s from the %s set", number, n == 5 ? "Five random samples" : "Random samples",
              setname);
    if (r->nclasses > 0)
        rb_str(b, " with the model's logits: the predicted class is filled (green if right, red if wrong), the true class "
                  "outlined");
    rb_str(b, ".</figcaption>\n</figure>\n");
}

/* Table 2: test loss, test accuracy, per-class precision, recall and support. */
static void table_metrics(RBuf *b, const ReportData *r, const char *const *names) {
    if (r->in_progress) {
        rb_str(b, "<figure id=\"metrics\">\n");
        rb_str(b, IN_PROGRESS);
        rb_str(b, "<figcaption>Table 2. Metrics on the test set.</figcaption>\n</figure>\n");
        return;
    }
    rb_str(b, "<figure id=\"metrics\">\n<table>\n<tr><th>test loss</th><td>");
    put_num(b, r->test_loss);
    if (has_accuracy(r)) {
        rb_str(b, "</td></tr>\n<tr><th>test accuracy</th><td>");
        put_pct(b, r->test_accuracy);
    }
    rb_str(b, "</td></tr>\n</table>\n");
    int n = r->nclasses;
    if (n > 0 && (r->precision || r->recall || r->confusion)) {
        rb_str(b, "<table class=\"per-class\">\n<tr><th>class</th><th>precision</th><th>recall</th><th>support</th></tr>\n");
        for (int c = 0; c < n; c++) {
            int64_t row = 0, col = 0, hit = r->confusion ? r->confusion[(size_t)c * n + c] : 0;
            for (int k = 0; r->confusion && k < n; k++) row += r->confusion[(size_t)c * n + k], col += r->confusion[(size_t)k * n + c];
            double p = r->precision ? r->precision[c] : r->confusion && col ? (double)hit / (double)col : NAN;
            double q = r->recall ? r->recall[c] : r->confusion && row ? (double)hit / (double)row : NAN;
            rb_str(b, "<tr><td>");
            rb_text(b, names[c]);
            rb_str(b, "</td><td>");
            put_pct(b, p);
            rb_str(b, "</td><td>");
            put_pct(b, q);
            if (r->confusion) rb_printf(b, "</td><td>%lld</td></tr>\n", (long long)row);
            else rb_str(b, "</td><td>n/a</td></tr>\n");
        }
        rb_str(b, "</table>\n");
    }
    rb_str(b, "<figcaption>Table 2. Metrics on the test set");
    if (r->confusion) rb_str(b, " (support: the number of test samples of the class)");
    rb_str(b, ".</figcaption>\n</figure>\n");
}

/* The Robustness section: Table 3 (accuracy by corruption group), Table 4
 * (accuracy with one input zeroed or swapped), Table 5 (confused pairs). */
static void section_robustness(RBuf *b, const ReportRobustness *q, const char *const *names) {
    rb_str(b, "<h2 id=\"robustness\">Robustness</h2>\n");
    if (q->ngroups > 0) {
        rb_str(b, "<figure id=\"groups\">\n<table>\n<tr><th>test samples</th><th>count</th><th>accuracy</th></tr>\n");
        for (int i = 0; i < q->ngroups; i++) {
            rb_str(b, "<tr><td>");
            rb_text(b, q->groups[i].name);
            rb_printf(b, "</td><td>%lld</td><td>", (long long)q->groups[i].samples);
            put_pct(b, q->groups[i].accuracy);
            rb_str(b, "</td></tr>\n");
        }
        rb_str(b, "</table>\n<figcaption>Table 3. Test accuracy by the heavy corruption a sample got.</figcaption>\n</figure>\n");
    }
    if (q->nablation > 0) {
        rb_str(b, "<figure id=\"ablation\">\n<table>\n<tr><th>input</th><th>zeroed</th><th>swapped</th></tr>\n");
        for (int i = 0; i < q->nablation; i++) {
            rb_str(b, "<tr><td>");
            rb_text(b, q->ablation[i].input);
            rb_str(b, "</td><td>");
            put_pct(b, q->ablation[i].zeroed);
            rb_str(b, "</td><td>");
            put_pct(b, q->ablation[i].swapped);
            rb_str(b, "</td></tr>\n");
        }
        rb_str(b, "</table>\n<figcaption>Table 4. Test accuracy with one input replaced: by zeros, or by another test "
                  "sample's (the other inputs kept).</figcaption>\n</figure>\n");
    }
    rb_str(b, "<figure id=\"confused\">\n");
    if (q->npairs > 0) {
        rb_str(b, "<table>\n<tr><th>true class</th><th>predicted</th><th>count</th></tr>\n");
        for (int i = 0; i < q->npairs; i++) {
            rb_str(b, "<tr><td>");
            rb_text(b, names[q->pairs[i].truth]);
            rb_str(b, "</td><td>");
            rb_text(b, names[q->pairs[i].predicted]);
            rb_printf(b, "</td><td>%lld</td></tr>\n", (long long)q->pairs[i].count);
        }
        rb_str(b, "</table>\n");
    } else rb_str(b, "<p class=\"empty\">No test sample was misclassified.</p>\n");
    rb_str(b, "<figcaption>Table 5. The most confused pairs of classes on the test set.</figcaption>\n</figure>\n");
}

/* A table of key/value rows under a heading (nothing when there are none). */
static void table_items(RBuf *b, const char *id, const char *title, const ReportItem *items, int n) {
    if (n == 0) return;
    rb_printf(b, "<h2>%s</h2>\n<table class=\"info\" id=\"%s\">\n", title, id);
    for (int i = 0; i < n; i++) {
        rb_str(b, "<tr><th>");
        rb_text(b, items[i].key);
        rb_str(b, "</th><td>");
        if (items[i].value) rb_text(b, items[i].value);
        else rb_str(b, "<span class=\"empty\">not recorded</span>");
        rb_str(b, "</td></tr>\n");
    }
    rb_str(b, "</table>\n");
}

/* The line under the title: still training, or the run's outcome. */
static void status_line(RBuf *b, const ReportData *r) {
    if (r->in_progress) {
        rb_printf(b, "<p class=\"key status\">Still training: %d epoch%s done", r->nepochs, r->nepochs == 1 ? "" : "s");
        if (r->max_epochs) rb_printf(b, " of at most %d", r->max_epochs);
        if (r->best_epoch) rb_printf(b, " &#183; best so far epoch %d", r->best_epoch);
        rb_str(b, " &#183; this page is rewritten after every epoch</p>\n");
        return;
    }
    rb_printf(b, "<p class=\"key\">%d epoch%s", r->nepochs, r->nepochs == 1 ? "" : "s");
    if (r->best_epoch) rb_printf(b, " &#183; chosen epoch %d", r->best_epoch);
    if (has_accuracy(r)) {
        rb_str(b, " &#183; test accuracy ");
        put_pct(b, r->test_accuracy);
    }
    rb_str(b, " &#183; test loss ");
    put_num(b, r->test_loss);
    rb_str(b, "</p>\n");
}

/* The whole page. */
static void page(RBuf *b, const ReportData *r, const char *const *names) {
    const char *model = r->model ? r->model : "untitled model";
    rb_str(b, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\" xml:lang=\"en\">\n<head>\n"
              "<meta charset=\"utf-8\"/>\n<title>");
    rb_text(b, model);
    rb_printf(b, " &#8212; mmgc run report</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", CSS);
    rb_text(b, model);
    rb_str(b, "</h1>\n");
    if (r->subtitle) {
        rb_str(b, "<p class=\"subtitle\">");
        rb_text(b, r->subtitle);
        rb_str(b, "</p>\n");
    }
    status_line(b, r);
    table_items(b, "run", "Run", r->run, r->nrun);
    table_items(b, "settings", "Train settings", r->settings, r->nsettings);
    fig_training(b, r);
    table_epochs(b, r);
    fig_confusion(b, r, names);
    fig_samples(b, r, names, "train", "training", r->train_samples, r->ntrain_samples, 3);
    fig_samples(b, r, names, "test", "test", r->test_samples, r->ntest_samples, 4);
    table_metrics(b, r, names);
    if (r->robustness) section_robustness(b, r->robustness, names);
    if (r->profile) report_profile_section(b, r->profile);
    if (r->nnotes > 0) {
        rb_str(b, "<h2>Notes</h2>\n<ul class=\"notes\">\n");
        for (int i = 0; i < r->nnotes; i++) {
            rb_str(b, "<li>");
            rb_text(b, r->notes[i]);
            rb_str(b, "</li>\n");
        }
        rb_str(b, "</ul>\n");
    }
    rb_str(b, "</body>\n</html>\n");
}

/* ---- writing -------------------------------------------------------------------------- */

/* Checks r, builds the page in memory, then creates dir and writes it. */
int report_write(const char *dir, const ReportData *r, char *err, size_t errlen) {
    if (!dir || !*dir) return io_fail(err, errlen, "report_write: no directory");
    if (!r) return io_fail(err, errlen, "%s: no report data", dir);
    if (check_data(dir, r, err, errlen) != 0) return -1;
    /* class names: the given ones, or "0", "1", ... */
    int n = r->nclasses;
    const char **names = calloc((size_t)n + 1, sizeof *names);
    char (*digits)[12] = calloc((size_t)n + 1, sizeof *digits);
    if (!names || !digits) {
        free(names), free(digits);
        return io_fail(err, errlen, "%s: out of memory", dir);
    }
    for (int i = 0; i < n; i++) {
        snprintf(digits[i], sizeof digits[i], "%d", i);
        names[i] = r->class_names && r->class_names[i] ? r->class_names[i] : digits[i];
    }
    RBuf b = {0};
    page(&b, r, names);
    int rc = b.oom ? io_fail(err, errlen, "%s: out of memory", dir) : io_make_dirs(dir, err, errlen);
    size_t len = strlen(dir) + sizeof "/index.html";
    char *path = rc == 0 ? malloc(len) : NULL;
    if (rc == 0 && !path) rc = io_fail(err, errlen, "%s: out of memory", dir);
    if (rc == 0) {
        snprintf(path, len, "%s/index.html", dir);
        rc = io_write_atomic(path, dir, &(IoPart){b.s, b.n}, 1, err, errlen);
    }
    free(path), free(b.s), free(names), free(digits);
    return rc;
}
