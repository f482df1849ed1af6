/* rt_pool.c — max pooling and its gradient; gather and scatter.
 *
 * As in the interpreter: windows have no padding and fit; the maximum of a
 * window is its first largest element in row-major window order (a later
 * element replaces it only if strictly greater, so a NaN never does), and
 * the gradient goes to that same element, added up where windows overlap.
 * max_pool1d is max_pool2d with H = Kh = Ho = 1.
 *
 * The gradient of 2x2, stride-2 windows (Conv2Net's) runs 16 windows to
 * a vector on AVX-512 CPUs (the rows' even and odd elements split apart
 * by permutes, masked loads at a row's end, stores that end where the row
 * does: store_pairs): comparisons and selects only, so the same bits as
 * the scalar rows. In Conv2Net's training step (--profile, one thread
 * pinned, the builds alternated) its two pool gradients took 0.84 -> 0.43
 * and 0.67 -> 0.52 ms, the step 9.8-12.6 -> 9.2-11.7 ms. The pooling
 * itself stays scalar: the same vectors took it from 0.126 to 0.148 and
 * from 0.070 to 0.092 ms (bench/rt_kernels, one thread).
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define POOL_AVX512 1
#endif
#include <string.h>

#include "interp.h"
#include "ir.h"
#include "rt_impl.h"
#include "rt_shift.h"
#include "rt_thread.h"

/* The sizes of one pooling: P planes (B * C) of [H, W] -> [Ho, Wo]. */
typedef struct {
    int64_t P, H, W, Ho, Wo;
    int64_t kh, kw, sh, sw;
} Pool;

/* Fills p from d: x is input 0; the pooled shape is the output of
 * max_pool*, and dy (input 1) of the gradients. */
static void pool_geom(const RtDesc *d, Pool *p) {
    int grad = d->op == OP_MAX_POOL1D_GRAD || d->op == OP_MAX_POOL2D_GRAD;
    const int64_t *x = d->shape[0], *y = d->shape[grad ? 1 : d->nin];
    int two = d->rank[0] == 4;
    p->P = x[0] * x[1];
    p->H = two ? x[2] : 1, p->W = x[two ? 3 : 2];
    p->Ho = two ? y[2] : 1, p->Wo = y[two ? 3 : 2];
    p->kh = two ? d->attr[0] : 1, p->kw = two ? d->attr[1] : d->attr[0];
    p->sh = two ? d->attr[2] : 1, p->sw = two ? d->attr[3] : d->attr[1];
}

/* The offset in plane x [H, W] of the first maximum of the window whose
 * top-left element is x[at]. */
static inline int64_t window_argmax(const Pool *p, const float *x, int64_t at) {
    int64_t best = at;
    float m = x[at];
    for (int64_t i = 0; i < p->kh; i++)
        for (int64_t j = 0; j < p->kw; j++) {
            int64_t o = at + i * p->W + j;
            if (x[o] > m) best = o, m = x[o];
        }
    return best;
}

/* A pooling call: the geometry, the buffers (y or dx, x, dy) and, for a
 * gradient, its 2x2 plane function (chosen once, on the calling thread). */
typedef struct {
    Pool p;
    float *out;
    const float *x, *dy;
    void (*grad_plane)(const Pool *, const float *, const float *, float *);
} PoolJob;

/* Planes per task: about 64K input floats. */
static int64_t planes_per_task(const Pool *p) {
    int64_t hw = p->H * p->W > 0 ? p->H * p->W : 1, n = (64 * 1024) / hw;
    return n > 0 ? n : 1;
}

/* Output row oh of a 2x2, stride-2 pooling: each window's first maximum
 * (m = v > m ? v : m in window order keeps the first, and never takes a
 * NaN after the first element). */
static void pool_row_2x2(const Pool *p, const float *x, int64_t oh, float *y) {
    const float *r0 = x + 2 * oh * p->W, *r1 = r0 + p->W;
    for (int64_t ow = 0; ow < p->Wo; ow++) {
        float m = r0[2 * ow];
        m = r0[2 * ow + 1] > m ? r0[2 * ow + 1] : m;
        m = r1[2 * ow] > m ? r1[2 * ow] : m;
        m = r1[2 * ow + 1] > m ? r1[2 * ow + 1] : m;
        y[ow] = m;
    }
}

/* Gradient of output row oh (its windows from `from` on) of a 2x2,
 * stride-2 pooling into a zeroed dx:
 * dy[ow] goes to the window's first maximum, without branches. With m the
 * window's value (as in pool_row_2x2), that is the first element equal to
 * m, or the first element if m is a NaN (then so is it). The windows do
 * not overlap, so each element of dx is written once: 0 + dy (as the
 * interpreter's += on zeros gives, -0 included) or 0. */
static void pool_grad_row_2x2(const Pool *p, const float *x, const float *dy, int64_t oh, float *dx,
                              int64_t from) {
    const float *r0 = x + 2 * oh * p->W, *r1 = r0 + p->W;
    float *d0 = dx + 2 * oh * p->W, *d1 = d0 + p->W;
    for (int64_t ow = from; ow < p->Wo; ow++) {
        float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], e = r1[2 * ow + 1];
        float m = a, g = 0.0f + dy[ow];
        m = b > m ? b : m;
        m = c > m ? c : m;
        m = e > m ? e : m;
        float left = a == m || m != m ? 0.0f : g; /* dy not yet placed */
        d0[2 * ow] = a == m || m != m ? g : 0.0f;
        d0[2 * ow + 1] = b == m ? left : 0.0f;
        left = b == m ? 0.0f : left;
        d1[2 * ow] = c == m ? left : 0.0f;
        d1[2 * ow + 1] = c == m ? 0.0f : left;
    }
}

#ifdef POOL_AVX512
/* Sixteen windows' elements a b / c e, one window to a lane: lanes 0-7
 * from the 16 floats at p0 (top row) and p1 (bottom row), lanes 8-15 from
 * those at q0 and q1 (masked to lo and hi: floats past them read as 0). */
__attribute__((target("avx512f"))) static inline void split16(const float *p0, const float *q0, const float *p1,
                                                                const float *q1, __mmask16 lo, __mmask16 hi,
                                                                __m512 *a, __m512 *b, __m512 *c, __m512 *e) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    __m512 p = _mm512_maskz_loadu_ps(lo, p0), q = _mm512_maskz_loadu_ps(hi, q0);
    *a = _mm512_permutex2var_ps(p, even, q), *b = _mm512_permutex2var_ps(p, odd, q);
    p = _mm512_maskz_loadu_ps(lo, p1), q = _mm512_maskz_loadu_ps(hi, q1);
    *c = _mm512_permutex2var_ps(p, even, q), *e = _mm512_permutex2var_ps(p, odd, q);
}

/* Windows [ow0, ow0 + n) (n <= 16) of the row pair r0, r1. */
__attribute__((target("avx512f"))) static inline void windows16(const float *r0, const float *r1, int64_t ow0,
                                                                  int n, __m512 *a, __m512 *b, __m512 *c,
                                                                  __m512 *e) {
    __mmask16 lo = (__mmask16)(n >= 8 ? 0xffffu : (1u << 2 * n) - 1), hi = (__mmask16)(n > 8 ? (1u << (2 * n - 16)) - 1 : 0);
    split16(r0 + 2 * ow0, r0 + 2 * ow0 + 16, r1 + 2 * ow0, r1 + 2 * ow0 + 16, lo, hi, a, b, c, e);
}

/* m = a; m = b > m ? b : m; ... as pool_row_2x2, lane by lane. */
__attribute__((target("avx512f"))) static inline __m512 window_max16(__m512 a, __m512 b, __m512 c, __m512 e) {
    __m512 m = a;
    m = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(b, m, _CMP_GT_OQ), m, b);
    m = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(c, m, _CMP_GT_OQ), m, c);
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(e, m, _CMP_GT_OQ), m, e);
}

/* pool_grad_row_2x2's selects, lane by lane (k ? x : y is
 * _mm512_mask_blend_ps(k, y, x)): each window's dy (g, already 0 + dy) to
 * its first maximum, 0 to the other three elements: *oa *ob *oc *oe. */
__attribute__((target("avx512f"))) static inline void window_grads16(__m512 a, __m512 b, __m512 c, __m512 e, __m512 g,
                                                                       __m512 *oa, __m512 *ob, __m512 *oc,
                                                                       __m512 *oe) {
    const __m512 z = _mm512_setzero_ps();
    __m512 m = window_max16(a, b, c, e);
    __mmask16 ka = _mm512_cmp_ps_mask(a, m, _CMP_EQ_OQ) | _mm512_cmp_ps_mask(m, m, _CMP_UNORD_Q);
    __mmask16 kb = _mm512_cmp_ps_mask(b, m, _CMP_EQ_OQ), kc = _mm512_cmp_ps_mask(c, m, _CMP_EQ_OQ);
    __m512 left = _mm512_mask_blend_ps(ka, g, z); /* dy not yet placed */
    *oa = _mm512_mask_blend_ps(ka, z, g), *ob = _mm512_mask_blend_ps(kb, z, left);
    left = _mm512_mask_blend_ps(kb, left, z);
    *oc = _mm512_mask_blend_ps(kc, z, left), *oe = _mm512_mask_blend_ps(kc, left, z);
}

/* Stores the first n lanes of u and v interleaved (u0 v0 u1 v1 ...): 2n
 * floats, n >= 4, with stores that end where the 2n floats do (the last
 * overlapping the one before it) and no masked store: when dx is x (the
 * plan computes it over x), a masked store's vector past the row made the
 * next rows' loads wait (Conv2Net's first pool gradient, in its step:
 * 0.86 -> 1.47 ms). */
__attribute__((target("avx512f"))) static inline void store_pairs(float *d, int n, __m512 u, __m512 v) {
    const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m512 v0 = _mm512_permutex2var_ps(u, lo, v), v1 = _mm512_permutex2var_ps(u, hi, v);
    int m = 2 * n;
    if (m == 32) {
        _mm512_storeu_ps(d, v0);
        _mm512_storeu_ps(d + 16, v1);
    } else if (m >= 16) { /* [0, 16) and [m - 16, m) */
        _mm512_storeu_ps(d, v0);
        __m512i at = _mm512_add_epi32(iota, _mm512_set1_epi32(m - 16));
        _mm512_storeu_ps(d + m - 16, _mm512_permutex2var_ps(v0, at, v1));
    } else { /* [0, 8) and [m - 8, m) */
        _mm256_storeu_ps(d, _mm512_castps512_ps256(v0));
        __m512i at = _mm512_add_epi32(iota, _mm512_set1_epi32(m - 8));
        _mm256_storeu_ps(d + m - 8, _mm512_castps512_ps256(_mm512_permutexvar_ps(at, v0)));
    }
}

/* pool_grad_row_2x2, 16 windows at a time. */
__attribute__((target("avx512f"), always_inline)) static inline void pool_grad_row_2x2_avx512(const Pool *p, const float *x,
                                                                         const float *dy, int64_t oh, float *dx) {
    const float *r0 = x + 2 * oh * p->W, *r1 = r0 + p->W;
    float *d0 = dx + 2 * oh * p->W, *d1 = d0 + p->W;
    const __m512 z = _mm512_setzero_ps();
    for (int64_t ow0 = 0; ow0 < p->Wo; ow0 += 16) {
        int n = p->Wo - ow0 < 16 ? (int)(p->Wo - ow0) : 16;
        if (n < 4) { /* too few for store_pairs */
            pool_grad_row_2x2(p, x, dy, oh, dx, ow0);
            return;
        }
        __m512 a, b, c, e, oa, ob, oc, oe;
        windows16(r0, r1, ow0, n, &a, &b, &c, &e);
        __m512 g = _mm512_add_ps(z, _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), dy + ow0));
        window_grads16(a, b, c, e, g, &oa, &ob, &oc, &oe);
        store_pairs(d0 + 2 * ow0, n, oa, ob);
        store_pairs(d1 + 2 * ow0, n, oc, oe);
    }
}
#endif

#ifdef POOL_AVX512
#define UPPER _MM_SHUFFLE(3, 2, 3, 2) /* a vector's lanes 8-15 down to 0-7 */
/* Rows oh and oh + 1 of windows at once, 4 to 8 windows a row (Conv2Net's
 * second pooling: 5): lanes 0-7 row oh's, 8-15 row oh + 1's, the same
 * selects as pool_grad_row_2x2_avx512 (window_grads16), which would leave
 * half of every vector empty. */
__attribute__((target("avx512f"), always_inline)) static inline void pool_grad_rows2_2x2_avx512(const Pool *p,
                                                                                              const float *x,
                                                                                              const float *dy,
                                                                                              int64_t oh, float *dx) {
    const __m512 z = _mm512_setzero_ps();
    int n = (int)p->Wo;
    int64_t W = p->W, at = 2 * oh * W;
    __mmask16 k = (__mmask16)((1u << 2 * n) - 1), kn = (__mmask16)((1u << n) - 1);
    __m512 a, b, c, e, oa, ob, oc, oe;
    split16(x + at, x + at + 2 * W, x + at + W, x + at + 3 * W, k, k, &a, &b, &c, &e);
    __m512 g = _mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(kn, dy), (__mmask16)(kn << 8), dy + n - 8);
    window_grads16(a, b, c, e, _mm512_add_ps(z, g), &oa, &ob, &oc, &oe);
    store_pairs(dx + at, n, oa, ob);
    store_pairs(dx + at + W, n, oc, oe);
    store_pairs(dx + at + 2 * W, n, _mm512_shuffle_f32x4(oa, oa, UPPER), _mm512_shuffle_f32x4(ob, ob, UPPER));
    store_pairs(dx + at + 3 * W, n, _mm512_shuffle_f32x4(oc, oc, UPPER), _mm512_shuffle_f32x4(oe, oe, UPPER));
}
#endif

/* The gradient of one plane's 2x2, stride-2 windows, row by row into dx,
 * then what no window covers zeroed: every element of dx written once.
 * A call a plane, not a row: with the row's vectors inlined their
 * constants stay in registers; with two rows a vector where they are 4
 * to 8 windows wide. In Conv2Net's step (bench/ab.sh, one thread, against
 * its second input gradient) its first pool gradient took 12-25% less,
 * its second 34% less (a call a row had made 47K calls a step). */
#define GRAD_PLANE(name, row, rows2, has2, ...)                                                             \
    __VA_ARGS__ static void name(const Pool *p, const float *x, const float *dy, float *dx) {               \
        int64_t two = has2 && p->Wo >= 4 && p->Wo <= 8 ? p->Ho / 2 * 2 : 0; /* rows two at a time */        \
        for (int64_t oh = 0; oh < two; oh += 2) rows2(p, x, dy + oh * p->Wo, oh, dx);                         \
        for (int64_t oh = 0; oh < p->Ho; oh++) {                                                            \
            if (oh >= two) row(p, x, dy + oh * p->Wo, oh, dx);                                              \
            for (int64_t r = 2 * oh; r < 2 * oh + 2; r++)                                                   \
                for (int64_t w = 2 * p->Wo; w < p->W; w++) dx[r * p->W + w] = 0.0f;                         \
        }                                                                                                   \
        memset(dx + 2 * p->Ho * p->W, 0, (size_t)((p->H - 2 * p->Ho) * p->W) * sizeof *dx);                 \
    }
static inline void grad_row_scalar(const Pool *p, const float *x, const float *dy, int64_t oh, float *dx) {
    pool_grad_row_2x2(p, x, dy, oh, dx, 0);
}
GRAD_PLANE(grad_plane_scalar, grad_row_scalar, grad_row_scalar, 0, )
#ifdef POOL_AVX512
GRAD_PLANE(grad_plane_avx512, pool_grad_row_2x2_avx512, pool_grad_rows2_2x2_avx512, 1, __attribute__((target("avx512f"))))
#endif

/* The gradient's plane function of the 2x2, stride-2 windows: the
 * AVX-512 one where the helpers' vector variant (rt_shift_choose) is. */
typedef void (*GradPlaneFn)(const Pool *, const float *, const float *, float *);
static GradPlaneFn grad_plane_fn(void) {
#ifdef POOL_AVX512
    rt_shift_choose();
    if (rt_shift_isa == RT_SHIFT_AVX512) return grad_plane_avx512;
#endif
    return grad_plane_scalar;
}

/* max_pool task: planes [i*n, (i+1)*n). */
static void pool_task(void *arg, int64_t i) {
    const PoolJob *j = arg;
    const Pool *p = &j->p;
    int64_t n = planes_per_task(p), end = (i + 1) * n < p->P ? (i + 1) * n : p->P;
    int fast = p->kh == 2 && p->kw == 2 && p->sh == 2 && p->sw == 2;
    for (int64_t c = i * n; c < end; c++) {
        const float *xp = j->x + c * p->H * p->W;
        float *yp = j->out + c * p->Ho * p->Wo;
        for (int64_t oh = 0; oh < p->Ho; oh++) {
            if (fast) {
                pool_row_2x2(p, xp, oh, yp + oh * p->Wo);
                continue;
            }
            for (int64_t ow = 0; ow < p->Wo; ow++)
                yp[oh * p->Wo + ow] = xp[window_argmax(p, xp, oh * p->sh * p->W + ow * p->sw)];
        }
    }
}

/* max_pool*_grad task: planes [i*n, (i+1)*n) of dx, zeroed, then each dy
 * added at its window's argmax (in window order, as the interpreter); the
 * 2x2, stride-2 case row by row. dx may be x (the plan computes it over
 * x): a 2x2 row reads its two rows of x before it writes them, and any
 * other pooling reads a copy of the plane. */
static void pool_grad_task(void *arg, int64_t i) {
    const PoolJob *j = arg;
    const Pool *p = &j->p;
    int64_t n = planes_per_task(p), end = (i + 1) * n < p->P ? (i + 1) * n : p->P;
    int fast = p->kh == 2 && p->kw == 2 && p->sh == 2 && p->sw == 2, copy = !fast && j->out == j->x;
    RtScratch sc;
    float *plane = copy ? rt_scratch_take(&sc, p->H * p->W) : NULL;
    for (int64_t c = i * n; c < end; c++) {
        const float *xp = j->x + c * p->H * p->W, *dyp = j->dy + c * p->Ho * p->Wo;
        float *dxp = j->out + c * p->H * p->W;
        if (copy) xp = memcpy(plane, xp, (size_t)(p->H * p->W) * sizeof *xp);
        if (fast) {
            j->grad_plane(p, xp, dyp, dxp);
            continue;
        }
        memset(dxp, 0, (size_t)(p->H * p->W) * sizeof *dxp);
        for (int64_t oh = 0; oh < p->Ho; oh++)
            for (int64_t ow = 0; ow < p->Wo; ow++)
                dxp[window_argmax(p, xp, oh * p->sh * p->W + ow * p->sw)] += dyp[oh * p->Wo + ow];
    }
    if (copy) rt_scratch_give(&sc);
}

/* max_pool1d / max_pool2d: x [B, C, (H,) W] -> y [B, C, (Ho,) Wo]. */
void rt_max_pool(const RtDesc *d, float *y, const float *x) {
    PoolJob j = {.out = y, .x = x};
    pool_geom(d, &j.p);
    int64_t n = planes_per_task(&j.p);
    rt_parallel((j.p.P + n - 1) / n, pool_task, &j);
}

/* max_pool*_grad: x, dy -> dx (x's shape, perhaps x's memory); each dy to
 * its window's argmax. */
void rt_max_pool_grad(const RtDesc *d, float *dx, const float *x, const float *dy) {
    PoolJob j = {.out = dx, .x = x, .dy = dy, .grad_plane = grad_plane_fn()};
    pool_geom(d, &j.p);
    int64_t n = planes_per_task(&j.p);
    rt_parallel((j.p.P + n - 1) / n, pool_grad_task, &j);
}

/* 1 if 0 <= idx[i] < C for every row. */
static int indices_ok(const int64_t *idx, int64_t n, int64_t C) {
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= C) return 0;
    return 1;
}

/* gather: x [N, C], idx [N] i64 -> y [N], y[i] = x[i, idx[i]]. */
int32_t rt_gather(const RtDesc *d, float *y, const float *x, const int64_t *idx) {
    int64_t n = d->shape[0][0], C = d->shape[0][1];
    if (!indices_ok(idx, n, C)) return RT_ERR_INDEX;
    for (int64_t i = 0; i < n; i++) y[i] = x[i * C + idx[i]];
    return RT_OK;
}

/* argmax: x [..] -> y i64, attr[0] the axis (the interpreter's kernel). */
void rt_argmax(const RtDesc *d, int64_t *y, const float *x) {
    int64_t axis = d->attr[0], outer = 1, inner = 1;
    for (int i = 0; i < axis; i++) outer *= d->shape[0][i];
    for (int i = (int)axis + 1; i < d->rank[0]; i++) inner *= d->shape[0][i];
    interp_argmax(x, outer, d->shape[0][axis], inner, y);
}

/* scatter: v [N], idx [N] i64 -> y [N, C], zeros but y[i, idx[i]] = v[i]. */
int32_t rt_scatter(const RtDesc *d, float *y, const float *v, const int64_t *idx) {
    int64_t n = d->shape[2][0], C = d->shape[2][1];
    if (!indices_ok(idx, n, C)) return RT_ERR_INDEX;
    memset(y, 0, (size_t)(n * C) * sizeof *y);
    for (int64_t i = 0; i < n; i++) y[i * C + idx[i]] = v[i];
    return RT_OK;
}
