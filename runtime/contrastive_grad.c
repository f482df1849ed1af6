/* contrastive_grad.c — the negative sample's weight in the gradients of
 * NT-Xent and NT-Logistic, computed by mmgc: a .mmg model calling the
 * library's loss block, the autodiff pass, the interpreter. See
 * contrastive_study.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrastive_study.h"
#include "elaborate.h"
#include "engine.h"
#include "passes.h"
#include "program.h"

const char *contrastive_block(ContrastiveLoss loss) { return loss == CONTRASTIVE_XENT ? "nt_xent" : "nt_logistic"; }

/* The model: one anchor per row, its loss the library's block, chosen
 * (criterion) and tuned (tau) with --set. %d is the number of rows. */
static const char MODEL_FMT[] =
    "// The study's Problem 2: one anchor u, one positive, one negative per row.\n"
    "import \"losses.mmg\"\n"
    "\n"
    "model problem2 {\n"
    "    input     u: [B, 3], pos: [B, 3], neg: [B, 3]\n"
    "    criterion = nt_xent\n"
    "    tau       = 1.0\n"
    "    loss      = criterion(u, pos, neg, tau: tau)\n"
    "    train { batch: %d }\n"
    "}\n";

/* Unit vectors in 3-D with u.v+ = s+ and u.v- = s- (|s+|, |s-| < 1):
 *   v+ = (1, 0, 0),  v- = (c, sqrt(1 - c^2), 0) with c = v+.v- = s+ s-,
 *   u  = (s+, y, z), y = (s- - s+ c) / sqrt(1 - c^2), z = sqrt(1 - s+^2 - y^2).
 * c = s+ s- is the angle for which such a u always exists:
 * 1 - s+^2 - y^2 = (1 - s+^2)(1 - s-^2) / (1 - c^2) >= 0. */
static void pair_vectors(SimPair p, double u[3], double vp[3], double vn[3]) {
    double c = p.sim_pos * p.sim_neg, s = sqrt(1 - c * c);
    double y = (p.sim_neg - p.sim_pos * c) / s;
    vp[0] = 1, vp[1] = 0, vp[2] = 0;
    vn[0] = c, vn[1] = s, vn[2] = 0;
    u[0] = p.sim_pos, u[1] = y, u[2] = sqrt(fmax(0, 1 - p.sim_pos * p.sim_pos - y * y));
}

static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/* The first error of p's diagnostics, "file:line:col: message", into err. */
static void first_error(const Program *p, const char *what, char *err, size_t errlen) {
    for (int i = 0; i < p->diag.n; i++) {
        const Diagnostic *d = &p->diag.items[i];
        if (d->level != DIAG_ERROR) continue;
        char where[256];
        snprintf(err, errlen, "%s: %s: %s", what, diag_where(&p->diag, d->loc, where, sizeof where), d->msg);
        return;
    }
    snprintf(err, errlen, "%s: does not compile", what);
}

/* The node of the model input `name`, or -1. */
static int input_node(const Elaborated *m, const char *name) {
    for (int i = 0; i < m->ninputs; i++)
        if (!strcmp(m->inputs[i].name, name)) return m->inputs[i].node;
    return -1;
}

/* Feeds the rows, runs the step once, and reads the gradient out (see
 * contrastive_weights for the derivation). */
static int run_rows(const Elaborated *m, double tau, const SimPair *pairs, int n, NegWeight *out, char *err,
                    size_t errlen) {
    const Graph *g = m->graph;
    int nu = input_node(m, "u"), np = input_node(m, "pos"), nn = input_node(m, "neg");
    int grad = ir_output(g, "grad:u"), loss = ir_output(g, "sample_loss");
    if (nu < 0 || np < 0 || nn < 0 || grad < 0 || loss < 0 || m->weight_node < 0) {
        snprintf(err, errlen, "%s: the model lacks an input, grad:u or sample_loss", "problem2");
        return -1;
    }
    Engine e;
    if (engine_open(&e, &engine_interp, g, err, errlen)) return -1;
    float *xu = engine_f32(&e, nu), *xp = engine_f32(&e, np), *xn = engine_f32(&e, nn);
    float *w = engine_f32(&e, m->weight_node);
    double (*vec)[3][3] = malloc((size_t)n * sizeof *vec); /* per row: u, v+, v- */
    if (!vec) {
        snprintf(err, errlen, "problem2: out of memory for %d anchors", n);
        engine_close(&e);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        pair_vectors(pairs[i], vec[i][0], vec[i][1], vec[i][2]);
        for (int j = 0; j < 3; j++) {
            xu[i * 3 + j] = (float)vec[i][0][j];
            xp[i * 3 + j] = (float)vec[i][1][j];
            xn[i * 3 + j] = (float)vec[i][2][j];
        }
        w[i] = 1; /* every row is a real sample: the loss is their mean */
    }
    int rc = e.ops->run(e.impl, 1, 0, 0, err, errlen);
    if (rc == 0) {
        const float *gu = engine_f32(&e, grad), *ls = engine_f32(&e, loss);
        for (int i = 0; i < n; i++) {
            /* the study's gradient of row i: loss = (1/n) sum_i l_i and NT = -l_i,
             * so d NT_i / d u_i = -n * d loss / d u_i */
            double gs[3];
            for (int j = 0; j < 3; j++) gs[j] = -(double)n * gu[i * 3 + j];
            /* gs = a v+ + b v- (it lies in their plane): with unit v+-, c = v+.v-,
             * the normal equations give b = (gs.v- - c gs.v+) / (1 - c^2) */
            const double *vp = vec[i][1], *vn = vec[i][2];
            double c = dot3(vp, vn), gp = dot3(gs, vp), gn = dot3(gs, vn);
            double b = (gn - c * gp) / (1 - c * c), a = (gp - c * gn) / (1 - c * c);
            out[i] = (NegWeight){.f = tau * b, .coef = b, .coef_pos = a, .value = -(double)ls[i]};
        }
    }
    free(vec);
    engine_close(&e);
    return rc;
}

/* See contrastive_study.h. The model is MODEL_FMT with --set criterion=BLOCK
 * and tau=TAU; the autodiff pass adds "grad:u" = d loss / d u [n, 3]
 * (input_grads); the rest is run_rows. */
int contrastive_weights(ContrastiveLoss loss, double tau, const SimPair *pairs, int n, NegWeight *out, char *err,
                        size_t errlen) {
    if (n < 1 || n > 1 << 20) {
        snprintf(err, errlen, "contrastive: %d anchors (1 to %d)", n, 1 << 20);
        return -1;
    }
    if (!(tau > 0) || !isfinite(tau)) {
        snprintf(err, errlen, "contrastive: temperature %g is not a positive number", tau);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (!(fabs(pairs[i].sim_pos) < 1) || !(fabs(pairs[i].sim_neg) < 1)) {
            snprintf(err, errlen, "contrastive: similarities (%g, %g) must lie in (-1, 1)", pairs[i].sim_pos,
                     pairs[i].sim_neg);
            return -1;
        }
    char text[sizeof MODEL_FMT + 16], set_loss[64], set_tau[64];
    snprintf(text, sizeof text, MODEL_FMT, n);
    snprintf(set_loss, sizeof set_loss, "criterion=%s", contrastive_block(loss));
    snprintf(set_tau, sizeof set_tau, "tau=%.17g", tau);
    SetOption sets[] = {{set_loss}, {set_tau}};

    Program p;
    Elaborated m = {0};
    program_init(&p);
    program_default_libdirs(&p);
    int rc = -1;
    if (program_load_text(&p, "problem2.mmg", text) || elaborate(&p, NULL, sets, 2, &m)) {
        first_error(&p, "problem2.mmg", err, errlen);
    } else {
        PassConfig cfg = {STAGE_TRAIN, m.train.optimizer, 1, NULL, NULL};
        PassError perr;
        if (pass_autodiff(m.graph, &cfg, &perr)) snprintf(err, errlen, "problem2.mmg: autodiff: %s", perr.msg);
        else rc = run_rows(&m, tau, pairs, n, out, err, errlen);
    }
    if (m.graph) elaborated_free(&m);
    program_free(&p);
    return rc;
}
