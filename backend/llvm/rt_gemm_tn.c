/* rt_gemm_tn.c — C [m, 128] = A^T @ B for A [k, m], B [k, 128] and a
 * short k: a linear layer's weight gradient (x^T @ dy, k the batch), with
 * AVX-512. Conv1Net's is [32000, 128] from k = 64, Conv2Net's [1600, 128].
 *
 * A block of four rows of C by 64 columns keeps B's row k as four
 * vectors in registers and broadcasts four elements of A's row k: 16
 * multiply-adds for 4 broadcasts and 4 loads a step (a broadcast takes a
 * slot of an FMA unit's port on the Xeon: rt_shift_runs.c). B's half (k x
 * 64 floats, 16 KB at k = 64) stays in L1, and A's columns are copied 32
 * at a time into a buffer beside it, where A's own rows lie k lines apart.
 * Measured on the Xeon against cblas_sgemm in one process (one thread
 * pinned, least of 15 alternations): [64, 32000]^T @ [64, 128] as eight blocks of
 * rows, as rt_matmul cuts it, 5.2-7.2 ms against 6.4-8.6; [64, 1600]^T @
 * [64, 128] 0.20-0.21 ms against 0.24-0.26; in multimodal_gated's
 * one-thread step (three alternations, against a convolution's weight
 * gradient) Conv1Net's 0.81 of its time before, the step 0.986. Tried:
 * two rows by all 128 columns (B's 32 KB and the copy of A no longer fit
 * L1 together: 1.2-1.4x slower than OpenBLAS); streaming stores for the
 * 16 MB C (slower).
 *
 * Each C[i, j] is one chain of fused multiply-adds over k in order, from
 * 0: the sum OpenBLAS's SkylakeX sgemm kernel computes for these shapes,
 * bit for bit (checked for k up to 300; tests/llvm/test_rt.c compares
 * the two wherever that kernel runs). Its Cooperlake core runs the same
 * kernel, but on the AMD EPYC that OpenBLAS gives it, OpenBLAS's own is
 * faster (same measure: 3.7 ms against this one's 4.6 at [64,
 * 32000]^T, 0.13 both at [64, 1600]^T). So it runs only with the SkylakeX
 * core: with any other the product stays OpenBLAS's and so do the results.
 */
#include <string.h>

#include "rt_impl.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Rows i .. i+R of C (R <= 4), its columns j .. j+64: a's rows ld apart. */
__attribute__((target("avx512f"), always_inline)) static inline void rows(const int R, int64_t k, const float *a,
                                                                          int64_t lda, const float *b, int64_t ldb,
                                                                          float *c, int64_t ldc) {
    __m512 acc[4][4];
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) acc[r][v] = _mm512_setzero_ps();
    for (int64_t p = 0; p < k; p++, a += lda, b += ldb) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), b2 = _mm512_loadu_ps(b + 32),
               b3 = _mm512_loadu_ps(b + 48);
        __asm__("" : "+v"(b0), "+v"(b1), "+v"(b2), "+v"(b3)); /* in registers, not folded into each FMA */
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
            __m512 x = _mm512_set1_ps(a[r]);
            acc[r][0] = _mm512_fmadd_ps(b0, x, acc[r][0]), acc[r][1] = _mm512_fmadd_ps(b1, x, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(b2, x, acc[r][2]), acc[r][3] = _mm512_fmadd_ps(b3, x, acc[r][3]);
        }
    }
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) _mm512_storeu_ps(c + r * ldc + 16 * v, acc[r][v]);
}

typedef void (*RowsFn)(int64_t, const float *, int64_t, const float *, int64_t, float *, int64_t);
#define ROWS(R)                                                                                                  \
    __attribute__((target("avx512f"), noinline)) static void rows##R(int64_t k, const float *a, int64_t lda,      \
                                                                     const float *b, int64_t ldb, float *c,       \
                                                                     int64_t ldc) {                               \
        rows(R, k, a, lda, b, ldb, c, ldc);                                                                       \
    }
ROWS(1) ROWS(2) ROWS(3) ROWS(4)
#undef ROWS
static const RowsFn rows_fn[5] = {0, rows1, rows2, rows3, rows4};

/* Only with OpenBLAS's SkylakeX core (its other kernels sum these
 * products in other orders: Haswell's, Zen's and Prescott's differ in the
 * last bits; Cooperlake's is the same but faster, above). */
int rt_gemm_tn_takes(int ta, int tb, int64_t n, int64_t k, float beta) {
    if (!ta || tb || n != 128 || k <= 0 || k > 256 || beta != 0.0f) return 0;
    return rt_gemm_own_sums() == RT_SUMS_SKYLAKEX;
}

#define CHUNK 32 /* columns of A copied together: k x 32 floats */

void rt_gemm_tn(int64_t m, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                int64_t ldc) {
    float buf[256 * CHUNK] __attribute__((aligned(64)));
    for (int64_t i0 = 0; i0 < m; i0 += CHUNK) {
        int64_t w = m - i0 < CHUNK ? m - i0 : CHUNK;
        for (int64_t p = 0; p < k; p++) memcpy(buf + p * CHUNK, a + p * lda + i0, (size_t)w * sizeof *buf);
        for (int64_t j = 0; j < 128; j += 64)
            for (int64_t i = 0; i < w; i += 4)
                rows_fn[w - i < 4 ? w - i : 4](k, buf + i, CHUNK, b + j, ldb, c + (i0 + i) * ldc + j, ldc);
    }
}
#else
int rt_gemm_tn_takes(int ta, int tb, int64_t n, int64_t k, float beta) {
    (void)ta, (void)tb, (void)n, (void)k, (void)beta;
    return 0;
}

void rt_gemm_tn(int64_t m, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                int64_t ldc) {
    (void)m, (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)c, (void)ldc;
}
#endif
