/* rt_shift.c — the shifted product (rt_shift.h): a 16 x 6 register block
 * of out (rows r0 .. r0+16, columns p0 .. p0+6) accumulates
 * sum_i sum_t a_t[r, i] * x[i, p + off[t]] with two 8-wide loads of the
 * packed a and six broadcasts of x per (i, t), twelve fused multiply-adds.
 * The packed a is read in order and x a float at a time, so no load
 * crosses a cache line. A 4 x 24 block with 8-wide loads of x at every
 * shift (half of them split across two lines) ran 600-1000 us a sample of
 * Conv1Net's second layer where this one runs 600-820, the spread being
 * the machine's other load. Blocking the x rows so that a row block's
 * packed a stays in L1 made no difference there (46-74 against 45-76 ms
 * a batch).
 *
 * The block has two variants: AVX2 + FMA intrinsics on x86-64 CPUs that
 * have them (chosen at run time), plain C elsewhere. The two round
 * differently (fused against separate multiply and add), so results are
 * bit-identical on one machine, not across machines: as with OpenBLAS,
 * whose kernel is chosen the same way.
 */
#include <string.h>

#include "rt_shift.h"

#define MR RT_SHIFT_MR
#define NR RT_SHIFT_NR

/* The taps that take part at row block r0 and x row i: a prefix, as
 * depth and reach do not grow with t; nt is the count for row i - 1. */
static inline int64_t taps_at(const Shift *s, int64_t r0, int64_t i, int64_t nt) {
    while (nt > 0 && (i >= s->depth[nt - 1] || r0 >= s->reach[nt - 1])) nt--;
    return nt;
}

/* Rows of x any tap reads. */
static int64_t depth_max(const Shift *s) { return s->T > 0 ? s->depth[0] : 0; }

/* Packed floats of row block r0. */
static int64_t piece_floats(const Shift *s, int64_t r0) {
    int64_t n = 0;
    for (int64_t i = 0, nt = s->T; i < depth_max(s); i++) n += MR * (nt = taps_at(s, r0, i, nt));
    return n;
}

int64_t rt_shift_packed_floats(const Shift *s) {
    int64_t n = 0;
    for (int64_t r0 = 0; r0 < s->R; r0 += MR) n += piece_floats(s, r0);
    return n;
}

/* Packed order: row block, x row i, the taps t at (r0, i), the block's MR
 * rows (zero past reach or R): the order the blocks read it in. Packing
 * happens on the calling thread before the products' tasks start, so the
 * block variant is chosen here, not by racing tasks. */
void rt_shift_pack(const Shift *s, const float *a, int64_t st, int64_t sr, int64_t si, float *packed) {
    rt_shift_choose();
    float *d = packed;
    for (int64_t r0 = 0; r0 < s->R; r0 += MR)
        for (int64_t i = 0, nt = s->T; i < depth_max(s); i++) {
            nt = taps_at(s, r0, i, nt);
            for (int64_t t = 0; t < nt; t++)
                for (int64_t r = r0; r < r0 + MR; r++)
                    *d++ = r < s->reach[t] && r < s->R ? a[t * st + r * sr + i * si] : 0.0f;
        }
}

/* One MR x NR block: buf [NR, MR] (column-major: buf[j*MR + r] is
 * out[r0 + r, p0 + j]) from the packed rows ap of row block r0 and x's
 * columns from p0 on. Both variants sum each out[r, p] in the same order:
 * i, then t. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static void block_avx2(const Shift *s, int64_t r0,
                                                            const float *ap, const float *x,
                                                            int64_t ldx, int64_t p0, float *buf) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t i = 0, nt = s->T; i < depth_max(s); i++) {
        nt = taps_at(s, r0, i, nt);
        const float *xi = x + i * ldx + p0;
        for (int64_t t = 0; t < nt; t++, ap += MR) {
            const float *xr = xi + s->off[t];
            __m256 a0 = _mm256_loadu_ps(ap), a1 = _mm256_loadu_ps(ap + 8), b;
            b = _mm256_broadcast_ss(xr);
            c00 = _mm256_fmadd_ps(a0, b, c00), c01 = _mm256_fmadd_ps(a1, b, c01);
            b = _mm256_broadcast_ss(xr + 1);
            c10 = _mm256_fmadd_ps(a0, b, c10), c11 = _mm256_fmadd_ps(a1, b, c11);
            b = _mm256_broadcast_ss(xr + 2);
            c20 = _mm256_fmadd_ps(a0, b, c20), c21 = _mm256_fmadd_ps(a1, b, c21);
            b = _mm256_broadcast_ss(xr + 3);
            c30 = _mm256_fmadd_ps(a0, b, c30), c31 = _mm256_fmadd_ps(a1, b, c31);
            b = _mm256_broadcast_ss(xr + 4);
            c40 = _mm256_fmadd_ps(a0, b, c40), c41 = _mm256_fmadd_ps(a1, b, c41);
            b = _mm256_broadcast_ss(xr + 5);
            c50 = _mm256_fmadd_ps(a0, b, c50), c51 = _mm256_fmadd_ps(a1, b, c51);
        }
    }
    _mm256_storeu_ps(buf, c00), _mm256_storeu_ps(buf + 8, c01);
    _mm256_storeu_ps(buf + 16, c10), _mm256_storeu_ps(buf + 24, c11);
    _mm256_storeu_ps(buf + 32, c20), _mm256_storeu_ps(buf + 40, c21);
    _mm256_storeu_ps(buf + 48, c30), _mm256_storeu_ps(buf + 56, c31);
    _mm256_storeu_ps(buf + 64, c40), _mm256_storeu_ps(buf + 72, c41);
    _mm256_storeu_ps(buf + 80, c50), _mm256_storeu_ps(buf + 88, c51);
}
#endif

static void block_base(const Shift *s, int64_t r0, const float *ap, const float *x, int64_t ldx,
                       int64_t p0, float *buf) {
    float acc[NR][MR] = {{0}};
    for (int64_t i = 0, nt = s->T; i < depth_max(s); i++) {
        nt = taps_at(s, r0, i, nt);
        const float *xi = x + i * ldx + p0;
        for (int64_t t = 0; t < nt; t++, ap += MR) {
            const float *xr = xi + s->off[t];
            for (int j = 0; j < NR; j++)
                for (int r = 0; r < MR; r++) acc[j][r] += ap[r] * xr[j];
        }
    }
    memcpy(buf, acc, sizeof acc);
}

typedef void (*BlockFn)(const Shift *, int64_t, const float *, const float *, int64_t, int64_t,
                        float *);

/* See rt_shift.h: -1 until the first packing asks the CPU. */
int rt_shift_avx2 = -1;

void rt_shift_choose(void) {
    if (rt_shift_avx2 >= 0) return;
#if defined(__x86_64__) && defined(__GNUC__)
    rt_shift_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
#else
    rt_shift_avx2 = 0;
#endif
}

static BlockFn block_fn(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (rt_shift_avx2 == 1) return block_avx2;
#endif
    return block_base;
}

void rt_shift(const Shift *s, const float *packed, const float *x, int64_t ldx, float *out,
              int64_t ldo) {
    BlockFn block = block_fn();
    const float *ap = packed;
    for (int64_t r0 = 0; r0 < s->R; r0 += MR) {
        int64_t rows = s->R - r0 < MR ? s->R - r0 : MR;
        for (int64_t p0 = 0; p0 < s->P; p0 += NR) {
            float buf[NR * MR];
            int64_t cols = s->P - p0 < NR ? s->P - p0 : NR;
            block(s, r0, ap, x, ldx, p0, buf);
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = 0; j < cols; j++) out[(r0 + r) * ldo + p0 + j] = buf[j * MR + r];
        }
        ap += piece_floats(s, r0);
    }
}
