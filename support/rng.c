/* rng.c — Philox4x32-10 and the draws built on it; see rng.h. */
#include "rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

/* One Philox round: two 32x32->64 multiplies, xor with the key, shuffle. */
static void philox_round(uint32_t c[4], const uint32_t k[2]) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * c[0];
    uint64_t p1 = (uint64_t)PHILOX_M1 * c[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t n0 = hi1 ^ c[1] ^ k[0], n2 = hi0 ^ c[3] ^ k[1];
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
}

/* Ten rounds; the key is bumped by the Weyl constants between rounds. */
void philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    uint32_t k[2] = {key[0], key[1]};
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k[0] += PHILOX_W0;
            k[1] += PHILOX_W1;
        }
        philox_round(c, k);
    }
    for (int i = 0; i < 4; i++) out[i] = c[i];
}

/* key = words 0, 1 of philox4x32({lo(stream), hi(stream), 0, 0}, {lo(seed), hi(seed)}). */
void rng_key(uint64_t seed, uint64_t stream, uint32_t key[2]) {
    uint32_t ctr[4] = {(uint32_t)stream, (uint32_t)(stream >> 32), 0, 0};
    uint32_t k[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, r[4];
    philox4x32(ctr, k, r);
    key[0] = r[0];
    key[1] = r[1];
}

/* r = philox4x32({lo(index), hi(index), lo(step), hi(step)}, key). */
static void draw(const uint32_t key[2], uint64_t step, uint64_t index, uint32_t r[4]) {
    uint32_t ctr[4] = {(uint32_t)index, (uint32_t)(index >> 32), (uint32_t)step,
                       (uint32_t)(step >> 32)};
    philox4x32(ctr, key, r);
}

/* (r[0] >> 8) * 2^-24: 24 bits, exactly representable in a float, < 1. */
float rng_uniform_key(const uint32_t key[2], uint64_t step, uint64_t index) {
    uint32_t r[4];
    draw(key, step, index, r);
    return (float)(r[0] >> 8) * 0x1p-24f;
}

/* Word index % 4 of the draw at counter index / 4 (rng.h). */
float rng_uniform4_key(const uint32_t key[2], uint64_t step, uint64_t index) {
    uint32_t r[4];
    draw(key, step, index / 4, r);
    return (float)(r[index % 4] >> 8) * 0x1p-24f;
}

/* k0 2^-24 with k0 = ceil(p 2^24): u = k 2^-24 >= p exactly when k >= k0
 * (p 2^24 is exact in double); k0 <= 2^24, so the float is exact too. */
float rng_dropout_threshold(double p) {
    if (isnan(p)) return NAN;
    if (p <= 0) return 0.0f;
    if (p >= 1) return 1.0f;
    return (float)(ceil(p * 0x1p24) * 0x1p-24);
}

/* rng_uniform_key with the key of (seed, stream). */
float rng_uniform(uint64_t seed, uint64_t stream, uint64_t step, uint64_t index) {
    uint32_t key[2];
    rng_key(seed, stream, key);
    return rng_uniform_key(key, step, index);
}

/* Box–Muller; u1 excludes 0 so the log is finite (|z| <= about 6.7). */
double rng_normal_key(const uint32_t key[2], uint64_t step, uint64_t index) {
    uint32_t r[4];
    draw(key, step, index, r);
    double u1 = ((double)r[0] + 1.0) * 0x1p-32;
    double u2 = (double)r[1] * 0x1p-32;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

/* rng_normal_key with the key of (seed, stream). */
double rng_normal(uint64_t seed, uint64_t stream, uint64_t step, uint64_t index) {
    uint32_t key[2];
    rng_key(seed, stream, key);
    return rng_normal_key(key, step, index);
}

/* FNV-1a 64: offset basis 0xcbf29ce484222325, prime 0x100000001b3. */
uint64_t rng_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    return h;
}

/* Uniform draws are made RNG_LANES at a time (rng_uniform_fill): the
 * same bits as one rng_uniform_key per element, several times faster, which
 * is most of what a multimodal model's start costs (4.4M parameters). */
void rng_init_tensor(float *x, int64_t n, RngInit kind, double a, double b, uint64_t seed, uint64_t stream) {
    uint32_t key[2];
    rng_key(seed, stream, key);
    float fa = (float)a, fb = (float)b;
    if (kind == RNG_UNIFORM) rng_uniform_fill(key, 0, 0, n, x); /* u in place, then scaled */
    for (int64_t i = 0; i < n; i++) {
        switch (kind) {
        case RNG_NONE:
        case RNG_ZEROS: x[i] = 0.0f; break;
        case RNG_ONES: x[i] = 1.0f; break;
        case RNG_UNIFORM:
            x[i] = (float)(a + (b - a) * x[i]);
            if (x[i] >= fb && fa < fb) x[i] = nextafterf(fb, fa); /* rounded up to b */
            break;
        case RNG_NORMAL: x[i] = (float)(a + b * rng_normal_key(key, 0, (uint64_t)i)); break;
        }
    }
}
