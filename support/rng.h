/* rng.h — counter-based random numbers (Philox4x32-10).
 *
 * Every random number is a pure function of four integers, so a value never
 * depends on the order in which values are drawn or on the thread count:
 *
 *   seed    the run's seed (command line, checkpoint)
 *   stream  which consumer draws: a graph node's "stream" attribute, or
 *           rng_hash(name) for a parameter's initializer
 *   step    the training step (0 for initialization)
 *   index   the element's row-major index in its tensor
 *
 * They map onto Philox like this:
 *
 *   key     = rng_key(seed, stream)
 *           = words 0 and 1 of philox4x32({lo(stream), hi(stream), 0, 0},
 *                                         {lo(seed), hi(seed)})
 *   counter = {lo(index), hi(index), lo(step), hi(step)}
 *   r       = philox4x32(counter, key)
 *
 * where lo/hi are the low and high 32 bits. Deriving the key with one Philox
 * call keeps distinct (seed, stream) pairs from sharing a key by accident
 * (seed ^ stream would collide). rng_uniform uses r[0]; rng_normal uses
 * r[0] and r[1] (so a normal and a uniform drawn at the same four integers
 * are not independent: give them different streams).
 */
#ifndef MMGC_RNG_H
#define MMGC_RNG_H

#include <stdint.h>


/* Philox4x32 with 10 rounds (Salmon et al., SC 2011; Random123). */
void philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* The Philox key of (seed, stream); see the top of this file. */
void rng_key(uint64_t seed, uint64_t stream, uint32_t key[2]);

/* U[0, 1) with 24 random bits: (r[0] >> 8) * 2^-24. */
float rng_uniform(uint64_t seed, uint64_t stream, uint64_t step, uint64_t index);
/* rng_uniform with the key already derived (one Philox call, not two). */
float rng_uniform_key(const uint32_t key[2], uint64_t step, uint64_t index);

/* rng_uniform_key for RNG_LANES consecutive indices at once: u[l] =
 * rng_uniform_key(key, step, i0 + l), bit for bit (rng_lanes.c). The
 * function to call is chosen once per process by the CPU: AVX-512, else
 * AVX2, else a portable one; rng_lanes_isa is RNG_ISA_PORTABLE, _AVX2 or
 * _AVX512, or -1 (at start: ask the CPU at the first call). Tests set it
 * to check each path the CPU runs. */
#define RNG_LANES 16
enum { RNG_ISA_PORTABLE, RNG_ISA_AVX2, RNG_ISA_AVX512 };
typedef void (*RngLanesFn)(const uint32_t key[2], uint64_t step, uint64_t i0, float u[RNG_LANES]);
extern int rng_lanes_isa;
RngLanesFn rng_lanes_fn(void);
/* u[k] = rng_uniform_key(key, step, i0 + k) for k in [0, n), RNG_LANES at a time. */
void rng_uniform_fill(const uint32_t key[2], uint64_t step, uint64_t i0, int64_t n, float *u);

/* Four uniforms per Philox call, for the draws a step makes afresh at every
 * training step (dropout masks): element i is word i mod 4 of the call at
 * counter i div 4,
 *
 *   r = philox4x32({lo(i / 4), hi(i / 4), lo(step), hi(step)}, key)
 *   u = (r[i % 4] >> 8) * 2^-24
 *
 * A quarter of rng_uniform_key's Philox calls, and other numbers. */
float rng_uniform4_key(const uint32_t key[2], uint64_t step, uint64_t index);

/* Dropout masks, RNG_LANES4 elements at a time from i0, a multiple of 4:
 * y[l] = (u >= p ? keep : 0) with u = rng_uniform4_key(key, step, i0 + l),
 * bit for bit, on the path of rng_lanes_fn (rng_lanes_isa chooses both).
 * thr is rng_dropout_threshold(p), so that the comparison, made in double
 * as written, is made on floats without a branch. */
#define RNG_LANES4 64
typedef void (*RngDropoutFn)(const uint32_t key[2], uint64_t step, uint64_t i0, float thr, float keep,
                             float y[RNG_LANES4]);
RngDropoutFn rng_dropout_fn(void);

/* The float t with (u >= t) == (u >= p) for every uniform u = k 2^-24,
 * k in [0, 2^24): the first such u at or above p. */
float rng_dropout_threshold(double p);

/* N(0, 1) by Box–Muller on two uniforms made from r[0] and r[1]:
 * u1 = (r[0] + 1) * 2^-32 in (0, 1], u2 = r[1] * 2^-32 in [0, 1),
 * z = sqrt(-2 ln u1) cos(2 pi u2). */
double rng_normal(uint64_t seed, uint64_t stream, uint64_t step, uint64_t index);
double rng_normal_key(const uint32_t key[2], uint64_t step, uint64_t index);

/* FNV-1a, 64 bits, of the bytes of s (NULL hashes like ""): keys a random
 * stream by a name, e.g. a parameter's path. */
uint64_t rng_hash(const char *s);

/* How a tensor starts: the values of ir.h's InitKind (runtime/params.c
 * checks that they agree). */
typedef enum { RNG_NONE, RNG_ZEROS, RNG_ONES, RNG_UNIFORM, RNG_NORMAL } RngInit;

/* Fills a tensor of n elements: zeros (RNG_NONE too), ones, U[a, b) or
 * N(a, b^2), from stream `stream` at step 0, element i from counter i. The
 * one place parameters get their first values, for every backend. */
void rng_init_tensor(float *x, int64_t n, RngInit kind, double a, double b, uint64_t seed, uint64_t stream);

#endif
