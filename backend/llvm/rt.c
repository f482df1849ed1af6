/* rt.c — the runtime helpers' entry points: one case per op with a helper.
 *
 * The LLVM backend generates elementwise, reduction and data-movement ops
 * as loops and calls mmgc_rt_call for the rest (see rt.h). An op that has
 * no helper here returns RT_ERR_OP: reaching it is a code generator bug.
 */
#include <string.h>

#include "ir.h"
#include "rt_desc.h"
#include "rt_impl.h"

_Static_assert(RT_MAX_RANK == IR_MAX_RANK && IR_MAX_ATTR <= 8, "an RtDesc holds an IR node");

/* See rt_desc.h. */
int rt_desc_of(const Graph *g, int id, RtDesc *d) {
    const Node *n = &g->nodes[id];
    if (n->nin > RT_MAX_IN) return -1;
    memset(d, 0, sizeof *d);
    d->op = (int32_t)n->op, d->nin = n->nin, d->nattr = n->nattr, d->value = n->value;
    for (int k = 0; k <= n->nin; k++) {
        const Shape *s = &g->nodes[k < n->nin ? n->in[k] : id].type.shape;
        d->rank[k] = s->rank;
        for (int i = 0; i < s->rank; i++) d->shape[k][i] = s->dim[i];
    }
    for (int i = 0; i < n->nattr; i++) d->attr[i] = n->attr[i];
    return 0;
}

/* See rt_desc.h. */
int rt_desc_add_epilogue(RtDesc *d, const Shape *b, int relu) {
    if (d->nin >= RT_MAX_IN || d->nattr > RT_ATTR_EPILOGUE || b->rank > RT_MAX_RANK) return -1;
    int out = d->nin;
    d->rank[out + 1] = d->rank[out]; /* the output's shape goes last */
    memcpy(d->shape[out + 1], d->shape[out], sizeof d->shape[out]);
    d->rank[out] = b->rank;
    memset(d->shape[out], 0, sizeof d->shape[out]);
    for (int i = 0; i < b->rank; i++) d->shape[out][i] = b->dim[i];
    d->nin++;
    d->attr[RT_ATTR_EPILOGUE] = relu ? RT_EPILOGUE_BIAS_RELU : RT_EPILOGUE_BIAS;
    return 0;
}

/* Scratch floats for d: the convolutions' (rt_conv_scratch) and deep
 * matmuls' partial sums, else 0. */
int64_t rt_scratch_floats(const RtDesc *d) {
    switch ((int)d->op) {
    case OP_MATMUL: return rt_matmul_scratch(d);
    case OP_CONV1D: case OP_CONV1D_GRAD_INPUT: case OP_CONV1D_GRAD_WEIGHT:
    case OP_CONV2D: case OP_CONV2D_GRAD_INPUT: case OP_CONV2D_GRAD_WEIGHT:
        return rt_conv_scratch(d);
    }
    return 0;
}

/* Runs node d: out = op(in[0..nin)); see rt.h. */
int32_t mmgc_rt_call(const RtDesc *d, void *out, void *const *in, float *scratch,
                     const RtRandom *rnd) {
    float *y = out;
    switch ((int)d->op) {
    case OP_RANDOM_UNIFORM: rt_random_uniform(d, y, rnd); return RT_OK;
    case OP_DROPOUT_MASK: rt_dropout_mask(d, y, rnd); return RT_OK;
    case OP_RANDOM_NORMAL: rt_random_normal(d, y, rnd); return RT_OK;
    case OP_IOTA: rt_iota(d, y); return RT_OK;
    case OP_MATMUL: return rt_matmul(d, y, in[0], in[1], scratch);
    case OP_CONV1D: case OP_CONV2D: return rt_conv(d, y, in[0], in[1], d->nin > 2 ? in[2] : NULL, scratch);
    case OP_CONV1D_GRAD_INPUT: case OP_CONV2D_GRAD_INPUT:
        return rt_conv_grad_input(d, y, in[0], in[1], scratch);
    case OP_CONV1D_GRAD_WEIGHT: case OP_CONV2D_GRAD_WEIGHT:
        return rt_conv_grad_weight(d, y, in[0], in[1], scratch);
    case OP_MAX_POOL1D: case OP_MAX_POOL2D: rt_max_pool(d, y, in[0]); return RT_OK;
    case OP_MAX_POOL1D_GRAD: case OP_MAX_POOL2D_GRAD:
        rt_max_pool_grad(d, y, in[0], in[1]);
        return RT_OK;
    case OP_GATHER: return rt_gather(d, y, in[0], in[1]);
    case OP_SCATTER: return rt_scatter(d, y, in[0], in[1]);
    case OP_ARGMAX: rt_argmax(d, out, in[0]); return RT_OK;
    }
    return RT_ERR_OP;
}
