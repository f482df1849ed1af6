/* rt_gemm_nn.c — C [m, n] = A @ B (n a multiple of 64) and C = A @ B^T
 * (m a multiple of 64, A at most 16384 floats) with AVX-512: a linear
 * layer's forward product (x @ w: Conv1Net's [64, 32000] @ [32000, 128],
 * cut along k into eight parts by rt_matmul; Conv2Net's [64, 1600] @
 * [1600, 128], cut into two blocks of 64 columns) and its input gradient
 * (dy @ w^T: Conv1Net's [64, 128] @ [32000, 128]^T in blocks of 4000
 * columns).
 *
 * OpenBLAS's SkylakeX sgemm kernels (its SkylakeX and Cooperlake cores)
 * compute such a product, past its small-matrix sizes (m n k up to 10^6),
 * in blocks of k: Q deep while at least 2Q remain, else half of what
 * remains rounded up to 16 when more than Q do, else the rest, Q being
 * 320 with the Cooperlake core and 448 with the SkylakeX one (0.3.21;
 * found against cblas_sgemm with each core forced on the EPYC). Each
 * block's sum is one chain of fused multiply-adds in k's order from 0,
 * then added to C. These kernels make the very same sums
 * (tests/llvm/test_rt.c compares them bit for bit), so they replace
 * OpenBLAS only where OpenBLAS would make them: the results keep their
 * bits.
 *
 * A tile is six rows of A by 64 columns of B: 24 accumulators, each step
 * four loads of B's row and six broadcasts read straight from A's rows
 * (six streams; packing them first cost more than it saved), 24
 * multiply-adds. The first tile of a block of k fetches B 24 rows ahead
 * (its rows lie 512 bytes apart and a page holds only eight: the
 * hardware's prefetch stops at each). A @ B^T is computed as C^T = B @
 * A^T, B's rows broadcast and A^T (transposed once) in L1, each 64 x 64
 * block of C^T transposed back into C; the next tile's six rows of B are
 * fetched before each tile.
 *
 * Measured on the AMD EPYC (Zen 5, OpenBLAS "Cooperlake"), one thread
 * pinned, least of 15 alternations in one process, as rt_matmul cuts
 * them: Conv1Net's forward 2.7-2.8 ms against OpenBLAS's 3.7-3.8 (190
 * GFLOP/s, 82% of the peak), its input gradient 2.9-3.0 against 4.0,
 * Conv2Net's forward 0.12 against 0.16 ms; multimodal_gated's step 0.968
 * of its time (bench/ab.sh, the linear layers' line 0.80). Packing A
 * into a k-major panel first: 4.1-4.4 ms; without the fetch of B ahead:
 * 3.0; also fetching the next tile's rows of A: 2.8 against 2.7.
 */
#include "rt_impl.h"
#include "rt_shift.h"

#define KQ_COOPERLAKE 320 /* OpenBLAS's depth of a block of k (SGEMM_Q): Cooperlake core */
#define KQ_SKYLAKEX 448   /* ... SkylakeX core                                        */
#define KU 16             /* the multiple a block's halves round up to                */
#define MR 6       /* rows of a tile                                      */
#define SMALL 1e6  /* OpenBLAS's small-matrix kernels take m n k up to this */
#define NT_AT 16384 /* floats of A^T that rt_gemm_nt keeps on its stack: k <= 256 */
#define PF_ROWS 24 /* the first tile of a block fetches B this many rows ahead */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The depth of the block of k that starts with `left` still to go, in
 * blocks kq deep. */
static int64_t block_depth(int64_t left, int64_t kq) {
    if (left >= 2 * kq) return kq;
    if (left > kq) return (left / 2 + KU - 1) / KU * KU;
    return left;
}

/* Rows 0 .. R of a tile (R <= MR), 64 columns, over k: A's rows read in
 * place from ap on (lda apart, k along each), B's rows ldb apart, C's ldc
 * apart; C = acc (first) or C + acc. pf: fetch B PF_ROWS rows ahead. */
__attribute__((target("avx512f"), always_inline)) static inline void tile(const int R, int64_t k, const float *ap,
                                                                          int64_t lda, const float *b, int64_t ldb,
                                                                          float *c, int64_t ldc, int first, int pf) {
    __m512 acc[MR][4];
    _Pragma("GCC unroll 6") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) acc[r][v] = _mm512_setzero_ps();
    for (int64_t p = 0; p < k; p++, ap++, b += ldb) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), b2 = _mm512_loadu_ps(b + 32),
               b3 = _mm512_loadu_ps(b + 48);
        if (pf) {
            const char *q = (const char *)(b + PF_ROWS * ldb);
            _mm_prefetch(q, _MM_HINT_T0), _mm_prefetch(q + 64, _MM_HINT_T0);
            _mm_prefetch(q + 128, _MM_HINT_T0), _mm_prefetch(q + 192, _MM_HINT_T0);
        }
        _Pragma("GCC unroll 6") for (int r = 0; r < R; r++) {
            __m512 x = _mm512_set1_ps(ap[r * lda]);
            acc[r][0] = _mm512_fmadd_ps(b0, x, acc[r][0]), acc[r][1] = _mm512_fmadd_ps(b1, x, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(b2, x, acc[r][2]), acc[r][3] = _mm512_fmadd_ps(b3, x, acc[r][3]);
        }
    }
    _Pragma("GCC unroll 6") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) {
            float *o = c + r * ldc + 16 * v;
            _mm512_storeu_ps(o, first ? acc[r][v] : _mm512_add_ps(_mm512_loadu_ps(o), acc[r][v]));
        }
}

typedef void (*TileFn)(int64_t, const float *, int64_t, const float *, int64_t, float *, int64_t, int, int);
#define TILE(R)                                                                                                  \
    __attribute__((target("avx512f"), noinline)) static void tile##R(int64_t k, const float *ap, int64_t lda,    \
                                                                     const float *b, int64_t ldb, float *c,       \
                                                                     int64_t ldc, int first, int pf) {            \
        if (pf) tile(R, k, ap, lda, b, ldb, c, ldc, first, 1);                                                   \
        else tile(R, k, ap, lda, b, ldb, c, ldc, first, 0);                                                      \
    }
TILE(1) TILE(2) TILE(3) TILE(4) TILE(5) TILE(6)
#undef TILE
static const TileFn tile_fn[MR + 1] = {0, tile1, tile2, tile3, tile4, tile5, tile6};

int rt_gemm_nn_takes(int ta, int tb, int64_t m, int64_t n, int64_t k, float beta) {
    if (ta || tb || n % 64 != 0 || m <= 0 || n <= 0 || k <= 0 || beta != 0.0f) return 0;
    return (double)m * (double)n * (double)k > SMALL && rt_gemm_own_sums();
}

int rt_gemm_nt_takes(int ta, int tb, int64_t m, int64_t n, int64_t k, float beta) {
    if (ta || !tb || m % 64 != 0 || m <= 0 || n <= 0 || k <= 0 || m * k > NT_AT || beta != 0.0f) return 0;
    return (double)m * (double)n * (double)k > SMALL && rt_gemm_own_sums();
}

void rt_gemm_nt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                float *c, int64_t ldc) {
    float at[NT_AT] __attribute__((aligned(64))), ct[64 * 64] __attribute__((aligned(64)));
    rt_shift_transpose(a, lda, m, k, at, m); /* A^T [k, m] */
    for (int64_t i0 = 0; i0 < m; i0 += 64)
        for (int64_t j0 = 0; j0 < n; j0 += 64) {
            int64_t nb = n - j0 < 64 ? n - j0 : 64;
            for (int64_t j = 0; j < nb; j += MR) { /* k <= 256: one block of OpenBLAS's (Q >= 320) */
                int R = nb - j < MR ? (int)(nb - j) : MR;
                for (int64_t r = j0 + j + MR; r < j0 + j + 2 * MR && r < n; r++) /* the next tile's rows of B */
                    for (int64_t p = 0; p < k; p += 16) _mm_prefetch((const char *)(b + r * ldb + p), _MM_HINT_T0);
                tile_fn[R](k, b + (j0 + j) * ldb, ldb, at + i0, m, ct + j * 64, 64, 1, 0);
            }
            rt_shift_transpose(ct, 64, nb, 64, c + i0 * ldc + j0, ldc); /* C^T's block back */
        }
}

void rt_gemm_nn(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                float *c, int64_t ldc) {
    int64_t kq = rt_gemm_own_sums() == RT_SUMS_SKYLAKEX ? KQ_SKYLAKEX : KQ_COOPERLAKE;
    for (int64_t ls = 0, kb; ls < k; ls += kb) {
        kb = block_depth(k - ls, kq);
        for (int64_t i = 0; i < m; i += MR) {
            int R = m - i < MR ? (int)(m - i) : MR;
            for (int64_t j = 0; j < n; j += 64)
                tile_fn[R](kb, a + i * lda + ls, lda, b + ls * ldb + j, ldb, c + i * ldc + j, ldc, ls == 0, i == 0);
        }
    }
}
#else
int rt_gemm_nn_takes(int ta, int tb, int64_t m, int64_t n, int64_t k, float beta) {
    (void)ta, (void)tb, (void)m, (void)n, (void)k, (void)beta;
    return 0;
}

int rt_gemm_nt_takes(int ta, int tb, int64_t m, int64_t n, int64_t k, float beta) {
    (void)ta, (void)tb, (void)m, (void)n, (void)k, (void)beta;
    return 0;
}

void rt_gemm_nt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                float *c, int64_t ldc) {
    (void)m, (void)n, (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)c, (void)ldc;
}

void rt_gemm_nn(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                float *c, int64_t ldc) {
    (void)m, (void)n, (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)c, (void)ldc;
}
#endif
