/* contrastive_study.h — the study's Problem 2 (NT-Xent and NT-Logistic,
 * their gradients and the temperature) recomputed by mmgc itself: the
 * losses of models/lib/losses.mmg, differentiated by the autodiff pass and
 * run on the reference interpreter.
 *
 * Sign convention: the study writes both losses as log-likelihoods to
 * maximize; losses.mmg has the usual minimized form, their negation. Every
 * value below is in the study's form.
 *
 * For one anchor u with positive v+ and negative v- (sim = dot product of
 * unit vectors), the study's gradient is
 *   d NT / d u = a v+ + coef v-,   and   f = tau * coef
 * is the weight it gives the negative sample (the gradient is f v- / tau):
 *   f_Xent = -sigmoid((s- - s+) / tau),   f_Log = -sigmoid(s- / tau),
 * Table 2 at tau = 1.
 */
#ifndef MMGC_CONTRASTIVE_STUDY_H
#define MMGC_CONTRASTIVE_STUDY_H

#include <stddef.h>
#include <stdio.h>

typedef enum { CONTRASTIVE_XENT, CONTRASTIVE_LOGISTIC } ContrastiveLoss;

/* The .mmg block of a loss: "nt_xent", "nt_logistic". */
const char *contrastive_block(ContrastiveLoss loss);

/* One anchor's similarities: s+ = sim(u, v+), s- = sim(u, v-), each in (-1, 1). */
typedef struct {
    double sim_pos, sim_neg;
} SimPair;

/* What mmgc computes for one anchor, in the study's (maximized) form. */
typedef struct {
    double f;        /* tau * coef: the study's f_Xent or f_Log             */
    double coef;     /* the coefficient of v- in d NT / d u                 */
    double coef_pos; /* the coefficient of v+ in d NT / d u                 */
    double value;    /* the loss NT-Xent or NT-Log of the anchor            */
} NegWeight;

/* Elaborates a .mmg model (in memory, importing losses.mmg) whose loss is
 * `loss` at temperature tau over n anchors, one per row of pairs[0..n):
 * inputs u, pos, neg [n, 3], unit vectors with the pair's similarities.
 * Runs the autodiff pass (the gradient with respect to the input u), runs
 * the graph once on the interpreter and reads out[0..n) from "grad:u" and
 * "sample_loss". 0, or -1 with a message in err (a pair out of range, a
 * compile error, a failed run). */
int contrastive_weights(ContrastiveLoss loss, double tau, const SimPair *pairs, int n, NegWeight *out, char *err,
                        size_t errlen);

/* ---- the study's figures (Table 2 and the limits it derives) ---- */

/* One row of the study's Table 2 (at tau = 1). */
typedef struct {
    double sim_pos, sim_neg, f_xent, f_log;
} Table2Row;

#define TABLE2_ROWS 8
/* The study's Table 2, as printed in the report. */
extern const Table2Row contrastive_table2[TABLE2_ROWS];

/* The study's limit of f as tau -> infinity: both sigmoids' arguments go
 * to 0, so f -> -1/2 (and the gradient's coefficient f / tau -> 0, its
 * magnitude following 1 / tau). */
double contrastive_limit_large_tau(ContrastiveLoss loss, SimPair p);
/* The study's limit of f as tau -> 0: NT-Xent's negative only weighs where
 * it is more similar than the positive (f -> -1 if s- > s+, 0 if s- < s+,
 * -1/2 if equal); NT-Log's where sim(u, v-) > 0 (f -> -1; 0 if s- < 0,
 * -1/2 if s- = 0). */
double contrastive_limit_small_tau(ContrastiveLoss loss, SimPair p);
/* The study's limits of the losses as tau -> infinity: NT-Xent -> -log 2,
 * NT-Log -> 2 log(1/2). */
double contrastive_loss_limit_large_tau(ContrastiveLoss loss);

/* ---- the study's outputs ---- */

/* The pair and the temperatures of temperature.svg. */
#define CONTRASTIVE_SWEEP_POS 0.99
#define CONTRASTIVE_SWEEP_NEG 0.5
#define CONTRASTIVE_TAU_MIN 0.01
#define CONTRASTIVE_TAU_MAX 100.0

/* Recomputes Problem 2 with contrastive_weights and writes into out_dir
 * (created if missing):
 *   table2.md        Table 2: s+, s-, mmgc's f_Xent and f_Log (tau = 1) to
 *                    three decimals beside the study's;
 *   temperature.svg  f_Xent and f_Log against tau (log scale, 0.01 to 100)
 *                    for s+ = 0.99, s- = 0.5, with the study's limits for
 *                    tau -> 0 and tau -> infinity as dashed lines.
 * Prints the table to out (if not NULL). 0, or -1 with a message in err
 * that names the file or directory at fault. */
int contrastive_study(const char *out_dir, FILE *out, char *err, size_t errlen);

#endif
