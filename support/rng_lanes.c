/* rng_lanes.c — rng_uniform_key for RNG_LANES consecutive indices at once
 * (see rng.h): Philox4x32-10 on counters {lo(i), hi(i), lo(t), hi(t)}, as in
 * rng.c, with AVX-512 or AVX2 intrinsics where the CPU has them, else in plain arrays
 * the compiler can interleave. The LLVM backend's random sources
 * (backend/llvm/rt_random.c) and parameter initialization (rng_init_tensor)
 * draw through it. Measured on Conv1Net's [64, 32000] dropout mask (one
 * thread): one rng_uniform_key call per element 120 ms, the arrays 29 ms,
 * AVX2 18 ms (bench/rt_kernels and a stand-alone loop, on a loaded machine);
 * AVX2 with every counter word in a register of its own, 9.1-9.5 ms where
 * the first AVX2 version took 13-19 (quiet machine, side by side). Dropout
 * masks take all four words of each call (rng_uniform4_key) and compare
 * without a branch: 4.9 -> 1.2 ms for that mask on 2 threads. With
 * AVX-512 a vector holds all 16 counters of a call, and the three-way
 * xors are one instruction: 1.70 -> 1.00 ms on one thread (AMD EPYC).
 * test_rt checks every bit of every path against rng_uniform_key and
 * rng_uniform4_key. */
#include "rng.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif


/* The constants of rng.c. */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* Philox4x32-10 on the 16 counters {lo(i0 + l), hi(i0 + l), lo(step),
 * hi(step)}: word w of lane l in c[w][l]. The portable path. */
static void philox_lanes(const uint32_t key[2], uint64_t step, uint64_t i0, uint32_t c[4][16]) {
    uint32_t *c0 = c[0], *c1 = c[1], *c2 = c[2], *c3 = c[3];
    for (int l = 0; l < 16; l++) {
        uint64_t i = i0 + (uint64_t)l;
        c0[l] = (uint32_t)i, c1[l] = (uint32_t)(i >> 32);
        c2[l] = (uint32_t)step, c3[l] = (uint32_t)(step >> 32);
    }
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) k0 += PHILOX_W0, k1 += PHILOX_W1;
        for (int l = 0; l < 16; l++) { /* one round, as philox_round in rng.c */
            uint64_t p0 = (uint64_t)PHILOX_M0 * c0[l], p1 = (uint64_t)PHILOX_M1 * c2[l];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
            c1[l] = (uint32_t)p1, c3[l] = (uint32_t)p0;
            c0[l] = n0, c2[l] = n2;
        }
    }
}

/* u[l] = rng_uniform_key(key, step, i0 + l) for l in [0, RNG_LANES). */
static void uniform_lanes(const uint32_t key[2], uint64_t step, uint64_t i0, float u[RNG_LANES]) {
    uint32_t c[4][16];
    philox_lanes(key, step, i0, c);
    for (int l = 0; l < RNG_LANES; l++) u[l] = (float)(c[0][l] >> 8) * 0x1p-24f;
}

/* y[l] = rng_uniform4_key(key, step, i0 + l) >= thr ? keep : 0 for l in
 * [0, RNG_LANES4). */
static void dropout_lanes(const uint32_t key[2], uint64_t step, uint64_t i0, float thr, float keep,
                          float y[RNG_LANES4]) {
    uint32_t c[4][16];
    philox_lanes(key, step, i0 / 4, c);
    for (int l = 0; l < RNG_LANES4; l++) y[l] = (float)(c[l % 4][l / 4] >> 8) * 0x1p-24f >= thr ? keep : 0.0f;
}

#ifdef HAVE_AVX2_PATH
/* Lane by lane, the low (returned) and high (*hi) 32 bits of a * m. */
__attribute__((target("avx2"))) static inline __m256i mul_hilo(__m256i a, __m256i m, __m256i *hi) {
    __m256i p02 = _mm256_mul_epu32(a, m), p13 = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *hi = _mm256_unpacklo_epi32(_mm256_shuffle_epi32(p02, 0x0d), _mm256_shuffle_epi32(p13, 0x0d));
    return _mm256_unpacklo_epi32(_mm256_shuffle_epi32(p02, 0x08), _mm256_shuffle_epi32(p13, 0x08));
}

/* One Philox round on 8 counters: (c0, c1, c2, c3) with round keys k0, k1. */
#define PHILOX_ROUND_AVX2(c0, c1, c2, c3, k0, k1)                                  \
    do {                                                                           \
        __m256i hi0_, hi1_, lo0_ = mul_hilo(c0, m0, &hi0_), lo1_ = mul_hilo(c2, m1, &hi1_); \
        c0 = _mm256_xor_si256(_mm256_xor_si256(hi1_, c1), k0);                     \
        c2 = _mm256_xor_si256(_mm256_xor_si256(hi0_, c3), k1);                     \
        c1 = lo1_, c3 = lo0_;                                                      \
    } while (0)

/* Philox4x32-10 on 16 counters as philox_lanes, in two vectors of 8: word
 * w of lanes 0-7 in a[w], of lanes 8-15 in b[w]. During the rounds each
 * counter word is a register of its own (arrays of vectors made the
 * compiler keep them in memory: 1.6x slower); inlined, so are a and b. */
__attribute__((target("avx2"), always_inline)) static inline void philox_lanes_avx2(const uint32_t key[2],
                                                                                    uint64_t step, uint64_t i0,
                                                                                    __m256i a[4], __m256i b[4]) {
    const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M0), m1 = _mm256_set1_epi32((int)PHILOX_M1);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    /* index i0 + l: low words i0 + l (the carry into the high word happens
     * only when the low word wraps, checked per lane) */
    __m256i base = _mm256_set1_epi32((int)(uint32_t)i0), hi = _mm256_set1_epi32((int)(uint32_t)(i0 >> 32));
    __m256i a0 = _mm256_add_epi32(base, lane), b0 = _mm256_add_epi32(a0, _mm256_set1_epi32(8));
    /* a lane wrapped if its low word is below i0's (unsigned): add 1 to its high word */
    const __m256i flip = _mm256_set1_epi32((int)0x80000000u);
    __m256i bx = _mm256_xor_si256(base, flip);
    __m256i a1 = _mm256_sub_epi32(hi, _mm256_cmpgt_epi32(bx, _mm256_xor_si256(a0, flip)));
    __m256i b1 = _mm256_sub_epi32(hi, _mm256_cmpgt_epi32(bx, _mm256_xor_si256(b0, flip)));
    __m256i a2 = _mm256_set1_epi32((int)(uint32_t)step), a3 = _mm256_set1_epi32((int)(uint32_t)(step >> 32));
    __m256i b2 = a2, b3 = a3;
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) k0 += PHILOX_W0, k1 += PHILOX_W1;
        __m256i vk0 = _mm256_set1_epi32((int)k0), vk1 = _mm256_set1_epi32((int)k1);
        PHILOX_ROUND_AVX2(a0, a1, a2, a3, vk0, vk1);
        PHILOX_ROUND_AVX2(b0, b1, b2, b3, vk0, vk1);
    }
    a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3;
    b[0] = b0, b[1] = b1, b[2] = b2, b[3] = b3;
}

/* (w >> 8) * 2^-24, lane by lane. */
__attribute__((target("avx2"))) static inline __m256 to_unit(__m256i w) {
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(w, 8)), _mm256_set1_ps(0x1p-24f));
}

/* uniform_lanes with AVX2. */
__attribute__((target("avx2"))) static void uniform_lanes_avx2(const uint32_t key[2], uint64_t step,
                                                               uint64_t i0, float u[RNG_LANES]) {
    __m256i a[4], b[4];
    philox_lanes_avx2(key, step, i0, a, b);
    _mm256_storeu_ps(u, to_unit(a[0]));
    _mm256_storeu_ps(u + 8, to_unit(b[0]));
}

/* The mask of word w: keep where (w >> 8) 2^-24 >= thr, else 0. */
__attribute__((target("avx2"))) static inline __m256 mask_of(__m256i w, __m256 thr, __m256 keep) {
    return _mm256_and_ps(_mm256_cmp_ps(to_unit(w), thr, _CMP_GE_OQ), keep);
}

/* Four vectors of 8 lanes, f0..f3 (word w of lane l in element l of fw),
 * stored lane by lane: y[4 l + w] = element l of fw, 32 floats. */
__attribute__((target("avx2"))) static inline void store_words(float *y, __m256 f0, __m256 f1, __m256 f2, __m256 f3) {
    __m256 t0 = _mm256_unpacklo_ps(f0, f1), t1 = _mm256_unpackhi_ps(f0, f1); /* lanes 0,1 | 4,5 and 2,3 | 6,7 */
    __m256 t2 = _mm256_unpacklo_ps(f2, f3), t3 = _mm256_unpackhi_ps(f2, f3);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee); /* lane 0 | 4, 1 | 5 */
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee); /* lane 2 | 6, 3 | 7 */
    _mm256_storeu_ps(y, _mm256_permute2f128_ps(s0, s1, 0x20));
    _mm256_storeu_ps(y + 8, _mm256_permute2f128_ps(s2, s3, 0x20));
    _mm256_storeu_ps(y + 16, _mm256_permute2f128_ps(s0, s1, 0x31));
    _mm256_storeu_ps(y + 24, _mm256_permute2f128_ps(s2, s3, 0x31));
}

/* dropout_lanes with AVX2: 16 counters, 64 elements. */
__attribute__((target("avx2"))) static void dropout_lanes_avx2(const uint32_t key[2], uint64_t step, uint64_t i0,
                                                               float thr, float keep, float y[RNG_LANES4]) {
    __m256i a[4], b[4];
    philox_lanes_avx2(key, step, i0 / 4, a, b);
    const __m256 t = _mm256_set1_ps(thr), k = _mm256_set1_ps(keep);
    store_words(y, mask_of(a[0], t, k), mask_of(a[1], t, k), mask_of(a[2], t, k), mask_of(a[3], t, k));
    store_words(y + 32, mask_of(b[0], t, k), mask_of(b[1], t, k), mask_of(b[2], t, k), mask_of(b[3], t, k));
}

/* Lane by lane, the low (returned) and high (*hi) 32 bits of a * m, 16
 * lanes: the products of the even and of the odd lanes, blended. */
__attribute__((target("avx512f"))) static inline __m512i mul_hilo512(__m512i a, __m512i m, __m512i *hi) {
    __m512i p02 = _mm512_mul_epu32(a, m), p13 = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(p02, 32), p13);
    return _mm512_mask_blend_epi32(0xAAAA, p02, _mm512_slli_epi64(p13, 32));
}

/* Philox4x32-10 on the 16 counters of philox_lanes in one vector a word:
 * word w of lane l in element l of c[w]. */
__attribute__((target("avx512f"), always_inline)) static inline void philox_lanes_avx512(const uint32_t key[2],
                                                                                        uint64_t step, uint64_t i0,
                                                                                        __m512i c[4]) {
    const __m512i m0 = _mm512_set1_epi32((int)PHILOX_M0), m1 = _mm512_set1_epi32((int)PHILOX_M1);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i base = _mm512_set1_epi32((int)(uint32_t)i0), hi = _mm512_set1_epi32((int)(uint32_t)(i0 >> 32));
    __m512i c0 = _mm512_add_epi32(base, lane);
    /* a lane whose low word wrapped (fell below i0's) carries into its high word */
    __m512i c1 = _mm512_mask_add_epi32(hi, _mm512_cmplt_epu32_mask(c0, base), hi, _mm512_set1_epi32(1));
    __m512i c2 = _mm512_set1_epi32((int)(uint32_t)step), c3 = _mm512_set1_epi32((int)(uint32_t)(step >> 32));
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) k0 += PHILOX_W0, k1 += PHILOX_W1;
        __m512i hi0, hi1, lo0 = mul_hilo512(c0, m0, &hi0), lo1 = mul_hilo512(c2, m1, &hi1);
        c0 = _mm512_ternarylogic_epi32(hi1, c1, _mm512_set1_epi32((int)k0), 0x96); /* three-way xor */
        c2 = _mm512_ternarylogic_epi32(hi0, c3, _mm512_set1_epi32((int)k1), 0x96);
        c1 = lo1, c3 = lo0;
    }
    c[0] = c0, c[1] = c1, c[2] = c2, c[3] = c3;
}

/* (w >> 8) * 2^-24, lane by lane. */
__attribute__((target("avx512f"))) static inline __m512 to_unit512(__m512i w) {
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(w, 8)), _mm512_set1_ps(0x1p-24f));
}

/* uniform_lanes with AVX-512. */
__attribute__((target("avx512f"))) static void uniform_lanes_avx512(const uint32_t key[2], uint64_t step,
                                                                    uint64_t i0, float u[RNG_LANES]) {
    __m512i c[4];
    philox_lanes_avx512(key, step, i0, c);
    _mm512_storeu_ps(u, to_unit512(c[0]));
}

/* The mask of word w: keep where (w >> 8) 2^-24 >= thr, else 0. */
__attribute__((target("avx512f"))) static inline __m512 mask512(__m512i w, __m512 thr, __m512 keep) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(to_unit512(w), thr, _CMP_GE_OQ), keep);
}

/* dropout_lanes with AVX-512: y[4 l + w] = word w's mask of lane l, the
 * four words interleaved two at a time (pairs of lanes, then quads). */
__attribute__((target("avx512f"))) static void dropout_lanes_avx512(const uint32_t key[2], uint64_t step,
                                                                    uint64_t i0, float thr, float keep,
                                                                    float y[RNG_LANES4]) {
    __m512i c[4];
    philox_lanes_avx512(key, step, i0 / 4, c);
    const __m512 t = _mm512_set1_ps(thr), k = _mm512_set1_ps(keep);
    __m512 f0 = mask512(c[0], t, k), f1 = mask512(c[1], t, k), f2 = mask512(c[2], t, k), f3 = mask512(c[3], t, k);
    const __m512i pair_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i pair_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i quad_lo = _mm512_setr_epi32(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    const __m512i quad_hi = _mm512_setr_epi32(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    __m512 a_lo = _mm512_permutex2var_ps(f0, pair_lo, f1), a_hi = _mm512_permutex2var_ps(f0, pair_hi, f1);
    __m512 b_lo = _mm512_permutex2var_ps(f2, pair_lo, f3), b_hi = _mm512_permutex2var_ps(f2, pair_hi, f3);
    _mm512_storeu_ps(y, _mm512_permutex2var_ps(a_lo, quad_lo, b_lo));
    _mm512_storeu_ps(y + 16, _mm512_permutex2var_ps(a_lo, quad_hi, b_lo));
    _mm512_storeu_ps(y + 32, _mm512_permutex2var_ps(a_hi, quad_lo, b_hi));
    _mm512_storeu_ps(y + 48, _mm512_permutex2var_ps(a_hi, quad_hi, b_hi));
}
#endif

/* See rng.h: -1 until the first draw asks the CPU. */
int rng_lanes_isa = -1;

/* The lanes' path: rng_lanes_isa, asked of the CPU the first time. */
static int lanes_isa(void) {
#ifdef HAVE_AVX2_PATH
    if (rng_lanes_isa < 0)
        rng_lanes_isa = __builtin_cpu_supports("avx512f")                                     ? RNG_ISA_AVX512
                        : __builtin_cpu_supports("avx2")                                      ? RNG_ISA_AVX2
                                                                                              : RNG_ISA_PORTABLE;
    return rng_lanes_isa;
#else
    return RNG_ISA_PORTABLE;
#endif
}

RngLanesFn rng_lanes_fn(void) {
#ifdef HAVE_AVX2_PATH
    int isa = lanes_isa();
    if (isa == RNG_ISA_AVX512) return uniform_lanes_avx512;
    if (isa == RNG_ISA_AVX2) return uniform_lanes_avx2;
#endif
    return uniform_lanes;
}

RngDropoutFn rng_dropout_fn(void) {
#ifdef HAVE_AVX2_PATH
    int isa = lanes_isa();
    if (isa == RNG_ISA_AVX512) return dropout_lanes_avx512;
    if (isa == RNG_ISA_AVX2) return dropout_lanes_avx2;
#endif
    return dropout_lanes;
}

void rng_uniform_fill(const uint32_t key[2], uint64_t step, uint64_t i0, int64_t n, float *u) {
    RngLanesFn lanes = rng_lanes_fn();
    float v[RNG_LANES];
    for (int64_t e = 0; e < n; e += RNG_LANES) {
        lanes(key, step, i0 + (uint64_t)e, v);
        int64_t cnt = n - e < RNG_LANES ? n - e : RNG_LANES;
        for (int64_t l = 0; l < cnt; l++) u[e + l] = v[l];
    }
}

