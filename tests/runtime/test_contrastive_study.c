/* test_contrastive_study.c — the study's Problem 2 as contrastive_study
 * computes it (mmgc's autodiff on losses.mmg, the interpreter): Table 2
 * against the study's figures to three decimals, the limits the study
 * derives for tau -> infinity and tau -> 0, the files it writes (the SVG
 * well-formed XML, checked by xmllint as test_report does) and its errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "contrastive_study.h"
#include "harness.h"

static SimPair table_pair(int i) { return (SimPair){contrastive_table2[i].sim_pos, contrastive_table2[i].sim_neg}; }

/* Both losses at tau over Table 2's eight pairs; a test failure if either fails. */
static int weights_at(double tau, NegWeight xent[TABLE2_ROWS], NegWeight logi[TABLE2_ROWS]) {
    SimPair pairs[TABLE2_ROWS];
    for (int i = 0; i < TABLE2_ROWS; i++) pairs[i] = table_pair(i);
    char err[512] = "";
    int ok = contrastive_weights(CONTRASTIVE_XENT, tau, pairs, TABLE2_ROWS, xent, err, sizeof err) == 0 &&
             contrastive_weights(CONTRASTIVE_LOGISTIC, tau, pairs, TABLE2_ROWS, logi, err, sizeof err) == 0;
    if (!ok) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_TRUE(ok);
    return ok;
}

/* Asserts got, printed to three decimals, reads as the study's want does. */
static void assert_3dp(double got, double want, const char *what, int row) {
    char g[32], w[32];
    snprintf(g, sizeof g, "%.3f", got);
    snprintf(w, sizeof w, "%.3f", want);
    if (strcmp(g, w)) fprintf(stderr, "\n  %s, row %d: mmgc %s (%.6f), study %s\n", what, row + 1, g, got, w);
    CU_ASSERT_STRING_EQUAL(g, w);
    CU_ASSERT_DOUBLE_EQUAL(got, want, 5e-4 + 1e-6);
}

/* Every figure of Table 2 at tau = 1. */
static void test_table2(void) {
    NegWeight x[TABLE2_ROWS], l[TABLE2_ROWS];
    if (!weights_at(1, x, l)) return;
    for (int i = 0; i < TABLE2_ROWS; i++) {
        assert_3dp(x[i].f, contrastive_table2[i].f_xent, "f_Xent", i);
        assert_3dp(l[i].f, contrastive_table2[i].f_log, "f_Log", i);
        CU_ASSERT_DOUBLE_EQUAL(x[i].coef, x[i].f, 1e-12); /* at tau = 1, f is the coefficient itself */
    }
}

/* tau -> infinity: f -> -1/2 for both, the coefficient of v- (and of v+)
 * -> 0 like 1/tau, NT-Xent -> -log 2 and NT-Log -> 2 log(1/2). */
static void test_large_tau(void) {
    NegWeight x[TABLE2_ROWS], l[TABLE2_ROWS], x10[TABLE2_ROWS], l10[TABLE2_ROWS];
    if (!weights_at(1e4, x, l) || !weights_at(1e5, x10, l10)) return;
    for (int i = 0; i < TABLE2_ROWS; i++) {
        const NegWeight *w[2] = {&x[i], &l[i]}, *w10[2] = {&x10[i], &l10[i]};
        for (int k = 0; k < 2; k++) {
            ContrastiveLoss loss = k ? CONTRASTIVE_LOGISTIC : CONTRASTIVE_XENT;
            CU_ASSERT_DOUBLE_EQUAL(w[k]->f, contrastive_limit_large_tau(loss, table_pair(i)), 1e-3);
            CU_ASSERT_DOUBLE_EQUAL(w[k]->f, -0.5, 1e-3);
            CU_ASSERT_TRUE(fabs(w[k]->coef) < 1e-4 && fabs(w[k]->coef_pos) < 1e-4);
            CU_ASSERT_DOUBLE_EQUAL(w[k]->coef / w10[k]->coef, 10, 0.05); /* like 1/tau */
            CU_ASSERT_DOUBLE_EQUAL(w[k]->value, contrastive_loss_limit_large_tau(loss), 1e-3);
        }
    }
    CU_ASSERT_DOUBLE_EQUAL(contrastive_loss_limit_large_tau(CONTRASTIVE_XENT), -log(2.0), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(contrastive_loss_limit_large_tau(CONTRASTIVE_LOGISTIC), 2 * log(0.5), 1e-15);
}

/* tau -> 0 (tau = 0.01): NT-Xent weighs the negative (f -> -1) only where
 * it is more similar than the positive, and not at all (f -> 0) where it is
 * less; NT-Log weighs it fully where sim(u, v-) > 0 and not where < 0. Where
 * f -> -1 the coefficient grows like -1/tau. The loss of NT-Xent is ~0
 * where s+ > s- and very negative, (s+ - s-)/tau, where s+ < s-. */
static void test_small_tau(void) {
    const double tau = 0.01;
    NegWeight x[TABLE2_ROWS], l[TABLE2_ROWS];
    if (!weights_at(tau, x, l)) return;
    for (int i = 0; i < TABLE2_ROWS; i++) {
        SimPair p = table_pair(i);
        double want_x = p.sim_neg > p.sim_pos ? -1 : p.sim_neg < p.sim_pos ? 0 : -0.5;
        double want_l = p.sim_neg > 0 ? -1 : 0;
        CU_ASSERT_DOUBLE_EQUAL(contrastive_limit_small_tau(CONTRASTIVE_XENT, p), want_x, 0);
        CU_ASSERT_DOUBLE_EQUAL(contrastive_limit_small_tau(CONTRASTIVE_LOGISTIC, p), want_l, 0);
        CU_ASSERT_DOUBLE_EQUAL(x[i].f, want_x, 1e-3);
        CU_ASSERT_DOUBLE_EQUAL(l[i].f, want_l, 1e-3);
        CU_ASSERT_DOUBLE_EQUAL(x[i].coef, want_x / tau, 0.1);
        CU_ASSERT_DOUBLE_EQUAL(l[i].coef, want_l / tau, 0.1);
        if (p.sim_pos > p.sim_neg) CU_ASSERT_DOUBLE_EQUAL(x[i].value, 0, 1e-3);
        if (p.sim_pos < p.sim_neg)
            CU_ASSERT_DOUBLE_EQUAL(x[i].value, (p.sim_pos - p.sim_neg) / tau, 1e-3 * fabs(p.sim_pos - p.sim_neg) / tau);
    }
}

/* contrastive_study writes table2.md (every row, mmgc's and the study's
 * figures), temperature.svg (well-formed, with the limits) and prints the
 * table. */
static void test_outputs(void) {
    char err[512] = "", *printed = NULL;
    size_t plen = 0;
    FILE *out = open_memstream(&printed, &plen);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", harness_tmp("study/problem2"));
    int rc = contrastive_study(dir, out, err, sizeof err);
    fclose(out);
    if (rc) fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);

    char path[4200];
    snprintf(path, sizeof path, "%s/table2.md", dir);
    char *md = (char *)harness_slurp(path, NULL);
    static const char *const rows[TABLE2_ROWS] = {
        "| 0.99 | 0.5 | -0.380 | -0.380 | -0.622 | -0.622 |", "| 0.5 | 0.5 | -0.500 | -0.500 | -0.622 | -0.622 |",
        "| 0.01 | 0.5 | -0.620 | -0.620 | -0.622 | -0.622 |", "| -0.5 | 0.5 | -0.731 | -0.731 | -0.622 | -0.622 |",
        "| 0.99 | -0.5 | -0.184 | -0.184 | -0.378 | -0.378 |", "| 0.5 | -0.5 | -0.269 | -0.269 | -0.378 | -0.378 |",
        "| 0.01 | -0.5 | -0.375 | -0.375 | -0.378 | -0.378 |", "| -0.5 | -0.5 | -0.500 | -0.500 | -0.378 | -0.378 |",
    };
    for (int i = 0; i < TABLE2_ROWS; i++) {
        if (!md || !strstr(md, rows[i])) fprintf(stderr, "\n  table2.md lacks %s\n", rows[i]);
        CU_ASSERT_PTR_NOT_NULL(md ? strstr(md, rows[i]) : NULL);
        CU_ASSERT_PTR_NOT_NULL(printed ? strstr(printed, rows[i]) : NULL);
    }
    free(md);
    free(printed);

    snprintf(path, sizeof path, "%s/temperature.svg", dir);
    CU_ASSERT_TRUE(harness_xml_ok(path));
    char *svg = (char *)harness_slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, "stroke-dasharray")); /* the limits */
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, "f \xE2\x86\x92 -0.5 for both"));
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, "f_Xent \xE2\x86\x92 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, "f_Log \xE2\x86\x92 -1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, "f_Xent at \xCF\x84 = 1: -0.380"));
    free(svg);
}

/* An out_dir that cannot be made is named in the message; nothing is printed. */
static void test_errors(void) {
    harness_put_bytes(harness_tmp("blocker"), "x", 1);
    char dir[4096], err[512] = "", *printed = NULL;
    size_t plen = 0;
    snprintf(dir, sizeof dir, "%s/out", harness_tmp("blocker"));
    FILE *out = open_memstream(&printed, &plen);
    CU_ASSERT_EQUAL(contrastive_study(dir, out, err, sizeof err), -1);
    fclose(out);
    if (!strstr(err, dir)) fprintf(stderr, "\n  message: %s\n", err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, dir));
    CU_ASSERT_EQUAL(plen, 0);
    free(printed);

    SimPair bad = {1.5, 0.2};
    NegWeight w;
    CU_ASSERT_EQUAL(contrastive_weights(CONTRASTIVE_XENT, 1, &bad, 1, &w, err, sizeof err), -1);
    ASSERT_STR(err, "contrastive: similarities (1.5, 0.2) must lie in (-1, 1)");
    SimPair ok = {0.5, 0.2};
    CU_ASSERT_EQUAL(contrastive_weights(CONTRASTIVE_LOGISTIC, 0, &ok, 1, &w, err, sizeof err), -1);
    ASSERT_STR(err, "contrastive: temperature 0 is not a positive number");
}

static CU_TestInfo tests[] = {
    {"Table 2: f_Xent and f_Log at tau = 1 against the study's, three decimals", test_table2},
    {"tau -> infinity: f -> -1/2, coefficients -> 0 like 1/tau, loss limits", test_large_tau},
    {"tau -> 0: which negatives still weigh", test_small_tau},
    {"table2.md, temperature.svg (xmllint) and the printed table", test_outputs},
    {"an unwritable out_dir and bad arguments give messages", test_errors},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run_in_tmpdir("contrastive_study", tests); }
