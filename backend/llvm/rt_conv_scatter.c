/* rt_conv_scatter.c — the input gradient of a small unpadded stride-1
 * convolution (Conv2Net's second layer: 64 -> 32 channels, 3 x 3, 11 x 11
 * -> 13 x 13) in one pass with AVX-512: the im2col lowering's product
 *
 *   dcol [CKK, Ho*Wo] = w^T @ dy_b,   dx_b = col2im(dcol)
 *
 * computed a few rows of dcol at a time over all of a sample's positions
 * and added into dx_b from the registers, with no dcol, no col2im pass and
 * no zeroing of dx first.
 *
 * Positions go W wide, as dx's rows: dyw [Co, 16V] is dy_b with Kw - 1
 * zero columns after each row (V vectors, Ho*W <= 16V), so that row r =
 * (ci, kh, kw) of dcol lands in plane ci of dx at one shift, kh*W + kw,
 * and a vector of it is one unaligned, masked add (the lanes of the zero
 * columns masked off). Of Conv2Net's 143 W-wide positions 121 are dy's:
 * the product does 1.19 times the im2col product's work, but that
 * product's k (Co = 64) is short, and dcol's 139 KB a sample and col2im
 * went through memory.
 *
 * Bits: with OpenBLAS's SkylakeX sgemm kernels (its SkylakeX and
 * Cooperlake cores) an element of dcol is one chain of fused multiply-adds
 * over co in order from 0 (Co at most one block of k, past OpenBLAS's
 * small sizes), and col2im adds the rows into a zeroed dx in row order.
 * So does this: the rows of a tile are stored in order, each tile's after
 * the one before, the first tap of a channel (kh = kw = 0) as 0 + its
 * value with zeros around, the others added. Where OpenBLAS sums another
 * way rt_conv_scatter_mode keeps im2col (tests/llvm/test_rt.c compares
 * the two bit for bit).
 */
#include "rt_conv.h"
#include "rt_impl.h"
#include "rt_shift.h"

#define SC_MAXV 14         /* vectors of positions: a tile's rows x V accumulators fit the registers */
#define SC_KQ 320          /* the shortest block of k OpenBLAS's SkylakeX kernels make (Cooperlake's) */
#define SC_SMALL 1e6       /* OpenBLAS's small-matrix kernels take m n k up to this */

int rt_conv_scatter_mode = -1;

/* Vectors of W-wide positions. */
static int64_t vectors(const Conv *c) { return (c->Ho * c->W + 15) / 16; }

int rt_conv_scatter_geometry(const Conv *c) {
    if (c->sh != 1 || c->sw != 1 || c->ph != 0 || c->pw != 0 || c->Ho <= 0 || c->Wo <= 0) return 0;
    if (c->H != c->Ho + c->Kh - 1 || c->W != c->Wo + c->Kw - 1) return 0;
    if (vectors(c) > SC_MAXV || c->Co > SC_KQ) return 0;
    int64_t n = c->tile < c->hw ? c->tile : c->hw; /* the im2col product's narrowest columns */
    return (double)c->ckk * (double)n * (double)c->Co > SC_SMALL;
}

int rt_conv_scatter_takes(const Conv *c) {
    if (rt_conv_scatter_mode == 0 || !rt_conv_scatter_geometry(c)) return 0;
    rt_shift_choose();
    if (rt_shift_isa != RT_SHIFT_AVX512) return 0;
    return rt_conv_scatter_mode == 1 || rt_gemm_own_sums();
}

int64_t rt_conv_scatter_floats(const Conv *c) { return c->Co * 16 * vectors(c); }

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* dyw [Co, 16V] = dy_b [Co, Ho*Wo] W wide, zeros around: vector v of a
 * row is an expanding load of dy's next popcount(keep[v]) floats into
 * the kept lanes. Copying dy's rows into place took a tenth of the call. */
__attribute__((target("avx512f"))) static void widen(const Conv *c, int64_t V, const __mmask16 *keep, const float *dy,
                                                     float *dyw) {
    int64_t at[SC_MAXV];
    for (int64_t v = 0, n = 0; v < V; v++) at[v] = n, n += __builtin_popcount(keep[v]);
    for (int64_t co = 0; co < c->Co; co++)
        for (int64_t v = 0; v < V; v++)
            _mm512_store_ps(dyw + co * 16 * V + 16 * v, _mm512_maskz_expandloadu_ps(keep[v], dy + co * c->hw + at[v]));
}

/* Rows r .. r+R of dcol for all 16V positions: acc[i][v], each lane a
 * chain over co from 0. */
#define TILE(R, V)                                                                                      \
    __m512 acc[R][V];                                                                                   \
    for (int i = 0; i < R; i++)                                                                         \
        for (int v = 0; v < V; v++) acc[i][v] = _mm512_setzero_ps();                                    \
    for (int64_t k = 0; k < c->Co; k++) {                                                               \
        const float *wk = w + k * c->ckk + r, *d = dyw + k * 16 * V;                                    \
        __m512 b[R];                                                                                    \
        for (int i = 0; i < R; i++) b[i] = _mm512_set1_ps(wk[i]);                                       \
        for (int v = 0; v < V; v++) {                                                                   \
            __m512 x = _mm512_loadu_ps(d + 16 * v);                                                     \
            __asm__("" : "+v"(x)); /* one load for the R multiply-adds, not one each */                \
            for (int i = 0; i < R; i++) acc[i][v] = _mm512_fmadd_ps(b[i], x, acc[i][v]);                \
        }                                                                                               \
    }                                                                                                   \
    for (int i = 0; i < R; i++) put_row(c, r + i, V, acc[i], keep, dx);

/* Row r of dcol into dx_b: the first tap of its channel as 0 + the value
 * on the kept lanes (dy's positions) and 0 on the others, in the plane
 * (H*W floats) only; every other tap added on the kept lanes. */
__attribute__((target("avx512f"), always_inline)) static inline void put_row(const Conv *c, int64_t r, const int V,
                                                                              const __m512 *acc, const __mmask16 *keep,
                                                                              float *dx) {
    int64_t T = c->Kh * c->Kw, ci = r / T, t = r - ci * T, kh = t / c->Kw, kw = t - kh * c->Kw;
    int64_t plane = c->H * c->W;
    float *dst = dx + ci * plane + kh * c->W + kw;
    const __m512 z = _mm512_setzero_ps();
    if (t == 0) {
        for (int v = 0; v < V; v++) {
            int64_t left = plane - 16 * v;
            __mmask16 in = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
            _mm512_mask_storeu_ps(dst + 16 * v, in, _mm512_maskz_add_ps(keep[v], acc[v], z));
        }
        for (int64_t p = 16 * V; p < plane; p++) dst[p] = 0.0f;
        return;
    }
    for (int v = 0; v < V; v++) {
        __m512 y = _mm512_maskz_loadu_ps(keep[v], dst + 16 * v);
        _mm512_mask_storeu_ps(dst + 16 * v, keep[v], _mm512_add_ps(y, acc[v]));
    }
}

/* Tiles of R rows over V vectors, from row r on, as long as R rows
 * remain; returns the next row. */
#define TILES(R, V)                                                                                     \
    __attribute__((target("avx512f"))) static int64_t tiles_##R##_##V(const Conv *c, const float *w,   \
                                                                       const float *dyw,                \
                                                                       const __mmask16 *keep, float *dx, \
                                                                       int64_t r) {                     \
        for (; r + R <= c->ckk; r += R) {                                                               \
            TILE(R, V)                                                                                  \
        }                                                                                               \
        return r;                                                                                       \
    }
#define TILES_V(V) TILES(3, V) TILES(2, V) TILES(1, V)
TILES_V(1) TILES_V(2) TILES_V(3) TILES_V(4) TILES_V(5) TILES_V(6) TILES_V(7)
TILES_V(8) TILES_V(9) TILES_V(10) TILES_V(11) TILES_V(12) TILES_V(13) TILES_V(14)

typedef int64_t (*TilesFn)(const Conv *, const float *, const float *, const __mmask16 *, float *, int64_t);
#define ROW_OF(V) {tiles_3_##V, tiles_2_##V, tiles_1_##V}
static const TilesFn tiles_of[SC_MAXV][3] = {ROW_OF(1),  ROW_OF(2),  ROW_OF(3),  ROW_OF(4),  ROW_OF(5),
                                             ROW_OF(6),  ROW_OF(7),  ROW_OF(8),  ROW_OF(9),  ROW_OF(10),
                                             ROW_OF(11), ROW_OF(12), ROW_OF(13), ROW_OF(14)};

void rt_conv_scatter_sample(const Conv *c, const float *w, const float *dy, float *dyw, float *dx) {
    int64_t V = vectors(c), n = c->Ho * c->W;
    __mmask16 keep[SC_MAXV] = {0};
    for (int64_t v = 0; v < V; v++) {
        unsigned m = 0;
        for (int64_t l = 0; l < 16; l++) {
            int64_t p = 16 * v + l;
            if (p < n && p % c->W < c->Wo) m |= 1u << l;
        }
        keep[v] = (__mmask16)m;
    }
    widen(c, V, keep, dy, dyw);
    /* three rows a tile while 3V accumulators, three broadcasts and a load fit 32 registers, else two */
    const TilesFn *fn = tiles_of[V - 1];
    int64_t r = V <= 9 ? fn[0](c, w, dyw, keep, dx, 0) : 0;
    r = fn[1](c, w, dyw, keep, dx, r);
    fn[2](c, w, dyw, keep, dx, r);
}
#else
void rt_conv_scatter_sample(const Conv *c, const float *w, const float *dy, float *dyw, float *dx) {
    (void)c, (void)w, (void)dy, (void)dyw, (void)dx; /* rt_conv_scatter_takes is 0 without AVX-512 */
}
#endif
