/* rt_shift_grad.c — the shifted product's gradient with respect to its
 * taps (rt_shift.h): for every tap t, row r and x row i < depth[t],
 *
 *   out_t[i, r] (+)= sum over p < P of g[r, p] * x[p + off[t], i]
 *
 * that is g @ (x shifted by off[t] positions), x position-major so that a
 * position's rows lie side by side. The (t, i) pairs are taken in order,
 * six at a time (twelve with AVX-512), whatever tap they belong to: a
 * register block is 16 rows of g by six pairs, two 8-wide loads of the
 * packed g and six broadcasts of x per p, twelve fused multiply-adds (the
 * shifted product's own block, with the roles of a and x turned; with
 * AVX-512, 32 rows by 12 pairs, two 16-wide loads and twelve broadcasts
 * for 24), and its sums go straight to out's rows, 16 (32) contiguous
 * floats a pair. Conv1Net has 800 such pairs in its second layer and 100
 * (four phases of 25 taps) in its first, where a tap has only four rows:
 * blocking taps and rows apart would leave a third of each block empty
 * there. Each out[t, i, r] is one chain over p
 * in order, from 0 or from out (add), skipping the columns that wrap
 * drops (g is 0 there; Conv2Net's second weight gradient, one thread,
 * bench/rt_kernels alternated: 2.03-2.17 -> 1.77-1.79 ms).
 *
 * Before, Conv1Net's weight gradients were seven sgemms a sample (second
 * layer), which packed the same g seven times, and im2col with one sgemm
 * (first layer, whose four-row tap groups were too thin for the sgemms).
 * Walking the positions in chunks that keep the packed g in L1 was
 * slower at every chunk size tried (128 to 1024 positions) than one pass.
 * With AVX-512 and consecutive offsets ascending (a strided
 * convolution's phases), rt_shift_runs.c's block takes over, with the
 * same sums.
 */
#include <string.h>

#include "rt_shift.h"

#define NR RT_SHIFT_NR

/* The larger layout's (rt_shift_packed_floats says why), or the
 * consecutive taps' (rt_shift_runs.c), if larger. */
int64_t rt_shift_grad_packed_floats(const Shift *s) {
    int64_t blocks = (s->R + RT_SHIFT_MR_MAX - 1) / RT_SHIFT_MR_MAX * RT_SHIFT_MR_MAX * s->P;
    int64_t runs = rt_shift_runs_grad_packed_floats(s);
    return runs > blocks ? runs : blocks;
}

/* Packed order: row block r0, position p, the block's mr rows (0 past R
 * and at the columns wrap drops); for consecutive taps (rt_shift_runs_grad_suit)
 * blocks of 16 rows with T - 1 zero columns before and after each. */
void rt_shift_grad_pack(const Shift *s, const float *g, int64_t ldg, float *gp) {
    int runs = rt_shift_runs_grad_suit(s);
    int64_t mr = runs ? 16 : rt_shift_mr(), pad = runs ? s->T - 1 : 0;
    for (int64_t r0 = 0; r0 < s->R; r0 += mr) {
        memset(gp, 0, (size_t)(pad * mr) * sizeof *gp), gp += pad * mr;
        if (s->wrap == 0) { /* g's rows r0 .. r0 + mr turned; 0 past R (their sums are dropped) */
            int64_t rows = s->R - r0 < mr ? s->R - r0 : mr;
            if (rows < mr) memset(gp, 0, (size_t)(s->P * mr) * sizeof *gp);
            rt_shift_transpose(g + r0 * ldg, ldg, rows, s->P, gp, mr);
            gp += s->P * mr;
            memset(gp, 0, (size_t)(pad * mr) * sizeof *gp), gp += pad * mr;
            continue;
        }
        for (int64_t p = 0, w = 0, col = 0; p < s->P; p++, w = w + 1 == s->wrap ? 0 : w + 1) {
            if (w >= s->keep) { /* a dropped column */
                memset(gp, 0, (size_t)mr * sizeof *gp), gp += mr;
                continue;
            }
            for (int64_t r = r0; r < r0 + mr; r++) *gp++ = r < s->R ? g[r * ldg + col] : 0.0f;
            col++;
        }
        memset(gp, 0, (size_t)(pad * mr) * sizeof *gp), gp += pad * mr;
    }
}

/* The positions a block sums over: runs of `run` from every `step`-th
 * (the plane's rows: its columns that wrap keeps; g is 0 at the others,
 * whose products added nothing but 15% of the work, or a NaN where x
 * has an infinity), below P. */
typedef struct {
    int64_t P, step, run;
} Runs;
#define FOR_KEPT(u, p)                                                                             \
    for (int64_t p##0 = 0; p##0 < (u)->P; p##0 += (u)->step)                                       \
        for (int64_t p = p##0, p##end = p##0 + (u)->run < (u)->P ? p##0 + (u)->run : (u)->P; p < p##end; p++)

/* The sums of one block: out[j][r] (+)= sum over p < P of gp[p*mr + r] *
 * rows[j][p * ldp], for j < NR (12 with AVX-512) and r < mr, from 0
 * (add 0) or from out[j][r]: gp is the row block's packed g, out[j]
 * shifted row j's mr floats of out. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The AVX-512 block: 32 rows by 12 pairs, 24 accumulators. */
#define LOAD12(j) c##j##a = _mm512_loadu_ps(out[j]), c##j##b = _mm512_loadu_ps(out[j] + 16)
#define PAIR12(j)                                                                                  \
    b = _mm512_set1_ps(rows[j][at]);                                                               \
    c##j##a = _mm512_fmadd_ps(a0, b, c##j##a), c##j##b = _mm512_fmadd_ps(a1, b, c##j##b)
#define STORE12(j) _mm512_storeu_ps(out[j], c##j##a), _mm512_storeu_ps(out[j] + 16, c##j##b)
__attribute__((target("avx512f"))) static void grad_block_avx512(const float *gp, const float *const *rows,
                                                                  int64_t ldp, const Runs *u, float *const *out,
                                                                  int add) {
    __m512 c0a = _mm512_setzero_ps(), c0b = c0a, c1a = c0a, c1b = c0a, c2a = c0a, c2b = c0a;
    __m512 c3a = c0a, c3b = c0a, c4a = c0a, c4b = c0a, c5a = c0a, c5b = c0a;
    __m512 c6a = c0a, c6b = c0a, c7a = c0a, c7b = c0a, c8a = c0a, c8b = c0a;
    __m512 c9a = c0a, c9b = c0a, c10a = c0a, c10b = c0a, c11a = c0a, c11b = c0a;
    if (add) {
        LOAD12(0), LOAD12(1), LOAD12(2), LOAD12(3), LOAD12(4), LOAD12(5);
        LOAD12(6), LOAD12(7), LOAD12(8), LOAD12(9), LOAD12(10), LOAD12(11);
    }
    FOR_KEPT(u, p) {
        const float *ap = gp + p * 32;
        int64_t at = p * ldp;
        __m512 a0 = _mm512_loadu_ps(ap), a1 = _mm512_loadu_ps(ap + 16), b;
        PAIR12(0); PAIR12(1); PAIR12(2); PAIR12(3); PAIR12(4); PAIR12(5);
        PAIR12(6); PAIR12(7); PAIR12(8); PAIR12(9); PAIR12(10); PAIR12(11);
    }
    STORE12(0), STORE12(1), STORE12(2), STORE12(3), STORE12(4), STORE12(5);
    STORE12(6), STORE12(7), STORE12(8), STORE12(9), STORE12(10), STORE12(11);
}
#undef LOAD12
#undef PAIR12
#undef STORE12

__attribute__((target("avx2,fma"))) static void grad_block_avx2(const float *gp, const float *const *rows,
                                                                 int64_t ldp, const Runs *u, float *const *out,
                                                                 int add) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    if (add) {
        c00 = _mm256_loadu_ps(out[0]), c01 = _mm256_loadu_ps(out[0] + 8);
        c10 = _mm256_loadu_ps(out[1]), c11 = _mm256_loadu_ps(out[1] + 8);
        c20 = _mm256_loadu_ps(out[2]), c21 = _mm256_loadu_ps(out[2] + 8);
        c30 = _mm256_loadu_ps(out[3]), c31 = _mm256_loadu_ps(out[3] + 8);
        c40 = _mm256_loadu_ps(out[4]), c41 = _mm256_loadu_ps(out[4] + 8);
        c50 = _mm256_loadu_ps(out[5]), c51 = _mm256_loadu_ps(out[5] + 8);
    }
    const float *x0 = rows[0], *x1 = rows[1], *x2 = rows[2], *x3 = rows[3], *x4 = rows[4], *x5 = rows[5];
    FOR_KEPT(u, p) {
        const float *ap = gp + p * 16;
        int64_t at = p * ldp;
        __m256 a0 = _mm256_loadu_ps(ap), a1 = _mm256_loadu_ps(ap + 8), b;
        b = _mm256_broadcast_ss(x0 + at);
        c00 = _mm256_fmadd_ps(a0, b, c00), c01 = _mm256_fmadd_ps(a1, b, c01);
        b = _mm256_broadcast_ss(x1 + at);
        c10 = _mm256_fmadd_ps(a0, b, c10), c11 = _mm256_fmadd_ps(a1, b, c11);
        b = _mm256_broadcast_ss(x2 + at);
        c20 = _mm256_fmadd_ps(a0, b, c20), c21 = _mm256_fmadd_ps(a1, b, c21);
        b = _mm256_broadcast_ss(x3 + at);
        c30 = _mm256_fmadd_ps(a0, b, c30), c31 = _mm256_fmadd_ps(a1, b, c31);
        b = _mm256_broadcast_ss(x4 + at);
        c40 = _mm256_fmadd_ps(a0, b, c40), c41 = _mm256_fmadd_ps(a1, b, c41);
        b = _mm256_broadcast_ss(x5 + at);
        c50 = _mm256_fmadd_ps(a0, b, c50), c51 = _mm256_fmadd_ps(a1, b, c51);
    }
    _mm256_storeu_ps(out[0], c00), _mm256_storeu_ps(out[0] + 8, c01);
    _mm256_storeu_ps(out[1], c10), _mm256_storeu_ps(out[1] + 8, c11);
    _mm256_storeu_ps(out[2], c20), _mm256_storeu_ps(out[2] + 8, c21);
    _mm256_storeu_ps(out[3], c30), _mm256_storeu_ps(out[3] + 8, c31);
    _mm256_storeu_ps(out[4], c40), _mm256_storeu_ps(out[4] + 8, c41);
    _mm256_storeu_ps(out[5], c50), _mm256_storeu_ps(out[5] + 8, c51);
}
#endif

static void grad_block_base(const float *gp, const float *const *rows, int64_t ldp, const Runs *u, float *const *out,
                            int add) {
    enum { MR = RT_SHIFT_MR };
    float acc[NR][MR];
    for (int j = 0; j < NR; j++)
        for (int r = 0; r < MR; r++) acc[j][r] = add ? out[j][r] : 0.0f;
    FOR_KEPT(u, p)
        for (int j = 0; j < NR; j++)
            for (int r = 0; r < MR; r++) acc[j][r] += gp[p * MR + r] * rows[j][p * ldp];
    for (int j = 0; j < NR; j++) memcpy(out[j], acc[j], sizeof acc[j]);
}

typedef void (*GradBlockFn)(const float *, const float *const *, int64_t, const Runs *, float *const *, int);

static GradBlockFn grad_block_fn(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (rt_shift_isa == RT_SHIFT_AVX512) return grad_block_avx512;
    if (rt_shift_isa == RT_SHIFT_AVX2) return grad_block_avx2;
#endif
    return grad_block_base;
}

/* The (t, i) pairs from *t, *i on, up to nr: each one's shifted row
 * (x + off[t]*ldp + i, read with stride ldp) and where its row of out
 * starts (out + t*ot + i*oi); the rest of rows repeat the first (their
 * sums are dropped). Returns the count. */
static int next_pairs(const Shift *s, int nr, int64_t *t, int64_t *i, const float *x, int64_t ldp,
                      int64_t ot, int64_t oi, const float **rows, int64_t *at, int64_t *tap) {
    int n = 0;
    for (;; n++) {
        while (*t < s->T && *i >= s->depth[*t]) *i = 0, ++*t; /* past the tap's rows (or it has none) */
        if (n == nr || *t >= s->T) break;
        rows[n] = x + s->off[*t] * ldp + *i;
        at[n] = *t * ot + *i * oi;
        tap[n] = *t;
        ++*i;
    }
    for (int j = n; j < nr; j++) rows[j] = n ? rows[0] : x;
    return n;
}

/* Rows of block r0 (of mr) that tap t reaches (and R has): out's rows
 * to keep. */
static int64_t reach_in(const Shift *s, int64_t t, int64_t r0, int64_t mr) {
    int64_t end = s->reach[t] < s->R ? s->reach[t] : s->R;
    return end - r0 < 0 ? 0 : end - r0 < mr ? end - r0 : mr;
}

void rt_shift_grad(const Shift *s, const float *gp, const float *x, int64_t ldp, int add, float *out,
                   int64_t ot, int64_t oi) {
    if (rt_shift_runs_grad_suit(s)) {
        rt_shift_runs_grad(s, gp, x, ldp, add, out, ot, oi);
        return;
    }
    GradBlockFn block = grad_block_fn();
    Runs u = {s->P, s->wrap > 0 ? s->wrap : s->P, s->wrap > 0 ? s->keep : s->P};
    int64_t mr = rt_shift_mr();
    int nr = (int)rt_shift_nr();
    float spare[RT_SHIFT_NR_MAX * RT_SHIFT_MR_MAX] = {0}; /* the sums of pairs past the last, and of edge blocks */
    for (int64_t r0 = 0; r0 < s->R; r0 += mr) {
        const float *g = gp + r0 * s->P; /* row block r0: P x mr floats */
        for (int64_t t = 0, i = 0;;) {
            const float *rows[RT_SHIFT_NR_MAX];
            float *outs[RT_SHIFT_NR_MAX];
            int64_t at[RT_SHIFT_NR_MAX] = {0}, tap[RT_SHIFT_NR_MAX] = {0}, live[RT_SHIFT_NR_MAX];
            int n = next_pairs(s, nr, &t, &i, x, ldp, ot, oi, rows, at, tap), whole = 1;
            if (n == 0) break;
            for (int j = 0; j < nr; j++) {
                live[j] = j < n ? reach_in(s, tap[j], r0, mr) : 0;
                whole &= j >= n || live[j] == mr;
                outs[j] = j < n ? out + at[j] + r0 : spare + j * mr;
            }
            if (whole) { /* out's rows in place: the sums never leave the registers but to out */
                block(g, rows, ldp, &u, outs, add);
                continue;
            }
            for (int j = 0; j < n; j++) { /* through spare: out has fewer than mr rows here */
                for (int64_t r = 0; r < mr; r++) spare[j * mr + r] = add && r < live[j] ? outs[j][r] : 0.0f;
                outs[j] = spare + j * mr;
            }
            block(g, rows, ldp, &u, outs, add);
            for (int j = 0; j < n; j++) memcpy(out + at[j] + r0, spare + j * mr, (size_t)live[j] * sizeof *out);
        }
    }
}
