/* rt_shift.h — the shifted product: a register-blocked kernel for
 * convolutions that reads their input in place, where im2col would copy
 * it once per tap (rt_shift.c). Not part of the ABI.
 *
 *   out[r, p] = sum over t < T, i < depth[t] of a_t[r, i] * x[i*ldx + p + off[t]]
 *
 * for r < R, p < P: T "taps", each a small matrix a_t [R, depth[t]]
 * against the rows of x read from column off[t] on. Row r of a_t is
 * zero for r >= reach[t] (those (t, r) are skipped); depth[t] and
 * reach[t] must not grow with t. The sum for each out[r, p] runs over i,
 * then t, in order: the result does not depend on the blocking or the
 * thread count. The loop is i-major so that the taps of one x row read
 * the same few cache lines.
 *
 * With wrap > 0 the columns p are a plane's rows of wrap columns of which
 * the first keep are wanted (a 2-D convolution over its flattened
 * input): column p of the product is out's column (p / wrap) * keep +
 * p % wrap, and is dropped where p % wrap >= keep. wrap 0 keeps every
 * column in place.
 */
#ifndef MMGC_RT_SHIFT_H
#define MMGC_RT_SHIFT_H

#include <stdint.h>

/* Rows of one register block (16; 32 with AVX-512: rt_shift_mr), the
 * most of them, and its columns (6; 12 with AVX-512), the most of them. */
#define RT_SHIFT_MR 16
#define RT_SHIFT_MR_MAX 32
#define RT_SHIFT_NR 6
#define RT_SHIFT_NR_MAX 12
/* Taps at most. */
#define RT_SHIFT_MAX_T 64

typedef struct {
    int64_t R, P, T;
    int64_t wrap, keep;
    int64_t depth[RT_SHIFT_MAX_T], reach[RT_SHIFT_MAX_T], off[RT_SHIFT_MAX_T];
} Shift;

/* Floats the packed a of s takes. */
int64_t rt_shift_packed_floats(const Shift *s);
/* Packs a_t[r, i] = a[t*st + r*sr + i*si] (for r < reach[t]) into packed;
 * call it before rt_shift, on the thread that starts the products. */
void rt_shift_pack(const Shift *s, const float *a, int64_t st, int64_t sr, int64_t si, float *packed);
/* out [R, P] (row stride ldo) = the shifted product of packed and x.
 * x is read at rows i < max depth, columns up to rt_shift_cols(P) plus
 * max off: the caller's buffer must hold them. */
void rt_shift(const Shift *s, const float *packed, const float *x, int64_t ldx, float *out,
              int64_t ldo);
/* The gradient of the shifted product with respect to its taps, given
 * g = d out [R, P] (with wrap: out's columns, the dropped ones 0) and x position-major (x[p*ldp + i] is row i's column
 * p): for every t, r < min(R, reach[t]) and i < depth[t],
 *
 *   out[t*ot + i*oi + r] = (add ? out[...] : 0) + sum over p < P of g[r, p] * x[(p + off[t])*ldp + i]
 *
 * each one chain over p in order (rt_shift_grad.c; with wrap, over the
 * p it keeps only). x is read at
 * positions up to P plus max off. gp is g packed by rt_shift_grad_pack;
 * call rt_shift_choose first, on the thread that starts the products. */
int64_t rt_shift_grad_packed_floats(const Shift *s);
void rt_shift_grad_pack(const Shift *s, const float *g, int64_t ldg, float *gp);
void rt_shift_grad(const Shift *s, const float *gp, const float *x, int64_t ldp, int add, float *out,
                   int64_t ot, int64_t oi);

/* The block variant: RT_SHIFT_PORTABLE, _AVX2 (+ FMA) or _AVX512, or -1
 * (at start: the best the CPU runs, rt_shift_best_isa, set at the first
 * packing, or the first pool gradient, by rt_shift_choose; the pool
 * gradient's rows follow it too). Tests set it to check each variant up to
 * the best; it must not change between a packing and its products. */
enum { RT_SHIFT_PORTABLE, RT_SHIFT_AVX2, RT_SHIFT_AVX512 };
extern int rt_shift_isa;
int rt_shift_best_isa(void);
void rt_shift_choose(void);
/* Rows of the chosen variant's block, which the packings follow. */
int64_t rt_shift_mr(void);
/* Columns of the chosen variant's block (pairs, in the gradient's). */
int64_t rt_shift_nr(void);

/* xt[j*ldt + i] = x[i*ldx + j] for i < rows, j < n: the transpose the
 * weight gradient's position-major layouts are made of (8 x 8 blocks in
 * registers on the AVX2 and AVX-512 variants of rt_shift_isa, which must
 * be chosen; element by element otherwise; one row with ldt 1 is a
 * copy). */
void rt_shift_transpose(const float *x, int64_t ldx, int64_t rows, int64_t n, float *xt, int64_t ldt);

/* Consecutive taps (rt_shift_runs.c): with AVX-512 and 5 to 7 taps whose
 * offsets step by 1 or by -1, rt_shift runs a block of 16 rows by
 * RT_SHIFT_RUN_COLS columns that broadcasts each x value once for all
 * its taps, and rt_shift_pack lays a out in blocks of 16 rows for it
 * (rt_shift_runs_suit says whether); with the offsets ascending, so do
 * rt_shift_grad and rt_shift_grad_pack (rt_shift_runs_grad_suit). The
 * same bits either way. rt_shift_tap_runs picks: -1 (the default) on
 * Intel's cores only, where they are faster; 1 wherever AVX-512 is; 0
 * never (tests and build/rt_kernels set it). Like rt_shift_isa, it must
 * not change between a packing and its products. */
#define RT_SHIFT_RUN_COLS 24
extern int rt_shift_tap_runs;
int rt_shift_runs_suit(const Shift *s);
int rt_shift_runs_grad_suit(const Shift *s);
void rt_shift_runs(const Shift *s, const float *packed, const float *x, int64_t ldx, float *out, int64_t ldo);
/* The same for rt_shift_grad (its packing: rt_shift_runs_grad_packed_floats). */
int64_t rt_shift_runs_grad_packed_floats(const Shift *s);
void rt_shift_runs_grad(const Shift *s, const float *gp, const float *x, int64_t ldp, int add, float *out, int64_t ot,
                        int64_t oi);

/* The columns rt_shift reads of x before a tap's offset: P rounded up to
 * RT_SHIFT_RUN_COLS, a whole block of every variant (a row of x must hold
 * this plus the largest offset). */
static inline int64_t rt_shift_cols(int64_t P) {
    return (P + RT_SHIFT_RUN_COLS - 1) / RT_SHIFT_RUN_COLS * RT_SHIFT_RUN_COLS;
}

#endif
