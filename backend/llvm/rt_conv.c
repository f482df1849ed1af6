/* rt_conv.c — conv1d / conv2d and their gradients: im2col tiles small
 * enough to stay in a core's cache, one sgemm per tile, tiles spread over
 * the pool's threads.
 *
 * A convolution is cross-correlation (as in PyTorch). A tile is a range
 * of output positions p = (oh, ow) of one sample, or G whole samples when
 * one sample is small. im2col lays the tile's input windows out as
 *
 *   col [CKK, n]     CKK = Ci*Kh*Kw, n = the tile's positions
 *   col[(ci, kh, kw), (s, p)] = x[b0 + s, ci, oh*sh + kh - ph, ow*sw + kw - pw]
 *
 * (0 outside the input), so that, with dy_t the tile's columns of dy,
 *
 *   y_t  = w [Co, CKK] @ col                 (forward)
 *   dcol = w^T @ dy_t,   dx += col2im(dcol)  (grad input)
 *   dw  += dy_t @ col^T                      (grad weight)
 *
 * Strided convolutions keep col transposed, position-major [n, CKK]: a
 * window row is then Kw contiguous inputs (a gather with stride sw the
 * other way), and the sgemms take the transposes. Measured on Conv1Net's
 * layers (stride 4; one thread, CPU time, the two layouts interleaved):
 * first layer forward 26.3 -> 22.3 ms, weight gradient 29.5 -> 22.1; second
 * layer forward 64.1 -> 60.2, input gradient 89.7 -> 83.0, weight gradient
 * 58.9 -> 54.6. Stride 1 stays tap-major, where a row of col is Wo
 * contiguous inputs (Conv2Net's second layer: 5.7 ms, 11.8 position-major).
 * Strided 1-D convolutions (both of Conv1Net's layers) and stride-1 ones
 * that sum at least 64 products an output (Conv2Net's second layer) skip
 * im2col altogether: rt_conv_shift.c. The input gradient of a small
 * unpadded stride-1 one (Conv2Net's second layer again) makes the im2col
 * product's sums in one pass where OpenBLAS makes them as rt_gemm's own
 * kernels do: rt_conv_scatter.c.
 *
 * A one-sample tile reads and writes y and dy in place (row stride Ho*Wo);
 * a G-sample tile goes through a copy t [Co, G*Ho*Wo] with the sample and
 * channel axes swapped. A task is one group of samples (G, or 1 and all its
 * tiles), so no two threads add into the same dx; the weight gradient
 * sums into P partial sums (partial k takes the k-th of P runs of
 * consecutive groups: the samples its thread computed before), added in
 * order at the end. The tiles, tasks and P depend only on the
 * desc, so results do not depend on the thread count.
 *
 * conv1d is conv2d with H = Kh = Ho = 1, stride_h 1 and no top padding;
 * its right padding (like conv2d's bottom and right) is implied by the
 * output size.
 */
#include <string.h>

#include "ir.h"
#include "rt_conv.h"
#include "rt_impl.h"
#include "rt_shift.h"
#include "rt_thread.h"

/* Tiling (measured with bench/rt_kernels, one thread, CPU time). A sample
 * with fewer than RT_GROUP_N output positions shares a tile with others,
 * up to RT_GROUP_N positions and RT_GROUP_FLOATS of col, so that sgemm
 * gets a wide enough matrix; the swap through t costs more than a narrow
 * sgemm saves above that (Conv2Net's first layer, 676 positions: 1.41 ms
 * one sample to a tile, 1.65 ms ten; its second, 121 positions: no
 * difference between 1, 2 and 4). A sample whose col exceeds
 * RT_TILE_FLOATS is split into tiles of about that size (Conv1Net's
 * second layer: 327 positions, 1 MB); tiles of 64K floats made the sgemm
 * too narrow (81 positions: 66 ms instead of 59 for its forward pass). */
#define RT_GROUP_N 128
#define RT_GROUP_FLOATS (64 * 1024)
#define RT_TILE_FLOATS (256 * 1024)

/* Fills c from d: which of the inputs and the output are x, w and y
 * depends on the op. 1-D shapes [B, C, L] read as [B, C, 1, L]. */
static void conv_geom(const RtDesc *d, Conv *c) {
    Op op = (Op)d->op;
    int gi = op == OP_CONV1D_GRAD_INPUT || op == OP_CONV2D_GRAD_INPUT;
    int gw = op == OP_CONV1D_GRAD_WEIGHT || op == OP_CONV2D_GRAD_WEIGHT;
    int out = d->nin; /* the output's shape follows the inputs' (an epilogue's bias among them) */
    int xs = gi ? out : 0, ws = gw ? out : 1, ys = gi ? 0 : gw ? 1 : out;
    const int64_t *xd = d->shape[xs], *wd = d->shape[ws], *yd = d->shape[ys];
    int two = d->rank[xs] == 4;
    c->B = xd[0], c->Ci = xd[1], c->Co = wd[0];
    c->H = two ? xd[2] : 1, c->W = xd[two ? 3 : 2];
    c->Kh = two ? wd[2] : 1, c->Kw = wd[two ? 3 : 2];
    c->Ho = two ? yd[2] : 1, c->Wo = yd[two ? 3 : 2];
    c->sh = two ? d->attr[0] : 1, c->sw = two ? d->attr[1] : d->attr[0];
    c->ph = two ? d->attr[2] : 0, c->pw = two ? d->attr[3] : d->attr[1];
    c->ckk = c->Ci * c->Kh * c->Kw, c->hw = c->Ho * c->Wo, c->chw = c->Ci * c->H * c->W;
    c->pos = c->sw > 1;
    c->bias = NULL, c->relu = 0; /* rt_conv sets the epilogue */
    int64_t per = c->ckk * c->hw; /* col floats of one sample */
    c->G = 1;
    if (c->hw > 0 && c->hw < RT_GROUP_N && per > 0) {
        int64_t by_n = (RT_GROUP_N + c->hw - 1) / c->hw, by_size = RT_GROUP_FLOATS / per;
        c->G = by_n < by_size ? by_n : by_size;
    }
    if (c->G > c->B) c->G = c->B;
    if (c->G < 1) c->G = 1;
    c->tile = c->hw;
    if (c->G == 1 && per > RT_TILE_FLOATS) {
        c->tile = RT_TILE_FLOATS / (c->ckk > 0 ? c->ckk : 1);
        if (c->tile < 16) c->tile = 16;
        if (c->tile > c->hw) c->tile = c->hw;
    }
    c->ngroups = (c->B + c->G - 1) / c->G;
    c->P = gw ? (c->ngroups < RT_MAX_THREADS ? c->ngroups : RT_MAX_THREADS) : 0;
    c->slot = c->ckk * c->G * c->tile + (c->G > 1 ? c->Co * c->G * c->hw : 0);
}

/* Scratch floats: the partial sums but the first (which is dw itself).
 * Each task's own (c->slot floats, and a partial being built) is the
 * thread's (rt_scratch_take). */
int64_t rt_conv_scratch(const RtDesc *d) {
    Conv c;
    conv_geom(d, &c);
    if (rt_conv_shift_takes(&c, d->op)) return rt_conv_shift_scratch(&c, d->op);
    return c.P > 1 ? (c.P - 1) * c.Co * c.ckk : 0;
}

/* 1 if every GEMM size fits BLAS's int, and the shifted-product
 * lowering's sizes with them (rows at most Kw*Ci, rows of at most W + Kw
 * phases or a plane of (Ho + Kh) x (Wo + 2 Kw)). */
static int conv_blas_ok(const Conv *c) {
    int64_t dims[7] = {c->Co, c->ckk, c->G * c->tile, c->hw, c->ckk + c->Ci * c->sw, c->W + c->Kw,
                       (c->Ho + c->Kh) * (c->Wo + 2 * c->Kw)};
    return rt_blas_ok(dims, 7);
}

/* The output columns [*lo, *hi) whose input column o*s + k - p lies in
 * [0, n), for o in [0, no). */
static void inside(int64_t n, int64_t no, int64_t k, int64_t s, int64_t p, int64_t *lo,
                   int64_t *hi) {
    int64_t a = p - k, b = n + p - k; /* need a <= o*s < b */
    *lo = a > 0 ? (a + s - 1) / s : 0;
    *hi = b > 0 ? (b + s - 1) / s : 0;
    if (*lo > no) *lo = no;
    if (*hi > no) *hi = no;
    if (*hi < *lo) *hi = *lo;
}

/* dst[0..n) = columns ow0 .. ow0+n of one im2col row: row[ow*sw + off]
 * where ow is in [lo, hi), else 0 (row is an input row, off = kw - pw). */
static void gather_row(float *dst, const float *row, int64_t off, int64_t ow0, int64_t n, int64_t lo,
                       int64_t hi, int64_t sw) {
    int64_t a = lo > ow0 ? lo : ow0, b = hi < ow0 + n ? hi : ow0 + n;
    if (b < a) b = a;
    for (int64_t o = ow0; o < a; o++) dst[o - ow0] = 0.0f;
    if (sw == 1 && b > a) memcpy(dst + a - ow0, row + a + off, (size_t)(b - a) * sizeof *dst);
    else
        for (int64_t o = a; o < b; o++) dst[o - ow0] = row[o * sw + off];
    for (int64_t o = b; o < ow0 + n; o++) dst[o - ow0] = 0.0f;
}

/* 1 if positions [p0, p0 + n) are whole samples of an unpadded stride-1
 * convolution: every window lies inside the input, and a row of col is
 * Ho runs of Wo contiguous inputs. im2col_valid and col2im_valid then move
 * them with loops the compiler unrolls, where gather_row's call per run
 * cost more than the run (Conv2Net's second layer, 3168 runs of 11 floats
 * a sample; one thread: forward 7.8-8.2 -> 5.9-6.5 ms, weight gradient
 * 7.8-8.5 -> 6.4-7.4, input gradient 8.1-8.7 -> 7.5-8.0 ms). */
static int whole_valid(const Conv *c, int64_t p0, int64_t n) {
    return c->sh == 1 && c->sw == 1 && c->ph == 0 && c->pw == 0 && p0 == 0 && n == c->hw &&
           c->H >= c->Ho + c->Kh - 1 && c->W >= c->Wo + c->Kw - 1;
}

/* im2col of whole samples in whole_valid's case. */
static void im2col_valid(const Conv *c, const float *x, int64_t g, float *col) {
    float *dst = col;
    for (int64_t ci = 0; ci < c->Ci; ci++)
        for (int64_t kh = 0; kh < c->Kh; kh++)
            for (int64_t kw = 0; kw < c->Kw; kw++)
                for (int64_t s = 0; s < g; s++)
                    for (int64_t oh = 0; oh < c->Ho; oh++) {
                        const float *src = x + s * c->chw + (ci * c->H + oh + kh) * c->W + kw;
                        for (int64_t ow = 0; ow < c->Wo; ow++) dst[ow] = src[ow];
                        dst += c->Wo;
                    }
}

/* col [CKK, g*n] for positions [p0, p0 + n) of the samples x [g, Ci, H, W]. */
static void im2col(const Conv *c, const float *x, int64_t g, int64_t p0, int64_t n, float *col) {
    if (whole_valid(c, p0, n)) {
        im2col_valid(c, x, g, col);
        return;
    }
    for (int64_t ci = 0; ci < c->Ci; ci++)
        for (int64_t kh = 0; kh < c->Kh; kh++)
            for (int64_t kw = 0; kw < c->Kw; kw++) {
                float *dst = col + ((ci * c->Kh + kh) * c->Kw + kw) * g * n;
                int64_t lo, hi;
                inside(c->W, c->Wo, kw, c->sw, c->pw, &lo, &hi);
                for (int64_t s = 0; s < g; s++)
                    for (int64_t p = p0; p < p0 + n;) {
                        int64_t oh = p / c->Wo, ow = p - oh * c->Wo;
                        int64_t cnt = c->Wo - ow < p0 + n - p ? c->Wo - ow : p0 + n - p;
                        int64_t ih = oh * c->sh + kh - c->ph;
                        if (ih < 0 || ih >= c->H) memset(dst, 0, (size_t)cnt * sizeof *dst);
                        else
                            gather_row(dst, x + s * c->chw + (ci * c->H + ih) * c->W, kw - c->pw,
                                       ow, cnt, lo, hi, c->sw);
                        dst += cnt, p += cnt;
                    }
            }
}

/* col2im for im2col_valid's case, adding in col2im's order. */
static void col2im_valid(const Conv *c, const float *col, int64_t g, float *dx) {
    const float *src = col;
    for (int64_t ci = 0; ci < c->Ci; ci++)
        for (int64_t kh = 0; kh < c->Kh; kh++)
            for (int64_t kw = 0; kw < c->Kw; kw++)
                for (int64_t s = 0; s < g; s++)
                    for (int64_t oh = 0; oh < c->Ho; oh++) {
                        float *dst = dx + s * c->chw + (ci * c->H + oh + kh) * c->W + kw;
                        for (int64_t ow = 0; ow < c->Wo; ow++) dst[ow] += src[ow];
                        src += c->Wo;
                    }
}

/* dx [g, Ci, H, W] += the windows of col [CKK, g*n] (the adjoint of im2col). */
static void col2im(const Conv *c, const float *col, int64_t g, int64_t p0, int64_t n, float *dx) {
    if (whole_valid(c, p0, n)) {
        col2im_valid(c, col, g, dx);
        return;
    }
    for (int64_t ci = 0; ci < c->Ci; ci++)
        for (int64_t kh = 0; kh < c->Kh; kh++)
            for (int64_t kw = 0; kw < c->Kw; kw++) {
                const float *src = col + ((ci * c->Kh + kh) * c->Kw + kw) * g * n;
                int64_t lo, hi;
                inside(c->W, c->Wo, kw, c->sw, c->pw, &lo, &hi);
                for (int64_t s = 0; s < g; s++)
                    for (int64_t p = p0; p < p0 + n;) {
                        int64_t oh = p / c->Wo, ow = p - oh * c->Wo;
                        int64_t cnt = c->Wo - ow < p0 + n - p ? c->Wo - ow : p0 + n - p;
                        int64_t ih = oh * c->sh + kh - c->ph;
                        int64_t a = lo > ow ? lo : ow, b = hi < ow + cnt ? hi : ow + cnt;
                        if (ih >= 0 && ih < c->H) {
                            float *dst = dx + s * c->chw + (ci * c->H + ih) * c->W;
                            for (int64_t o = a; o < b; o++)
                                dst[o * c->sw + kw - c->pw] += src[o - ow];
                        }
                        src += cnt, p += cnt;
                    }
            }
}

/* The kernel columns [*lo, *hi) whose input column ow*sw + kw - pw lies
 * in [0, W), for output column ow. */
static void inside_kw(const Conv *c, int64_t ow, int64_t *lo, int64_t *hi) {
    int64_t at = ow * c->sw - c->pw; /* input column of kw = 0 */
    *lo = at < 0 ? -at : 0;
    *hi = c->W - at < c->Kw ? c->W - at : c->Kw;
    if (*lo > c->Kw) *lo = c->Kw;
    if (*hi < *lo) *hi = *lo;
}

/* Position-major im2col: colT [g*n, CKK], row s*n + (p - p0) the window of
 * output position p of sample s; each (ci, kh) is a run of Kw contiguous
 * inputs (strided convolutions read contiguous memory this way). */
static void im2col_pos(const Conv *c, const float *x, int64_t g, int64_t p0, int64_t n, float *col) {
    for (int64_t s = 0; s < g; s++)
        for (int64_t p = p0; p < p0 + n; p++) {
            int64_t oh = p / c->Wo, ow = p - oh * c->Wo, lo, hi;
            inside_kw(c, ow, &lo, &hi);
            float *row = col + (s * n + p - p0) * c->ckk;
            for (int64_t ci = 0; ci < c->Ci; ci++)
                for (int64_t kh = 0; kh < c->Kh; kh++) {
                    float *dst = row + (ci * c->Kh + kh) * c->Kw;
                    int64_t ih = oh * c->sh + kh - c->ph, at = ow * c->sw - c->pw;
                    if (ih < 0 || ih >= c->H) {
                        for (int64_t k = 0; k < c->Kw; k++) dst[k] = 0.0f;
                        continue;
                    }
                    const float *src = x + s * c->chw + (ci * c->H + ih) * c->W; /* the input row */
                    for (int64_t k = 0; k < lo; k++) dst[k] = 0.0f;
                    for (int64_t k = lo; k < hi; k++) dst[k] = src[at + k];
                    for (int64_t k = hi; k < c->Kw; k++) dst[k] = 0.0f;
                }
        }
}

/* dx [g, Ci, H, W] += the windows of colT [g*n, CKK] (the adjoint of
 * im2col_pos). */
static void col2im_pos(const Conv *c, const float *col, int64_t g, int64_t p0, int64_t n, float *dx) {
    for (int64_t s = 0; s < g; s++)
        for (int64_t p = p0; p < p0 + n; p++) {
            int64_t oh = p / c->Wo, ow = p - oh * c->Wo, lo, hi;
            inside_kw(c, ow, &lo, &hi);
            const float *row = col + (s * n + p - p0) * c->ckk;
            for (int64_t ci = 0; ci < c->Ci; ci++)
                for (int64_t kh = 0; kh < c->Kh; kh++) {
                    int64_t ih = oh * c->sh + kh - c->ph;
                    if (ih < 0 || ih >= c->H) continue;
                    const float *src = row + (ci * c->Kh + kh) * c->Kw;
                    float *dst = dx + s * c->chw + (ci * c->H + ih) * c->W; /* the input row */
                    int64_t at = ow * c->sw - c->pw;
                    for (int64_t k = lo; k < hi; k++) dst[at + k] += src[k];
                }
        }
}

/* ---- one tile, either layout ---------------------------------------------
 * col is [CKK, m] (tap-major) or [m, CKK] (c->pos), m the tile's columns;
 * dy / y are [Co, m] with row stride ld. */

/* col for m = g*n columns. */
static void tile_im2col(const Conv *c, const float *x, int64_t g, int64_t p0, int64_t n, float *col) {
    if (c->pos) im2col_pos(c, x, g, p0, n, col);
    else im2col(c, x, g, p0, n, col);
}

/* dx += col2im(dcol). */
static void tile_col2im(const Conv *c, const float *col, int64_t g, int64_t p0, int64_t n,
                        float *dx) {
    if (c->pos) col2im_pos(c, col, g, p0, n, dx);
    else col2im(c, col, g, p0, n, dx);
}

/* y [Co, m] = w [Co, CKK] @ col. */
static void tile_forward(const Conv *c, const float *w, const float *col, int64_t m, float *y,
                         int64_t ld) {
    if (c->pos) rt_gemm(0, 1, c->Co, m, c->ckk, w, c->ckk, col, c->ckk, 0.0f, y, ld);
    else rt_gemm(0, 0, c->Co, m, c->ckk, w, c->ckk, col, m, 0.0f, y, ld);
}

/* dcol = w^T @ dy, as col's layout. */
static void tile_grad_input(const Conv *c, const float *w, const float *dy, int64_t ld, int64_t m,
                            float *dcol) {
    if (c->pos) rt_gemm(1, 0, m, c->ckk, c->Co, dy, ld, w, c->ckk, 0.0f, dcol, c->ckk);
    else rt_gemm(1, 0, c->ckk, m, c->Co, w, c->ckk, dy, ld, 0.0f, dcol, m);
}

/* acc [Co, CKK] = dy @ col^T + beta * acc. */
static void tile_grad_weight(const Conv *c, const float *dy, int64_t ld, const float *col, int64_t m,
                             float beta, float *acc) {
    if (c->pos) rt_gemm(0, 0, c->Co, c->ckk, m, dy, ld, col, c->ckk, beta, acc, c->ckk);
    else rt_gemm(0, 1, c->Co, c->ckk, m, dy, ld, col, m, beta, acc, c->ckk);
}

/* The chunk y [g, Co, HW] <-> t [Co, g*HW]: rows of HW floats moved so
 * that the sample and channel axes swap; to_t says which way. */
static void swap_axes(const Conv *c, int64_t g, const float *src, float *dst, int to_t) {
    size_t row = (size_t)c->hw * sizeof(float);
    for (int64_t s = 0; s < g; s++)
        for (int64_t co = 0; co < c->Co; co++) {
            int64_t yo = (s * c->Co + co) * c->hw, to = (co * g + s) * c->hw;
            memcpy(dst + (to_t ? to : yo), src + (to_t ? yo : to), row);
        }
}

/* ---- the forward pass's epilogue -------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* row[0..n) = ReLU(row + b) (relu) or row + b: _mm512_max_ps(v, 0) is
 * v > 0 ? v : 0, NaN and -0 included, as the generated loop's select. */
__attribute__((target("avx512f"))) static void bias_row_avx512(float *row, int64_t n, float b, int relu) {
    __m512 vb = _mm512_set1_ps(b), z = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, row + i), vb);
        _mm512_mask_storeu_ps(row + i, m, relu ? _mm512_max_ps(v, z) : v);
    }
}
#endif

/* See rt_conv.h. The loop it replaces adds in float and takes
 * v > 0 ? v : 0; so does this, so the values are the same bits. */
void rt_conv_epilogue(const Conv *c, float *y, int64_t g) {
    if (!c->bias) return;
    for (int64_t r = 0; r < g * c->Co; r++) {
        float b = c->bias[r % c->Co], *row = y + r * c->hw;
#if defined(__x86_64__) && defined(__GNUC__)
        if (rt_shift_isa == RT_SHIFT_AVX512) {
            bias_row_avx512(row, c->hw, b, c->relu);
            continue;
        }
#endif
        for (int64_t i = 0; i < c->hw; i++) {
            float v = row[i] + b;
            row[i] = c->relu && !(v > 0.0f) ? 0.0f : v;
        }
    }
}

/* What a task needs: the geometry, the buffers, the scratch. */
typedef struct {
    Conv c;
    float *out;           /* y, dx or dw */
    const float *a, *b;   /* (x, w), (dy, w) or (x, dy) */
    float *partials;      /* grad weight: partial sums 1..P-1 */
    int scatter;          /* grad input: rt_conv_scatter_sample, sample by sample */
} Job;

/* The samples of group i: the first and the count. */
static void group(const Conv *c, int64_t i, int64_t *b0, int64_t *g) {
    *b0 = i * c->G;
    *g = c->B - *b0 < c->G ? c->B - *b0 : c->G;
}

/* Forward, group i: y[b0 .. b0+g) = conv(x, w). */
static void conv_task(void *arg, int64_t i) {
    const Job *j = arg;
    const Conv *c = &j->c;
    RtScratch sc;
    float *col = rt_scratch_take(&sc, c->slot), *t = col + c->ckk * c->G * c->tile;
    int64_t b0, g;
    group(c, i, &b0, &g);
    const float *x = j->a + b0 * c->chw, *w = j->b;
    float *y = j->out + b0 * c->Co * c->hw;
    if (c->G > 1) {
        int64_t m = g * c->hw;
        tile_im2col(c, x, g, 0, c->hw, col);
        tile_forward(c, w, col, m, t, m);
        swap_axes(c, g, t, y, 0);
    } else
        for (int64_t p0 = 0; p0 < c->hw; p0 += c->tile) {
            int64_t n = c->hw - p0 < c->tile ? c->hw - p0 : c->tile;
            tile_im2col(c, x, 1, p0, n, col);
            tile_forward(c, w, col, n, y + p0, c->hw);
        }
    rt_conv_epilogue(c, y, g);
    rt_scratch_give(&sc);
}

/* Grad input, group i: dx[b0 .. b0+g) = col2im(w^T @ dy). */
static void grad_input_task(void *arg, int64_t i) {
    const Job *j = arg;
    const Conv *c = &j->c;
    RtScratch sc;
    int64_t b0, g;
    group(c, i, &b0, &g);
    const float *dy = j->a + b0 * c->Co * c->hw, *w = j->b;
    float *dx = j->out + b0 * c->chw;
    if (j->scatter) {
        float *dyw = rt_scratch_take(&sc, rt_conv_scatter_floats(c));
        for (int64_t s = 0; s < g; s++) rt_conv_scatter_sample(c, w, dy + s * c->Co * c->hw, dyw, dx + s * c->chw);
        rt_scratch_give(&sc);
        return;
    }
    float *dcol = rt_scratch_take(&sc, c->slot), *t = dcol + c->ckk * c->G * c->tile;
    memset(dx, 0, (size_t)(g * c->chw) * sizeof *dx);
    if (c->G > 1) {
        int64_t m = g * c->hw;
        swap_axes(c, g, dy, t, 1);
        tile_grad_input(c, w, t, m, m, dcol);
        tile_col2im(c, dcol, g, 0, c->hw, dx);
    } else
        for (int64_t p0 = 0; p0 < c->hw; p0 += c->tile) {
            int64_t n = c->hw - p0 < c->tile ? c->hw - p0 : c->tile;
            tile_grad_input(c, w, dy + p0, c->hw, n, dcol);
            tile_col2im(c, dcol, 1, p0, n, dx);
        }
    rt_scratch_give(&sc);
}

/* Grad weight, partial k: the sum over its groups of dy @ col^T, built in
 * the task's scratch and copied to its place (dw for the first) once. */
static void grad_weight_task(void *arg, int64_t k) {
    const Job *j = arg;
    const Conv *c = &j->c;
    int64_t nw = c->Co * c->ckk;
    RtScratch sc;
    float *acc = rt_scratch_take(&sc, nw + c->slot), *col = acc + nw;
    float *t = col + c->ckk * c->G * c->tile;
    float beta = 0.0f;
    for (int64_t i = k * c->ngroups / c->P; i < (k + 1) * c->ngroups / c->P; i++) {
        int64_t b0, g;
        group(c, i, &b0, &g);
        const float *x = j->a + b0 * c->chw, *dy = j->b + b0 * c->Co * c->hw;
        if (c->G > 1) {
            int64_t m = g * c->hw;
            tile_im2col(c, x, g, 0, c->hw, col);
            swap_axes(c, g, dy, t, 1);
            tile_grad_weight(c, t, m, col, m, beta, acc);
            beta = 1.0f;
            continue;
        }
        for (int64_t p0 = 0; p0 < c->hw; p0 += c->tile, beta = 1.0f) {
            int64_t n = c->hw - p0 < c->tile ? c->hw - p0 : c->tile;
            tile_im2col(c, x, 1, p0, n, col);
            tile_grad_weight(c, dy + p0, c->hw, col, n, beta, acc);
        }
    }
    if (nw > 0) {
        if (beta == 0.0f) memset(acc, 0, (size_t)nw * sizeof *acc); /* no positions */
        memcpy(k == 0 ? j->out : j->partials + (k - 1) * nw, acc, (size_t)nw * sizeof *acc);
    }
    rt_scratch_give(&sc);
}

/* conv1d / conv2d: x, w -> y [B, Co, (Ho,) Wo]. */
int32_t rt_conv(const RtDesc *d, float *y, const float *x, const float *w, const float *bias, float *scratch) {
    Job j = {.out = y, .a = x, .b = w};
    conv_geom(d, &j.c);
    if (!conv_blas_ok(&j.c)) return RT_ERR_SIZE;
    j.c.bias = bias;
    j.c.relu = bias && d->attr[RT_ATTR_EPILOGUE] == RT_EPILOGUE_BIAS_RELU;
    rt_shift_choose(); /* the epilogue's variant, as the products' */
    if (rt_conv_shift_takes(&j.c, d->op)) rt_conv_shift_forward(&j.c, y, x, w, scratch);
    else rt_parallel(j.c.B > 0 ? j.c.ngroups : 0, conv_task, &j);
    return RT_OK;
}

/* See rt_impl.h. */
int rt_conv_grad_input_scatters(const RtDesc *d) {
    Conv c;
    conv_geom(d, &c);
    return conv_blas_ok(&c) && !rt_conv_shift_takes(&c, d->op) && rt_conv_scatter_takes(&c);
}

/* conv*_grad_input: dy, w -> dx (x's shape). */
int32_t rt_conv_grad_input(const RtDesc *d, float *dx, const float *dy, const float *w,
                           float *scratch) {
    Job j = {.out = dx, .a = dy, .b = w};
    conv_geom(d, &j.c);
    if (!conv_blas_ok(&j.c)) return RT_ERR_SIZE;
    if (rt_conv_shift_takes(&j.c, d->op)) {
        rt_conv_shift_grad_input(&j.c, dx, dy, w, scratch);
        return RT_OK;
    }
    j.scatter = rt_conv_scatter_takes(&j.c);
    rt_parallel(j.c.B > 0 ? j.c.ngroups : 0, grad_input_task, &j);
    return RT_OK;
}

/* conv*_grad_weight: x, dy -> dw (w's shape); the partials added in order. */
int32_t rt_conv_grad_weight(const RtDesc *d, float *dw, const float *x, const float *dy,
                            float *scratch) {
    Job j = {.out = dw, .a = x, .b = dy, .partials = scratch};
    conv_geom(d, &j.c);
    if (!conv_blas_ok(&j.c)) return RT_ERR_SIZE;
    if (rt_conv_shift_takes(&j.c, d->op)) {
        rt_conv_shift_grad_weight(&j.c, dw, x, dy, scratch);
        return RT_OK;
    }
    int64_t nw = j.c.Co * j.c.ckk;
    if (j.c.B == 0) {
        memset(dw, 0, (size_t)nw * sizeof *dw);
        return RT_OK;
    }
    rt_parallel(j.c.P, grad_weight_task, &j);
    for (int64_t k = 1; k < j.c.P; k++)
        for (int64_t e = 0; e < nw; e++) dw[e] += j.partials[(k - 1) * nw + e];
    return RT_OK;
}
