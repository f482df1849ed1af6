/* test_report.c — the run report: a page from synthetic data that xmllint
 * parses, with the study's figures (two curve charts with the best-epoch
 * marker, 100 confusion cells for 10 classes, ten sample blocks with a
 * picture, a waveform, an audio player and logits each, the metrics
 * table), the run's tables (command line, settings, one row per epoch),
 * escaped names, an image whose BMP decodes to the right pixels, a WAV
 * that decodes to the waveform, a page of a run still training, the edge
 * cases (1 epoch, NaN and infinite losses, no samples, 2 classes, long and
 * broken names), the Robustness section, and the data errors.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "report.h"

/* The contents of dir/index.html, NUL-terminated, malloc'd. */
static char *slurp_page(const char *dir) {
    char path[4352];
    snprintf(path, sizeof path, "%s/index.html", dir);
    return (char *)harness_slurp(path, NULL);
}

/* The number of times needle occurs in s. */
static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* Whether dir/index.html is well-formed XML. */
static int xmllint_ok(const char *dir) {
    char path[4400];
    snprintf(path, sizeof path, "%s/index.html", dir);
    return harness_xml_ok(path);
}

/* ---- synthetic data ------------------------------------------------------------- */

enum { EPOCHS = 30, CLASSES = 10, H = 28, W = 28, L = 8000 };

static double train_loss[EPOCHS], val_loss[EPOCHS], val_acc[EPOCHS], train_acc[EPOCHS], seconds[EPOCHS], rate[EPOCHS];
static int64_t confusion[CLASSES * CLASSES];
static float images[10][H * W], waves[10][L], logits[10][CLASSES];
static const char *names[CLASSES] = {"zero", "one", "two", "three", "four", "five", "six", "seven <7> & \"sept\"", "eight", "nine"};
static const char *notes[] = {"fusion = gated; batch 64", "a note with <markup> & ]]> --"};
static const ReportItem run_items[] = {{"command", "mmgc models/multimodal_gated.mmg --train --set \"seed=2\""},
                                       {"mmgc", "0.1.0"},
                                       {"data manifest", NULL}};
static const ReportItem settings[] = {{"seed", "2"}, {"batch", "64"}, {"early_stopping.patience", "5"}};

/* A report like a real run's: 30 epochs, 10 classes, 5 + 5 samples with an image and a waveform. */
static ReportData make_report(void) {
    for (int e = 0; e < EPOCHS; e++) {
        train_loss[e] = 2.3 * exp(-e / 6.0) + 0.05 * sin(e * 1.7);
        val_loss[e] = 2.2 * exp(-e / 5.0) + 0.28 + (e > 16 ? 0.01 * (e - 16) : 0);
        val_acc[e] = 0.95 - 0.6 * exp(-e / 3.0);
        train_acc[e] = 0.4 + 0.02 * e;
        seconds[e] = 26.5 + e;
        rate[e] = 245 - e;
    }
    train_loss[3] = NAN, train_loss[4] = INFINITY; /* skipped points */
    for (int t = 0; t < CLASSES; t++)
        for (int p = 0; p < CLASSES; p++) confusion[t * CLASSES + p] = t == p ? 900 + 7 * t : (t * 3 + p) % 11 == 0 ? 12 : (t + p) % 4;
    for (int k = 0; k < 10; k++) {
        for (int i = 0; i < H * W; i++) images[k][i] = (float)((i / W + i % W + k) % 17) / 16.0f - 0.5f;
        for (int i = 0; i < L; i++) waves[k][i] = 0.8f * sinf((float)i * 0.05f * (float)(k + 1)) * expf(-(float)i / 3000.0f);
        for (int c = 0; c < CLASSES; c++) logits[k][c] = (float)((c * 7 + k * 3) % 10) - 4.5f;
        if (k % 3 != 1) logits[k][(k * 3) % CLASSES] = 6.5f - (float)k / 2; /* most samples are right */
    }
    ReportData r;
    memset(&r, 0, sizeof r);
    r.model = "multimodal <gated> & \"fast\"";
    r.subtitle = "fusion: gated \xc2\xb7 adam(lr: 1e-3) \xc2\xb7 batch 64";
    r.nepochs = EPOCHS;
    r.train_loss = train_loss, r.val_loss = val_loss, r.val_accuracy = val_acc;
    r.best_epoch = 16;
    r.nclasses = CLASSES;
    r.class_names = names;
    r.confusion = confusion;
    r.test_loss = 0.278, r.test_accuracy = 0.945;
    for (int k = 0; k < 5; k++) {
        ReportSample *s[2] = {&r.train_samples[k], &r.test_samples[k]};
        for (int j = 0; j < 2; j++) {
            int id = 5 * j + k;
            s[j]->nviews = 2;
            s[j]->views[0] = (ReportView){"image", 3, {1, H, W, 0}, images[id], 0};
            s[j]->views[1] = (ReportView){"audio", 2, {1, L, 0, 0}, waves[id], 8000};
            s[j]->label = (id * 3) % CLASSES;
            s[j]->logits = logits[id];
        }
    }
    r.ntrain_samples = r.ntest_samples = 5;
    r.notes = notes, r.nnotes = 2;
    r.train_accuracy = train_acc, r.epoch_seconds = seconds, r.epoch_rate = rate;
    r.run = run_items, r.nrun = 3;
    r.settings = settings, r.nsettings = 3;
    return r;
}

/* ---- the full report ------------------------------------------------------------ */

/* A report of a 30-epoch, 10-class run with 5 + 5 samples of an image and a waveform. */
static void test_full_report(void) {
    ReportData r = make_report();
    char err[512];
    const char *dir = harness_tmp("runs/gated");
    CU_ASSERT_EQUAL_FATAL(report_write(dir, &r, err, sizeof err), 0);
    CU_ASSERT(xmllint_ok(harness_tmp("runs/gated")));
    CU_ASSERT_EQUAL(access(harness_tmp("runs/gated/index.html.tmp"), F_OK), -1);
    char *s = slurp_page(harness_tmp("runs/gated"));

    /* the figures */
    CU_ASSERT_EQUAL(count(s, "class=\"chart line-chart\""), 2);
    CU_ASSERT_EQUAL(count(s, "class=\"best-epoch\""), 2);
    CU_ASSERT_EQUAL(count(s, ">best epoch 16</text>"), 2);
    CU_ASSERT_EQUAL(count(s, "class=\"chart confusion\""), 1);
    CU_ASSERT_EQUAL(count(s, "class=\"cm-cell\""), 100);
    CU_ASSERT_EQUAL(count(s, "class=\"sample\""), 10);
    CU_ASSERT_EQUAL(count(s, "class=\"view-image\""), 10);
    CU_ASSERT_EQUAL(count(s, "class=\"view-waveform\""), 10);
    CU_ASSERT_EQUAL(count(s, "class=\"chart logits\""), 10);
    CU_ASSERT_EQUAL(count(s, "<svg "), 2 + 1 + 30);
    CU_ASSERT_EQUAL(count(s, "</svg>"), 2 + 1 + 30);
    CU_ASSERT_EQUAL(count(s, "class=\"bar predicted\""), 10); /* one per sample */
    for (int k = 1; k <= 5; k++) {
        char id[40];
        snprintf(id, sizeof id, "id=\"train-sample-%d\"", k);
        CU_ASSERT_EQUAL(count(s, id), 1);
        snprintf(id, sizeof id, "id=\"test-sample-%d\"", k);
        CU_ASSERT_EQUAL(count(s, id), 1);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "Figure 1."));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "Figure 4. Five random samples from the test set"));
    /* the diagonal count of class 9 is in its cell */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, ">963</text>"));
    /* the table */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<th>test loss</th><td>0.2780</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<th>test accuracy</th><td>94.50%</td>"));
    /* escaping */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<h1>multimodal &lt;gated&gt; &amp; &quot;fast&quot;</h1>"));
    CU_ASSERT_PTR_NULL(strstr(s, "<gated>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "seven &lt;7&gt; &amp; &quot;sept&quot;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<li>a note with &lt;markup&gt; &amp; ]]&gt; --</li>"));
    /* self-contained: no scripts, nothing fetched; the only src is a WAV file inline ("RIFF") */
    CU_ASSERT_PTR_NULL(strstr(s, "<script"));
    CU_ASSERT_PTR_NULL(strstr(s, "href=\"http"));
    CU_ASSERT_EQUAL(count(s, "src=\""), 10);
    CU_ASSERT_EQUAL(count(s, "src=\"data:audio/wav;base64,UklGR"), 10);
    /* a player beside every waveform that is sound */
    CU_ASSERT_EQUAL(count(s, "<audio class=\"view-audio\" controls=\"controls\" preload=\"none\" "
                             "title=\"audio, 8000 samples at 8000 Hz\""), 10);
    CU_ASSERT_EQUAL(count(s, "</audio>"), 10);
    /* the run and its settings */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<h2>Run</h2>\n<table class=\"info\" id=\"run\">\n"
                                     "<tr><th>command</th><td>mmgc models/multimodal_gated.mmg --train --set &quot;seed=2&quot;</td></tr>\n"
                                     "<tr><th>mmgc</th><td>0.1.0</td></tr>\n"
                                     "<tr><th>data manifest</th><td><span class=\"empty\">not recorded</span></td></tr>\n</table>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<h2>Train settings</h2>\n<table class=\"info\" id=\"settings\">\n"
                                     "<tr><th>seed</th><td>2</td></tr>\n<tr><th>batch</th><td>64</td></tr>\n"
                                     "<tr><th>early_stopping.patience</th><td>5</td></tr>\n</table>"));
    /* one row per epoch, the chosen one marked */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<table class=\"epochs\">\n<tr><th>epoch</th><th>train loss</th><th>train accuracy</th>"
                                     "<th>val loss</th><th>val accuracy</th><th>seconds</th><th>samples/s</th></tr>\n"
                                     "<tr><td>1</td><td>2.3000</td><td>40.00%</td><td>2.4800</td><td>35.00%</td><td>26.5</td>"
                                     "<td>245</td></tr>\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<tr><td>4</td><td>n/a</td><td>46.00%</td>")); /* a NaN loss */
    CU_ASSERT_EQUAL(count(s, "<tr class=\"best\"><td>16 *</td>"), 1);
    CU_ASSERT_EQUAL(count(s, "<tr><td>"), EPOCHS - 1 + CLASSES); /* the epochs but the chosen one, the classes */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "Table 1. Per epoch; * marks the chosen epoch, 16"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, ">Accuracy</text>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "training accuracy (of the training steps, dropout on) and validation accuracy per epoch"));
    CU_ASSERT_EQUAL(count(s, "href=\"data:image/bmp;base64,Qk"), 10); /* "BM" */
    /* the NaN and the infinity are skipped: the training curve is split in two */
    CU_ASSERT_EQUAL(count(s, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\""), 2);
    /* waveforms of 8000 samples are drawn with 800 points */
    const char *wave = strstr(s, "class=\"view-waveform\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(wave);
    const char *pts = strstr(wave, "points=\""), *end = strchr(pts + 8, '"');
    int npoints = 1;
    for (const char *p = pts + 8; p < end; p++) npoints += *p == ' ';
    CU_ASSERT_EQUAL(npoints, 800);
    free(s);
}

/* Decodes base64 text up to the closing quote into out; returns the byte count. */
static size_t unbase64(const char *s, unsigned char *out, size_t cap) {
    static const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '"' && *s != '='; s++) {
        const char *c = strchr(alphabet, *s);
        if (!c) return 0;
        acc = acc << 6 | (unsigned)(c - alphabet);
        bits += 6;
        if (bits >= 8 && n < cap) out[n++] = (unsigned char)(acc >> (bits - 8)), bits -= 8;
    }
    return n;
}

/* The first picture is a BMP whose pixels are the image scaled min..max to 0..255, bottom row first. */
static void test_image_pixels(void) {
    ReportData r = make_report();
    static float px[3 * 5];
    for (int i = 0; i < 15; i++) px[i] = (float)i; /* 3 rows, 5 columns, 0..14 */
    px[7] = NAN;
    r.train_samples[0].views[0] = (ReportView){"tiny", 3, {1, 3, 5, 0}, px, 0};
    r.train_samples[0].nviews = 1;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(report_write(harness_tmp("pixels"), &r, err, sizeof err), 0);
    char *s = slurp_page(harness_tmp("pixels"));
    const char *b64 = strstr(s, "data:image/bmp;base64,");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b64);
    unsigned char bmp[2048];
    size_t n = unbase64(b64 + 22, bmp, sizeof bmp);
    size_t stride = 8, off = 14 + 40 + 1024;
    CU_ASSERT_EQUAL_FATAL(n, off + 3 * stride);
    CU_ASSERT(bmp[0] == 'B' && bmp[1] == 'M' && bmp[18] == 5 && bmp[22] == 3 && bmp[28] == 8);
    CU_ASSERT(bmp[10] == (off & 255) && bmp[11] == off >> 8);
    CU_ASSERT(bmp[54 + 4 * 200] == 200 && bmp[54 + 4 * 200 + 2] == 200); /* grey palette */
    const unsigned char *top = bmp + off + 2 * stride, *bottom = bmp + off;
    CU_ASSERT(top[0] == 0 && top[4] == 73);           /* 4 / 14 * 255 = 72.9 */
    CU_ASSERT(bottom[4] == 255 && bottom[0] == 182);  /* 10 / 14 * 255 = 182.1 */
    CU_ASSERT_EQUAL(bmp[off + stride + 2], 0);        /* NaN drawn black */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "tiny [1, 3, 5], values 0 to 14</title>"));
    CU_ASSERT(xmllint_ok(harness_tmp("pixels")));
    free(s);
}

/* The first player's WAV file: 16-bit mono PCM at 8000 Hz, the first train sample's waveform. */
static void test_audio(void) {
    ReportData r = make_report();
    char err[512];
    CU_ASSERT_EQUAL_FATAL(report_write(harness_tmp("audio"), &r, err, sizeof err), 0);
    char *s = slurp_page(harness_tmp("audio"));
    const char *b64 = strstr(s, "data:audio/wav;base64,");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b64);
    static unsigned char wav[44 + 2 * L + 16];
    size_t n = unbase64(b64 + 22, wav, sizeof wav);
    CU_ASSERT_EQUAL_FATAL(n, 44 + 2 * L);
    CU_ASSERT(!memcmp(wav, "RIFF", 4) && !memcmp(wav + 8, "WAVEfmt ", 8) && !memcmp(wav + 36, "data", 4));
    CU_ASSERT(wav[20] == 1 && wav[22] == 1 && wav[34] == 16);              /* PCM, mono, 16 bits */
    CU_ASSERT_EQUAL(wav[24] | wav[25] << 8, 8000);                           /* the rate */
    int bad = 0;
    for (int i = 0; i < L; i++) {
        int16_t v = (int16_t)(wav[44 + 2 * i] | wav[45 + 2 * i] << 8);
        bad += v != (int16_t)lrintf(waves[0][i] * 32767.0f);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(s);
}

/* A run still training: its status, its epochs so far, no test results yet. */
static void test_in_progress(void) {
    ReportData r = make_report();
    r.in_progress = 1, r.max_epochs = 100;
    r.nepochs = 3, r.best_epoch = 2;
    r.confusion = NULL, r.precision = r.recall = NULL;
    r.test_loss = r.test_accuracy = NAN;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(report_write(harness_tmp("live"), &r, err, sizeof err), 0);
    CU_ASSERT(xmllint_ok(harness_tmp("live")));
    char *s = slurp_page(harness_tmp("live"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<p class=\"key status\">Still training: 3 epochs done of at most 100 &#183; "
                                     "best so far epoch 2 &#183; this page is rewritten after every epoch</p>"));
    CU_ASSERT_EQUAL(count(s, "Still training: the test set is evaluated when training ends."), 2);
    CU_ASSERT_EQUAL(count(s, "class=\"cm-cell\""), 0);
    CU_ASSERT_PTR_NULL(strstr(s, "<th>test loss</th>"));
    CU_ASSERT_PTR_NULL(strstr(s, "test accuracy"));
    CU_ASSERT_EQUAL(count(s, "<tr class=\"best\"><td>2 *</td>"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<tr><td>3</td><td>"));
    CU_ASSERT_PTR_NULL(strstr(s, "<tr><td>4</td><td>"));
    free(s);
}

/* ---- edge cases ------------------------------------------------------------------ */

/* 1 epoch, NaN and infinite values, 2 classes, long and broken names, no samples, no data at all. */
static void test_edge_cases(void) {
    static char long_name[400];
    memset(long_name, 'x', 300);
    strcpy(long_name + 300, " & <end>");
    const char *two[2] = {long_name, "bad \xff\xfe utf-8 \x01 ctl"};
    double one_loss[1] = {0.7}, one_val[1] = {NAN}, one_acc[1] = {INFINITY};
    int64_t cm[4] = {5, 0, 1000000, 0};
    ReportData r;
    memset(&r, 0, sizeof r);
    r.model = long_name;
    r.nepochs = 1;
    r.train_loss = one_loss, r.val_loss = one_val, r.val_accuracy = one_acc;
    r.best_epoch = 1;
    r.nclasses = 2;
    r.class_names = two;
    r.confusion = cm;
    r.test_loss = NAN, r.test_accuracy = 0.5;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(report_write(harness_tmp("edge"), &r, err, sizeof err), 0);
    CU_ASSERT(xmllint_ok(harness_tmp("edge")));
    char *s = slurp_page(harness_tmp("edge"));
    CU_ASSERT_EQUAL(count(s, "class=\"cm-cell\""), 4);
    CU_ASSERT_EQUAL(count(s, "class=\"sample\""), 0);
    CU_ASSERT_EQUAL(count(s, "No samples."), 2);
    CU_ASSERT_EQUAL(count(s, "class=\"best-epoch\""), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "no finite values")); /* the accuracy chart */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<th>test loss</th><td>n/a</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "xxxxxxxx &amp; &lt;end&gt;</h1>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "xxxxxxxxxxxxxxx&#8230;")); /* cut in the charts */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "bad \xef\xbf\xbd\xef\xbf\xbd utf-8 \xef\xbf\xbd ctl"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, ">1000000</text>"));
    /* precision and recall from the matrix: class 1 is never predicted */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<td>0.00%</td><td>100.00%</td><td>5</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "ctl</td><td>n/a</td><td>0.00%</td><td>1000000</td></tr>"));
    free(s);

    /* No epochs at all, no classes; the same directory is overwritten. */
    memset(&r, 0, sizeof r);
    r.test_loss = r.test_accuracy = NAN;
    CU_ASSERT_EQUAL_FATAL(report_write(harness_tmp("edge"), &r, err, sizeof err), 0);
    CU_ASSERT(xmllint_ok(harness_tmp("edge")));
    s = slurp_page(harness_tmp("edge"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<h1>untitled model</h1>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "No training history."));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "No confusion matrix."));
    CU_ASSERT_EQUAL(count(s, "<svg "), 0);
    free(s);

    /* Samples without logits, a label of -1, a one-sample waveform, a 1 x 1 image, all-NaN logits. */
    r = make_report();
    static float nan_logits[CLASSES], one = 0.25f;
    for (int c = 0; c < CLASSES; c++) nan_logits[c] = NAN;
    r.train_samples[0].logits = NULL;
    r.train_samples[1].label = -1;
    r.train_samples[2].views[1] = (ReportView){"click", 2, {1, 1, 0, 0}, &one, 8000};
    r.train_samples[3].views[0] = (ReportView){"dot", 3, {1, 1, 1, 0}, &one, 0};
    r.train_samples[4].logits = nan_logits;
    r.train_samples[4].views[1].shape[0] = 2, r.train_samples[4].views[1].shape[1] = L / 2; /* stereo: channel 1 drawn */
    r.ntest_samples = 0;
    r.precision = r.recall = NULL;
    CU_ASSERT_EQUAL_FATAL(report_write(harness_tmp("edge2"), &r, err, sizeof err), 0);
    CU_ASSERT(xmllint_ok(harness_tmp("edge2")));
    s = slurp_page(harness_tmp("edge2"));
    CU_ASSERT_EQUAL(count(s, "class=\"sample\""), 5);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "No logits."));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "no finite logits"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "true unknown"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<br/>audio (channel 1 of 2)</div>"));
    free(s);
}

/* ---- errors --------------------------------------------------------------------- */

/* Asserts that report_write(tmpdir/bad, r) fails with "DIR: message" and writes nothing. */
static void expect_error(const ReportData *r, const char *message) {
    char want[512], err[512] = "";
    snprintf(want, sizeof want, "%s: %s", harness_tmp("bad"), message);
    CU_ASSERT_EQUAL(report_write(harness_tmp("bad"), r, err, sizeof err), -1);
    ASSERT_STR(err, want);
    CU_ASSERT_EQUAL(access(harness_tmp("bad"), F_OK), -1);
}

/* The Robustness section: its three tables, escaped names, n/a for a group
 * without samples, and still well-formed XML; without groups no Table 3. */
static const ReportGroup groups[4] = {{"clean", 1500, 0.95}, {"image ruined", 200, 0.8125}, {"audio ruined", 300, 0.9},
                                      {"both ruined", 0, NAN}};
static const ReportAblation ablation[2] = {{"image", 0.5, 0.25}, {"audio <raw> & \"wave\"", 0.875, 0.75}};
static const ReportPair pairs[3] = {{4, 9, 12}, {7, 1, 5}, {3, 5, 5}};

static void test_robustness(void) {
    ReportData r = make_report();
    ReportRobustness q = {groups, ablation, pairs, 4, 2, 3};
    r.robustness = &q;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(report_write(harness_tmp("runs/robust"), &r, err, sizeof err), 0);
    CU_ASSERT(xmllint_ok(harness_tmp("runs/robust")));
    char *s = slurp_page(harness_tmp("runs/robust"));
    CU_ASSERT_EQUAL(count(s, "<h2 id=\"robustness\">Robustness</h2>"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<tr><td>image ruined</td><td>200</td><td>81.25%</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<tr><td>both ruined</td><td>0</td><td>n/a</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<tr><td>image</td><td>50.00%</td><td>25.00%</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<tr><td>audio &lt;raw&gt; &amp; &quot;wave&quot;</td><td>87.50%</td><td>75.00%</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<tr><td>four</td><td>nine</td><td>12</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "<tr><td>seven &lt;7&gt; &amp; &quot;sept&quot;</td><td>one</td><td>5</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "Table 5."));
    free(s);
    q.ngroups = 0, q.npairs = 0;
    CU_ASSERT_EQUAL_FATAL(report_write(harness_tmp("runs/robust"), &r, err, sizeof err), 0);
    CU_ASSERT(xmllint_ok(harness_tmp("runs/robust")));
    s = slurp_page(harness_tmp("runs/robust"));
    CU_ASSERT_PTR_NULL(strstr(s, "Table 3."));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "Table 4."));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "No test sample was misclassified."));
    free(s);
}

/* Bad counts, ranges, shapes and pointers are refused with a message, and nothing is written. */
static void test_errors(void) {
    ReportData r = make_report();
    r.best_epoch = 31;
    expect_error(&r, "best_epoch 31 is out of range (0 to 30)");
    r = make_report(), r.nepochs = -1;
    expect_error(&r, "nepochs is -1");
    r = make_report(), r.nclasses = -2;
    expect_error(&r, "nclasses -2 is out of range (0 to 1000)");
    r = make_report(), r.ntest_samples = 6;
    expect_error(&r, "6 test samples (0 to 5)");
    r = make_report(), r.train_samples[2].label = 10;
    expect_error(&r, "train sample 3: label 10 is out of range (-1 to 9)");
    r = make_report(), r.test_samples[0].nviews = 5;
    expect_error(&r, "test sample 1 has 5 views (0 to 4)");
    r = make_report(), r.test_samples[1].views[1].rank = 1;
    expect_error(&r, "test sample 2, view 2 ('audio'): rank 1 cannot be drawn (rank 3 [1, H, W] is an image, rank 2 [1, L] a waveform)");
    r = make_report(), r.test_samples[1].views[0].shape[0] = 0;
    expect_error(&r, "test sample 2, view 1 ('image'): dimension 0 is 0 (1 to 1024)");
    r = make_report(), r.test_samples[1].views[0].shape[2] = 0;
    expect_error(&r, "test sample 2, view 1 ('image'): dimension 2 is 0 (1 to 1024)");
    r = make_report(), r.test_samples[1].views[0].shape[1] = 5000;
    expect_error(&r, "test sample 2, view 1 ('image'): dimension 1 is 5000 (1 to 1024)");
    r = make_report(), r.train_samples[4].views[1].data = NULL;
    expect_error(&r, "train sample 5, view 2 ('audio'): data is NULL");
    r = make_report(), confusion[12] = -1;
    expect_error(&r, "confusion[1][2] is negative (-1)");
    r = make_report(), r.nnotes = 1, r.notes = NULL;
    expect_error(&r, "bad notes (1, NULL)");
    ReportPair far = {3, 10, 1};
    ReportRobustness q = {NULL, NULL, &far, 0, 0, 1};
    r = make_report(), r.robustness = &q;
    expect_error(&r, "confused pair 1 (3, 10, count 1) is out of range (classes 0 to 9)");
    q = (ReportRobustness){NULL, NULL, NULL, 4, 0, 0};
    expect_error(&r, "bad robustness figures (4 groups, 0 ablations, 0 pairs)");
    r = make_report(), r.nrun = 2, r.run = NULL;
    expect_error(&r, "bad run items (2, NULL)");
    r = make_report(), r.nsettings = -1;
    expect_error(&r, "bad settings (-1, set)");

    char err[512], want[1024], file[300];
    r = make_report();
    snprintf(file, sizeof file, "%s", harness_tmp("runs/gated/index.html"));
    CU_ASSERT_EQUAL(report_write(harness_tmp("runs/gated/index.html/x"), &r, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s/x: %s is not a directory", file, file);
    ASSERT_STR(err, want);
    CU_ASSERT_EQUAL(report_write(NULL, &r, err, sizeof err), -1);
    ASSERT_STR(err, "report_write: no directory");
    CU_ASSERT_EQUAL(report_write(harness_tmp("x"), NULL, NULL, 0), -1);
}

/* Runs the suite in a fresh temporary directory, removed afterwards (kept, for
 * a look at the pages, when MMGC_KEEP_REPORT or MMGC_KEEP_TMPDIR is set). */
int main(void) {
    if (getenv("MMGC_KEEP_REPORT")) setenv("MMGC_KEEP_TMPDIR", "1", 1);
    static CU_TestInfo tests[] = {
        {"a full report: figures, xmllint, escaping", test_full_report},
        {"pictures are BMPs of the scaled pixels", test_image_pixels},
        {"audio players hold the waveform as a WAV file", test_audio},
        {"a run still training", test_in_progress},
        {"edge cases: 1 epoch, NaN, no samples, 2 classes, long names", test_edge_cases},
        {"the Robustness section", test_robustness},
        {"data errors", test_errors},
        CU_TEST_INFO_NULL,
    };
    return harness_run_in_tmpdir("report", tests);
}
