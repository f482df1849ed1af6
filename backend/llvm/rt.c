/* rt.c — the runtime helpers' entry points: one switch over every op.
 *
 * The LLVM backend generates elementwise, reduction and data-movement ops
 * as loops and calls mmgc_rt_call for the rest (see rt.h). An op that has
 * no helper here returns RT_ERR_OP: reaching it is a code generator bug.
 */
#include <string.h>

#include "ir.h"
#include "rt_desc.h"
#include "rt_impl.h"

_Static_assert(OP_COUNT == 50, "a new op needs a case in mmgc_rt_call and rt_scratch_floats");
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

/* Scratch floats for d: the convolutions' im2col matrices, else 0. */
int64_t rt_scratch_floats(const RtDesc *d) {
    switch ((Op)d->op) {
    case OP_CONV1D: case OP_CONV1D_GRAD_INPUT: case OP_CONV1D_GRAD_WEIGHT:
    case OP_CONV2D: case OP_CONV2D_GRAD_INPUT: case OP_CONV2D_GRAD_WEIGHT:
        return rt_conv_scratch(d);
    case OP_INPUT: case OP_LABEL: case OP_PARAM: case OP_STATE: case OP_CONST:
    case OP_RANDOM_UNIFORM: case OP_DROPOUT_MASK:
    case OP_NEG: case OP_EXP: case OP_LOG: case OP_SQRT: case OP_RSQRT: case OP_TANH:
    case OP_SIGMOID: case OP_RELU: case OP_ABS: case OP_STEP: case OP_CAST:
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MAX: case OP_MIN: case OP_POW:
    case OP_GT: case OP_GE: case OP_EQ: case OP_SELECT:
    case OP_REDUCE_SUM: case OP_REDUCE_MAX:
    case OP_RESHAPE: case OP_BROADCAST: case OP_TRANSPOSE: case OP_CONCAT: case OP_SLICE:
    case OP_PAD:
    case OP_MATMUL: case OP_MAX_POOL1D: case OP_MAX_POOL1D_GRAD: case OP_MAX_POOL2D:
    case OP_MAX_POOL2D_GRAD: case OP_GATHER: case OP_SCATTER:
    case OP_COUNT:
        break;
    }
    return 0;
}

/* Runs node d: out = op(in[0..nin)); see rt.h. */
int32_t mmgc_rt_call(const RtDesc *d, void *out, void *const *in, float *scratch,
                     const RtRandom *rnd) {
    float *y = out;
    switch ((Op)d->op) {
    case OP_RANDOM_UNIFORM: rt_random_uniform(d, y, rnd); return RT_OK;
    case OP_DROPOUT_MASK: rt_dropout_mask(d, y, rnd); return RT_OK;
    case OP_MATMUL: return rt_matmul(d, y, in[0], in[1]);
    case OP_CONV1D: case OP_CONV2D: return rt_conv(d, y, in[0], in[1], scratch);
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
    /* generated as loops, or made outside the step */
    case OP_INPUT: case OP_LABEL: case OP_PARAM: case OP_STATE: case OP_CONST:
    case OP_NEG: case OP_EXP: case OP_LOG: case OP_SQRT: case OP_RSQRT: case OP_TANH:
    case OP_SIGMOID: case OP_RELU: case OP_ABS: case OP_STEP: case OP_CAST:
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MAX: case OP_MIN: case OP_POW:
    case OP_GT: case OP_GE: case OP_EQ: case OP_SELECT:
    case OP_REDUCE_SUM: case OP_REDUCE_MAX:
    case OP_RESHAPE: case OP_BROADCAST: case OP_TRANSPOSE: case OP_CONCAT: case OP_SLICE:
    case OP_PAD:
    case OP_COUNT:
        break;
    }
    return RT_ERR_OP;
}
