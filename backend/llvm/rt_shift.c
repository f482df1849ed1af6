/* rt_shift.c — the shifted product (rt_shift.h): a 16 x 6 register block
 * of out (rows r0 .. r0+16, columns p0 .. p0+6) accumulates
 * sum_i sum_t a_t[r, i] * x[i, p + off[t]] with two 8-wide loads of the
 * packed a and six broadcasts of x per (i, t), twelve fused multiply-adds;
 * with AVX-512 the block is 32 x 12: two 16-wide loads and twelve
 * broadcasts for 24 multiply-adds. A 32 x 6 block (twelve) read the
 * packed a from L2 twice as often for the same work, which a core with
 * two 512-bit FMA units (Intel Xeon, Ice Lake) could not feed: Conv1Net's
 * second layer there 50-64 -> 41-53 ms forward, 50-62 -> 37-48 ms input
 * gradient (one thread, least of 9 runs, alternated three times); each
 * sum keeps its order, so the bits do not change. An AVX-512 block of 32
 * whole rows goes from its registers to out's rows (a transpose in
 * registers, the kept columns packed, a masked store a row: a wrapped
 * product's kept columns are consecutive in out) where the others go
 * through a buffer, a float at a time: those 384 scalar stores a block
 * filled the store buffer with misses on out's lines. On the Xeon
 * (one thread pinned, least of 9 runs over six alternations): Conv1Net's
 * first layer forward 9.7 -> 7.9 ms, its second 31.6 -> 30.8 and its input
 * gradient 33.4 -> 32.1, where the weight gradient, unchanged, moved
 * 35.2 -> 34.1 with the machine; perf in multimodal_gated's step put the
 * forward and input-gradient products at 1.84 times the weight
 * gradient's time before, 1.73 after; with the wrapped products too,
 * Conv2Net's forward products 1.42 times its weight gradient's before,
 * 1.23 after (perf, twice each).
 * The packed a is read in order and x a float at a time, so no load
 * crosses a cache line. A 4 x 24 block with 8-wide loads of x at every
 * shift (half of them split across two lines) ran 600-1000 us a sample of
 * Conv1Net's second layer where this one runs 600-820, the spread being
 * the machine's other load. Blocking the x rows so that a row block's
 * packed a stays in L1 made no difference there (46-74 against 45-76 ms
 * a batch).
 *
 * The block has three variants: AVX-512 or AVX2 + FMA intrinsics on
 * x86-64 CPUs that have them (chosen at run time), plain C elsewhere. The
 * vector ones fuse each multiply-add, the plain one may not, so results
 * are bit-identical on one machine, not across machines: as with
 * OpenBLAS, whose kernel is chosen the same way. The packing follows the
 * block's rows (rt_shift_mr); its size, asked before the variant may be
 * known (scratch is planned at compile time), is the larger layout's.
 * Taps with consecutive offsets (5 to 7 of them, with AVX-512) go to
 * rt_shift_runs.c's block instead, which broadcasts each x value once
 * for all its taps; the same sums.
 */
#include <string.h>

#include "rt_shift.h"
#include "rt_shift_impl.h"

#define NR RT_SHIFT_NR

/* Packed floats of row block r0 of mr rows. */
static int64_t piece_floats(const Shift *s, int64_t r0, int64_t mr) {
    int64_t n = 0;
    for (int64_t i = 0, nt = s->T; i < depth_max(s); i++) n += mr * (nt = taps_at(s, r0, i, nt));
    return n;
}

static int64_t packed_floats(const Shift *s, int64_t mr) {
    int64_t n = 0;
    for (int64_t r0 = 0; r0 < s->R; r0 += mr) n += piece_floats(s, r0, mr);
    return n;
}

/* The 32-row layout's, the larger: a block of 32 rows takes, at every x
 * row, as many taps as its first 16 rows do, which is at least as many as
 * its second 16 do (reach does not grow with t). */
int64_t rt_shift_packed_floats(const Shift *s) { return packed_floats(s, RT_SHIFT_MR_MAX); }

/* Packed order: row block, x row i, the taps t at (r0, i), the block's mr
 * rows (zero past reach or R): the order the blocks read it in. Packing
 * happens on the calling thread before the products' tasks start, so the
 * block variant is chosen here, not by racing tasks. */
void rt_shift_pack(const Shift *s, const float *a, int64_t st, int64_t sr, int64_t si, float *packed) {
    rt_shift_choose();
    int64_t mr = rt_shift_runs_suit(s) ? 16 : rt_shift_mr();
    float *d = packed;
    for (int64_t r0 = 0; r0 < s->R; r0 += mr)
        for (int64_t i = 0, nt = s->T; i < depth_max(s); i++) {
            nt = taps_at(s, r0, i, nt);
            for (int64_t t = 0; t < nt; t++)
                for (int64_t r = r0; r < r0 + mr; r++)
                    *d++ = r < s->reach[t] && r < s->R ? a[t * st + r * sr + i * si] : 0.0f;
        }
}

/* One mr x NR block: buf [NR, mr] (column-major: buf[j*mr + r] is
 * out[r0 + r, p0 + j]) from the packed rows ap of row block r0 and x's
 * columns from p0 on. Every variant sums each out[r, p] in the same
 * order: i, then t. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The AVX-512 block: 32 rows (two vectors) by 12 columns, 24
 * accumulators of the 32 registers; stored column-major into buf or, with
 * out, the columns in `kept` packed into out's rows (ldo apart). */
#define COL12(j)                                                                                   \
    b = _mm512_set1_ps(xr[j]);                                                                     \
    c##j##a = _mm512_fmadd_ps(a0, b, c##j##a), c##j##b = _mm512_fmadd_ps(a1, b, c##j##b)
#define STORE12(j) _mm512_storeu_ps(buf + 32 * (j), c##j##a), _mm512_storeu_ps(buf + 32 * (j) + 16, c##j##b)
__attribute__((target("avx512f"), always_inline)) static inline void
block_avx512_sums(const Shift *s, int64_t r0, const float *ap, const float *x, int64_t ldx, int64_t p0, float *buf,
                  float *out, int64_t ldo, __mmask16 kept) {
    __m512 c0a = _mm512_setzero_ps(), c0b = c0a, c1a = c0a, c1b = c0a, c2a = c0a, c2b = c0a;
    __m512 c3a = c0a, c3b = c0a, c4a = c0a, c4b = c0a, c5a = c0a, c5b = c0a;
    __m512 c6a = c0a, c6b = c0a, c7a = c0a, c7b = c0a, c8a = c0a, c8b = c0a;
    __m512 c9a = c0a, c9b = c0a, c10a = c0a, c10b = c0a, c11a = c0a, c11b = c0a;
    for (int64_t i = 0, nt = s->T; i < depth_max(s); i++) {
        nt = taps_at(s, r0, i, nt);
        const float *xi = x + i * ldx + p0;
        for (int64_t t = 0; t < nt; t++, ap += 32) {
            const float *xr = xi + s->off[t];
            __m512 a0 = _mm512_loadu_ps(ap), a1 = _mm512_loadu_ps(ap + 16), b;
            COL12(0); COL12(1); COL12(2); COL12(3); COL12(4); COL12(5);
            COL12(6); COL12(7); COL12(8); COL12(9); COL12(10); COL12(11);
        }
    }
    if (out) {
        __m512 z = _mm512_setzero_ps();
        __m512 lo[16] = {c0a, c1a, c2a, c3a, c4a, c5a, c6a, c7a, c8a, c9a, c10a, c11a, z, z, z, z};
        __m512 hi[16] = {c0b, c1b, c2b, c3b, c4b, c5b, c6b, c7b, c8b, c9b, c10b, c11b, z, z, z, z};
        store_rows16(lo, out, ldo, kept);
        store_rows16(hi, out + 16 * ldo, ldo, kept);
        return;
    }
    STORE12(0); STORE12(1); STORE12(2); STORE12(3); STORE12(4); STORE12(5);
    STORE12(6); STORE12(7); STORE12(8); STORE12(9); STORE12(10); STORE12(11);
}

__attribute__((target("avx512f"))) static void block_avx512(const Shift *s, int64_t r0, const float *ap,
                                                             const float *x, int64_t ldx, int64_t p0,
                                                             float *buf) {
    block_avx512_sums(s, r0, ap, x, ldx, p0, buf, NULL, 0, 0);
}

/* A block of 32 whole rows stored straight into out's rows from r0, its
 * kept columns (a bit each) packed from out's column `to` on: the 384
 * scalar copies from buf stalled the core on out's lines (perf: 15% of
 * the products' time on an Intel Xeon). */
__attribute__((target("avx512f"))) static void block_avx512_out(const Shift *s, int64_t r0, const float *ap,
                                                                 const float *x, int64_t ldx, int64_t p0,
                                                                 float *out, int64_t ldo, unsigned kept) {
    block_avx512_sums(s, r0, ap, x, ldx, p0, NULL, out, ldo, (__mmask16)kept);
}
#undef COL12
#undef STORE12

__attribute__((target("avx2,fma"))) static void block_avx2(const Shift *s, int64_t r0,
                                                            const float *ap, const float *x,
                                                            int64_t ldx, int64_t p0, float *buf) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t i = 0, nt = s->T; i < depth_max(s); i++) {
        nt = taps_at(s, r0, i, nt);
        const float *xi = x + i * ldx + p0;
        for (int64_t t = 0; t < nt; t++, ap += 16) {
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
    enum { MR = RT_SHIFT_MR };
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
int rt_shift_isa = -1;

int rt_shift_best_isa(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f")) return RT_SHIFT_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return RT_SHIFT_AVX2;
#endif
    return RT_SHIFT_PORTABLE;
}

void rt_shift_choose(void) {
    if (rt_shift_isa < 0) rt_shift_isa = rt_shift_best_isa();
}

int64_t rt_shift_mr(void) { return rt_shift_isa == RT_SHIFT_AVX512 ? RT_SHIFT_MR_MAX : RT_SHIFT_MR; }

int64_t rt_shift_nr(void) { return rt_shift_isa == RT_SHIFT_AVX512 ? RT_SHIFT_NR_MAX : RT_SHIFT_NR; }

static BlockFn block_fn(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (rt_shift_isa == RT_SHIFT_AVX512) return block_avx512;
    if (rt_shift_isa == RT_SHIFT_AVX2) return block_avx2;
#endif
    return block_base;
}

void rt_shift(const Shift *s, const float *packed, const float *x, int64_t ldx, float *out,
              int64_t ldo) {
    if (rt_shift_runs_suit(s)) {
        rt_shift_runs(s, packed, x, ldx, out, ldo);
        return;
    }
    BlockFn block = block_fn();
    int64_t mr = rt_shift_mr(), nr = rt_shift_nr();
    const float *ap = packed;
    for (int64_t r0 = 0; r0 < s->R; r0 += mr) {
        int64_t rows = s->R - r0 < mr ? s->R - r0 : mr;
        for (int64_t p0 = 0; p0 < s->P; p0 += nr) {
            float buf[RT_SHIFT_NR_MAX * RT_SHIFT_MR_MAX];
            int64_t cols = s->P - p0 < nr ? s->P - p0 : nr, kept, to;
            unsigned bits = kept_columns(s, p0, cols, &kept, &to);
            if (kept == 0) continue;
#if defined(__x86_64__) && defined(__GNUC__)
            if (rt_shift_isa == RT_SHIFT_AVX512 && rows == mr) {
                block_avx512_out(s, r0, ap, x, ldx, p0, out + r0 * ldo + to, ldo, bits);
                continue;
            }
#endif
            block(s, r0, ap, x, ldx, p0, buf);
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = 0, k = 0; j < cols; j++)
                    if (bits >> j & 1) out[(r0 + r) * ldo + to + k] = buf[j * mr + r], k++;
        }
        ap += piece_floats(s, r0, mr);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
/* dst[c*ldd + r] = src[r*lds + c] for r, c < 8: rows interleaved in pairs,
 * then quads, then the 128-bit halves swapped. */
__attribute__((target("avx2"))) static void transpose8(const float *src, int64_t lds, float *dst, int64_t ldd) {
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds), r2 = _mm256_loadu_ps(src + 2 * lds);
    __m256 r3 = _mm256_loadu_ps(src + 3 * lds), r4 = _mm256_loadu_ps(src + 4 * lds);
    __m256 r5 = _mm256_loadu_ps(src + 5 * lds), r6 = _mm256_loadu_ps(src + 6 * lds);
    __m256 r7 = _mm256_loadu_ps(src + 7 * lds);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee); /* columns 0|4, 1|5 */
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee); /* columns 2|6, 3|7 */
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(s3, s7, 0x31));
}
#endif

void rt_shift_transpose(const float *x, int64_t ldx, int64_t rows, int64_t n, float *xt, int64_t ldt) {
    if (rows == 1 && ldt == 1) { /* one row: a copy */
        memcpy(xt, x, (size_t)n * sizeof *xt);
        return;
    }
    int64_t j0 = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (rt_shift_isa == RT_SHIFT_AVX2 || rt_shift_isa == RT_SHIFT_AVX512) {
        int64_t i8 = rows / 8 * 8;
        for (; j0 + 8 <= n; j0 += 8) {
            for (int64_t i = 0; i < i8; i += 8) transpose8(x + i * ldx + j0, ldx, xt + j0 * ldt + i, ldt);
            for (int64_t i = i8; i < rows; i++)
                for (int64_t j = j0; j < j0 + 8; j++) xt[j * ldt + i] = x[i * ldx + j];
        }
    }
#endif
    for (int64_t j = j0; j < n; j++)
        for (int64_t i = 0; i < rows; i++) xt[j * ldt + i] = x[i * ldx + j];
}
