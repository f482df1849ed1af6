/* stats.c — cost estimates of nodes.
 *
 * Counted in doubles (a multiply-add is 2 flops):
 *   EW        numel(out) (cast: 0)      REDUCE  numel(input)
 *   SOURCE, SHAPE, INDEX: 0             MATMUL  2 * batch * M * N * K
 *   CONV*     2 * B * Co * (out spatial) * Ci * (kernel), grads alike
 *   MAX_POOL* numel(out) * window; grads numel(dy) * window
 */
#include "ir.h"

/* Elements of t as a double. */
static double numel(const TType *t) { return (double)ir_numel(&t->shape); }

/* Product of dims [from, rank) of t: Ci * K (or Ci * Kh * Kw) of a weight. */
static double tail(const TType *t, int from) {
    double n = 1;
    for (int i = from; i < t->shape.rank; i++) n *= (double)t->shape.dim[i];
    return n;
}

/* The type of input k of n, or NULL if n has no such input. */
static const TType *in_type(const Graph *g, const Node *n, int k) {
    if (k >= n->nin || !n->in || n->in[k] < 0 || n->in[k] >= g->nnodes) return NULL;
    return &g->nodes[n->in[k]].type;
}

/* matmul: 2 * numel(out) * K, K the inner dim of a (the last one unless ta). */
static double matmul_flops(const Graph *g, const Node *n) {
    const TType *a = in_type(g, n, 0);
    if (!a || a->shape.rank < 2 || n->nattr < 1) return 0;
    int64_t k = a->shape.dim[a->shape.rank - (n->attr[0] ? 2 : 1)];
    return 2 * numel(&n->type) * (double)k;
}

/* conv and its grads: 2 * numel(y or dy) * (w dims after Co), where
 * forward (x, w) -> y; grad_input (dy, w) -> dx; grad_weight (x, dy) -> dw. */
static double conv_flops(const Graph *g, const Node *n) {
    int fwd = n->op == OP_CONV1D || n->op == OP_CONV2D;
    int gi = n->op == OP_CONV1D_GRAD_INPUT || n->op == OP_CONV2D_GRAD_INPUT;
    const TType *y = fwd ? &n->type : gi ? in_type(g, n, 0) : in_type(g, n, 1);
    const TType *w = fwd || gi ? in_type(g, n, 1) : &n->type;
    if (!y || !w) return 0;
    return 2 * numel(y) * tail(w, 1);
}

/* max_pool*: numel(out) * window; their grads numel(dy) * window. */
static double pool_flops(const Graph *g, const Node *n) {
    int two_d = n->op == OP_MAX_POOL2D || n->op == OP_MAX_POOL2D_GRAD;
    int grad = n->op == OP_MAX_POOL1D_GRAD || n->op == OP_MAX_POOL2D_GRAD;
    if (n->nattr < (two_d ? 2 : 1)) return 0;
    double window = two_d ? (double)n->attr[0] * (double)n->attr[1] : (double)n->attr[0];
    const TType *y = grad ? in_type(g, n, 1) : &n->type;
    return y ? numel(y) * window : 0;
}

/* A CONTRACT op: matmul, a convolution or a pooling (with their grads);
 * 0 for a contraction this file does not know. */
static double contract_flops(const Graph *g, const Node *n) {
    Op op = n->op;
    if (op == OP_MATMUL) return matmul_flops(g, n);
    if (op == OP_MAX_POOL1D || op == OP_MAX_POOL1D_GRAD || op == OP_MAX_POOL2D ||
        op == OP_MAX_POOL2D_GRAD)
        return pool_flops(g, n);
    if (op == OP_CONV1D || op == OP_CONV1D_GRAD_INPUT || op == OP_CONV1D_GRAD_WEIGHT ||
        op == OP_CONV2D || op == OP_CONV2D_GRAD_INPUT || op == OP_CONV2D_GRAD_WEIGHT)
        return conv_flops(g, n);
    return 0;
}

/* Flops of node id; 0 for an id that is not a node. */
double ir_node_flops(const Graph *g, int id) {
    if (id < 0 || id >= g->nnodes || (unsigned)g->nodes[id].op >= OP_COUNT) return 0;
    const Node *n = &g->nodes[id];
    switch (ir_op_info[n->op].cls) {
    case OC_SOURCE: case OC_SHAPE: case OC_INDEX: return 0;
    case OC_EW: return n->op == OP_CAST ? 0 : numel(&n->type);
    case OC_REDUCE: {
        const TType *x = in_type(g, n, 0);
        return x ? numel(x) : 0;
    }
    case OC_CONTRACT: return contract_flops(g, n);
    }
    return 0;
}
