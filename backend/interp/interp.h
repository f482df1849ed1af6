/* interp.h — the reference interpreter: runs a verified Graph op by op.
 *
 * Every node gets its own buffer (f32 or i64 by its dtype, 64-byte
 * aligned, zeroed at creation), so any value can be read after a run. The
 * kernels are plain loops; matmul and convolution call cblas_sgemm. Other
 * backends are tested against this one.
 *
 *   Interp *in = interp_new(g, err, sizeof err);     // NULL + message on failure
 *   interp_init(in, seed);                           // params and state
 *   memcpy(interp_f32(in, image), batch, ...);       // inputs and labels
 *   interp_run(in, 1, seed, step, err, sizeof err);  // every other node
 *   interp_apply_updates(in);                        // "update:X" -> X
 *
 * Random numbers come from runtime/rng.h and depend only on (seed, stream,
 * step, element index), never on execution order.
 */
#ifndef MMGC_INTERP_H
#define MMGC_INTERP_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"

typedef struct Interp Interp;

/* Verifies g and allocates one buffer per node. g must outlive the
 * Interp. Returns NULL with a message in err if g does not verify, an
 * "update:X" output names no param or state X of its type, or memory runs
 * out. */
Interp *interp_new(const Graph *g, char *err, size_t errlen);
void interp_free(Interp *in);

/* The graph the interpreter runs. */
const Graph *interp_graph(const Interp *in);

/* The buffer of a node: ir_numel elements in row-major order. NULL if the
 * node does not exist or has the other dtype. Sources: the caller fills
 * INPUT and LABEL; PARAM and STATE are filled by interp_init or the caller. */
float *interp_f32(Interp *in, int node);
int64_t *interp_i64(Interp *in, int node);

/* Fills every PARAM by its init (zeros, ones, U[a, b), N(a, b^2)) and zeroes
 * every STATE. The random stream of a param is rng_hash(its name) (its id
 * if it has none) at step 0, the counter its element index; a uniform
 * value that rounds up to b is moved just below it. */
void interp_init(Interp *in, uint64_t seed);
/* Makes source node `node` (input, label, param, state) read and write the
 * caller's memory, which must hold its elements and outlive the Interp:
 * two interpreters (a training step and an evaluation) can share one set
 * of parameters this way. Returns 0, or -1 for a node that is no source. */
int interp_bind(Interp *in, int node, void *memory);

/* Computes every non-source node in id order, and the sources made by the
 * step (const, iota, random numbers): random_uniform is
 * rng_uniform(seed, stream, step, i), random_normal rng_normal(...);
 * dropout_mask is, with u = rng_uniform4_key(rng_key(seed, stream), step, i)
 * (four uniforms per Philox call) and p = node value,
 * training ? (u >= p ? 1/(1-p) : 0) : 1. Returns 0, or -1 with a message
 * (e.g. "gather: index 12 out of range for 10 classes at row 3"). */
int interp_run(Interp *in, int training, uint64_t seed, uint64_t step, char *err, size_t errlen);

/* ---- kernels the LLVM backend's runtime helpers share ---------------------- */

/* argmax of x viewed as [outer, n, inner] along n (n >= 1): y[o, i] is the
 * first k with the largest x[o, k, i], a NaN counting as largest. */
void interp_argmax(const float *x, int64_t outer, int64_t n, int64_t inner, int64_t *y);
/* iota of count elements whose axis has n entries, each inner elements
 * apart: y[i] = (i / inner) % n. */
void interp_iota(float *y, int64_t count, int64_t n, int64_t inner);

/* For each graph output "update:X", copies that output's buffer into the
 * buffer of the PARAM or STATE node named X. Every update reads the values
 * from before any of them is written. */
void interp_apply_updates(Interp *in);

#endif
