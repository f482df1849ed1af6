/* rng_lanes.c — rng_uniform_key for RNG_LANES consecutive indices at once
 * (see rng.h): Philox4x32-10 on counters {lo(i), hi(i), lo(t), hi(t)}, as in
 * rng.c, with AVX2 intrinsics where the CPU has them, else in plain arrays
 * the compiler can interleave. The LLVM backend's random sources
 * (backend/llvm/rt_random.c) and parameter initialization (rng_init_tensor)
 * draw through it. Measured on Conv1Net's [64, 32000] dropout mask (one
 * thread): one rng_uniform_key call per element 120 ms, the arrays 29 ms,
 * AVX2 18 ms (bench/rt_kernels and a stand-alone loop, on a loaded machine);
 * AVX2 with every counter word in a register of its own, 9.1-9.5 ms where
 * the first AVX2 version took 13-19 (quiet machine, side by side).
 * test_rt checks every bit of both paths against rng_uniform_key. */
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

/* u[l] = rng_uniform_key(key, step, i0 + l) for l in [0, RNG_LANES): the
 * portable path. */
static void uniform_lanes(const uint32_t key[2], uint64_t step, uint64_t i0, float u[RNG_LANES]) {
    uint32_t c0[RNG_LANES], c1[RNG_LANES], c2[RNG_LANES], c3[RNG_LANES];
    for (int l = 0; l < RNG_LANES; l++) {
        uint64_t i = i0 + (uint64_t)l;
        c0[l] = (uint32_t)i, c1[l] = (uint32_t)(i >> 32);
        c2[l] = (uint32_t)step, c3[l] = (uint32_t)(step >> 32);
    }
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) k0 += PHILOX_W0, k1 += PHILOX_W1;
        for (int l = 0; l < RNG_LANES; l++) { /* one round, as philox_round in rng.c */
            uint64_t p0 = (uint64_t)PHILOX_M0 * c0[l], p1 = (uint64_t)PHILOX_M1 * c2[l];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
            c1[l] = (uint32_t)p1, c3[l] = (uint32_t)p0;
            c0[l] = n0, c2[l] = n2;
        }
    }
    for (int l = 0; l < RNG_LANES; l++) u[l] = (float)(c0[l] >> 8) * 0x1p-24f;
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

/* uniform_lanes with AVX2: two vectors of 8 counters, each word in a
 * register of its own (arrays of vectors made the compiler keep them in
 * memory: 1.6x slower). */
__attribute__((target("avx2"))) static void uniform_lanes_avx2(const uint32_t key[2], uint64_t step,
                                                               uint64_t i0, float u[RNG_LANES]) {
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
    const __m256 scale = _mm256_set1_ps(0x1p-24f);
    _mm256_storeu_ps(u, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(a0, 8)), scale));
    _mm256_storeu_ps(u + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(b0, 8)), scale));
}
#endif

/* See rng.h: -1 until the first draw asks the CPU. */
int rng_lanes_avx2 = -1;

RngLanesFn rng_lanes_fn(void) {
#ifdef HAVE_AVX2_PATH
    if (rng_lanes_avx2 < 0) rng_lanes_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
    if (rng_lanes_avx2) return uniform_lanes_avx2;
#endif
    return uniform_lanes;
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

