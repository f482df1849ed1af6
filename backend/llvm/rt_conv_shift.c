/* rt_conv_shift.c — convolutions as shifted products (rt_shift.h), with
 * no im2col: strided 1-D ones over the input's phases, stride-1 ones over
 * their flattened, padded input plane.
 *
 * Phases. With stride S, tap k = S*q + r (r in [0, S)) of output position
 * p reads input S*(p + q) + r - pad. Split each input row into its S
 * phases,
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
 * Plane. A stride-1 convolution (2-D, or 1-D with H = 1) reads, at output
 * (oh, ow) and tap (kh, kw), the padded input at (oh + kh, ow + kw). Lay
 * the padded plane out flat, Hf = Ho + Kh - 1 rows of Wf = Wo + Kw - 1,
 *
 *   xp [Ci, Hf*Wf]   xp[ci, h*Wf + w] = x[ci, h - ph, w - pw]  (0 outside x)
 *
 * and tap t = (kh, kw) is the shift kh*Wf + kw of the same rows: the
 * product over P = Ho*Wf columns has Wf - Wo columns a row that no output
 * wants (the shifted product's wrap drops them, 15% of the work for
 * Conv2Net's second layer). The input gradient is the "full" correlation
 * with the kernel turned around: dy padded by Kh - 1 rows and Kw - 1
 * columns on each side, a plane of width Wd = Wo + 2(Kw - 1), tap t at
 * shift (Kh-1-kh)*Wd + Kw-1-kw, its product over Hf*Wd columns wrapped to
 * the padded input plane, whose inside is dx. Measured on Conv2Net's
 * second layer (32 -> 64 channels, 3 x 3, 13 x 13; one thread, batch 64,
 * least of 40 runs, ms, old and new alternated): forward 2.40-2.95
 * (OpenBLAS on im2col) -> 2.05-2.14 (one outlier 2.74), weight gradient
 * 2.42-3.00 -> 2.50-2.93 (the same within this machine's noise).
 *
 * Either way the forward pass and the input gradient are one shifted
 * product each (rt_shift.h: tap q reads xp, or dy padded with zeros,
 * from its shift on); the weight gradient is the forward product's
 * gradient with respect to its taps (rt_shift_grad). Every product reads
 * xp in place: the only copy is xp itself, about Ci*W floats a sample,
 * where im2col writes Ci*K*Wo (25 times as many for Conv1Net's second
 * layer, 100 for its first). Measured with bench/rt_kernels (one thread,
 * batch 64, ms, min and median of 6-8 runs, old and new alternated): the
 * first layer (Ci 1, K 100, S 4) forward, im2col and sgemm 23.4 / 24.8 ->
 * shifted product 18.0 / 19.3; the second (Ci 32, K 25) sums of sgemms
 * 55.7 / 63.2 -> 46.7 / 68.5 forward and 54.8 / 64.4 -> 50.5 / 71.0 grad
 * input, the same within this machine's noise (im2col had taken 70 and
 * 87). The weight gradients were Q sgemms a sample (second layer; the
 * first's tap groups of four rows were too thin for them and went through
 * im2col) and are the forward product's gradient (rt_shift_grad): 46.1 ->
 * 41.3 ms and 14.5 -> 11.0 ms (one thread, the least of four alternations
 * of 11 runs each), summing in their own order, not OpenBLAS's.
 *
 * Tasks are samples (the weight gradient: P partial sums, partial k taking
 * the k-th of P runs of consecutive samples, added in order at the end),
 * so results do not depend on the thread count. Consecutive samples, not
 * every P-th: the thread pool gives a thread its share of consecutive
 * tasks, so a core then reads the samples it computed in the kernels
 * before (and whose memory the next step's kernels write), not half of
 * them from the other core's cache.
 */
#include <string.h>

#include "ir.h"
#include "rt_conv.h"
#include "rt_impl.h"
#include "rt_shift.h"
#include "rt_thread.h"

/* The lowering of one convolution: its taps T (phases: the tap groups
 * Q), the rows R of xp (S*Ci, or Ci), the positions Lp of an xp row (the
 * phases, or the plane Hf*Wf), the row length Lx of xp for the forward
 * product (>= Lp: it reads past them), the positions Lt of x
 * position-major for the weight gradient, and the plane's sizes. */
typedef struct {
    int plane;
    int64_t S, T, R, Lp, Lx, Lt;
    int64_t Hf, Wf, Wd; /* plane: the padded input's rows and columns, dy's padded width */
} Layout;

/* The largest shift of the forward product's taps. */
static int64_t fwd_reach(const Conv *c, const Layout *p) {
    return p->plane ? (c->Kh - 1) * p->Wf + c->Kw - 1 : p->T - 1;
}

/* The forward product's columns. */
static int64_t fwd_cols(const Conv *c, const Layout *p) { return p->plane ? c->Ho * p->Wf : c->Wo; }

static Layout layout_of(const Conv *c) {
    Layout p = {.plane = c->sh == 1 && c->sw == 1, .S = c->sw};
    if (p.plane) {
        p.T = c->Kh * c->Kw, p.R = c->Ci;
        p.Hf = c->Ho + c->Kh - 1, p.Wf = c->Wo + c->Kw - 1, p.Wd = c->Wo + 2 * (c->Kw - 1);
        p.Lp = p.Hf * p.Wf;
    } else {
        p.T = (c->Kw + c->sw - 1) / c->sw, p.R = c->sw * c->Ci;
        p.Lp = c->Wo + p.T - 1;
    }
    p.Lx = rt_shift_cols(fwd_cols(c, &p)) + fwd_reach(c, &p);
    p.Lt = fwd_cols(c, &p) + fwd_reach(c, &p);
    return p;
}

/* Strided 1-D convolutions, one row in and out (a conv2d with H = Kh = 1
 * may pad rows), and stride-1 ones deep enough to fill the product's
 * blocks (Conv2Net's second layer sums 288 products an output, its first
 * 9: im2col and OpenBLAS are faster there) with few unwanted columns.
 * The plane's input gradient sums over dy's zero padding too: taken only
 * where at least 4/5 of its product is dy's own (Conv2Net's second layer,
 * 121 of 195 columns: 2.78-2.83 ms against OpenBLAS's 2.58-2.59 on
 * im2col, where its forward pass is 2.03-2.05 against 2.48-2.83). */
int rt_conv_shift_takes(const Conv *c, int op) {
    if (c->Ho <= 0 || c->Wo <= 0) return 0;
    if (c->sh == 1 && c->sw == 1) {
        int gi = op == OP_CONV1D_GRAD_INPUT || op == OP_CONV2D_GRAD_INPUT;
        Layout p = layout_of(c);
        if (gi && 5 * c->hw < 4 * p.Hf * p.Wd) return 0;
        return c->Kh * c->Kw <= RT_SHIFT_MAX_T && c->ckk >= 64 && c->Wo >= 4 * (c->Kw - 1);
    }
    if (c->H != 1 || c->Kh != 1 || c->Ho != 1 || c->ph != 0) return 0;
    if (c->sw < 2 || c->Kw < c->sw) return 0;
    return (c->Kw + c->sw - 1) / c->sw <= RT_SHIFT_MAX_T;
}

/* The rows of tap group q that are taps (the plane: every tap reads all
 * Ci rows). */
static int64_t group_rows(const Conv *c, const Layout *p, int64_t q) {
    if (p->plane) return c->Ci;
    int64_t taps = c->Kw - p->S * q;
    return (taps < p->S ? taps : p->S) * c->Ci;
}

/* Where w[co = 0] of tap q's row j lies in w [Co, Ci, Kh, Kw]. */
static int64_t weight_at(const Conv *c, const Layout *p, int64_t q, int64_t j) {
    if (p->plane) return j * p->T + q;
    int64_t r = j / c->Ci, ci = j - r * c->Ci;
    return ci * c->Kw + p->S * q + r;
}

/* The weight gradient's partial sums (its tasks): one per sample, at
 * most RT_MAX_THREADS. */
static int64_t partials_of(const Conv *c) { return c->B < RT_MAX_THREADS ? c->B : RT_MAX_THREADS; }

/* The shifted products (rt_shift.h) of the forward pass and the input
 * gradient. Forward: out y_b [Co, Ho*Wo], tap q the rows of group q of xp
 * from its shift on. Grad input: out dxp [R, Lp], tap q the Co rows of
 * dy_b read from the turned-around shift in dyp (dy with zeros before:
 * Q-1 columns, or the plane's Kh-1 rows and Kw-1 columns around it), for
 * the rows of group q. */
static Shift shift_of(const Conv *c, const Layout *p, int op) {
    int gi = op == OP_CONV1D_GRAD_INPUT || op == OP_CONV2D_GRAD_INPUT;
    Shift s = {.R = gi ? p->R : c->Co, .P = gi ? p->Lp : fwd_cols(c, p), .T = p->T};
    if (p->plane) {
        s.P = gi ? p->Hf * p->Wd : s.P;
        s.wrap = gi ? p->Wd : p->Wf, s.keep = gi ? p->Wf : c->Wo;
    }
    for (int64_t q = 0; q < p->T; q++) {
        int64_t kh = p->plane ? q / c->Kw : 0, kw = p->plane ? q - kh * c->Kw : 0;
        s.depth[q] = gi ? c->Co : group_rows(c, p, q);
        s.reach[q] = gi ? group_rows(c, p, q) : c->Co;
        if (p->plane) s.off[q] = gi ? (c->Kh - 1 - kh) * p->Wd + c->Kw - 1 - kw : kh * p->Wf + kw;
        else s.off[q] = gi ? p->T - 1 - q : q;
    }
    return s;
}

/* Row length of dyp: the grad-input product's columns and largest shift. */
static int64_t dyp_cols(const Conv *c, const Layout *p) {
    if (p->plane) return rt_shift_cols(p->Hf * p->Wd) + (c->Kh - 1) * p->Wd + c->Kw - 1;
    return rt_shift_cols(p->Lp) + p->T - 1;
}

/* Floats of a task's scratch (rt_scratch_take): xp (forward: Lx columns
 * for the shifted product), dxp and dyp (grad input), or xt, the packed
 * dy and the partial sum being built (grad weight). */
static int64_t task_floats(const Conv *c, const Layout *p, int op) {
    int gi = op == OP_CONV1D_GRAD_INPUT || op == OP_CONV2D_GRAD_INPUT;
    int gw = op == OP_CONV1D_GRAD_WEIGHT || op == OP_CONV2D_GRAD_WEIGHT;
    if (gw) {
        Shift s = shift_of(c, p, op);
        return p->R * p->Lt + rt_shift_grad_packed_floats(&s) + p->T * c->Co * p->R;
    }
    return gi ? p->R * p->Lp + c->Co * dyp_cols(c, p) : p->R * p->Lx;
}

/* Weight-sized floats: wq and its packing (forward, grad input) or the P
 * partial sums. */
static int64_t weight_floats(const Conv *c, const Layout *p, int op) {
    int64_t one = p->T * c->Co * p->R;
    int gw = op == OP_CONV1D_GRAD_WEIGHT || op == OP_CONV2D_GRAD_WEIGHT;
    if (gw) return partials_of(c) * one;
    Shift s = shift_of(c, p, op);
    return one + rt_shift_packed_floats(&s);
}

int64_t rt_conv_shift_scratch(const Conv *c, int op) {
    Layout p = layout_of(c);
    return weight_floats(c, &p, op);
}

/* The columns m < n whose S input columns S*m - pad + r (r < S) all lie
 * in [0, W): [*lo, *hi). phases and unphase walk them row by row, m then
 * r, so that x or dx is read or written contiguously and each phase row
 * a float at a time, with no bounds check or division per column (a
 * division and a gather per column took a sixth of Conv1Net's second
 * input gradient); the columns at the edges take the general path. */
static void interior(const Conv *c, const Layout *p, int64_t n, int64_t *lo, int64_t *hi) {
    *lo = (c->pw + p->S - 1) / p->S;
    *hi = (c->W + c->pw) / p->S;
    if (*lo > n) *lo = n;
    if (*hi > n) *hi = n;
    if (*hi < *lo) *hi = *lo;
}

/* The input columns [*lo, *hi) of the plane's columns that lie inside x
 * (plane column w is input column w - pw), as plane columns. */
static void plane_cols(const Conv *c, const Layout *p, int64_t *lo, int64_t *hi) {
    *lo = c->pw < p->Wf ? c->pw : p->Wf;
    *hi = c->W + c->pw < p->Wf ? c->W + c->pw : p->Wf;
    if (*hi < *lo) *hi = *lo;
}

/* xp [R, ld] = one sample x [Ci, H, W] as the plane (0 around it and past
 * Lp), rows of the plane copied whole. */
static void plane(const Conv *c, const Layout *p, const float *x, float *xp, int64_t ld) {
    int64_t lo, hi;
    plane_cols(c, p, &lo, &hi);
    memset(xp, 0, (size_t)(p->R * ld) * sizeof *xp);
    for (int64_t ci = 0; ci < c->Ci; ci++)
        for (int64_t h = 0; h < p->Hf; h++) {
            int64_t ih = h - c->ph;
            if (ih < 0 || ih >= c->H || hi == lo) continue;
            memcpy(xp + ci * ld + h * p->Wf + lo, x + (ci * c->H + ih) * c->W + lo - c->pw,
                   (size_t)(hi - lo) * sizeof *xp);
        }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Strides 2 and 4 with AVX-512, 16 columns m at a time: S vectors of x
 * (16*S floats from x's column S*m) split into the S phases' 16 floats
 * (split_run), or put back (join_run). Two-source permutes: phase r of
 * stride 4 takes lanes 4k + r of each pair of vectors, so one index
 * serves both pairs ((4k + r) mod 32); joining interleaves pairs of
 * phases first, then the pairs. The same floats move as in the scalar
 * loops, so nothing else changes. */
__attribute__((target("avx512f"), always_inline)) static inline void split_run(const int S, const float *in, float *row,
                                                                                  int64_t rs) {
    __m512 v0 = _mm512_loadu_ps(in), v1 = _mm512_loadu_ps(in + 16);
    for (int r = 0; r < S; r++) {
        int idx[16];
        for (int k = 0; k < 16; k++) idx[k] = (S * k + r) % 32;
        __m512i ix = _mm512_loadu_si512(idx);
        __m512 p = _mm512_permutex2var_ps(v0, ix, v1);
        if (S == 4) p = _mm512_mask_blend_ps(0xff00, p, _mm512_permutex2var_ps(_mm512_loadu_ps(in + 32), ix,
                                                                              _mm512_loadu_ps(in + 48)));
        _mm512_storeu_ps(row + r * rs, p);
    }
}

__attribute__((target("avx512f"), always_inline)) static inline void join_run(const int S, const float *row, int64_t rs,
                                                                                 float *out) {
    int lo[16], hi[16]; /* pairs of two phases: lanes 2k, 2k + 1 from lane k (lo: k < 8, hi: k >= 8) */
    for (int k = 0; k < 8; k++) lo[2 * k] = k, lo[2 * k + 1] = 16 + k, hi[2 * k] = 8 + k, hi[2 * k + 1] = 24 + k;
    __m512i il = _mm512_loadu_si512(lo), ih = _mm512_loadu_si512(hi);
    __m512 p0 = _mm512_loadu_ps(row), p1 = _mm512_loadu_ps(row + rs);
    __m512 a = _mm512_permutex2var_ps(p0, il, p1), a2 = _mm512_permutex2var_ps(p0, ih, p1);
    if (S == 2) {
        _mm512_storeu_ps(out, a), _mm512_storeu_ps(out + 16, a2);
        return;
    }
    __m512 p2 = _mm512_loadu_ps(row + 2 * rs), p3 = _mm512_loadu_ps(row + 3 * rs);
    __m512 b = _mm512_permutex2var_ps(p2, il, p3), b2 = _mm512_permutex2var_ps(p2, ih, p3);
    int j0[16], j1[16]; /* column 4k + s: the pair (a, or b from 16) at 2k + s % 2 */
    for (int k = 0; k < 4; k++)
        for (int t = 0; t < 4; t++)
            j0[4 * k + t] = (t < 2 ? 0 : 16) + 2 * k + t % 2, j1[4 * k + t] = (t < 2 ? 0 : 16) + 2 * (k + 4) + t % 2;
    __m512i x0 = _mm512_loadu_si512(j0), x1 = _mm512_loadu_si512(j1);
    _mm512_storeu_ps(out, _mm512_permutex2var_ps(a, x0, b)), _mm512_storeu_ps(out + 16, _mm512_permutex2var_ps(a, x1, b));
    _mm512_storeu_ps(out + 32, _mm512_permutex2var_ps(a2, x0, b2)), _mm512_storeu_ps(out + 48, _mm512_permutex2var_ps(a2, x1, b2));
}

/* Runs of 16 columns m from lo to end: the phases of stride S (2 or 4). */
__attribute__((target("avx512f"))) static void split_runs(int64_t S, const float *in, float *row, int64_t rs,
                                                           int64_t n) {
    for (int64_t k = 0; k < n; k += 16)
        if (S == 4) split_run(4, in + 4 * k, row + k, rs);
        else split_run(2, in + 2 * k, row + k, rs);
}

__attribute__((target("avx512f"))) static void join_runs(int64_t S, const float *row, int64_t rs, float *out,
                                                          int64_t n) {
    for (int64_t k = 0; k < n; k += 16)
        if (S == 4) join_run(4, row + k, rs, out + 4 * k);
        else join_run(2, row + k, rs, out + 2 * k);
}
#endif

/* The end of the interior's columns from m on that split_runs and
 * join_runs take (whole runs of 16; m where they do not apply). */
static int64_t runs_end(int64_t S, int64_t m, int64_t hi) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (rt_shift_isa == RT_SHIFT_AVX512 && (S == 2 || S == 4)) return m + (hi - m) / 16 * 16;
#endif
    (void)S, (void)hi;
    return m;
}

/* xp [R, ld] = the phases of one sample x [Ci, W], or its plane; ld >= Lp
 * columns (0 past the input). */
static void phases(const Conv *c, const Layout *p, const float *x, float *xp, int64_t ld) {
    if (p->plane) {
        plane(c, p, x, xp, ld);
        return;
    }
    int64_t S = p->S, lo, hi, rs = c->Ci * ld; /* phase r's row of channel ci: ci * ld + r * rs */
    interior(c, p, ld, &lo, &hi);
    for (int64_t ci = 0; ci < c->Ci; ci++) {
        const float *s = x + ci * c->W;
        float *rows = xp + ci * ld;
        int64_t m = runs_end(S, lo, hi);
#if defined(__x86_64__) && defined(__GNUC__)
        if (m > lo) split_runs(S, s + S * lo - c->pw, rows + lo, rs, m - lo);
#endif
        for (; m < hi; m++) {
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

/* xt [Lt, R] = the phases or the plane position-major, xt[m, r*Ci + ci] =
 * xp[r*Ci + ci, m] (the weight gradient reads a position's R rows side by
 * side). Inside, that is x turned ([Ci, W] to [W, Ci], a plane row at a
 * time), 8 x 8 blocks at once (rt_shift_transpose): element by element
 * it took a sixth of Conv1Net's weight gradient. */
static void phases_by_position(const Conv *c, const Layout *p, const float *x, float *xt) {
    int64_t S = p->S, Ci = c->Ci, R = p->R, lo, hi;
    if (p->plane) {
        plane_cols(c, p, &lo, &hi);
        memset(xt, 0, (size_t)(p->Lt * R) * sizeof *xt);
        for (int64_t h = 0; h < p->Hf; h++) {
            int64_t ih = h - c->ph;
            if (ih < 0 || ih >= c->H) continue;
            if (hi > lo)
                rt_shift_transpose(x + ih * c->W - c->pw + lo, c->H * c->W, Ci, hi - lo, xt + (h * p->Wf + lo) * R, R);
        }
        return;
    }
    interior(c, p, p->Lp, &lo, &hi);
    for (int64_t m = lo > 0 ? 0 : hi; m < p->Lp; m = m + 1 == lo ? hi : m + 1) /* the edges */
        for (int64_t ci = 0; ci < Ci; ci++)
            for (int64_t r = 0, at = S * m - c->pw; r < S; r++, at++)
                xt[m * R + r * Ci + ci] = at >= 0 && at < c->W ? x[ci * c->W + at] : 0.0f;
    /* inside, phase r of column m is x's column S m + r - pw: xt is x turned */
    if (hi > lo) rt_shift_transpose(x + S * lo - c->pw, c->W, Ci, S * (hi - lo), xt + lo * R, Ci);
}

/* dx [Ci, H, W] = the inside of the plane dxp [Ci, Hf*Wf] (input pixels no
 * tap reads get 0). */
static void unplane(const Conv *c, const Layout *p, const float *dxp, float *dx) {
    int64_t lo, hi;
    plane_cols(c, p, &lo, &hi);
    memset(dx, 0, (size_t)c->chw * sizeof *dx);
    for (int64_t ci = 0; ci < c->Ci; ci++)
        for (int64_t h = 0; h < p->Hf; h++) {
            int64_t ih = h - c->ph;
            if (ih < 0 || ih >= c->H || hi == lo) continue;
            memcpy(dx + (ci * c->H + ih) * c->W + lo - c->pw, dxp + ci * p->Lp + h * p->Wf + lo,
                   (size_t)(hi - lo) * sizeof *dx);
        }
}

/* dx [Ci, W] = the phases dxp [R, Lp] put back (every input column is one
 * phase's; columns no tap reads get 0), or the plane's inside. */
static void unphase(const Conv *c, const Layout *p, const float *dxp, float *dx) {
    if (p->plane) {
        unplane(c, p, dxp, dx);
        return;
    }
    int64_t S = p->S, lo, hi, rs = c->Ci * p->Lp;
    interior(c, p, p->Lp, &lo, &hi);
    for (int64_t ci = 0; ci < c->Ci; ci++) {
        float *d = dx + ci * c->W;
        const float *rows = dxp + ci * p->Lp;
        int64_t m = runs_end(S, lo, hi);
#if defined(__x86_64__) && defined(__GNUC__)
        if (m > lo) join_runs(S, rows + lo, rs, d + S * lo - c->pw, m - lo);
#endif
        for (; m < hi; m++) {
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

/* dyp [Co, ld] = dy_b [Co, Ho*Wo] padded with zeros for the grad-input
 * product: Q-1 columns before (phases), or Kh-1 rows and Kw-1 columns
 * around each plane of width Wd (the plane). */
static void pad_dy(const Conv *c, const Layout *p, const float *dy, float *dyp, int64_t ld) {
    int64_t top = p->plane ? c->Kh - 1 : 0, left = p->plane ? c->Kw - 1 : p->T - 1;
    int64_t wd = p->plane ? p->Wd : ld;
    for (int64_t co = 0; co < c->Co; co++) {
        float *d = dyp + co * ld;
        int64_t at = 0; /* zeroed or copied before it */
        for (int64_t h = 0; h < c->Ho; h++) {
            int64_t start = (top + h) * wd + left;
            memset(d + at, 0, (size_t)(start - at) * sizeof *d);
            memcpy(d + start, dy + (co * c->Ho + h) * c->Wo, (size_t)c->Wo * sizeof *d);
            at = start + c->Wo;
        }
        memset(d + at, 0, (size_t)(ld - at) * sizeof *d);
    }
}

/* wq [T, Co, R] from w (its unused rows are left alone). */
static void weight_to_groups(const Conv *c, const Layout *p, const float *w, float *wq) {
    int64_t per = c->Ci * c->Kh * c->Kw; /* one output channel's weights */
    for (int64_t q = 0; q < p->T; q++)
        for (int64_t co = 0; co < c->Co; co++) {
            float *d = wq + (q * c->Co + co) * p->R;
            int64_t rows = group_rows(c, p, q);
            for (int64_t j = 0; j < rows; j++) d[j] = w[co * per + weight_at(c, p, q, j)];
        }
}

typedef struct {
    const Conv *c;
    Layout p;
    Shift sh;           /* the product (the weight gradient: the forward one's) */
    float *out;
    const float *a, *b; /* x (forward), dy (grad input), or x and dy (grad weight) */
    float *wq;          /* forward, grad input: the grouped weight; grad weight: the partials */
    float *packed;      /* forward, grad input: wq packed for rt_shift */
    int64_t task;       /* task_floats */
} ShiftJob;

static void forward_task(void *arg, int64_t b) {
    const ShiftJob *j = arg;
    const Conv *c = j->c;
    RtScratch sc;
    float *xp = rt_scratch_take(&sc, j->task), *y = j->out + b * c->Co * c->hw;
    phases(c, &j->p, j->a + b * c->chw, xp, j->p.Lx);
    rt_shift(&j->sh, j->packed, xp, j->p.Lx, y, c->hw);
    rt_conv_epilogue(c, y, 1); /* while the cache holds the sample's output */
    rt_scratch_give(&sc);
}

static void grad_input_task(void *arg, int64_t b) {
    const ShiftJob *j = arg;
    const Conv *c = j->c;
    int64_t ld = dyp_cols(c, &j->p);
    RtScratch sc;
    float *dxp = rt_scratch_take(&sc, j->task), *dyp = dxp + j->p.R * j->p.Lp;
    pad_dy(c, &j->p, j->a + b * c->Co * c->hw, dyp, ld);
    rt_shift(&j->sh, j->packed, dyp, ld, dxp, j->p.Lp);
    unphase(c, &j->p, dxp, j->out + b * c->chw);
    rt_scratch_give(&sc);
}

/* Partial k: the sum over its run of samples of the gradient of the
 * forward product's taps, [T, R, Co] (at [q, j, co]: dwq[q, co, j]), built
 * in the task's scratch and copied to its place once. */
static void grad_weight_task(void *arg, int64_t k) {
    const ShiftJob *j = arg;
    const Conv *c = j->c;
    int64_t P = partials_of(c), one = j->p.T * c->Co * j->p.R;
    RtScratch sc;
    float *xt = rt_scratch_take(&sc, j->task), *gp = xt + j->p.R * j->p.Lt;
    float *acc = gp + rt_shift_grad_packed_floats(&j->sh);
    for (int64_t b0 = k * c->B / P, b = b0; b < (k + 1) * c->B / P; b++) {
        phases_by_position(c, &j->p, j->a + b * c->chw, xt);
        rt_shift_grad_pack(&j->sh, j->b + b * c->Co * c->hw, c->hw, gp);
        rt_shift_grad(&j->sh, gp, xt, j->p.R, b != b0, acc, j->p.R * c->Co, c->Co);
    }
    if (one > 0) memcpy(j->wq + k * one, acc, (size_t)one * sizeof *acc);
    rt_scratch_give(&sc);
}

/* The job of a forward or grad-input call: wq, then its packing. */
static ShiftJob shift_job(const Conv *c, int op, float *out, const float *in, const float *w,
                         float *scratch) {
    int gi = op == OP_CONV1D_GRAD_INPUT || op == OP_CONV2D_GRAD_INPUT;
    ShiftJob j = {.c = c, .p = layout_of(c), .out = out, .a = in, .wq = scratch};
    j.sh = shift_of(c, &j.p, op);
    j.packed = scratch + j.p.T * c->Co * j.p.R;
    j.task = task_floats(c, &j.p, op);
    weight_to_groups(c, &j.p, w, j.wq);
    /* forward: a_q[co, i] = wq[q, co, i]; grad input: a_q[i, co] = wq[q, co, i] */
    int64_t st = c->Co * j.p.R;
    rt_shift_pack(&j.sh, j.wq, st, gi ? 1 : j.p.R, gi ? j.p.R : 1, j.packed);
    return j;
}

void rt_conv_shift_forward(const Conv *c, float *y, const float *x, const float *w, float *scratch) {
    ShiftJob j = shift_job(c, OP_CONV1D, y, x, w, scratch);
    rt_parallel(c->B, forward_task, &j);
}

void rt_conv_shift_grad_input(const Conv *c, float *dx, const float *dy, const float *w, float *scratch) {
    ShiftJob j = shift_job(c, OP_CONV1D_GRAD_INPUT, dx, dy, w, scratch);
    rt_parallel(c->B, grad_input_task, &j);
}

void rt_conv_shift_grad_weight(const Conv *c, float *dw, const float *x, const float *dy, float *scratch) {
    ShiftJob j = {.c = c, .p = layout_of(c), .out = dw, .a = x, .b = dy, .wq = scratch};
    j.sh = shift_of(c, &j.p, OP_CONV1D_GRAD_WEIGHT);
    rt_shift_choose();
    j.task = task_floats(c, &j.p, OP_CONV1D_GRAD_WEIGHT);
    int64_t P = partials_of(c), one = j.p.T * c->Co * j.p.R, per = c->Ci * c->Kh * c->Kw;
    if (c->B == 0) {
        memset(dw, 0, (size_t)(c->Co * c->ckk) * sizeof *dw);
        return;
    }
    rt_parallel(P, grad_weight_task, &j);
    /* dw at weight_at(q, i) = the partials' sum at [q, i, co], in order;
     * the partials are read in their own order */
    for (int64_t q = 0; q < j.p.T; q++)
        for (int64_t i = 0; i < group_rows(c, &j.p, q); i++) {
            int64_t at = (q * j.p.R + i) * c->Co;
            float *d = dw + weight_at(c, &j.p, q, i);
            for (int64_t co = 0; co < c->Co; co++) {
                float s = j.wq[at + co];
                for (int64_t t = 1; t < P; t++) s += j.wq[t * one + at + co];
                d[co * per] = s;
            }
        }
}
