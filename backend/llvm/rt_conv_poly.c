/* rt_conv_poly.c — strided 1-D convolutions as sums of shifted sgemms, with
 * no im2col.
 *
 * With stride S, tap k = S*q + r (r in [0, S)) of output position p reads
 * input S*(p + q) + r - pad. Split each input row into its S phases,
 *
 *   xp [S*Ci, Lp]   xp[r*Ci + ci, m] = x[ci, S*m + r - pad]  (0 outside x)
 *
 * with Lp = Wo + Q - 1 and Q = ceil(K / S), and the weight by tap group,
 *
 *   wq [Q, Co, S*Ci]   wq[q, co, r*Ci + ci] = w[co, ci, S*q + r],
 *
 * and the convolution is a stride-1 one over the phases: with Kq the
 * rows of group q that are taps (S*Ci, or fewer in the last group, whose
 * phases r run only while S*q + r < K; the phase-major order puts them
 * first),
 *
 *   y_b          = sum_q wq[q][:, :Kq] @ xp[:Kq, q : q + Wo]   (forward)
 *   dxp[:Kq, q:] += wq[q][:, :Kq]^T @ dy_b,  dx = the phases   (grad input)
 *   dwq[q][:, :Kq] += dy_b @ xp[:Kq, q : q + Wo]^T             (grad weight)
 *
 * Every product reads xp and dxp in place (a column offset q, row stride
 * Lp): the only copy is xp itself, Ci*W floats a sample, where im2col
 * writes Ci*K*Wo (25 times as many for Conv1Net's second layer). Measured
 * with bench/rt_kernels on that layer (Ci 32, K 25, S 4; one thread,
 * batch 64, median ms): forward 70 -> 55, grad input 87 -> 52, grad weight
 * 77 -> 57. A first layer with one channel (Kq = S) would make sgemms too
 * thin and stays with im2col (rt_poly_takes).
 *
 * Tasks are samples (the weight gradient: P partial sums, partial k taking
 * samples k, k + P, ..., added in order at the end), so results do not
 * depend on the thread count.
 */
#include <string.h>

#include "ir.h"
#include "rt_conv.h"
#include "rt_impl.h"
#include "rt_thread.h"

/* The polyphase sgemms' inner size is Kq = S*Ci (the rows of a tap group):
 * below this the sgemms are too thin to beat im2col's one wide one. */
#define RT_POLY_MIN_ROWS 64

/* The phases S, the tap groups Q, the rows S*Ci and the phase length Lp. */
typedef struct {
    int64_t S, Q, R, Lp;
} Poly;

static Poly poly_of(const Conv *c) {
    Poly p = {c->sw, (c->Kw + c->sw - 1) / c->sw, c->sw * c->Ci, 0};
    p.Lp = c->Wo + p.Q - 1;
    return p;
}

int rt_poly_takes(const Conv *c) {
    return c->H == 1 && c->Kh == 1 && c->sw > 1 && c->sw * c->Ci >= RT_POLY_MIN_ROWS &&
           c->Kw >= c->sw && c->Wo > 0;
}

/* The rows of tap group q that are taps. */
static int64_t group_rows(const Conv *c, const Poly *p, int64_t q) {
    int64_t taps = c->Kw - p->S * q;
    return (taps < p->S ? taps : p->S) * c->Ci;
}

/* Tasks that run at once: one per sample, at most RT_MAX_THREADS. */
static int64_t poly_slots(const Conv *c) { return c->B < RT_MAX_THREADS ? c->B : RT_MAX_THREADS; }

/* Weight-sized floats: wq (forward, grad input) or the P partial sums. */
static int64_t weight_floats(const Conv *c, const Poly *p, int op) {
    int64_t one = p->Q * c->Co * p->R;
    int gw = op == OP_CONV1D_GRAD_WEIGHT || op == OP_CONV2D_GRAD_WEIGHT;
    return gw ? poly_slots(c) * one : one;
}

int64_t rt_poly_scratch(const Conv *c, int op) {
    Poly p = poly_of(c);
    return weight_floats(c, &p, op) + poly_slots(c) * p.R * p.Lp;
}

/* xp [R, Lp] = the phases of one sample x [Ci, W]. */
static void phases(const Conv *c, const Poly *p, const float *x, float *xp) {
    for (int64_t r = 0; r < p->S; r++)
        for (int64_t ci = 0; ci < c->Ci; ci++) {
            float *d = xp + (r * c->Ci + ci) * p->Lp;
            const float *s = x + ci * c->W;
            int64_t at = r - c->pw; /* input column of m = 0 */
            for (int64_t m = 0; m < p->Lp; m++, at += p->S) d[m] = at >= 0 && at < c->W ? s[at] : 0.0f;
        }
}

/* dx [Ci, W] = the phases dxp [R, Lp] put back (every input column is one
 * phase's; columns no tap reads get 0). */
static void unphase(const Conv *c, const Poly *p, const float *dxp, float *dx) {
    for (int64_t ci = 0; ci < c->Ci; ci++) {
        float *d = dx + ci * c->W;
        for (int64_t i = 0; i < c->W; i++) {
            int64_t t = i + c->pw, m = t / p->S, r = t - m * p->S;
            d[i] = m < p->Lp ? dxp[(r * c->Ci + ci) * p->Lp + m] : 0.0f;
        }
    }
}

/* wq from w (its unused rows are left alone). */
static void weight_to_groups(const Conv *c, const Poly *p, const float *w, float *wq) {
    for (int64_t q = 0; q < p->Q; q++)
        for (int64_t co = 0; co < c->Co; co++) {
            float *d = wq + (q * c->Co + co) * p->R;
            int64_t rows = group_rows(c, p, q);
            for (int64_t j = 0; j < rows; j++) {
                int64_t r = j / c->Ci, ci = j - r * c->Ci;
                d[j] = w[(co * c->Ci + ci) * c->Kw + p->S * q + r];
            }
        }
}

typedef struct {
    const Conv *c;
    Poly p;
    float *out;
    const float *a, *b; /* (x, wq), (dy, wq) or (x, dy) */
    float *wq;          /* forward, grad input: the grouped weight; grad weight: the partials */
    float *slots;       /* R * Lp floats a thread */
} PolyJob;

static void forward_task(void *arg, int64_t b, int slot) {
    const PolyJob *j = arg;
    const Conv *c = j->c;
    float *xp = j->slots + slot * j->p.R * j->p.Lp, *y = j->out + b * c->Co * c->Wo;
    phases(c, &j->p, j->a + b * c->chw, xp);
    for (int64_t q = 0; q < j->p.Q; q++)
        rt_gemm(0, 0, c->Co, c->Wo, group_rows(c, &j->p, q), j->wq + q * c->Co * j->p.R, j->p.R,
                xp + q, j->p.Lp, q ? 1.0f : 0.0f, y, c->Wo);
}

static void grad_input_task(void *arg, int64_t b, int slot) {
    const PolyJob *j = arg;
    const Conv *c = j->c;
    float *dxp = j->slots + slot * j->p.R * j->p.Lp;
    memset(dxp, 0, (size_t)(j->p.R * j->p.Lp) * sizeof *dxp);
    for (int64_t q = 0; q < j->p.Q; q++)
        rt_gemm(1, 0, group_rows(c, &j->p, q), c->Wo, c->Co, j->wq + q * c->Co * j->p.R, j->p.R,
                j->a + b * c->Co * c->Wo, c->Wo, 1.0f, dxp + q, j->p.Lp);
    unphase(c, &j->p, dxp, j->out + b * c->chw);
}

/* Partial k: the sum over samples k, k + P, ... */
static void grad_weight_task(void *arg, int64_t k, int slot) {
    const PolyJob *j = arg;
    const Conv *c = j->c;
    int64_t P = poly_slots(c);
    float *xp = j->slots + slot * j->p.R * j->p.Lp, *acc = j->wq + k * j->p.Q * c->Co * j->p.R;
    for (int64_t b = k; b < c->B; b += P) {
        phases(c, &j->p, j->a + b * c->chw, xp);
        for (int64_t q = 0; q < j->p.Q; q++)
            rt_gemm(0, 1, c->Co, group_rows(c, &j->p, q), c->Wo, j->b + b * c->Co * c->Wo, c->Wo,
                    xp + q, j->p.Lp, b == k ? 0.0f : 1.0f, acc + q * c->Co * j->p.R, j->p.R);
    }
}

void rt_poly_forward(const Conv *c, float *y, const float *x, const float *w, float *scratch) {
    PolyJob j = {.c = c, .p = poly_of(c), .out = y, .a = x, .wq = scratch};
    j.slots = scratch + weight_floats(c, &j.p, OP_CONV1D);
    weight_to_groups(c, &j.p, w, j.wq);
    rt_parallel(c->B, forward_task, &j);
}

void rt_poly_grad_input(const Conv *c, float *dx, const float *dy, const float *w, float *scratch) {
    PolyJob j = {.c = c, .p = poly_of(c), .out = dx, .a = dy, .wq = scratch};
    j.slots = scratch + weight_floats(c, &j.p, OP_CONV1D_GRAD_INPUT);
    weight_to_groups(c, &j.p, w, j.wq);
    rt_parallel(c->B, grad_input_task, &j);
}

void rt_poly_grad_weight(const Conv *c, float *dw, const float *x, const float *dy, float *scratch) {
    PolyJob j = {.c = c, .p = poly_of(c), .out = dw, .a = x, .b = dy, .wq = scratch};
    j.slots = scratch + weight_floats(c, &j.p, OP_CONV1D_GRAD_WEIGHT);
    int64_t P = poly_slots(c), one = j.p.Q * c->Co * j.p.R;
    if (c->B == 0) {
        memset(dw, 0, (size_t)(c->Co * c->ckk) * sizeof *dw);
        return;
    }
    rt_parallel(P, grad_weight_task, &j);
    /* dw[co, ci, S*q + r] = the partials' sum at [q, co, r*Ci + ci], in order */
    for (int64_t co = 0; co < c->Co; co++)
        for (int64_t ci = 0; ci < c->Ci; ci++)
            for (int64_t k = 0; k < c->Kw; k++) {
                int64_t q = k / j.p.S, r = k - q * j.p.S, at = (q * c->Co + co) * j.p.R + r * c->Ci + ci;
                float s = j.wq[at];
                for (int64_t t = 1; t < P; t++) s += j.wq[t * one + at];
                dw[(co * c->Ci + ci) * c->Kw + k] = s;
            }
}
