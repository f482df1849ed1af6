/* test_breakdown.c — the test split's breakdown (breakdown.h): accuracy by
 * corruption group, modality ablation and the most confused pairs, on the
 * terminal, in metrics.json and in the report, against values computed
 * here from the checkpoint's weights, the data and a meta file the test
 * writes; the meta file's checks and messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "breakdown.h"
#include "checkpoint.h"
#include "frontend/compile.h"
#include "harness.h"
#include "npy.h"
#include "tiny_data.h"
#include "train.h"
#include "util.h"

enum { NTRAIN = 200, NTEST = 100, NA = 8, NB = 4 };

static char data[300], evaldir[300], ckpt[300], json[300], text[300], report[300];
static float test_a[NTEST * NA];
static int64_t test_y[NTEST], meta[NTEST * 2];

/* half.mmg's data set in dir: a = prototype[y] + noise (informative), b
 * noise only; with meta, meta_test.npy (flags from a fixed LCG). Keeps the
 * test split's a, y and meta. */
static void make_half_data(const char *dir, int with_train, int with_meta) {
    mkdir(dir, 0755);
    const char *split[2] = {"train", "test"};
    int64_t count[2] = {NTRAIN, NTEST};
    unsigned s = 12345;
    for (int k = 0; k < 2; k++) {
        float *a = xmalloc((size_t)count[k] * NA * sizeof *a), *b = xmalloc((size_t)count[k] * NB * sizeof *b);
        int64_t *y = xmalloc((size_t)count[k] * sizeof *y);
        for (int64_t i = 0; i < count[k]; i++) {
            y[i] = (i * 7 + k) % 3;
            for (int j = 0; j < NA; j++) {
                s = s * 1664525u + 1013904223u;
                a[i * NA + j] = (float)((j % 3 == y[i] ? 1.0 : 0.0) + ((s >> 8) / 16777216.0 - 0.5) * 2.0);
            }
            for (int j = 0; j < NB; j++) {
                s = s * 1664525u + 1013904223u;
                b[i * NB + j] = (float)((s >> 8) / 16777216.0 * 4 - 2);
            }
        }
        if (k == 1) {
            memcpy(test_a, a, sizeof test_a);
            memcpy(test_y, y, sizeof test_y);
        }
        if (k == 1 || with_train) {
            char name[64];
            int64_t as[2] = {count[k], NA}, bs[2] = {count[k], NB};
            snprintf(name, sizeof name, "a_%s.npy", split[k]);
            write_npy(dir, name, 'f', 2, as, a);
            snprintf(name, sizeof name, "b_%s.npy", split[k]);
            write_npy(dir, name, 'f', 2, bs, b);
            snprintf(name, sizeof name, "y_%s.npy", split[k]);
            write_npy(dir, name, 'l', 1, as, y);
        }
        free(a);
        free(b);
        free(y);
    }
    for (int i = 0; i < NTEST * 2; i++) {
        s = s * 1664525u + 1013904223u;
        meta[i] = (s >> 16) % 3 == 0; /* about a third of each modality ruined */
    }
    int64_t ms[2] = {NTEST, 2};
    if (with_meta) write_npy(dir, "meta_test.npy", 'l', 2, ms, meta);
}

/* Runs half.mmg: trains (checkpoint NULL) or evaluates checkpoint, with
 * its output in `text`, metrics in `json`; returns the status. */
static int run(const char *dir, const char *checkpoint, const char *report_dir, char *err) {
    Compiled c;
    compile_file(&c, "tests/runtime/half.mmg", NULL, 0);
    CU_ASSERT_EQUAL_FATAL(c.status, 0);
    FILE *out = fopen(text, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    RunOptions ro = {dir, NULL, json, report_dir, checkpoint ? NULL : ckpt, NULL, checkpoint, &engine_llvm, 0, out, NULL, NULL, 0, NULL, NULL};
    int rc = checkpoint ? eval_model(&c.model, &ro, err, 512) : train_model(&c.model, &ro, err, 512);
    fclose(out);
    compile_free(&c);
    return rc;
}

/* The number after the first `key` that follows `within` in s (NaN if absent). */
static double number_at(const char *s, const char *within, const char *key) {
    const char *p = within ? strstr(s, within) : s;
    p = p ? strstr(p, key) : NULL;
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

/* The model by hand from the checkpoint: logits = a W + bias (the b term is
 * 0 * ...); predictions of the test split, and of all-zero a (argmax of
 * the bias). Fails if a test sample's top two logits are too close to tell. */
static void reference(int *pred, int *pred_zero) {
    char err[512] = "";
    Checkpoint *c = ckpt_read(ckpt, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const float *w = ckpt_tensor(c, "linear.w"), *bias = ckpt_tensor(c, "linear.b");
    for (int i = 0; i < NTEST; i++) {
        double z[3], top = -INFINITY, second = -INFINITY;
        for (int k = 0; k < 3; k++) {
            z[k] = bias[k];
            for (int j = 0; j < NA; j++) z[k] += (double)test_a[i * NA + j] * w[j * 3 + k];
        }
        pred[i] = 0;
        for (int k = 1; k < 3; k++)
            if (z[k] > z[pred[i]]) pred[i] = k;
        for (int k = 0; k < 3; k++)
            if (z[k] > top) second = top, top = z[k];
            else if (z[k] > second) second = z[k];
        CU_ASSERT_TRUE(top - second > 1e-4);
    }
    *pred_zero = 0;
    for (int k = 1; k < 3; k++)
        if (bias[k] > bias[*pred_zero]) *pred_zero = k;
    ckpt_free(c);
}

static void setup(void) {
    snprintf(data, sizeof data, "%s/half", harness_tmpdir());
    snprintf(evaldir, sizeof evaldir, "%s/half-test", harness_tmpdir());
    snprintf(ckpt, sizeof ckpt, "%s/half.safetensors", harness_tmpdir());
    snprintf(json, sizeof json, "%s/half.json", harness_tmpdir());
    snprintf(text, sizeof text, "%s/half.out", harness_tmpdir());
    snprintf(report, sizeof report, "%s/half-report", harness_tmpdir());
}

/* ---- the swap ------------------------------------------------------------------------- */

static void test_derangement(void) {
    int64_t *d = breakdown_derangement(1000), *e = breakdown_derangement(1000);
    char seen[1000] = {0};
    for (int i = 0; i < 1000; i++) {
        CU_ASSERT_TRUE(d[i] >= 0 && d[i] < 1000 && !seen[d[i]]);
        seen[d[i]] = 1;
        CU_ASSERT_NOT_EQUAL(d[i], i);
        CU_ASSERT_EQUAL(d[i], e[i]);
    }
    free(d);
    free(e);
    d = breakdown_derangement(2);
    CU_ASSERT_TRUE(d[0] == 1 && d[1] == 0);
    free(d);
    d = breakdown_derangement(1);
    CU_ASSERT_EQUAL(d[0], 0);
    free(d);
}

/* ---- a run ----------------------------------------------------------------------------- */

/* Trains half.mmg with a meta file; every figure against the hand-made ones. */
static void test_run(void) {
    setup();
    make_half_data(data, 1, 1);
    char err[512] = "";
    int rc = run(data, NULL, report, err);
    if (rc) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char *m = (char *)harness_slurp(json, NULL), *out = (char *)harness_slurp(text, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    int pred[NTEST], pred_zero;
    reference(pred, &pred_zero);
    int64_t *swap = breakdown_derangement(NTEST);
    /* by hand: accuracy, groups, a zeroed and swapped, the confusion matrix */
    int64_t n[4] = {0}, hit[4] = {0}, conf[9] = {0};
    int correct = 0, zero_hit = 0, swap_hit = 0;
    for (int i = 0; i < NTEST; i++) {
        int g = (int)(meta[2 * i] + 2 * meta[2 * i + 1]);
        n[g]++;
        hit[g] += pred[i] == test_y[i];
        correct += pred[i] == test_y[i];
        zero_hit += pred_zero == test_y[i];
        swap_hit += pred[swap[i]] == test_y[i]; /* sample i with sample swap[i]'s a */
        conf[test_y[i] * 3 + pred[i]]++;
    }
    double acc = correct / (double)NTEST;
    CU_ASSERT_TRUE(acc > 0.7); /* it learned: chance is 1/3 */
    CU_ASSERT_DOUBLE_EQUAL(number_at(m, NULL, "\"test_accuracy\": "), acc, 1e-9);
    const char *key[4] = {"\"clean\": ", "\"image_ruined\": ", "\"audio_ruined\": ", "\"both_ruined\": "};
    for (int g = 0; g < 4; g++) {
        CU_ASSERT_TRUE(n[g] > 0);
        CU_ASSERT_DOUBLE_EQUAL(number_at(m, key[g], "\"samples\": "), (double)n[g], 0);
        CU_ASSERT_DOUBLE_EQUAL(number_at(m, key[g], "\"accuracy\": "), hit[g] / (double)n[g], 1e-6);
    }
    /* b is ignored: replacing it changes nothing; replacing a does what it should */
    CU_ASSERT_DOUBLE_EQUAL(number_at(m, "\"ablation\"", "\"b_zeroed\": "), acc, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(number_at(m, "\"ablation\"", "\"b_swapped\": "), acc, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(number_at(m, "\"ablation\"", "\"a_zeroed\": "), zero_hit / (double)NTEST, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(number_at(m, "\"ablation\"", "\"a_swapped\": "), swap_hit / (double)NTEST, 1e-9);
    CU_ASSERT_TRUE(swap_hit < correct);
    /* the confused pairs: the largest off-diagonal cells, largest first, ties in row order */
    char want[400] = "\"confused_pairs\": [";
    int used[9] = {0};
    for (int p = 0; p < 3; p++) {
        int best = -1;
        for (int c = 0; c < 9; c++)
            if (c / 3 != c % 3 && !used[c] && conf[c] > 0 && (best < 0 || conf[c] > conf[best])) best = c;
        if (best < 0) break;
        used[best] = 1;
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s{\"true\": %d, \"predicted\": %d, \"count\": %lld}",
                 p ? ", " : "", best / 3, best % 3, (long long)conf[best]);
    }
    strcat(want, "]");
    if (!strstr(m, want)) fprintf(stderr, "\nwant %s in\n%s", want, m);
    CU_ASSERT_PTR_NOT_NULL(strstr(m, want));
    /* recall stays */
    CU_ASSERT_PTR_NOT_NULL(strstr(m, "\"recall\": ["));
    /* the terminal: the block after the test metrics */
    char line[200];
    snprintf(line, sizeof line, "\naccuracy by corruption (test)\n  clean         %.2f%%  (%lld samples)\n",
             100.0 * hit[0] / (double)n[0], (long long)n[0]);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, line));
    snprintf(line, sizeof line, "\n  b              zeroed %.2f%%  swapped %.2f%%\n", 100 * acc, 100 * acc);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, line));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\nmost confused (true -> predicted): "));
    CU_ASSERT_TRUE(strstr(out, "accuracy by corruption") > strstr(out, "test: loss"));
    /* the report: a Robustness section, still well-formed XML */
    char page[400];
    snprintf(page, sizeof page, "%s/index.html", report);
    CU_ASSERT_TRUE(harness_xml_ok(page));
    char *html = (char *)harness_slurp(page, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<h2 id=\"robustness\">Robustness</h2>"));
    snprintf(line, sizeof line, "<tr><td>both ruined</td><td>%lld</td><td>%.2f%%</td></tr>", (long long)n[3],
             100.0 * hit[3] / (double)n[3]);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, line));
    snprintf(line, sizeof line, "<tr><td>b</td><td>%.2f%%</td><td>%.2f%%</td></tr>", 100 * acc, 100 * acc);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, line));
    free(html);
    free(swap);
    free(m);
    free(out);
}

/* --eval on a directory of test files only: without meta no "robustness",
 * the same ablation; with a bad meta file its message. */
static void test_eval(void) {
    setup();
    char err[512] = "", want[700];
    char *trained = (char *)harness_slurp(json, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(trained);
    make_half_data(evaldir, 0, 0);
    int rc = run(evaldir, ckpt, NULL, err);
    if (rc) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char *m = (char *)harness_slurp(json, NULL), *out = (char *)harness_slurp(text, NULL);
    CU_ASSERT_PTR_NULL(strstr(m, "robustness"));
    CU_ASSERT_PTR_NULL(strstr(out, "corruption"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(m, "\"ablation\""));
    CU_ASSERT_STRING_EQUAL(strstr(m, "\"ablation\""), strstr(trained, "\"ablation\""));
    free(m);
    free(out);
    /* a meta file of the wrong sample count, dtype, width, values */
    float f[NTEST * 2] = {0};
    int64_t s99[2] = {NTEST - 1, 2}, s3[2] = {NTEST, 3}, s2[2] = {NTEST, 2}, bad[NTEST * 2] = {0}, wide[NTEST * 3] = {0};
    bad[2 * 5 + 1] = 2;
    struct {
        char dtype;
        const int64_t *shape;
        const void *values;
        const char *message;
    } cases[] = {
        {'l', s99, bad, "shape [99, 2], expected [100, 2] (a row per test sample: image ruined, audio ruined)"},
        {'l', s3, wide, "shape [100, 3], expected [100, 2] (a row per test sample: image ruined, audio ruined)"},
        {'f', s2, f, "dtype <f4, expected int64 (or another integer dtype)"},
        {'l', s2, bad, "value 2 of sample 5, column 1 (audio), expected 0 or 1"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        write_npy(evaldir, "meta_test.npy", cases[k].dtype, 2, cases[k].shape, cases[k].values);
        CU_ASSERT_EQUAL(run(evaldir, ckpt, NULL, err), TRAIN_ERROR);
        snprintf(want, sizeof want, "%s/meta_test.npy: %s", evaldir, cases[k].message);
        ASSERT_STR(err, want);
    }
    /* the reader itself: no file, a good one */
    int64_t *flags = NULL;
    CU_ASSERT_EQUAL(breakdown_read_meta(harness_tmpdir(), NTEST, &flags, err, sizeof err), 1);
    CU_ASSERT_PTR_NULL(flags);
    CU_ASSERT_EQUAL(breakdown_read_meta(data, NTEST, &flags, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(flags);
    CU_ASSERT_EQUAL(memcmp(flags, meta, sizeof meta), 0);
    free(flags);
    free(trained);
}

static CU_TestInfo tests[] = {
    {"the swap is a fixed derangement", test_derangement},
    {"a run: groups, ablation, confused pairs against hand-made values", test_run},
    {"--eval: no meta file, bad meta files", test_eval},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run_in_tmpdir("breakdown", tests); }
