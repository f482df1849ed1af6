/* rng_lanes.c — rng_uniform_key for RNG_LANES consecutive indices at once
 * (see rng.h): Philox4x32-10 on counters {lo(i), hi(i), lo(t), hi(t)}, as in
 * rng.c, with AVX2 intrinsics where the CPU has them, else in plain arrays
 * the compiler can interleave. The LLVM backend's random sources
 * (backend/llvm/rt_random.c) and parameter initialization (rng_init_tensor)
 * draw through it. Measured on Conv1Net's [64, 32000] dropout mask (one
 * thread): one rng_uniform_key call per element 120 ms, the arrays 29 ms,
 * AVX2 18 ms (bench/rt_kernels and a stand-alone loop, on a loaded machine).
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

/* uniform_lanes with AVX2: two vectors of 8 counters. */
__attribute__((target("avx2"))) static void uniform_lanes_avx2(const uint32_t key[2], uint64_t step,
                                                               uint64_t i0, float u[RNG_LANES]) {
    __m256i c0[2], c1[2], c2[2], c3[2];
    const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M0), m1 = _mm256_set1_epi32((int)PHILOX_M1);
    for (int h = 0; h < 2; h++) {
        uint32_t lo[8], hi[8];
        for (int l = 0; l < 8; l++) {
            uint64_t i = i0 + (uint64_t)(8 * h + l);
            lo[l] = (uint32_t)i, hi[l] = (uint32_t)(i >> 32);
        }
        c0[h] = _mm256_loadu_si256((const __m256i *)lo);
        c1[h] = _mm256_loadu_si256((const __m256i *)hi);
        c2[h] = _mm256_set1_epi32((int)(uint32_t)step);
        c3[h] = _mm256_set1_epi32((int)(uint32_t)(step >> 32));
    }
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) k0 += PHILOX_W0, k1 += PHILOX_W1;
        __m256i vk0 = _mm256_set1_epi32((int)k0), vk1 = _mm256_set1_epi32((int)k1);
        for (int h = 0; h < 2; h++) {
            __m256i hi0, hi1, lo0 = mul_hilo(c0[h], m0, &hi0), lo1 = mul_hilo(c2[h], m1, &hi1);
            c0[h] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[h]), vk0);
            c2[h] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[h]), vk1);
            c1[h] = lo1, c3[h] = lo0;
        }
    }
    const __m256 scale = _mm256_set1_ps(0x1p-24f);
    for (int h = 0; h < 2; h++) {
        __m256 top24 = _mm256_cvtepi32_ps(_mm256_srli_epi32(c0[h], 8));
        _mm256_storeu_ps(u + 8 * h, _mm256_mul_ps(top24, scale));
    }
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

