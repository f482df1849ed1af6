/* rt_shift_runs.c — the shifted product (rt_shift.h) and its taps'
 * gradient for taps whose offsets are consecutive (off[t] = off[0] + t,
 * or off[0] - t): a strided convolution's tap groups over its phases
 * (Conv1Net: seven taps in its second layer, 25 in its first). With
 * AVX-512 only.
 *
 * The 32 x 12 block (rt_shift.c) broadcasts one x value per column and
 * tap: twelve broadcasts for 24 multiply-adds, and so does the 12-pair
 * block of the gradient (rt_shift_grad.c). On an Intel Xeon (Ice Lake) a
 * broadcast from memory takes a slot of the port that also runs one of
 * the two 512-bit FMA units, so those blocks top out at about two thirds
 * of the FMA peak however warm their data (a loop of just their
 * instructions: 139-146 GFLOP/s where the same multiply-adds with no
 * broadcasts run 171-176). With consecutive offsets one x value serves
 * several taps:
 *
 * - Product: tap t at column j reads x at off[0] + t + j, so a row of L
 *   taps over NC columns reads only NC + L - 1 values of x. The block
 *   holds the L taps' 16 rows of a in registers and broadcasts each of
 *   those x values once, multiplying it into every column that reads it:
 *   for seven taps and 24 columns, 168 multiply-adds for 30 broadcasts
 *   and 7 loads. 16 rows by 24 columns: 24 accumulators, the L taps and
 *   the broadcast fill the 32 registers. A row block's x rows are walked
 *   in segments of equal tap counts (the last tap group of a strided
 *   convolution has fewer rows), each one call whose loop keeps the
 *   accumulators in registers; between segments they wait in a buffer.
 *   Only for 5 to 7 taps: with more, a row's taps would not fit the
 *   registers at once, and shallow products with many taps a row
 *   (Conv1Net's first layer, four rows of 25 taps) ran 0.58x as fast
 *   with a segment per run of taps.
 * - Gradient: tap t takes g's column p against x at p + off[0] + t.
 *   Walked by x position q instead, x[q, i] is broadcast once for up to
 *   seven taps, tap t taking g's column q - t. The block is 16 rows of g
 *   by L taps by up to 3 x rows: 21 multiply-adds for 3 broadcasts and 7
 *   loads of g a position. The packing puts T - 1 zero columns on both
 *   sides of g so that q runs over P + L - 1 positions with no edge
 *   cases; a zero column adds 0 times an x value to sums that before did
 *   not read it, which leaves each sum as it was while x is finite (an
 *   infinite or NaN activation makes the loss NaN, and a step whose loss
 *   is not finite is not applied).
 *
 * Each sum keeps its order (x rows, then taps ascending, for the
 * product; positions ascending for the gradient): at a given x value a
 * column or a tap takes one term, and the values are walked in the
 * direction that brings the terms in the order of the other blocks. So
 * the results are bit-identical to theirs (tests/llvm/test_rt.c; and
 * multimodal_gated's checkpoint after an epoch).
 *
 * Measured (Xeon, one thread pinned): alone, least of 9 runs, the two
 * blocks alternated in one process, the product at Conv1Net's second
 * layer forward shape (depth 128, 7 taps, 500 columns, 64 rows) 1.11-1.25x
 * as fast, at its input-gradient shape (depth 64, 7 taps descending, 128
 * rows) 1.05-1.14x; in multimodal_gated's step, against a kernel the
 * change leaves alone (bench/ab.sh's method, three alternations):
 * Conv1Net's second layer forward 0.80-0.82 of its time before, input
 * gradient 0.84-0.86, weight gradient 0.71-0.77, the first layer's weight
 * gradient 0.90, the whole step 0.87-0.89 (146-148 -> 128-130 ms).
 *
 * On an AMD EPYC (Zen 5, family 26, whose broadcasts from memory do not
 * seem to take an FMA slot) the 32 x 12 block already runs Conv1Net's
 * second layer at about nine tenths of the peak, and these blocks are slower
 * (build/rt_kernels, one thread pinned, two runs each way: the second
 * layer's forward 17.6 ms against 16.4, input gradient 17.9 against
 * 16.7, weight gradient 17.3 against 17.5, the first layer's 5.2 both;
 * multimodal_gated's step 1.03x as long). So by default they run on
 * Intel's AVX-512 cores only (rt_shift_tap_runs).
 */
#include <string.h>

#include "rt_shift.h"
#include "rt_shift_impl.h"

int rt_shift_tap_runs = -1;

#define NC RT_SHIFT_RUN_COLS
#define RUN_MAX 7 /* taps in registers: 24 accumulators + 7 + the broadcast = 32 */

/* The step of the taps' offsets (1 or -1) if they are consecutive, else 0. */
static int64_t step_of(const Shift *s) {
    if (s->T < 2) return 0;
    int64_t d = s->off[1] - s->off[0];
    if (d != 1 && d != -1) return 0;
    for (int64_t t = 1; t < s->T; t++)
        if (s->off[t] - s->off[t - 1] != d) return 0;
    return d;
}

/* Whether the blocks of consecutive taps run at all: with AVX-512, and
 * by default on Intel's cores, whose broadcasts take an FMA port's slot. */
static int runs_on(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (rt_shift_isa != RT_SHIFT_AVX512 || rt_shift_tap_runs == 0) return 0;
    if (rt_shift_tap_runs > 0) return 1;
    __builtin_cpu_init();
    return __builtin_cpu_is("intel");
#else
    return 0;
#endif
}

int rt_shift_runs_suit(const Shift *s) { return runs_on() && s->T >= 5 && s->T <= RUN_MAX && step_of(s) != 0; }

/* The gradient's blocks take seven taps at a time, so any count of them
 * (Conv1Net's first layer: 25), but their offsets must ascend. */
int rt_shift_runs_grad_suit(const Shift *s) { return runs_on() && s->T >= 5 && step_of(s) == 1; }

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* ni x rows from xr on (ldx apart), L taps each (a: 16*L floats a row,
 * tap by tap), tap k at offset D*k from xr: acc[j] += a_k * x[D*k + j]
 * for each column j, taps ascending. The accumulators come from and go
 * back to accm (column-major, 16 floats a column). */
__attribute__((target("avx512f"), always_inline)) static inline void segment(const int L, const int D, float *accm,
                                                                             const float *ap, const float *xr,
                                                                             int64_t ldx, int64_t ni) {
    __m512 acc[NC];
    _Pragma("GCC unroll 24") for (int j = 0; j < NC; j++) acc[j] = _mm512_load_ps(accm + 16 * j);
    for (int64_t ii = 0; ii < ni; ii++, ap += 16 * L, xr += ldx) {
        __m512 a[RUN_MAX];
        _Pragma("GCC unroll 8") for (int k = 0; k < L; k++) a[k] = _mm512_loadu_ps(ap + 16 * k);
        /* x value m: with D = 1, tap k at column m - k (m ascending: each
         * column's taps come in ascending k); with D = -1, x[m - (L - 1)]
         * is tap k's at column m - (L - 1 - k) (m descending) */
        if (D > 0) {
            _Pragma("GCC unroll 32") for (int m = 0; m < NC + L - 1; m++) {
                __m512 b = _mm512_set1_ps(xr[m]);
                _Pragma("GCC unroll 8") for (int k = 0; k < L; k++) {
                    int j = m - k;
                    if (j >= 0 && j < NC) acc[j] = _mm512_fmadd_ps(a[k], b, acc[j]);
                }
            }
        } else {
            _Pragma("GCC unroll 32") for (int m = NC + L - 2; m >= 0; m--) {
                __m512 b = _mm512_set1_ps(xr[m - (L - 1)]);
                _Pragma("GCC unroll 8") for (int k = 0; k < L; k++) {
                    int j = m - (L - 1 - k);
                    if (j >= 0 && j < NC) acc[j] = _mm512_fmadd_ps(a[k], b, acc[j]);
                }
            }
        }
    }
    _Pragma("GCC unroll 24") for (int j = 0; j < NC; j++) _mm512_store_ps(accm + 16 * j, acc[j]);
}

typedef void (*SegmentFn)(float *, const float *, const float *, int64_t, int64_t);
#define SEGMENT(L, D, name)                                                                                \
    __attribute__((target("avx512f"), noinline)) static void name(float *accm, const float *ap, const float *xr, \
                                                                  int64_t ldx, int64_t ni) {               \
        segment(L, D, accm, ap, xr, ldx, ni);                                                              \
    }
SEGMENT(1, 1, up1) SEGMENT(2, 1, up2) SEGMENT(3, 1, up3) SEGMENT(4, 1, up4)
SEGMENT(5, 1, up5) SEGMENT(6, 1, up6) SEGMENT(7, 1, up7)
SEGMENT(1, -1, down1) SEGMENT(2, -1, down2) SEGMENT(3, -1, down3) SEGMENT(4, -1, down4)
SEGMENT(5, -1, down5) SEGMENT(6, -1, down6) SEGMENT(7, -1, down7)
#undef SEGMENT
static const SegmentFn segments[2][RUN_MAX + 1] = {{0, up1, up2, up3, up4, up5, up6, up7},
                                                   {0, down1, down2, down3, down4, down5, down6, down7}};

/* The block of rows r0 .. r0+16 and columns p0 .. p0+NC into accm, from
 * the packed rows ap of the row block. */
static void block(const Shift *s, int64_t r0, const float *ap, const float *x, int64_t ldx, int64_t p0,
                  float *accm) {
    const SegmentFn *fn = segments[s->off[1] < s->off[0]];
    memset(accm, 0, (size_t)(16 * NC) * sizeof *accm);
    for (int64_t i = 0, nt = s->T, D = depth_max(s); i < D;) {
        nt = taps_at(s, r0, i, nt);
        if (nt == 0) break; /* depth and reach do not grow with t: no later row has taps */
        int64_t i1 = i + 1;
        while (i1 < D && taps_at(s, r0, i1, nt) == nt) i1++;
        fn[nt](accm, ap, x + i * ldx + p0 + s->off[0], ldx, i1 - i);
        ap += 16 * nt * (i1 - i), i = i1;
    }
}

/* out's rows r0 .. r0+rows of the block's columns in `bits`, kept from
 * out column `to` on. */
__attribute__((target("avx512f"))) static void store(const float *accm, int64_t rows, unsigned bits, float *out,
                                                      int64_t ldo) {
    if (rows == 16) {
        for (int h = 0; h < NC; h += 16) {
            __m512 c[16];
            for (int j = 0; j < 16; j++) c[j] = h + j < NC ? _mm512_load_ps(accm + 16 * (h + j)) : _mm512_setzero_ps();
            __mmask16 kept = (__mmask16)(bits >> h);
            if (kept) store_rows16(c, out, ldo, kept);
            out += __builtin_popcount(kept);
        }
        return;
    }
    for (int64_t r = 0; r < rows; r++)
        for (int j = 0, k = 0; j < NC; j++)
            if (bits >> j & 1) out[r * ldo + k++] = accm[16 * j + r];
}

void rt_shift_runs(const Shift *s, const float *packed, const float *x, int64_t ldx, float *out, int64_t ldo) {
    const float *ap = packed;
    for (int64_t r0 = 0; r0 < s->R; r0 += 16) {
        int64_t rows = s->R - r0 < 16 ? s->R - r0 : 16;
        for (int64_t p0 = 0; p0 < s->P; p0 += NC) {
            float accm[16 * NC] __attribute__((aligned(64)));
            int64_t cols = s->P - p0 < NC ? s->P - p0 : NC, kept, to;
            unsigned bits = kept_columns(s, p0, cols, &kept, &to);
            if (kept == 0) continue;
            block(s, r0, ap, x, ldx, p0, accm);
            store(accm, rows, bits, out + r0 * ldo + to, ldo);
        }
        for (int64_t i = 0, nt = s->T; i < depth_max(s); i++) ap += 16 * (nt = taps_at(s, r0, i, nt));
    }
}

/* ---- the gradient with respect to the taps ---------------------------------------- */

/* The taps' gradient (rt_shift_grad) of L consecutive taps (offsets
 * ascending from x) and NI consecutive x rows (x: the first's column at
 * position 0, ldp floats a position): o_t[k, r] (+)= sum over q < n of
 * g[r, q - t] * x[q, k], gq g's packed column 0 (16 floats a column, the
 * zero columns around it included), o_t[k] at o + t*ot + k*oi. */
__attribute__((target("avx512f"), always_inline)) static inline void grad_segment(const int L, const int NI,
                                                                                  const float *gq, const float *x,
                                                                                  int64_t ldp, int64_t n, float *o,
                                                                                  int64_t ot, int64_t oi, int add) {
    __m512 acc[RUN_MAX][3];
    _Pragma("GCC unroll 8") for (int t = 0; t < L; t++)
        _Pragma("GCC unroll 3") for (int k = 0; k < NI; k++)
            acc[t][k] = add ? _mm512_loadu_ps(o + t * ot + k * oi) : _mm512_setzero_ps();
    for (int64_t q = 0; q < n; q++, gq += 16, x += ldp) {
        __m512 a[RUN_MAX]; /* g's column q - t: gq - 16 t */
        _Pragma("GCC unroll 8") for (int t = 0; t < L; t++) a[t] = _mm512_loadu_ps(gq - 16 * t);
        _Pragma("GCC unroll 3") for (int k = 0; k < NI; k++) {
            __m512 b = _mm512_set1_ps(x[k]);
            _Pragma("GCC unroll 8") for (int t = 0; t < L; t++) acc[t][k] = _mm512_fmadd_ps(a[t], b, acc[t][k]);
        }
    }
    _Pragma("GCC unroll 8") for (int t = 0; t < L; t++)
        _Pragma("GCC unroll 3") for (int k = 0; k < NI; k++) _mm512_storeu_ps(o + t * ot + k * oi, acc[t][k]);
}

typedef void (*GradSegmentFn)(const float *, const float *, int64_t, int64_t, float *, int64_t, int64_t, int);
#define GRAD_SEGMENT(L, NI)                                                                                    \
    __attribute__((target("avx512f"), noinline)) static void grad##L##_##NI(                                   \
        const float *gq, const float *x, int64_t ldp, int64_t n, float *o, int64_t ot, int64_t oi, int add) { \
        grad_segment(L, NI, gq, x, ldp, n, o, ot, oi, add);                                                    \
    }
#define GRAD_SEGMENTS(L) GRAD_SEGMENT(L, 1) GRAD_SEGMENT(L, 2) GRAD_SEGMENT(L, 3)
GRAD_SEGMENTS(1) GRAD_SEGMENTS(2) GRAD_SEGMENTS(3) GRAD_SEGMENTS(4) GRAD_SEGMENTS(5) GRAD_SEGMENTS(6) GRAD_SEGMENTS(7)
#undef GRAD_SEGMENTS
#undef GRAD_SEGMENT
static const GradSegmentFn grad_segments[RUN_MAX + 1][4] = {
    {0}, {0, grad1_1, grad1_2, grad1_3}, {0, grad2_1, grad2_2, grad2_3}, {0, grad3_1, grad3_2, grad3_3},
    {0, grad4_1, grad4_2, grad4_3}, {0, grad5_1, grad5_2, grad5_3}, {0, grad6_1, grad6_2, grad6_3},
    {0, grad7_1, grad7_2, grad7_3}};

/* Zero columns on each side of a row block's packed g. */
static int64_t grad_pad(const Shift *s) { return s->T - 1; }

int64_t rt_shift_runs_grad_packed_floats(const Shift *s) {
    return (s->R + 15) / 16 * 16 * (s->P + 2 * grad_pad(s));
}

/* Rows of block r0 (of 16) that tap t reaches (and R has). */
static int64_t reach16(const Shift *s, int64_t t, int64_t r0) {
    int64_t end = s->reach[t] < s->R ? s->reach[t] : s->R;
    return end - r0 < 0 ? 0 : end - r0 < 16 ? end - r0 : 16;
}

/* Taps t0 .. t1 (at most RUN_MAX) of rows i .. i+ni of row block r0:
 * those reaching all 16 rows straight into out, the rest (reach does not
 * grow with t) through a buffer that keeps their live rows. gq is the
 * block's packed g at column 0. */
static void grad_taps(const Shift *s, const float *gq, const float *x, int64_t ldp, int add, float *out, int64_t ot,
                      int64_t oi, int64_t r0, int64_t i, int ni, int64_t t0, int64_t t1) {
    int64_t whole = t0;
    while (whole < t1 && reach16(s, whole, r0) == 16) whole++;
    if (whole > t0)
        grad_segments[whole - t0][ni](gq, x + s->off[t0] * ldp + i, ldp, s->P + whole - t0 - 1,
                                      out + t0 * ot + i * oi + r0, ot, oi, add);
    if (whole == t1) return;
    float buf[RUN_MAX * 3 * 16] = {0};
    for (int64_t t = whole; t < t1; t++)
        for (int k = 0; k < ni; k++)
            for (int64_t r = 0; add && r < reach16(s, t, r0); r++)
                buf[((t - whole) * 3 + k) * 16 + r] = out[t * ot + (i + k) * oi + r0 + r];
    grad_segments[t1 - whole][ni](gq, x + s->off[whole] * ldp + i, ldp, s->P + t1 - whole - 1, buf, 48, 16, 1);
    for (int64_t t = whole; t < t1; t++)
        for (int k = 0; k < ni; k++)
            memcpy(out + t * ot + (i + k) * oi + r0, buf + ((t - whole) * 3 + k) * 16,
                   (size_t)reach16(s, t, r0) * sizeof *out);
}

void rt_shift_runs_grad(const Shift *s, const float *gp, const float *x, int64_t ldp, int add, float *out, int64_t ot,
                        int64_t oi) {
    int64_t pad = grad_pad(s), cols = s->P + 2 * pad;
    for (int64_t r0 = 0; r0 < s->R; r0 += 16, gp += 16 * cols)
        for (int64_t i = 0, nt = s->T; i < depth_max(s);) {
            nt = taps_at(s, r0, i, nt);
            if (nt == 0) break;
            int ni = 1; /* up to three rows with the same taps */
            while (ni < 3 && i + ni < depth_max(s) && taps_at(s, r0, i + ni, nt) == nt) ni++;
            for (int64_t t0 = 0; t0 < nt; t0 += RUN_MAX)
                grad_taps(s, gp + 16 * pad, x, ldp, add, out, ot, oi, r0, i, ni, t0,
                          nt - t0 < RUN_MAX ? nt : t0 + RUN_MAX);
            i += ni;
        }
}
#else
void rt_shift_runs(const Shift *s, const float *packed, const float *x, int64_t ldx, float *out, int64_t ldo) {
    (void)s, (void)packed, (void)x, (void)ldx, (void)out, (void)ldo;
}
int64_t rt_shift_runs_grad_packed_floats(const Shift *s) {
    (void)s;
    return 0;
}
void rt_shift_runs_grad(const Shift *s, const float *gp, const float *x, int64_t ldp, int add, float *out, int64_t ot,
                        int64_t oi) {
    (void)s, (void)gp, (void)x, (void)ldp, (void)add, (void)out, (void)ot, (void)oi;
}
#endif
