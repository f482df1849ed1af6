/* rt_random.c — the sources the step makes through a helper: iota (the
 * interpreter's kernel) and random_uniform, dropout_mask and random_normal,
 * bit for bit the interpreter's. Element i of a uniform node with stream s
 * at step t is
 *
 *   rng_uniform_key(rng_key(seed, s), t, i)          (runtime/rng.h)
 *
 * The key is derived once per call with rng_key. The draws themselves are
 * Philox4x32-10 on counters {lo(i), hi(i), lo(t), hi(t)}, as in
 * runtime/rng.c, but for LANES consecutive counters at once: with AVX2
 * intrinsics where the CPU has them, else in plain arrays the compiler
 * can interleave. Measured on Conv1Net's [64, 32000] mask (one thread):
 * one rng_uniform_key call per element 120 ms, the arrays 29 ms, AVX2
 * 18 ms (bench/rt_kernels and a stand-alone loop, on a loaded machine).
 * test_rt checks every bit of both paths against the interpreter. Blocks
 * of elements are spread over the pool's threads; an element depends only
 * on its index, so the thread count cannot matter.
 */
#include "interp.h"
#include "rng.h"
#include "rt_impl.h"
#include "rt_thread.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

#define LANES 16
#define BLOCK (64 * 1024) /* elements per task */

/* The constants of runtime/rng.c. */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* u[l] = rng_uniform_key(key, step, i0 + l) for l in [0, LANES): the
 * portable path. */
static void uniform_lanes(const uint32_t key[2], uint64_t step, uint64_t i0, float u[LANES]) {
    uint32_t c0[LANES], c1[LANES], c2[LANES], c3[LANES];
    for (int l = 0; l < LANES; l++) {
        uint64_t i = i0 + (uint64_t)l;
        c0[l] = (uint32_t)i, c1[l] = (uint32_t)(i >> 32);
        c2[l] = (uint32_t)step, c3[l] = (uint32_t)(step >> 32);
    }
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) k0 += PHILOX_W0, k1 += PHILOX_W1;
        for (int l = 0; l < LANES; l++) { /* one round, as philox_round in rng.c */
            uint64_t p0 = (uint64_t)PHILOX_M0 * c0[l], p1 = (uint64_t)PHILOX_M1 * c2[l];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
            c1[l] = (uint32_t)p1, c3[l] = (uint32_t)p0;
            c0[l] = n0, c2[l] = n2;
        }
    }
    for (int l = 0; l < LANES; l++) u[l] = (float)(c0[l] >> 8) * 0x1p-24f;
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
                                                               uint64_t i0, float u[LANES]) {
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

/* See rt_impl.h: -1 until the first draw asks the CPU. */
int rt_random_avx2 = -1;

/* The lanes function to use. */
typedef void (*LanesFn)(const uint32_t key[2], uint64_t step, uint64_t i0, float u[LANES]);
static LanesFn lanes_fn(void) {
#ifdef HAVE_AVX2_PATH
    if (rt_random_avx2 < 0) rt_random_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
    if (rt_random_avx2) return uniform_lanes_avx2;
#endif
    return uniform_lanes;
}

/* One call's draws: y[i] = f(u_i) for the elements of a block. */
typedef struct {
    float *y;
    int64_t n;
    uint32_t key[2];
    uint64_t step;
    LanesFn lanes;
    int dropout;        /* 0: y = u; 1: y = u >= p ? keep : 0; 2: y = rng_normal */
    double p;
    float keep;
} Draw;

/* Task: elements [i*BLOCK, (i+1)*BLOCK) of the draw. */
static void draw_task(void *arg, int64_t i, int slot) {
    const Draw *d = arg;
    (void)slot;
    int64_t end = (i + 1) * BLOCK < d->n ? (i + 1) * BLOCK : d->n;
    float u[LANES];
    if (d->dropout == 2) { /* one Philox call per element, as rng_normal_key */
        for (int64_t e = i * BLOCK; e < end; e++) d->y[e] = (float)rng_normal_key(d->key, d->step, (uint64_t)e);
        return;
    }
    for (int64_t e = i * BLOCK; e < end; e += LANES) {
        d->lanes(d->key, d->step, (uint64_t)e, u);
        int64_t cnt = end - e < LANES ? end - e : LANES;
        for (int64_t l = 0; l < cnt; l++)
            d->y[e + l] = !d->dropout ? u[l] : u[l] >= d->p ? d->keep : 0.0f;
    }
}

/* Draws for node d into y (dropout: with probability p, keep value keep). */
static void draw(const RtDesc *d, float *y, const RtRandom *rnd, int dropout) {
    Draw w = {.y = y, .n = rt_numel(d->rank[d->nin], d->shape[d->nin]), .step = rnd->step,
              .lanes = lanes_fn(),
              .dropout = dropout, .p = d->value, .keep = (float)(1.0 / (1.0 - d->value))};
    rng_key(rnd->seed, (uint64_t)d->attr[0], w.key);
    rt_parallel((w.n + BLOCK - 1) / BLOCK, draw_task, &w);
}

/* random_uniform: y[i] = U[0, 1) at (seed, stream attr[0], step, i). */
void rt_random_uniform(const RtDesc *d, float *y, const RtRandom *rnd) { draw(d, y, rnd, 0); }

/* random_normal: y[i] = N(0, 1) at (seed, stream attr[0], step, i): the
 * interpreter's rng_normal_key, element by element. */
void rt_random_normal(const RtDesc *d, float *y, const RtRandom *rnd) { draw(d, y, rnd, 2); }

/* iota: each element's index along axis attr[0] (the interpreter's kernel). */
void rt_iota(const RtDesc *d, float *y) {
    int64_t axis = d->attr[0], inner = 1;
    for (int i = (int)axis + 1; i < d->rank[0]; i++) inner *= d->shape[0][i];
    interp_iota(y, rt_numel(d->rank[0], d->shape[0]), d->shape[0][axis], inner);
}

/* dropout_mask: training ? (u >= p ? 1/(1-p) : 0) : 1, p = d->value, u as
 * in random_uniform (compared in double, as the interpreter does). */
void rt_dropout_mask(const RtDesc *d, float *y, const RtRandom *rnd) {
    if (rnd->training) {
        draw(d, y, rnd, 1);
        return;
    }
    int64_t n = rt_numel(d->rank[d->nin], d->shape[d->nin]);
    for (int64_t i = 0; i < n; i++) y[i] = 1.0f;
}
