/* interp.c — the interpreter's lifecycle, sources, dispatch and updates.
 *
 * interp_new verifies the graph, pairs every "update:X" output with the
 * PARAM or STATE node X, and gives every node a zeroed, 64-byte aligned
 * buffer. interp_run walks the nodes in id order (a topological order) and
 * runs one kernel per node, chosen by the op's class (ops.def) and then
 * the op: an elementwise op's kernel applies its row of ir/ew_math.def.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp_impl.h"
#include "rng.h"
#include "util.h"


/* Formats a message into err; returns -1 (for `return interp_fail(...)`). */
int interp_fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- lifecycle ---------------------------------------------------------------- */

/* Pairs each "update:X" output with the PARAM or STATE X (ir_update_pairs). */
static int find_updates(Interp *in, char *err, size_t errlen) {
    const Graph *g = in->g;
    in->upd_src = xcalloc((size_t)g->nouts + 1, sizeof *in->upd_src);
    in->upd_dst = xcalloc((size_t)g->nouts + 1, sizeof *in->upd_dst);
    in->nupd = ir_update_pairs(g, in->upd_src, in->upd_dst, err, errlen);
    return in->nupd < 0 ? -1 : 0;
}

/* Allocates a zeroed buffer for every node (at least 64 bytes each). */
static int alloc_buffers(Interp *in, char *err, size_t errlen) {
    in->buf = xcalloc((size_t)in->g->nnodes + 1, sizeof *in->buf);
    in->bound = xcalloc((size_t)in->g->nnodes + 1, 1);
    for (int id = 0; id < in->g->nnodes; id++) {
        size_t bytes = (size_t)ir_numel(shape_of(in, id)) * esize_of(in, id);
        size_t padded = (bytes + 63) / 64 * 64;
        in->buf[id] = aligned_alloc(64, padded ? padded : 64);
        if (!in->buf[id])
            return interp_fail(err, errlen, "out of memory: node %%%d needs %zu bytes", id, bytes);
        memset(in->buf[id], 0, padded ? padded : 64);
    }
    return 0;
}

/* Verifies g, pairs the updates, allocates the buffers; see interp.h. */
Interp *interp_new(const Graph *g, char *err, size_t errlen) {
    if (ir_verify(g, err, errlen)) return NULL;
    Interp *in = xcalloc(1, sizeof *in);
    in->g = g;
    if (find_updates(in, err, errlen) || alloc_buffers(in, err, errlen)) {
        interp_free(in);
        return NULL;
    }
    return in;
}

/* Frees every buffer and the Interp (not the graph). NULL is fine. */
void interp_free(Interp *in) {
    if (!in) return;
    for (int id = 0; in->buf && id < in->g->nnodes; id++)
        if (!in->bound[id]) free(in->buf[id]);
    free(in->buf);
    free(in->bound);
    free(in->scratch);
    free(in->upd_src);
    free(in->upd_dst);
    free(in);
}

/* Makes a source node use the caller's memory; see interp.h. */
int interp_bind(Interp *in, int node, void *memory) {
    if (node < 0 || node >= in->g->nnodes || !memory || ir_op_info[node_of(in, node)->op].cls != OC_SOURCE)
        return -1;
    if (!in->bound[node]) free(in->buf[node]);
    in->buf[node] = memory;
    in->bound[node] = 1;
    return 0;
}

/* The graph given to interp_new. */
const Graph *interp_graph(const Interp *in) { return in->g; }

/* The buffer of node, if it exists and has dtype d. */
static void *buffer(Interp *in, int node, DType d) {
    if (!in || node < 0 || node >= in->g->nnodes || in->g->nodes[node].type.dtype != d) return NULL;
    return in->buf[node];
}

/* A node's buffer, typed; NULL for a missing node or the other dtype. */
float *interp_f32(Interp *in, int node) { return buffer(in, node, DT_F32); }
int64_t *interp_i64(Interp *in, int node) { return buffer(in, node, DT_I64); }

/* ---- initialization ------------------------------------------------------------- */

/* A param [..] by its init; stream rng_hash(name) (or the id), step 0. */
static void init_param(Interp *in, int id, uint64_t seed) {
    const Node *n = node_of(in, id);
    rng_init_tensor(out_f32(in, id), ir_numel(&n->type.shape), (RngInit)n->init.kind, n->init.a, n->init.b, seed,
                    n->name ? rng_hash(n->name) : (uint64_t)id);
}

/* Every PARAM by its init, every STATE zeroed; see interp.h. */
void interp_init(Interp *in, uint64_t seed) {
    for (int id = 0; id < in->g->nnodes; id++) {
        if (node_of(in, id)->op == OP_PARAM) init_param(in, id, seed);
        if (node_of(in, id)->op == OP_STATE)
            memset(in->buf[id], 0, (size_t)ir_numel(shape_of(in, id)) * sizeof(float));
    }
}

/* ---- sources made here ---------------------------------------------------------- */

/* const: every element = value; for i64 truncated toward zero, NaN gives 0
 * and values beyond the i64 range saturate (as cast does). */
static void k_const(Interp *in, int id) {
    const Node *n = node_of(in, id);
    int64_t count = ir_numel(&n->type.shape);
    double v = n->value;
    int64_t iv = isnan(v) ? 0 : v >= 0x1p63 ? INT64_MAX : v < -0x1p63 ? INT64_MIN : (int64_t)v;
    for (int64_t i = 0; i < count; i++) {
        if (n->type.dtype == DT_I64) out_i64(in, id)[i] = iv;
        else out_f32(in, id)[i] = (float)v;
    }
}

/* random_uniform: y[i] = rng_uniform(seed, stream attr[0], step, i). */
static void k_random_uniform(Interp *in, int id) {
    float *y = out_f32(in, id);
    int64_t count = ir_numel(shape_of(in, id));
    uint32_t key[2];
    rng_key(in->seed, (uint64_t)node_of(in, id)->attr[0], key);
    for (int64_t i = 0; i < count; i++) y[i] = rng_uniform_key(key, in->step, (uint64_t)i);
}

/* random_normal: y[i] = rng_normal(seed, stream attr[0], step, i), rounded to float. */
static void k_random_normal(Interp *in, int id) {
    float *y = out_f32(in, id);
    int64_t count = ir_numel(shape_of(in, id));
    uint32_t key[2];
    rng_key(in->seed, (uint64_t)node_of(in, id)->attr[0], key);
    for (int64_t i = 0; i < count; i++) y[i] = (float)rng_normal_key(key, in->step, (uint64_t)i);
}

/* See interp.h. */
void interp_iota(float *y, int64_t count, int64_t n, int64_t inner) {
    for (int64_t i = 0; i < count; i++) y[i] = (float)((i / inner) % n);
}

/* iota: each element's index along axis attr[0]. */
static void k_iota(Interp *in, int id) {
    const Shape *s = shape_of(in, id);
    int64_t axis = node_of(in, id)->attr[0], inner = 1;
    for (int i = (int)axis + 1; i < s->rank; i++) inner *= s->dim[i];
    interp_iota(out_f32(in, id), ir_numel(s), s->dim[axis], inner);
}

/* dropout_mask: training ? (u >= p ? 1/(1-p) : 0) : 1, u = rng_uniform4_key. */
static void k_dropout_mask(Interp *in, int id) {
    float *y = out_f32(in, id);
    int64_t count = ir_numel(shape_of(in, id));
    double p = node_of(in, id)->value;
    float keep = (float)(1.0 / (1.0 - p));
    uint32_t key[2];
    rng_key(in->seed, (uint64_t)node_of(in, id)->attr[0], key);
    for (int64_t i = 0; i < count; i++) {
        if (!in->training) y[i] = 1.0f;
        else y[i] = rng_uniform4_key(key, in->step, (uint64_t)i) >= p ? keep : 0.0f;
    }
}

/* ---- dispatch ------------------------------------------------------------------- */

/* A node that no kernel below computes (a bug in the op's recipe). */
static int no_kernel(Interp *in, int id, char *err, size_t errlen) {
    return interp_fail(err, errlen, "node %%%d: no interpreter kernel for op '%s'", id,
                       ir_op_info[node_of(in, id)->op].name);
}

/* Sources: external ones are filled from outside; the rest are made here. */
static int run_source(Interp *in, int id, char *err, size_t errlen) {
    Op op = node_of(in, id)->op;
    if (ir_is_external(op)) return 0;
    switch ((int)op) {
    case OP_CONST: k_const(in, id); return 0;
    case OP_RANDOM_UNIFORM: k_random_uniform(in, id); return 0;
    case OP_DROPOUT_MASK: k_dropout_mask(in, id); return 0;
    case OP_RANDOM_NORMAL: k_random_normal(in, id); return 0;
    case OP_IOTA: k_iota(in, id); return 0;
    }
    return no_kernel(in, id, err, errlen);
}

/* Elementwise ops: cast, eq and select have kernels of their own; every
 * other one is its scalar function from ir/ew_math.def. */
static int run_ew(Interp *in, int id, char *err, size_t errlen) {
    Op op = node_of(in, id)->op;
    if (op == OP_CAST) k_cast(in, id);
    else if (op == OP_EQ) k_eq(in, id);
    else if (op == OP_SELECT) k_select(in, id);
    else if (ew_fn1(op) && node_of(in, id)->nin == 1) k_unary(in, id, ew_fn1(op));
    else if (ew_fn2(op) && node_of(in, id)->nin == 2) k_binary(in, id, ew_fn2(op));
    else return no_kernel(in, id, err, errlen);
    return 0;
}

/* Reductions, data movement, contractions and indexing: one case each. */
static int run_other(Interp *in, int id, char *err, size_t errlen) {
    switch ((int)node_of(in, id)->op) {
    case OP_REDUCE_SUM: return k_reduce_sum(in, id, err, errlen);
    case OP_REDUCE_MAX: return k_reduce_max(in, id, err, errlen);
    case OP_RESHAPE: k_reshape(in, id); return 0;
    case OP_BROADCAST: k_broadcast(in, id); return 0;
    case OP_TRANSPOSE: k_transpose(in, id); return 0;
    case OP_CONCAT: k_concat(in, id); return 0;
    case OP_SLICE: k_slice(in, id); return 0;
    case OP_PAD: k_pad(in, id); return 0;
    case OP_MATMUL: return k_matmul(in, id, err, errlen);
    case OP_CONV1D: case OP_CONV2D: return k_conv(in, id, err, errlen);
    case OP_CONV1D_GRAD_INPUT: case OP_CONV2D_GRAD_INPUT:
        return k_conv_grad_input(in, id, err, errlen);
    case OP_CONV1D_GRAD_WEIGHT: case OP_CONV2D_GRAD_WEIGHT:
        return k_conv_grad_weight(in, id, err, errlen);
    case OP_MAX_POOL1D: case OP_MAX_POOL2D: k_max_pool(in, id); return 0;
    case OP_MAX_POOL1D_GRAD: case OP_MAX_POOL2D_GRAD: k_max_pool_grad(in, id); return 0;
    case OP_GATHER: return k_gather(in, id, err, errlen);
    case OP_SCATTER: return k_scatter(in, id, err, errlen);
    case OP_ARGMAX: k_argmax(in, id); return 0;
    }
    return no_kernel(in, id, err, errlen);
}

/* Computes node id, dispatched on its op's class (ops.def). */
static int run_node(Interp *in, int id, char *err, size_t errlen) {
    switch (ir_op_info[node_of(in, id)->op].cls) {
    case OC_SOURCE: return run_source(in, id, err, errlen);
    case OC_EW: return run_ew(in, id, err, errlen);
    case OC_REDUCE: case OC_SHAPE: case OC_CONTRACT: case OC_INDEX: return run_other(in, id, err, errlen);
    }
    return no_kernel(in, id, err, errlen);
}

/* Runs every node in id order; stops at the first error. */
int interp_run(Interp *in, int training, uint64_t seed, uint64_t step, char *err, size_t errlen) {
    in->training = training, in->seed = seed, in->step = step;
    for (int id = 0; id < in->g->nnodes; id++)
        if (run_node(in, id, err, errlen)) return -1;
    return 0;
}

/* ---- updates -------------------------------------------------------------------- */

/* Copies in two phases: an update whose source is itself a PARAM or STATE
 * (which another update may overwrite) is read into a copy first. Nothing
 * when the loss is not finite (ir_update_guard). */
void interp_apply_updates(Interp *in) {
    int guard = ir_update_guard(in->g);
    if (guard >= 0 && !isfinite(*(const float *)in->buf[guard])) return;
    void **staged = xcalloc((size_t)in->nupd + 1, sizeof *staged);
    for (int u = 0; u < in->nupd; u++) {
        int src = in->upd_src[u];
        Op op = node_of(in, src)->op;
        if (op != OP_PARAM && op != OP_STATE) continue;
        size_t bytes = (size_t)ir_numel(shape_of(in, src)) * esize_of(in, src);
        staged[u] = xmalloc(bytes ? bytes : 1);
        memcpy(staged[u], in->buf[src], bytes);
    }
    for (int u = 0; u < in->nupd; u++) {
        int src = in->upd_src[u], dst = in->upd_dst[u];
        size_t bytes = (size_t)ir_numel(shape_of(in, dst)) * esize_of(in, dst);
        memcpy(in->buf[dst], staged[u] ? staged[u] : in->buf[src], bytes);
        free(staged[u]);
    }
    free(staged);
}
