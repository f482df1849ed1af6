/* rt_conv_poly.c — strided 1-D convolutions over the input's phases, with
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
 * The forward pass and the input gradient are one shifted product each
 * (rt_shift.h: tap q reads xp, or dy padded by Q-1 zeros, from column
 * q on); the weight gradient is the forward product's gradient with
 * respect to its taps (rt_shift_grad). Every product reads xp
 * in place (a column offset q): the only copy is xp itself, Ci*W floats a
 * sample, where im2col writes Ci*K*Wo (25 times as many for Conv1Net's
 * second layer, 100 for its first). Measured with bench/rt_kernels (one
 * thread, batch 64, ms, min and median of 6-8 runs, old and new
 * alternated): the first layer (Ci 1, K 100, S 4) forward, im2col and
 * sgemm 23.4 / 24.8 -> shifted product 18.0 / 19.3; the second (Ci 32,
 * K 25) sums of sgemms 55.7 / 63.2 -> 46.7 / 68.5 forward and 54.8 /
 * 64.4 -> 50.5 / 71.0 grad input, the same within this machine's noise
 * (im2col had taken 70 and 87). The weight gradients were Q sgemms a
 * sample (second layer; the first's tap groups of four rows were too thin
 * for them and went through im2col) and are the forward product's
 * gradient (rt_shift_grad): 46.1 -> 41.3 ms and 14.5 -> 11.0 ms (one
 * thread, the least of four alternations of 11 runs each), summing in
 * their own order, not OpenBLAS's.
 *
 * Tasks are samples (the weight gradient: P partial sums, partial k taking
 * samples k, k + P, ..., added in order at the end), so results do not
 * depend on the thread count.
 */
#include <string.h>

#include "ir.h"
#include "rt_conv.h"
#include "rt_impl.h"
#include "rt_shift.h"
#include "rt_thread.h"

/* The phases S, the tap groups Q, the rows S*Ci, the phase length Lp and
 * the row length of xp (Lx >= Lp: the shifted product reads past Wo). */
typedef struct {
    int64_t S, Q, R, Lp, Lx;
} Poly;

static Poly poly_of(const Conv *c) {
    Poly p = {c->sw, (c->Kw + c->sw - 1) / c->sw, c->sw * c->Ci, 0, 0};
    p.Lp = c->Wo + p.Q - 1;
    p.Lx = rt_shift_cols(c->Wo) + p.Q - 1;
    return p;
}

int rt_poly_takes(const Conv *c) {
    /* one row in and out (a conv2d with H = Kh = 1 may pad rows) */
    if (c->H != 1 || c->Kh != 1 || c->Ho != 1 || c->ph != 0) return 0;
    if (c->sw < 2 || c->Kw < c->sw || c->Wo <= 0) return 0;
    return (c->Kw + c->sw - 1) / c->sw <= RT_SHIFT_MAX_T;
}

/* The rows of tap group q that are taps. */
static int64_t group_rows(const Conv *c, const Poly *p, int64_t q) {
    int64_t taps = c->Kw - p->S * q;
    return (taps < p->S ? taps : p->S) * c->Ci;
}

/* The weight gradient's partial sums (its tasks): one per sample, at
 * most RT_MAX_THREADS. */
static int64_t poly_partials(const Conv *c) { return c->B < RT_MAX_THREADS ? c->B : RT_MAX_THREADS; }

/* The shifted products (rt_shift.h) of the forward pass and the input
 * gradient. Forward: out y_b [Co, Wo], tap q the rows of group q of
 * xp from column q on. Grad input: out dxp [R, Lp], tap q the Co rows of
 * dy_b read from column Q-1-q of dyp (dy with Q-1 zeros to its left), for
 * the rows of group q. */
static Shift shift_of(const Conv *c, const Poly *p, int op) {
    int gi = op == OP_CONV1D_GRAD_INPUT || op == OP_CONV2D_GRAD_INPUT;
    Shift s = {.R = gi ? p->R : c->Co, .P = gi ? p->Lp : c->Wo, .T = p->Q};
    for (int64_t q = 0; q < p->Q; q++) {
        s.depth[q] = gi ? c->Co : group_rows(c, p, q);
        s.reach[q] = gi ? group_rows(c, p, q) : c->Co;
        s.off[q] = gi ? p->Q - 1 - q : q;
    }
    return s;
}

/* Row length of dyp. */
static int64_t dyp_cols(const Poly *p) { return rt_shift_cols(p->Lp) + p->Q - 1; }

/* Floats of a task's scratch (rt_scratch_take): xp (forward: Lx columns
 * for the shifted product), dxp and dyp (grad input), or xt, the packed
 * dy and the partial sum being built (grad weight). */
static int64_t task_floats(const Conv *c, const Poly *p, int op) {
    int gi = op == OP_CONV1D_GRAD_INPUT || op == OP_CONV2D_GRAD_INPUT;
    int gw = op == OP_CONV1D_GRAD_WEIGHT || op == OP_CONV2D_GRAD_WEIGHT;
    if (gw) {
        Shift s = shift_of(c, p, op);
        return p->R * p->Lp + rt_shift_grad_packed_floats(&s) + p->Q * c->Co * p->R;
    }
    return gi ? p->R * p->Lp + c->Co * dyp_cols(p) : p->R * p->Lx;
}

/* Weight-sized floats: wq and its packing (forward, grad input) or the P
 * partial sums. */
static int64_t weight_floats(const Conv *c, const Poly *p, int op) {
    int64_t one = p->Q * c->Co * p->R;
    int gw = op == OP_CONV1D_GRAD_WEIGHT || op == OP_CONV2D_GRAD_WEIGHT;
    if (gw) return poly_partials(c) * one;
    Shift s = shift_of(c, p, op);
    return one + rt_shift_packed_floats(&s);
}

int64_t rt_poly_scratch(const Conv *c, int op) {
    Poly p = poly_of(c);
    return weight_floats(c, &p, op);
}

/* The columns m < n whose S input columns S*m - pad + r (r < S) all lie
 * in [0, W): [*lo, *hi). phases and unphase walk them row by row, m then
 * r, so that x or dx is read or written contiguously and each phase row
 * a float at a time, with no bounds check or division per column (a
 * division and a gather per column took a sixth of Conv1Net's second
 * input gradient); the columns at the edges take the general path. */
static void interior(const Conv *c, const Poly *p, int64_t n, int64_t *lo, int64_t *hi) {
    *lo = (c->pw + p->S - 1) / p->S;
    *hi = (c->W + c->pw) / p->S;
    if (*lo > n) *lo = n;
    if (*hi > n) *hi = n;
    if (*hi < *lo) *hi = *lo;
}

/* xp [R, ld] = the phases of one sample x [Ci, W], ld >= Lp columns (0
 * past the input). */
static void phases(const Conv *c, const Poly *p, const float *x, float *xp, int64_t ld) {
    int64_t S = p->S, lo, hi, rs = c->Ci * ld; /* phase r's row of channel ci: ci * ld + r * rs */
    interior(c, p, ld, &lo, &hi);
    for (int64_t ci = 0; ci < c->Ci; ci++) {
        const float *s = x + ci * c->W;
        float *rows = xp + ci * ld;
        for (int64_t m = lo; m < hi; m++) {
            const float *in = s + S * m - c->pw;
            for (int64_t r = 0; r < S; r++) rows[r * rs + m] = in[r];
        }
        for (int64_t r = 0; r < S; r++) /* the columns before and after */
            for (int64_t m = lo > 0 ? 0 : hi; m < ld; m = m + 1 == lo ? hi : m + 1) {
                int64_t at = S * m + r - c->pw;
                rows[r * rs + m] = at >= 0 && at < c->W ? s[at] : 0.0f;
            }
    }
}

/* xt [Lp, R] = the phases position-major, xt[m, r*Ci + ci] = xp[r*Ci + ci, m]
 * (the weight gradient reads a position's R phases side by side). The
 * interior goes 16 positions at a time, so that each input row is read a
 * few cache lines at once rather than Ci rows a float apart. */
static void phases_by_position(const Conv *c, const Poly *p, const float *x, float *xt) {
    int64_t S = p->S, Ci = c->Ci, R = p->R, lo, hi;
    interior(c, p, p->Lp, &lo, &hi);
    for (int64_t m = lo > 0 ? 0 : hi; m < p->Lp; m = m + 1 == lo ? hi : m + 1) /* the edges */
        for (int64_t ci = 0; ci < Ci; ci++)
            for (int64_t r = 0, at = S * m - c->pw; r < S; r++, at++)
                xt[m * R + r * Ci + ci] = at >= 0 && at < c->W ? x[ci * c->W + at] : 0.0f;
    for (int64_t m0 = lo; m0 < hi; m0 += 16) {
        int64_t m1 = hi - m0 < 16 ? hi : m0 + 16;
        for (int64_t ci = 0; ci < Ci; ci++) {
            const float *in = x + ci * c->W - c->pw;
            for (int64_t m = m0; m < m1; m++)
                for (int64_t r = 0; r < S; r++) xt[m * R + r * Ci + ci] = in[S * m + r];
        }
    }
}

/* dx [Ci, W] = the phases dxp [R, Lp] put back (every input column is one
 * phase's; columns no tap reads get 0). */
static void unphase(const Conv *c, const Poly *p, const float *dxp, float *dx) {
    int64_t S = p->S, lo, hi, rs = c->Ci * p->Lp;
    interior(c, p, p->Lp, &lo, &hi);
    for (int64_t ci = 0; ci < c->Ci; ci++) {
        float *d = dx + ci * c->W;
        const float *rows = dxp + ci * p->Lp;
        for (int64_t m = lo; m < hi; m++) {
            float *o = d + S * m - c->pw;
            for (int64_t r = 0; r < S; r++) o[r] = rows[r * rs + m];
        }
        for (int64_t i = 0; i < c->W; i++) { /* the columns outside [S*lo - pad, S*hi - pad) */
            if (i == S * lo - c->pw && hi > lo) i = S * hi - c->pw;
            if (i >= c->W) break;
            int64_t t = i + c->pw, m = t / S, r = t - m * S;
            d[i] = m < p->Lp ? rows[r * rs + m] : 0.0f;
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
    Shift sh;           /* the product (the weight gradient: the forward one's) */
    float *out;
    const float *a, *b; /* x (forward), dy (grad input), or x and dy (grad weight) */
    float *wq;          /* forward, grad input: the grouped weight; grad weight: the partials */
    float *packed;      /* forward, grad input: wq packed for rt_shift */
    int64_t task;       /* task_floats */
} PolyJob;

static void forward_task(void *arg, int64_t b) {
    const PolyJob *j = arg;
    const Conv *c = j->c;
    RtScratch sc;
    float *xp = rt_scratch_take(&sc, j->task), *y = j->out + b * c->Co * c->Wo;
    phases(c, &j->p, j->a + b * c->chw, xp, j->p.Lx);
    rt_shift(&j->sh, j->packed, xp, j->p.Lx, y, c->Wo);
    rt_scratch_give(&sc);
}

static void grad_input_task(void *arg, int64_t b) {
    const PolyJob *j = arg;
    const Conv *c = j->c;
    int64_t ld = dyp_cols(&j->p), pad = j->p.Q - 1;
    RtScratch sc;
    float *dxp = rt_scratch_take(&sc, j->task), *dyp = dxp + j->p.R * j->p.Lp;
    const float *dy = j->a + b * c->Co * c->Wo;
    for (int64_t co = 0; co < c->Co; co++) {
        float *d = dyp + co * ld;
        memset(d, 0, (size_t)pad * sizeof *d);
        memcpy(d + pad, dy + co * c->Wo, (size_t)c->Wo * sizeof *d);
        memset(d + pad + c->Wo, 0, (size_t)(ld - pad - c->Wo) * sizeof *d);
    }
    rt_shift(&j->sh, j->packed, dyp, ld, dxp, j->p.Lp);
    unphase(c, &j->p, dxp, j->out + b * c->chw);
    rt_scratch_give(&sc);
}

/* Partial k: the sum over samples k, k + P, ... of the gradient of the
 * forward product's taps, [Q, R, Co] (at [q, j, co]: dwq[q, co, j]), built
 * in the task's scratch and copied to its place once. */
static void grad_weight_task(void *arg, int64_t k) {
    const PolyJob *j = arg;
    const Conv *c = j->c;
    int64_t P = poly_partials(c), one = j->p.Q * c->Co * j->p.R;
    RtScratch sc;
    float *xt = rt_scratch_take(&sc, j->task), *gp = xt + j->p.R * j->p.Lp;
    float *acc = gp + rt_shift_grad_packed_floats(&j->sh);
    for (int64_t b = k; b < c->B; b += P) {
        phases_by_position(c, &j->p, j->a + b * c->chw, xt);
        rt_shift_grad_pack(&j->sh, j->b + b * c->Co * c->Wo, c->Wo, gp);
        rt_shift_grad(&j->sh, gp, xt, j->p.R, b != k, acc, j->p.R * c->Co, c->Co);
    }
    if (one > 0) memcpy(j->wq + k * one, acc, (size_t)one * sizeof *acc);
    rt_scratch_give(&sc);
}

/* The job of a forward or grad-input call: wq, then its packing. */
static PolyJob shift_job(const Conv *c, int op, float *out, const float *in, const float *w,
                         float *scratch) {
    int gi = op == OP_CONV1D_GRAD_INPUT;
    PolyJob j = {.c = c, .p = poly_of(c), .out = out, .a = in, .wq = scratch};
    j.sh = shift_of(c, &j.p, op);
    j.packed = scratch + j.p.Q * c->Co * j.p.R;
    j.task = task_floats(c, &j.p, op);
    weight_to_groups(c, &j.p, w, j.wq);
    /* forward: a_q[co, i] = wq[q, co, i]; grad input: a_q[i, co] = wq[q, co, i] */
    int64_t st = c->Co * j.p.R;
    rt_shift_pack(&j.sh, j.wq, st, gi ? 1 : j.p.R, gi ? j.p.R : 1, j.packed);
    return j;
}

void rt_poly_forward(const Conv *c, float *y, const float *x, const float *w, float *scratch) {
    PolyJob j = shift_job(c, OP_CONV1D, y, x, w, scratch);
    rt_parallel(c->B, forward_task, &j);
}

void rt_poly_grad_input(const Conv *c, float *dx, const float *dy, const float *w, float *scratch) {
    PolyJob j = shift_job(c, OP_CONV1D_GRAD_INPUT, dx, dy, w, scratch);
    rt_parallel(c->B, grad_input_task, &j);
}

void rt_poly_grad_weight(const Conv *c, float *dw, const float *x, const float *dy, float *scratch) {
    PolyJob j = {.c = c, .p = poly_of(c), .out = dw, .a = x, .b = dy, .wq = scratch};
    j.sh = shift_of(c, &j.p, OP_CONV1D_GRAD_WEIGHT);
    rt_shift_choose();
    j.task = task_floats(c, &j.p, OP_CONV1D_GRAD_WEIGHT);
    int64_t P = poly_partials(c), one = j.p.Q * c->Co * j.p.R;
    if (c->B == 0) {
        memset(dw, 0, (size_t)(c->Co * c->ckk) * sizeof *dw);
        return;
    }
    rt_parallel(P, grad_weight_task, &j);
    /* dw[co, ci, S*q + r] = the partials' sum at [q, r*Ci + ci, co], in
     * order; the partials are read in their own order */
    for (int64_t q = 0; q < j.p.Q; q++)
        for (int64_t i = 0; i < group_rows(c, &j.p, q); i++) {
            int64_t r = i / c->Ci, ci = i - r * c->Ci, at = (q * j.p.R + i) * c->Co;
            float *d = dw + ci * c->Kw + j.p.S * q + r;
            for (int64_t co = 0; co < c->Co; co++) {
                float s = j.wq[at + co];
                for (int64_t t = 1; t < P; t++) s += j.wq[t * one + at + co];
                d[co * c->Ci * c->Kw] = s;
            }
        }
}
