/* rt_shift_impl.h — what the shifted product's kernels share
 * (rt_shift.c, rt_shift_runs.c): the taps of a row, the columns out
 * keeps, and the AVX-512 store of a block's rows. Not part of the ABI. */
#ifndef MMGC_RT_SHIFT_IMPL_H
#define MMGC_RT_SHIFT_IMPL_H

#include <stdint.h>

#include "rt_shift.h"

/* The taps that take part at row block r0 and x row i: a prefix, as
 * depth and reach do not grow with t; nt is the count for row i - 1. */
static inline int64_t taps_at(const Shift *s, int64_t r0, int64_t i, int64_t nt) {
    while (nt > 0 && (i >= s->depth[nt - 1] || r0 >= s->reach[nt - 1])) nt--;
    return nt;
}

/* Rows of x any tap reads. */
static inline int64_t depth_max(const Shift *s) { return s->T > 0 ? s->depth[0] : 0; }

/* The columns of block p0 (cols of them) that out keeps: a bit for each
 * (bit j: column p0 + j), their count, and out's column of the first
 * (the kept columns of a wrapped product are consecutive in out:
 * column p goes to (p / wrap) * keep + p % wrap). */
static inline unsigned kept_columns(const Shift *s, int64_t p0, int64_t cols, int64_t *count, int64_t *first) {
    unsigned bits = 0;
    *count = 0, *first = p0;
    for (int64_t j = 0; j < cols; j++) {
        int64_t p = p0 + j, q = s->wrap ? p / s->wrap : 0, w = p - q * s->wrap;
        if (s->wrap && w >= s->keep) continue;
        if (*count == 0) *first = s->wrap ? q * s->keep + w : p;
        bits |= 1u << j, ++*count;
    }
    return bits;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* x[i] = column i of the 16 x 16 matrix whose rows were x[0..15]. */
__attribute__((target("avx512f"), always_inline)) static inline void transpose16(__m512 *x) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) t[i] = _mm512_unpacklo_ps(x[i], x[i + 1]), t[i + 1] = _mm512_unpackhi_ps(x[i], x[i + 1]);
    for (int i = 0; i < 16; i += 4) {
        x[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44), x[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
        x[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44), x[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++)
            t[h + i] = _mm512_shuffle_f32x4(x[h + i], x[h + i + 4], 0x88),
                  t[h + i + 4] = _mm512_shuffle_f32x4(x[h + i], x[h + i + 4], 0xdd);
    for (int i = 0; i < 8; i++)
        x[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88), x[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
}

/* Sixteen rows of a block's columns (c[j]: column j, at most 16) into
 * out, ldo apart: a transpose in registers, then a row's columns in `kept` (a bit
 * for each) packed together and stored from out on. */
__attribute__((target("avx512f"), always_inline)) static inline void store_rows16(__m512 *c, float *out, int64_t ldo,
                                                                                  __mmask16 kept) {
    transpose16(c);
    int n = __builtin_popcount(kept);
    __mmask16 first = (__mmask16)((1u << n) - 1);
    for (int r = 0; r < 16; r++)
        _mm512_mask_storeu_ps(out + r * ldo, first, kept == first ? c[r] : _mm512_maskz_compress_ps(kept, c[r]));
}

#endif

#endif
