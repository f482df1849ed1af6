/* rt_random.c — the sources the step makes through a helper: iota (the
 * interpreter's kernel) and random_uniform, dropout_mask and random_normal,
 * bit for bit the interpreter's. Element i of a uniform node with stream s
 * at step t is
 *
 *   rng_uniform_key(rng_key(seed, s), t, i)          (support/rng.h)
 *
 * and a dropout mask's uniform is rng_uniform4_key (four per Philox call:
 * a mask is drawn afresh at every step). The key is derived once per call
 * with rng_key. The draws themselves are made RNG_LANES (masks RNG_LANES4)
 * at a time by support/rng_lanes.c (AVX-512 or AVX2 where the CPU has it); test_rt checks
 * every bit of every path against the interpreter. Blocks
 * of elements are spread over the pool's threads; an element depends only
 * on its index, so the thread count cannot matter.
 */
#include <string.h>

#include "interp.h"
#include "rng.h"
#include "rt_impl.h"
#include "rt_thread.h"

#define BLOCK (64 * 1024) /* elements per task: a multiple of RNG_LANES4 */

/* One call's draws: y[i] = f(u_i) for the elements of a block. */
typedef struct {
    float *y;
    int64_t n;
    uint32_t key[2];
    uint64_t step;
    RngLanesFn lanes;
    RngDropoutFn mask;
    int dropout;        /* 0: y = u; 1: y = u >= p ? keep : 0; 2: y = rng_normal */
    float thr, keep;    /* dropout: rng_dropout_threshold(p), 1 / (1 - p) */
} Draw;

/* Task: elements [i*BLOCK, (i+1)*BLOCK) of the draw. */
static void draw_task(void *arg, int64_t i) {
    const Draw *d = arg;
    int64_t end = (i + 1) * BLOCK < d->n ? (i + 1) * BLOCK : d->n;
    float u[RNG_LANES];
    if (d->dropout == 2) { /* one Philox call per element, as rng_normal_key */
        for (int64_t e = i * BLOCK; e < end; e++) d->y[e] = (float)rng_normal_key(d->key, d->step, (uint64_t)e);
        return;
    }
    if (d->dropout == 1) { /* four uniforms per Philox call, as rng_uniform4_key */
        float m[RNG_LANES4];
        for (int64_t e = i * BLOCK; e < end; e += RNG_LANES4) {
            if (end - e >= RNG_LANES4) {
                d->mask(d->key, d->step, (uint64_t)e, d->thr, d->keep, d->y + e);
                continue;
            }
            d->mask(d->key, d->step, (uint64_t)e, d->thr, d->keep, m);
            memcpy(d->y + e, m, (size_t)(end - e) * sizeof *m);
        }
        return;
    }
    for (int64_t e = i * BLOCK; e < end; e += RNG_LANES) {
        d->lanes(d->key, d->step, (uint64_t)e, u);
        int64_t cnt = end - e < RNG_LANES ? end - e : RNG_LANES;
        for (int64_t l = 0; l < cnt; l++) d->y[e + l] = u[l];
    }
}

/* Draws for node d into y (dropout: with probability p, keep value keep). */
static void draw(const RtDesc *d, float *y, const RtRandom *rnd, int dropout) {
    Draw w = {.y = y, .n = rt_numel(d->rank[d->nin], d->shape[d->nin]), .step = rnd->step,
              .lanes = rng_lanes_fn(), .mask = rng_dropout_fn(), .dropout = dropout,
              .thr = rng_dropout_threshold(d->value), .keep = (float)(1.0 / (1.0 - d->value))};
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

/* dropout_mask: training ? (u >= p ? 1/(1-p) : 0) : 1, p = d->value, u =
 * rng_uniform4_key (compared in double, as the interpreter does). */
void rt_dropout_mask(const RtDesc *d, float *y, const RtRandom *rnd) {
    if (rnd->training) {
        draw(d, y, rnd, 1);
        return;
    }
    int64_t n = rt_numel(d->rank[d->nin], d->shape[d->nin]);
    for (int64_t i = 0; i < n; i++) y[i] = 1.0f;
}
