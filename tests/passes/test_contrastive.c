/* test_contrastive.c — the study's Problem 2, checked on mmgc's autodiff.
 *
 * Convention: the study writes NT-Xent and NT-Logistic as log-likelihoods
 * to maximize; models/lib/losses.mmg gives the usual minimized form, their
 * negation (averaged over the batch). Every check below converts: the
 * study's gradient is -B * d loss / d u_row, the study's loss is -loss.
 *
 * Rows realize the similarity pairs (s+, s-) of the study's Table 2 with
 * unit vectors in 3-D: v+ = e1, v- = (cos t, sin t, 0), u = (s+, y, z).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "contrastive_study.h"
#include "frontend/compile.h"
#include "harness.h"
#include "interp.h"

#define ROWS TABLE2_ROWS

/* The study's Table 2 (runtime/contrastive_study.c holds its figures):
 * column 0 s+, 1 s-, 2 f_Xent, 3 f_Log. */
static double table_at(int i, int col) {
    const Table2Row *r = &contrastive_table2[i];
    return col == 0 ? r->sim_pos : col == 1 ? r->sim_neg : col == 2 ? r->f_xent : r->f_log;
}

typedef struct {
    double u[ROWS][3], pos[ROWS][3], neg[ROWS][3];
} Rows;

/* Unit vectors with u.v+ = s+ and u.v- = s- for each row of the table. */
static void make_rows(Rows *r) {
    for (int i = 0; i < ROWS; i++) {
        double sp = table_at(i, 0), sn = table_at(i, 1);
        for (double t = 0.3; t < 3.1; t += 0.01) {
            double y = (sn - sp * cos(t)) / sin(t);
            if (y * y > 1 - sp * sp) continue;
            double u[3] = {sp, y, sqrt(1 - sp * sp - y * y)}, p[3] = {1, 0, 0}, n[3] = {cos(t), sin(t), 0};
            memcpy(r->u[i], u, sizeof u);
            memcpy(r->pos[i], p, sizeof p);
            memcpy(r->neg[i], n, sizeof n);
            break;
        }
    }
}

typedef struct {
    double loss;            /* the library's (minimized, batch-mean) loss */
    double grad[ROWS][3];   /* d loss / d u */
} Result;

/* Compiles contrastive.mmg with the criterion and tau, runs one step. */
static int evaluate(const char *criterion, double tau, const Rows *rows, Result *out) {
    char set1[64], set2[64];
    snprintf(set1, sizeof set1, "criterion=%s", criterion);
    snprintf(set2, sizeof set2, "tau=%.17g", tau);
    const char *sets[] = {set1, set2};
    Compiled c;
    compile_file(&c, "tests/passes/contrastive.mmg", sets, 2);
    int ok = c.status == 0;
    if (!ok) diag_print(&c.prog.diag, stderr);
    PassConfig cfg = {STAGE_TRAIN, c.model.train.optimizer, 1, NULL, NULL};
    PassError perr;
    Graph *g = c.model.graph;
    if (ok && pass_autodiff(g, &cfg, &perr)) {
        fprintf(stderr, "autodiff: %s\n", perr.msg);
        ok = 0;
    }
    char err[256];
    Interp *in = ok ? interp_new(g, err, sizeof err) : NULL;
    if (in) {
        const double(*src[3])[3] = {rows->u, rows->pos, rows->neg};
        for (int k = 0; k < 3; k++) {
            float *x = interp_f32(in, c.model.inputs[k].node);
            for (int i = 0; i < ROWS; i++)
                for (int j = 0; j < 3; j++) x[i * 3 + j] = (float)src[k][i][j];
        }
        for (int i = 0; i < ROWS; i++) interp_f32(in, c.model.weight_node)[i] = 1;
        ok = interp_run(in, 1, 0, 0, err, sizeof err) == 0;
        out->loss = interp_f32(in, ir_output(g, "loss"))[0];
        const float *gu = interp_f32(in, ir_output(g, "grad:u"));
        for (int i = 0; i < ROWS; i++)
            for (int j = 0; j < 3; j++) out->grad[i][j] = gu[i * 3 + j];
        interp_free(in);
    }
    compile_free(&c);
    return ok;
}

static double dot(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
static double sigmoid(double x) { return 1 / (1 + exp(-x)); }

/* Writes g = a v+ + b v- (v+, v- independent) and returns b. */
static double coefficient_of_neg(const double *g, const double *vp, const double *vn) {
    double pp = dot(vp, vp), pn = dot(vp, vn), nn = dot(vn, vn), gp = dot(g, vp), gn = dot(g, vn);
    return (pp * gn - pn * gp) / (pp * nn - pn * pn);
}

/* The study's Table 2: the coefficient of v- in the gradient at tau = 1. */
static void test_table2(void) {
    Rows rows;
    make_rows(&rows);
    const char *losses[2] = {"nt_xent", "nt_logistic"};
    for (int l = 0; l < 2; l++) {
        Result r;
        CU_ASSERT_TRUE_FATAL(evaluate(losses[l], 1.0, &rows, &r));
        for (int i = 0; i < ROWS; i++) {
            double study[3];
            for (int j = 0; j < 3; j++) study[j] = -ROWS * r.grad[i][j]; /* maximized form, per row */
            double f = coefficient_of_neg(study, rows.pos[i], rows.neg[i]);
            double want = table_at(i, 2 + l);
            if (fabs(f - want) > 5e-4 + 1e-6)
                fprintf(stderr, "\n%s at s+ = %g, s- = %g: f = %.4f, table %.3f\n", losses[l], table_at(i, 0),
                        table_at(i, 1), f, want);
            CU_ASSERT_DOUBLE_EQUAL(f, want, 5e-4 + 1e-6);
        }
    }
}

/* Autodiff's gradient equals the closed forms the study derives, at several
 * temperatures:
 *   NT-Xent:  v+/t (1 - e^(s+/t)/Z) - v-/t e^(s-/t)/Z,   Z = e^(s+/t) + e^(s-/t)
 *   NT-Log:   sigmoid(-s+/t) v+/t - sigmoid(s-/t) v-/t */
static void test_closed_form_gradients(void) {
    Rows rows;
    make_rows(&rows);
    const double taus[] = {0.1, 0.5, 1.0, 2.0};
    for (int l = 0; l < 2; l++)
        for (size_t k = 0; k < sizeof taus / sizeof taus[0]; k++) {
            double t = taus[k];
            Result r;
            CU_ASSERT_TRUE_FATAL(evaluate(l ? "nt_logistic" : "nt_xent", t, &rows, &r));
            double loss = 0;
            for (int i = 0; i < ROWS; i++) {
                double sp = dot(rows.u[i], rows.pos[i]) / t, sn = dot(rows.u[i], rows.neg[i]) / t;
                double cp, cn; /* the study's gradient = cp v+ + cn v- */
                if (!l) {
                    double z = exp(sp) + exp(sn);
                    cp = (1 - exp(sp) / z) / t;
                    cn = -(exp(sn) / z) / t;
                    loss += -(sp - log(z));
                } else {
                    cp = sigmoid(-sp) / t;
                    cn = -sigmoid(sn) / t;
                    loss += -(log(sigmoid(sp)) + log(sigmoid(-sn)));
                }
                for (int j = 0; j < 3; j++) {
                    double want = cp * rows.pos[i][j] + cn * rows.neg[i][j];
                    double got = -ROWS * r.grad[i][j];
                    CU_ASSERT_DOUBLE_EQUAL(got, want, 1e-4 * (1 + fabs(want)));
                }
            }
            CU_ASSERT_DOUBLE_EQUAL(r.loss, loss / ROWS, 1e-4 * (1 + fabs(loss / ROWS)));
        }
}

/* As tau grows, NT-Xent -> -log 2 and NT-Logistic -> 2 log 0.5 (the study's
 * maximized forms), and the gradients vanish like 1/tau. */
static void test_temperature_limits(void) {
    Rows rows;
    make_rows(&rows);
    Result x, g;
    CU_ASSERT_TRUE_FATAL(evaluate("nt_xent", 1e4, &rows, &x));
    CU_ASSERT_TRUE_FATAL(evaluate("nt_logistic", 1e4, &rows, &g));
    CU_ASSERT_DOUBLE_EQUAL(-x.loss, -log(2.0), 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(-g.loss, 2 * log(0.5), 1e-4);
    double biggest = 0;
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < 3; j++) biggest = fmax(biggest, fabs(ROWS * x.grad[i][j]));
    CU_ASSERT_TRUE(biggest < 2.0 / 1e4);
    /* tau -> 0: NT-Xent is ~0 where s+ > s- and grows like (s- - s+)/tau where not */
    Result small;
    CU_ASSERT_TRUE_FATAL(evaluate("nt_xent", 0.01, &rows, &small));
    double expect = 0;
    for (int i = 0; i < ROWS; i++) {
        double sp = table_at(i, 0), sn = table_at(i, 1);
        expect += sp > sn ? 0 : sp == sn ? log(2.0) : (sn - sp) / 0.01;
    }
    CU_ASSERT_DOUBLE_EQUAL(small.loss, expect / ROWS, 1e-3 * expect / ROWS);
}

static CU_TestInfo tests[] = {
    {"Table 2: f_Xent and f_Log at the study's eight points", test_table2},
    {"autodiff gradients equal the study's closed forms", test_closed_form_gradients},
    {"temperature limits", test_temperature_limits},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("contrastive", tests); }
