/* contrastive_study.c — the study's Problem 2 recomputed: Table 2 beside
 * the study's figures, and the temperature figure. The numbers come from
 * contrastive_weights (mmgc's autodiff on losses.mmg); this file holds the
 * study's own figures and writes the outputs. See contrastive_study.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrastive_study.h"
#include "contrastive_svg.h"
#include "io_util.h"

/* The study's Table 2 ("Values of f_Xent and f_Log for various similarity
 * scores between u, v+ and v-", Problem 2 of the report), at tau = 1. The
 * one copy of these figures in mmgc. */
const Table2Row contrastive_table2[TABLE2_ROWS] = {
    /* s+     s-     f_Xent  f_Log */
    {0.99, 0.5, -0.380, -0.622},  {0.5, 0.5, -0.5, -0.622},    {0.01, 0.5, -0.620, -0.622},
    {-0.5, 0.5, -0.731, -0.622},  {0.99, -0.5, -0.184, -0.378}, {0.5, -0.5, -0.269, -0.378},
    {0.01, -0.5, -0.375, -0.378}, {-0.5, -0.5, -0.5, -0.378},
};

double contrastive_limit_large_tau(ContrastiveLoss loss, SimPair p) {
    (void)loss, (void)p;
    return -0.5;
}

double contrastive_limit_small_tau(ContrastiveLoss loss, SimPair p) {
    double d = loss == CONTRASTIVE_XENT ? p.sim_neg - p.sim_pos : p.sim_neg; /* the sigmoid's argument times tau */
    return d > 0 ? -1 : d < 0 ? 0 : -0.5;
}

double contrastive_loss_limit_large_tau(ContrastiveLoss loss) {
    return loss == CONTRASTIVE_XENT ? -log(2.0) : 2 * log(0.5);
}

/* Table 2 as Markdown: mmgc's f beside the study's, to three decimals. */
static void table2_markdown(RBuf *b, const NegWeight *xent, const NegWeight *logi) {
    rb_str(b, "| sim(u,v+) | sim(u,v-) | f_Xent (mmgc) | f_Xent (study) | f_Log (mmgc) | f_Log (study) |\n"
              "| ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int i = 0; i < TABLE2_ROWS; i++) {
        const Table2Row *r = &contrastive_table2[i];
        rb_printf(b, "| %g | %g | %.3f | %.3f | %.3f | %.3f |\n", r->sim_pos, r->sim_neg, xent[i].f, r->f_xent, logi[i].f,
                  r->f_log);
    }
}

/* table2.md: the table and how its numbers were made. */
static void table2_page(RBuf *b, const NegWeight *xent, const NegWeight *logi) {
    rb_str(b, "# Problem 2, Table 2: the weight of the negative sample (tau = 1)\n\n"
              "f is the coefficient of v- in the gradient d NT / d u of NT-Xent and NT-Logistic (the study's "
              "maximized form), times tau. mmgc computes it with its own autodiff: the library's `nt_xent` and "
              "`nt_logistic` blocks (models/lib/losses.mmg) on unit vectors u, v+, v- with the row's "
              "similarities, differentiated with respect to u and run on the reference interpreter; the "
              "gradient is then written as a v+ + f v-.\n\n");
    table2_markdown(b, xent, logi);
}

/* The temperature sweep: f_Xent and f_Log at n temperatures spaced evenly
 * in log between CONTRASTIVE_TAU_MIN and _MAX, for the chart's pair. */
static int sweep(TemperatureChart *c, double *tau, double *fx, double *fl, int n, char *err, size_t errlen) {
    SimPair p = {CONTRASTIVE_SWEEP_POS, CONTRASTIVE_SWEEP_NEG};
    *c = (TemperatureChart){.sim_pos = p.sim_pos, .sim_neg = p.sim_neg, .tau = tau, .f_xent = fx, .f_log = fl, .n = n};
    for (int i = 0; i < n; i++) {
        tau[i] = CONTRASTIVE_TAU_MIN * pow(CONTRASTIVE_TAU_MAX / CONTRASTIVE_TAU_MIN, (double)i / (n - 1));
        NegWeight x, l;
        if (contrastive_weights(CONTRASTIVE_XENT, tau[i], &p, 1, &x, err, errlen) ||
            contrastive_weights(CONTRASTIVE_LOGISTIC, tau[i], &p, 1, &l, err, errlen))
            return -1;
        fx[i] = x.f, fl[i] = l.f;
    }
    NegWeight x, l;
    if (contrastive_weights(CONTRASTIVE_XENT, 1, &p, 1, &x, err, errlen) ||
        contrastive_weights(CONTRASTIVE_LOGISTIC, 1, &p, 1, &l, err, errlen))
        return -1;
    c->f_xent_at_one = x.f, c->f_log_at_one = l.f;
    c->large_xent = contrastive_limit_large_tau(CONTRASTIVE_XENT, p);
    c->large_log = contrastive_limit_large_tau(CONTRASTIVE_LOGISTIC, p);
    c->small_xent = contrastive_limit_small_tau(CONTRASTIVE_XENT, p);
    c->small_log = contrastive_limit_small_tau(CONTRASTIVE_LOGISTIC, p);
    return 0;
}

/* Writes b to out_dir/name atomically. */
static int write_out(const char *out_dir, const char *name, const RBuf *b, char *err, size_t errlen) {
    if (b->oom) {
        snprintf(err, errlen, "%s/%s: out of memory", out_dir, name);
        return -1;
    }
    size_t len = strlen(out_dir) + strlen(name) + 2;
    char *path = malloc(len);
    if (!path) {
        snprintf(err, errlen, "%s/%s: out of memory", out_dir, name);
        return -1;
    }
    snprintf(path, len, "%s/%s", out_dir, name);
    IoPart part = {b->s, b->n};
    int rc = io_write_atomic(path, path, &part, 1, err, errlen);
    free(path);
    return rc;
}

#define SWEEP_POINTS 81 /* 20 per decade */

int contrastive_study(const char *out_dir, FILE *out, char *err, size_t errlen) {
    SimPair pairs[TABLE2_ROWS];
    for (int i = 0; i < TABLE2_ROWS; i++) pairs[i] = (SimPair){contrastive_table2[i].sim_pos, contrastive_table2[i].sim_neg};
    NegWeight xent[TABLE2_ROWS], logi[TABLE2_ROWS];
    if (contrastive_weights(CONTRASTIVE_XENT, 1, pairs, TABLE2_ROWS, xent, err, errlen) ||
        contrastive_weights(CONTRASTIVE_LOGISTIC, 1, pairs, TABLE2_ROWS, logi, err, errlen))
        return -1;
    TemperatureChart chart;
    double tau[SWEEP_POINTS], fx[SWEEP_POINTS], fl[SWEEP_POINTS];
    if (sweep(&chart, tau, fx, fl, SWEEP_POINTS, err, errlen)) return -1;

    if (io_make_dirs(out_dir, err, errlen)) return -1;
    RBuf page = {0}, svg = {0};
    table2_page(&page, xent, logi);
    svg_temperature_chart(&svg, &chart);
    int rc = write_out(out_dir, "table2.md", &page, err, errlen) || write_out(out_dir, "temperature.svg", &svg, err, errlen)
                 ? -1
                 : 0;
    if (rc == 0 && out) {
        RBuf t = {0};
        table2_markdown(&t, xent, logi);
        fprintf(out, "Problem 2, Table 2 (tau = 1): mmgc's autodiff against the study\n%s", t.s ? t.s : "");
        free(t.s);
    }
    free(page.s);
    free(svg.s);
    return rc;
}
