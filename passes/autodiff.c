/* autodiff.c — reverse-mode differentiation on the graph.
 *
 * Requires: a verified graph with a scalar f32 output "loss".
 * Keeps: topological order; adds, for every PARAM (and f32 INPUT when asked),
 * an output "grad:NAME" holding d loss / d NAME.
 *
 * Each op's vector-Jacobian product (its row in ops.def names it) builds the
 * gradient from ordinary graph ops, so later passes optimize and fuse the
 * backward graph like the forward one. Gradients of a value used several
 * times are summed. A gradient node takes the location of the forward node
 * it differentiates.
 */
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "passes.h"
#include "util.h"

typedef struct {
    Builder b;   /* b.loc: the location of the node being differentiated */
    PassError *err;
} AD;

#define ew1(ad, ...) b_ew1(&(ad)->b, __VA_ARGS__)
#define ew2(ad, ...) b_ew2(&(ad)->b, __VA_ARGS__)
#define build(ad, ...) b_op(&(ad)->b, __VA_ARGS__)
#define scalar(ad, v) b_scalar(&(ad)->b, v)
#define reshape(ad, ...) b_reshape(&(ad)->b, __VA_ARGS__)
#define broadcast(ad, ...) b_broadcast(&(ad)->b, __VA_ARGS__)
#define type_of(ad, id) b_type(&(ad)->b, id)
#define shape_of(ad, id) b_shape(&(ad)->b, id)

/* ---- vector-Jacobian products ------------------------------------------------
 * vjp_OP(ad, y, k, dy) returns d loss / d input k of node y, given dy = d loss / d y.
 */
typedef int (*Vjp)(AD *ad, int y, int k, int dy);

/* The shape of input k of node y, by value: a function call is never
 * interleaved with the builds of other arguments, so the copy is taken
 * from a live node array. */
static Shape shape_in(AD *ad, int y, int k) { return ad->b.g->nodes[ad->b.g->nodes[y].in[k]].type.shape; }

/* Copies node y's attributes (building nodes may move the node array). */
static int attrs_of(AD *ad, int y, int64_t *out) {
    const Node *n = &ad->b.g->nodes[y];
    memcpy(out, n->attr, sizeof *out * (size_t)n->nattr);
    return n->nattr;
}

/* x summed to shape s (b_sum_to). A max pool's gradient puts each pooled
 * gradient at one input position (its window's first maximum) and 0
 * elsewhere, so its sum over the pooled axes is the pooled gradient's sum
 * over them: the bias gradient of a convolution followed by ReLU and a
 * pool (dy = max_pool_grad(y, g), vjp_relu) sums g, a quarter of the
 * values for 2 x 2 windows, where it read the pool's input-sized
 * gradient. The same real sum in another order; reduce_sum adds in
 * double, so the float it rounds to rarely differs (the study models'
 * did not). */
static int sum_to(AD *ad, int x, Shape s) {
    const Node *n = &ad->b.g->nodes[x];
    int pooled = n->op == OP_MAX_POOL2D_GRAD ? 2 : n->op == OP_MAX_POOL1D_GRAD ? 1 : 0;
    const Shape *xs = shape_of(ad, x);
    int lead = xs->rank - s.rank, summed = pooled > 0;
    for (int i = xs->rank - pooled; i < xs->rank && summed; i++)
        summed = i < lead || s.dim[i - lead] == 1;
    return b_sum_to(&ad->b, summed ? n->in[1] : x, s);
}

#define IN(k) (ad->b.g->nodes[y].in[k])
#define SHAPE_IN(k) shape_in(ad, y, k)

static int vjp_add(AD *ad, int y, int k, int dy) { return sum_to(ad, dy, SHAPE_IN(k)); }

static int vjp_sub(AD *ad, int y, int k, int dy) {
    return sum_to(ad, k ? ew1(ad, OP_NEG, dy) : dy, SHAPE_IN(k));
}

static int vjp_mul(AD *ad, int y, int k, int dy) { return sum_to(ad, ew2(ad, OP_MUL, dy, IN(1 - k)), SHAPE_IN(k)); }

/* y = a / b: da = dy / b; db = -dy * y / b */
static int vjp_div(AD *ad, int y, int k, int dy) {
    if (k == 0) return sum_to(ad, ew2(ad, OP_DIV, dy, IN(1)), SHAPE_IN(0));
    int t = ew2(ad, OP_DIV, ew2(ad, OP_MUL, dy, y), IN(1));
    return sum_to(ad, ew1(ad, OP_NEG, t), SHAPE_IN(1));
}

/* The gradient goes to a where a >= b (max) or a <= b (min), else to b. */
static int vjp_minmax(AD *ad, int y, int k, int dy, int a_wins_if_ge) {
    int mask = a_wins_if_ge ? ew2(ad, OP_GE, IN(0), IN(1)) : ew2(ad, OP_GE, IN(1), IN(0));
    int zero = scalar(ad, 0);
    int in[3] = {mask, k ? zero : dy, k ? dy : zero};
    return sum_to(ad, build(ad, OP_SELECT, in, 3, NULL, 0, 0, NULL), SHAPE_IN(k));
}

static int vjp_max(AD *ad, int y, int k, int dy) { return vjp_minmax(ad, y, k, dy, 1); }
static int vjp_min(AD *ad, int y, int k, int dy) { return vjp_minmax(ad, y, k, dy, 0); }

/* y = a ^ b: da = dy * b * a^(b-1); db = dy * y * log(a) */
static int vjp_pow(AD *ad, int y, int k, int dy) {
    if (k == 0) {
        int p = ew2(ad, OP_POW, IN(0), ew2(ad, OP_SUB, IN(1), scalar(ad, 1)));
        return sum_to(ad, ew2(ad, OP_MUL, dy, ew2(ad, OP_MUL, IN(1), p)), SHAPE_IN(0));
    }
    return sum_to(ad, ew2(ad, OP_MUL, dy, ew2(ad, OP_MUL, y, ew1(ad, OP_LOG, IN(0)))), SHAPE_IN(1));
}

/* y = c ? a : b; no gradient flows to c */
static int vjp_select(AD *ad, int y, int k, int dy) {
    if (k == 0) return -1;
    int zero = scalar(ad, 0);
    int in[3] = {IN(0), k == 1 ? dy : zero, k == 1 ? zero : dy};
    return sum_to(ad, build(ad, OP_SELECT, in, 3, NULL, 0, 0, NULL), SHAPE_IN(k));
}

static int vjp_neg(AD *ad, int y, int k, int dy) {
    (void)y, (void)k;
    return ew1(ad, OP_NEG, dy);
}

static int vjp_exp(AD *ad, int y, int k, int dy) {
    (void)k;
    return ew2(ad, OP_MUL, dy, y);
}

static int vjp_log(AD *ad, int y, int k, int dy) { return ew2(ad, OP_DIV, dy, IN(k)); }

/* y = sqrt(x): dx = dy * 0.5 / y */
static int vjp_sqrt(AD *ad, int y, int k, int dy) {
    (void)k;
    return ew2(ad, OP_DIV, ew2(ad, OP_MUL, dy, scalar(ad, 0.5)), y);
}

/* y = x^-1/2: dx = -0.5 * dy * y^3 */
static int vjp_rsqrt(AD *ad, int y, int k, int dy) {
    (void)k;
    int y3 = ew2(ad, OP_MUL, ew2(ad, OP_MUL, y, y), y);
    return ew2(ad, OP_MUL, ew2(ad, OP_MUL, dy, scalar(ad, -0.5)), y3);
}

/* dx = dy * (1 - y^2) */
static int vjp_tanh(AD *ad, int y, int k, int dy) {
    (void)k;
    return ew2(ad, OP_MUL, dy, ew2(ad, OP_SUB, scalar(ad, 1), ew2(ad, OP_MUL, y, y)));
}

/* dx = dy * y * (1 - y) */
static int vjp_sigmoid(AD *ad, int y, int k, int dy) {
    (void)k;
    return ew2(ad, OP_MUL, dy, ew2(ad, OP_MUL, y, ew2(ad, OP_SUB, scalar(ad, 1), y)));
}

/* dx = dy * step(y): relu(x) > 0 exactly where x > 0 (NaN, -0 and 0 give
 * 0 both ways), and reading the output, not the input, lets the forward
 * pass fuse the input away (a convolution's biased output is stored once,
 * as the ReLU's).
 *
 * When dy is a max pool's gradient over y alone (y = relu, then pooled:
 * dy = max_pool_grad(y, g)), the mask is applied before the scatter:
 * dy is g put at each window's first maximum and 0 elsewhere, and y at
 * that maximum is the window's pooled value, so
 *   dy * step(y) = max_pool_grad(y, g * step(max_pool(y)))
 * (the forward pool, merged by simplify). The mask then runs over the
 * pooled size (a quarter for 2 x 2 windows), and no pass over y's size
 * reads y and dy to write dx. With overlapping windows a sum of several
 * g * 0 can differ from (sum of g) * 0 in the sign of zero only. */
static int vjp_relu(AD *ad, int y, int k, int dy) {
    (void)k;
    const Node *d = &ad->b.g->nodes[dy];
    if ((d->op == OP_MAX_POOL2D_GRAD || d->op == OP_MAX_POOL1D_GRAD) && d->in[0] == y) {
        Op grad = d->op, pool = grad == OP_MAX_POOL2D_GRAD ? OP_MAX_POOL2D : OP_MAX_POOL1D;
        int g = d->in[1];
        int64_t attr[IR_MAX_ATTR];
        int nattr = attrs_of(ad, dy, attr);
        int pooled = build(ad, pool, &y, 1, attr, nattr, 0, NULL);
        int in[2] = {y, ew2(ad, OP_MUL, g, ew1(ad, OP_STEP, pooled))};
        return build(ad, grad, in, 2, attr, nattr, 0, NULL);
    }
    return ew2(ad, OP_MUL, dy, ew1(ad, OP_STEP, y));
}

/* dx = dy * sign(x), sign(x) = step(x) - step(-x) */
static int vjp_abs(AD *ad, int y, int k, int dy) {
    int sign = ew2(ad, OP_SUB, ew1(ad, OP_STEP, IN(k)), ew1(ad, OP_STEP, ew1(ad, OP_NEG, IN(k))));
    return ew2(ad, OP_MUL, dy, sign);
}

/* y = sin(x): dx = dy * cos(x) */
static int vjp_sin(AD *ad, int y, int k, int dy) { return ew2(ad, OP_MUL, dy, ew1(ad, OP_COS, IN(k))); }

/* y = cos(x): dx = -dy * sin(x) */
static int vjp_cos(AD *ad, int y, int k, int dy) {
    return ew1(ad, OP_NEG, ew2(ad, OP_MUL, dy, ew1(ad, OP_SIN, IN(k))));
}

/* y = a - b * floor(a / b): da = dy; db = -dy * floor(a / b) */
static int vjp_mod(AD *ad, int y, int k, int dy) {
    if (k == 0) return sum_to(ad, dy, SHAPE_IN(0));
    int q = ew1(ad, OP_FLOOR, ew2(ad, OP_DIV, IN(0), IN(1)));
    return sum_to(ad, ew1(ad, OP_NEG, ew2(ad, OP_MUL, dy, q)), SHAPE_IN(1));
}

/* The shape of a reduction's result with keepdims, whatever its own keepdims. */
static Shape kept_shape(AD *ad, int y) {
    const Node *n = &ad->b.g->nodes[y];
    Shape s = *shape_of(ad, n->in[0]);
    for (int i = 1; i < n->nattr; i++) s.dim[n->attr[i]] = 1;
    if (n->nattr == 1) /* no axes: all of them */
        for (int i = 0; i < s.rank; i++) s.dim[i] = 1;
    return s;
}

static int vjp_reduce_sum(AD *ad, int y, int k, int dy) {
    Shape kept = kept_shape(ad, y);
    return broadcast(ad, reshape(ad, dy, kept), SHAPE_IN(k));
}

/* The gradient is shared equally among the maxima, as in torch.amax. */
static int vjp_reduce_max(AD *ad, int y, int k, int dy) {
    int64_t attr[IR_MAX_ATTR];
    int nattr = attrs_of(ad, y, attr);
    attr[0] = 1;
    Shape kept = kept_shape(ad, y);
    int mask = ew2(ad, OP_EQ, IN(k), broadcast(ad, reshape(ad, y, kept), SHAPE_IN(k)));
    int count = build(ad, OP_REDUCE_SUM, &mask, 1, attr, nattr, 0, NULL);
    int share = ew2(ad, OP_DIV, reshape(ad, dy, kept), count);
    return ew2(ad, OP_MUL, broadcast(ad, share, SHAPE_IN(k)), mask);
}

static int vjp_reshape(AD *ad, int y, int k, int dy) { return reshape(ad, dy, SHAPE_IN(k)); }

static int vjp_broadcast(AD *ad, int y, int k, int dy) { return sum_to(ad, dy, SHAPE_IN(k)); }

static int vjp_transpose(AD *ad, int y, int k, int dy) {
    (void)k;
    int64_t perm[IR_MAX_ATTR], inv[IR_MAX_ATTR];
    int n = attrs_of(ad, y, perm);
    for (int i = 0; i < n; i++) inv[perm[i]] = i;
    return build(ad, OP_TRANSPOSE, &dy, 1, inv, n, 0, NULL);
}

static int vjp_concat(AD *ad, int y, int k, int dy) {
    const Node *n = &ad->b.g->nodes[y];
    int64_t axis = n->attr[0], start = 0;
    for (int i = 0; i < k; i++) start += shape_of(ad, n->in[i])->dim[axis];
    int64_t attr[3] = {axis, start, start + SHAPE_IN(k).dim[axis]};
    return build(ad, OP_SLICE, &dy, 1, attr, 3, 0, NULL);
}

static int vjp_slice(AD *ad, int y, int k, int dy) {
    const Node *n = &ad->b.g->nodes[y];
    int64_t attr[3] = {n->attr[0], n->attr[1], SHAPE_IN(k).dim[n->attr[0]] - n->attr[2]};
    return build(ad, OP_PAD, &dy, 1, attr, 3, 0, NULL);
}

static int vjp_pad(AD *ad, int y, int k, int dy) {
    const Node *n = &ad->b.g->nodes[y];
    int64_t attr[3] = {n->attr[0], n->attr[1], n->attr[1] + SHAPE_IN(k).dim[n->attr[0]]};
    return build(ad, OP_SLICE, &dy, 1, attr, 3, 0, NULL);
}

/* A matrix [rows, cols]. */
static Shape matrix(int64_t rows, int64_t cols) { return (Shape){.rank = 2, .dim = {rows, cols}}; }

/* dB of C = A @ op(B) where one B serves a batch of A's (a weight applied
 * to a batch of sequences: x [B, t, n] @ w [n, m]): the batch's products
 * summed are one product over the batch's rows laid end to end,
 *   dB = sum_b A_b^T @ dC_b = A'^T @ dC'  (tb: dC'^T @ A'),
 * A' and dC' the rows of A and dC, [B * t, n] and [B * t, m]. One product
 * instead of B products of depth t whose [B, n, m] results a reduce_sum
 * then adds: a fraction of the memory traffic, and a product that splits
 * across threads like any other. Returns -1 where A is transposed or
 * broadcast, or B has a batch of its own. */
static int matmul_rows_grad(AD *ad, int y, int dy) {
    const Node *n = &ad->b.g->nodes[y];
    int64_t ta = n->attr[0], tb = n->attr[1];
    Shape a = SHAPE_IN(0), b = SHAPE_IN(1), c = *shape_of(ad, y);
    if (ta || a.rank < 3 || a.rank != c.rank) return -1;
    for (int i = 0; i < b.rank - 2; i++)
        if (b.dim[i] != 1) return -1;
    int64_t rows = 1;
    for (int i = 0; i < a.rank - 1; i++) {
        if (a.dim[i] != c.dim[i]) return -1;
        rows *= a.dim[i];
    }
    int a2 = reshape(ad, IN(0), matrix(rows, a.dim[a.rank - 1]));
    int dc2 = reshape(ad, dy, matrix(rows, c.dim[c.rank - 1]));
    int in[2] = {tb ? dc2 : a2, tb ? a2 : dc2};
    int64_t attr[2] = {1, 0};
    return reshape(ad, build(ad, OP_MATMUL, in, 2, attr, 2, 0, NULL), b);
}

/* C = op(A) @ op(B), op transposing when ta / tb is set:
 *   dA = dC @ op(B)^T  (ta: op(B) @ dC^T)     dB = op(A)^T @ dC  (tb: dC^T @ op(A))
 * then summed over batch dimensions that broadcasting added. */
static int vjp_matmul(AD *ad, int y, int k, int dy) {
    if (k == 1) {
        int rows = matmul_rows_grad(ad, y, dy);
        if (rows >= 0) return rows;
    }
    const Node *n = &ad->b.g->nodes[y];
    int64_t ta = n->attr[0], tb = n->attr[1];
    int in[2];
    int64_t attr[2];
    if (k == 0) {
        if (!ta) in[0] = dy, in[1] = IN(1), attr[0] = 0, attr[1] = !tb;
        else in[0] = IN(1), in[1] = dy, attr[0] = tb, attr[1] = 1;
    } else {
        if (!tb) in[0] = IN(0), in[1] = dy, attr[0] = !ta, attr[1] = 0;
        else in[0] = dy, in[1] = IN(0), attr[0] = 1, attr[1] = ta;
    }
    return sum_to(ad, build(ad, OP_MATMUL, in, 2, attr, 2, 0, NULL), SHAPE_IN(k));
}

/* Convolution: input gradient from (dy, w), weight gradient from (x, dy). */
static int vjp_conv(AD *ad, int y, int k, int dy, Op grad_input, Op grad_weight) {
    int64_t attr[IR_MAX_ATTR];
    int nattr = attrs_of(ad, y, attr);
    int in[2] = {k == 0 ? dy : IN(0), k == 0 ? IN(1) : dy};
    TType t = *type_of(ad, IN(k));
    return build(ad, k == 0 ? grad_input : grad_weight, in, 2, attr, nattr, 0, &t);
}

static int vjp_conv1d(AD *ad, int y, int k, int dy) {
    return vjp_conv(ad, y, k, dy, OP_CONV1D_GRAD_INPUT, OP_CONV1D_GRAD_WEIGHT);
}

static int vjp_conv2d(AD *ad, int y, int k, int dy) {
    return vjp_conv(ad, y, k, dy, OP_CONV2D_GRAD_INPUT, OP_CONV2D_GRAD_WEIGHT);
}

static int vjp_pool(AD *ad, int y, int k, int dy, Op grad) {
    int64_t attr[IR_MAX_ATTR];
    int nattr = attrs_of(ad, y, attr);
    int in[2] = {IN(k), dy};
    return build(ad, grad, in, 2, attr, nattr, 0, NULL);
}

static int vjp_max_pool1d(AD *ad, int y, int k, int dy) { return vjp_pool(ad, y, k, dy, OP_MAX_POOL1D_GRAD); }
static int vjp_max_pool2d(AD *ad, int y, int k, int dy) { return vjp_pool(ad, y, k, dy, OP_MAX_POOL2D_GRAD); }

/* gather picks x[i, idx[i]]: its adjoint scatters dy back; idx has none. */
static int vjp_gather(AD *ad, int y, int k, int dy) {
    if (k == 1) return -1;
    int in[2] = {dy, IN(1)};
    TType t = *type_of(ad, IN(0));
    return build(ad, OP_SCATTER, in, 2, NULL, 0, 0, &t);
}

static int vjp_scatter(AD *ad, int y, int k, int dy) {
    if (k == 1) return -1;
    int in[2] = {dy, IN(1)};
    return build(ad, OP_GATHER, in, 2, NULL, 0, 0, NULL);
}

#undef IN
#undef SHAPE_IN

/* Piecewise-constant ops and stop_gradient: no gradient flows through them. */
static int vjp_zero(AD *ad, int y, int k, int dy) {
    (void)ad, (void)y, (void)k, (void)dy;
    return -1;
}

/* The rule of every op, from ops.def. */
#define NOGRAD NULL
#define ZEROGRAD vjp_zero
static const Vjp rules[OP_COUNT] = {
#define X(e, name, arity, cls, attrs, grad) [OP_##e] = grad,
#include "ops.def"
#undef X
};
#undef NOGRAD
#undef ZEROGRAD

int autodiff_has_rule(Op op) { return rules[op] != NULL && rules[op] != vjp_zero; }

/* ---- the pass ------------------------------------------------------------------ */

/* Adds contribution c to the adjoint of node x. */
static void accumulate(AD *ad, int *adj, int x, int c) {
    if (c < 0) return;
    adj[x] = adj[x] < 0 ? c : ew2(ad, OP_ADD, adj[x], c);
}

/* Marks the nodes that depend on a differentiated source (want[]) and those
 * the loss depends on (live[]). */
static void reach(const Graph *g, int loss, int input_grads, char *want, char *live) {
    for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        want[i] = n->op == OP_PARAM || (input_grads && n->op == OP_INPUT && n->type.dtype == DT_F32);
        for (int k = 0; k < n->nin && !want[i]; k++) want[i] = want[n->in[k]];
    }
    live[loss] = 1;
    for (int i = loss; i >= 0; i--)
        if (live[i])
            for (int k = 0; k < g->nodes[i].nin; k++) live[g->nodes[i].in[k]] = 1;
}

/* Propagates adjoints from the loss back to the sources, node by node. */
static int propagate(AD *ad, int loss, const char *want, const char *live, int *adj) {
    ad->b.loc = ad->b.g->nodes[loss].loc;
    adj[loss] = scalar(ad, 1.0);
    for (int y = loss; y >= 0; y--) {
        if (adj[y] < 0 || !want[y] || !live[y] || ad->b.g->nodes[y].nin == 0) continue;
        Op op = ad->b.g->nodes[y].op;
        ad->b.loc = ad->b.g->nodes[y].loc;
        for (int k = 0; k < ad->b.g->nodes[y].nin; k++) {
            int x = ad->b.g->nodes[y].in[k];
            if (!want[x]) continue;
            if (!rules[op]) {
                ad->err->loc = ad->b.loc;
                snprintf(ad->err->msg, sizeof ad->err->msg, "no gradient rule for op '%s'", ir_op_info[op].name);
                return -1;
            }
            accumulate(ad, adj, x, rules[op](ad, y, k, adj[y]));
        }
    }
    return 0;
}

static int name_taken(const Graph *g, const char *name) {
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].name && !strcmp(g->nodes[i].name, name)) return 1;
    return 0;
}

/* "grad:NAME" outputs; a source the loss does not reach gets zeros. */
static void add_outputs(AD *ad, int n, const char *want, const int *adj) {
    for (int i = 0; i < n; i++) {
        Graph *g = ad->b.g;
        if (g->nodes[i].nin || !want[i] || !g->nodes[i].name) continue;
        ad->b.loc = g->nodes[i].loc;
        Shape shape = g->nodes[i].type.shape;
        int grad = adj[i] >= 0 ? adj[i] : broadcast(ad, scalar(ad, 0), shape);
        const char *dname = arena_printf(&g->arena, "d.%s", g->nodes[i].name);
        if (!g->nodes[grad].name && !name_taken(g, dname)) ir_set_name(g, grad, dname);
        ir_add_output(g, arena_printf(&g->arena, IR_GRAD "%s", g->nodes[i].name), grad);
    }
}

int pass_autodiff(Graph *g, const PassConfig *cfg, PassError *err) {
    int loss = ir_output(g, IR_LOSS);
    if (loss < 0 || g->nodes[loss].type.shape.rank != 0 || g->nodes[loss].type.dtype != DT_F32) {
        err->loc = loss >= 0 ? g->nodes[loss].loc : (Loc){0, 0, 0};
        snprintf(err->msg, sizeof err->msg, "autodiff needs a scalar f32 output 'loss'");
        return -1;
    }
    int n = g->nnodes;
    char *want = xcalloc((size_t)n, 1), *live = xcalloc((size_t)n, 1);
    int *adj = xmalloc((size_t)n * sizeof *adj);
    for (int i = 0; i < n; i++) adj[i] = -1;
    AD ad = {{g, {0, 0, 0}}, err};
    reach(g, loss, cfg->input_grads, want, live);
    int rc = propagate(&ad, loss, want, live, adj);
    if (rc == 0) add_outputs(&ad, n, want, adj);
    free(want);
    free(live);
    free(adj);
    return rc;
}
