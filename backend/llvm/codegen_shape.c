/* codegen_shape.c — reductions and data movement.
 *
 * Reductions walk the input in row-major order with the output offset
 * moving on kept axes only (stride 0 on reduced ones), exactly the order
 * of the interpreter. reduce_sum accumulates in double, in an array of
 * one double per output element (or IR_SUM_LANES of them: ir_sum_lanes)
 * kept in the step's scratch, then rounds to float once: the same
 * additions in the same order as the interpreter, so the results are the
 * same bits and do not depend on threads. When the innermost axis is kept,
 * the accumulation loop is unit-stride and vectorizes; when it is reduced,
 * LLVM keeps the accumulators in registers (four independent partial sums
 * when the reduced run allows: an add's latency per four elements, not
 * per element), and the kept axes go outside the reduced ones
 * (kept_axes_outside), so that large reductions such as a convolution's
 * bias gradient (sum over batch and positions) run on the thread pool,
 * output elements split between the tasks.
 *
 * Data movement is cg_copy (a strided copy) with the strides and offsets
 * of each op, as in backend/interp/interp_shape.c; reshape is one memcpy,
 * or nothing for a view (fusion.h), and pad zeroes the output with one
 * memset first.
 */
#include <math.h>
#include <string.h>

#include "cg.h"
#include "util.h"

/* ---- reductions ------------------------------------------------------------ */

/* red[d] = 1 for each axis of its input node id reduces. */
static void reduced_axes(Cg *cg, int id, int red[IR_MAX_RANK]) {
    const Node *n = &cg->g->nodes[id];
    ir_reduced_axes(n, cg->g->nodes[n->in[0]].type.shape.rank, red);
}

/* Strides into the output of a reduction of node id, in the input's index
 * space: the row-major strides of x with reduced dims set to 1, and 0 on
 * the reduced axes. */
static void reduce_strides(Cg *cg, int id, int64_t st[IR_MAX_RANK]) {
    const Shape *x = &cg->g->nodes[cg->g->nodes[id].in[0]].type.shape;
    int red[IR_MAX_RANK];
    reduced_axes(cg, id, red);
    Shape kept = *x;
    for (int d = 0; d < x->rank; d++)
        if (red[d]) kept.dim[d] = 1;
    cg_strides(&kept, st);
    for (int d = 0; d < x->rank; d++)
        if (red[d]) st[d] = 0;
}

/* When the innermost axis is reduced (or, with lanes, the axis before the
 * innermost: the innermost is then the partial sums'), moves the kept axes
 * (output stride not 0) outside the reduced ones, each group in its order. An output
 * element still takes its inputs in the same order (the reduced axes'
 * row-major order), so the sum is the same bits; but the outer loop now
 * writes a different element each iteration, so a large reduction runs on
 * the thread pool (cg_nest), and the innermost loop still walks the input
 * contiguously. (With the innermost axis kept the nest stays as it is: the
 * unit-stride accumulation vectorizes, and kept axes outside would walk
 * the input across rows.) */
static void kept_axes_outside(Nest *n, int lanes) {
    int last = n->rank - (lanes > 1); /* the axes that move: [0, last) */
    if (last < 2 || n->st[0][last - 1] != 0) return;
    Nest m = *n;
    int r = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int d = 0; d < last; d++) {
            if ((n->st[0][d] != 0) != (pass == 0)) continue;
            m.dim[r] = n->dim[d];
            for (int k = 0; k < n->nops; k++) m.st[k][r] = n->st[k][d];
            r++;
        }
    *n = m;
}

/* Unroll-and-jam of a reduction nest (after kept_axes_outside): the
 * innermost kept axis that has reduced axes inside it is cut into blocks
 * of u output elements, and the block's u elements go innermost (before
 * the lanes' loop, with lanes) as u copies of the body. Each output element
 * still takes its inputs in the same order, so the sums are the same
 * bits; but an iteration of the innermost loops now adds into u
 * independent partial sums instead of one, which a long reduction needs
 * to run at the memory's speed rather than one add's latency per step:
 * the bias gradients of Conv1Net's convolutions, sums over 64 x 2000 and
 * 64 x 500 positions a channel, were one chain of 4-wide double adds each
 * (one thread: 2.9 -> 2.0 ms and 1.3 -> 1.0 ms with the ReLU's gradient
 * they are fused with; Conv2Net's first layer 0.28 -> 0.11 ms). With
 * lanes each copy adds a contiguous vector. Without them (a run not a
 * multiple of IR_SUM_LANES, such as the 11 x 11 positions of Conv2Net's
 * second layer) the u copies are the body's, innermost, each a scalar
 * add, and the block takes every (dim / u)-th element, not u neighbours:
 * neighbours' partial sums sit side by side in the scratch, and LLVM's
 * SLP vectorizer joined their adds into one, loading the inputs, a row
 * apart, with gathers (0.33 -> 0.57 ms there). Spread out, the four
 * chains stay scalar: 0.64-0.86 -> 0.23-0.27 ms a step there, one thread
 * (--profile, three runs each). The same bits: every sum keeps its order. */
static void jam_spread(Nest *n, int k, int64_t u) {
    Nest m = *n;
    m.rank = n->rank + 1;
    m.dim[k] = n->dim[k] / u;
    m.dim[n->rank] = u;
    m.unroll[n->rank] = 1;
    for (int o = 0; o < n->nops; o++) m.st[o][n->rank] = n->st[o][k] * m.dim[k];
    *n = m;
}

static void jam_kept_axis(Nest *n, int lanes) {
    int last = n->rank - 1, k = -1;
    for (int d = 0; d < last; d++)
        if (n->st[0][d] != 0) k = d;
    if (k < 0 || k == last - 1 || n->rank >= IR_MAX_RANK) return;
    int64_t u = n->dim[k] % 4 == 0 ? 4 : n->dim[k] % 2 == 0 ? 2 : 1;
    if (u == 1) return;
    if (lanes == 1) {
        jam_spread(n, k, u);
        return;
    }
    Nest m = *n;
    m.rank = n->rank + 1;
    m.dim[k] = n->dim[k] / u;
    m.dim[last] = u;
    m.unroll[last] = 1;
    for (int d = last; d < n->rank; d++) m.dim[d + 1] = n->dim[d], m.unroll[d + 1] = n->unroll[d];
    for (int o = 0; o < n->nops; o++) {
        m.st[o][k] = n->st[o][k] * u;
        m.st[o][last] = n->st[o][k];
        for (int d = last; d < n->rank; d++) m.st[o][d + 1] = n->st[o][d];
    }
    *n = m;
}

/* Element off of the scratch, read as doubles. */
static LLVMValueRef acc_addr(Cg *cg, LLVMValueRef off) {
    return LLVMBuildInBoundsGEP2(cg->b, cg->f64, cg->scratch, &off, 1, "");
}

/* y[off[0]] = (float)(acc[off[1]] + ... + acc[off[1] + lanes - 1] +
 * the next chunk's, `chunk` doubles on, ...), in that order. */
typedef struct {
    int y, lanes, chunks;
    int64_t chunk;
} RoundCtx;

static void round_body(Cg *cg, LLVMValueRef off[CG_MAX_OPS], void *ctx) {
    const RoundCtx *c = ctx;
    LLVMValueRef sum = NULL;
    for (int l = 0; l < c->chunks * c->lanes; l++) {
        int64_t at_l = (int64_t)(l / c->lanes) * c->chunk + l % c->lanes;
        LLVMValueRef at = LLVMBuildAdd(cg->b, off[1], cg_i64(cg, at_l), "");
        LLVMValueRef a = LLVMBuildLoad2(cg->b, cg->f64, acc_addr(cg, at), "");
        LLVMSetAlignment(a, 8);
        sum = sum ? LLVMBuildFAdd(cg->b, sum, a, "") : a;
    }
    cg_store(cg, c->y, off[0], LLVMBuildFPTrunc(cg->b, sum, cg->f32, ""));
}

/* The stride of a view (strides over x) along x's axes [lead, rank) read
 * as one run: that of the innermost axis that moves, each outer one a
 * multiple of it (contiguous), or 0 (a broadcast). Dies otherwise: the
 * fusion plan joins a reduction to a loop only where this holds. */
static int64_t run_stride(const Shape *x, int lead, const int64_t *st) {
    int64_t s = -1, inner = 1;
    for (int d = x->rank - 1; d >= lead; d--) {
        if (x->dim[d] == 1) continue;
        if (s < 0) s = st[d];
        if (st[d] != s * inner) die("internal error: a view read by a reduction's nest is not one run");
        inner *= x->dim[d];
    }
    return s < 0 ? 0 : s;
}

/* Cuts the nest's first axis (x's, reduced) into `chunks` chunks, an
 * outer axis whose partial sums are `block` doubles apart
 * (ir_sum_chunks); kept_axes_outside then puts it outermost, so the tasks
 * of the thread pool take whole chunks: the samples a core computed. */
static void split_chunks(Nest *n, int chunks, int64_t block) {
    if (chunks == 1) return;
    if (n->rank + 1 > IR_MAX_RANK || n->dim[0] % chunks) die("internal error: a reduction's chunks do not fit");
    Nest m = *n;
    m.rank = n->rank + 1;
    m.dim[0] = chunks;
    m.dim[1] = n->dim[0] / chunks;
    m.unroll[0] = m.unroll[1] = 0;
    for (int d = 1; d < n->rank; d++) m.dim[d + 1] = n->dim[d], m.unroll[d + 1] = n->unroll[d];
    for (int o = 0; o < n->nops; o++) {
        m.st[o][0] = o == 0 ? block : n->st[o][0] * m.dim[1];
        m.st[o][1] = n->st[o][0];
        for (int d = 1; d < n->rank; d++) m.st[o][d + 1] = n->st[o][d];
    }
    *n = m;
}

/* The nest of reduce_sum id's additions into `lanes` partial sums per
 * output element (ir_sum_lanes): operand 0 the partial sums in the
 * scratch, operands 1..nv the views st[0..nv) (strides over x, the
 * reduction's input: x itself, or a loop kernel's inputs). With lanes, x
 * is walked as its axes before the trailing reduced run, then that run as
 * [run / lanes, lanes]: the innermost axis picks the partial sum (stride 1
 * into them), so the additions are unit-stride and vectorize; the partial
 * sums stay in registers. */
static void sum_nest(Cg *cg, int id, int lanes, int chunks, int64_t run, int nv, const int64_t (*st)[IR_MAX_RANK],
                     Nest *nest) {
    const Shape *x = &cg->g->nodes[cg->g->nodes[id].in[0]].type.shape;
    int64_t out_st[IR_MAX_RANK];
    reduce_strides(cg, id, out_st);
    if (lanes == 1) {
        nest_start(nest, x, 1 + nv);
        memcpy(nest->st[0], out_st, sizeof out_st);
        for (int v = 0; v < nv; v++) memcpy(nest->st[1 + v], st[v], sizeof st[v]);
    } else {
        int red[IR_MAX_RANK], lead = x->rank; /* the axes before the trailing reduced run */
        reduced_axes(cg, id, red);
        while (lead > 0 && red[lead - 1]) lead--;
        Shape w = *x;
        w.rank = lead + 2; /* <= IR_MAX_RANK: ir_sum_lanes gives lanes only to smaller ranks */
        w.dim[lead] = run / lanes;
        w.dim[lead + 1] = lanes;
        nest_start(nest, &w, 1 + nv);
        for (int d = 0; d < lead; d++) nest->st[0][d] = out_st[d] * lanes;
        nest->st[0][lead] = 0;
        nest->st[0][lead + 1] = 1;
        for (int v = 0; v < nv; v++) {
            int64_t s = run_stride(x, lead, st[v]);
            memcpy(nest->st[1 + v], st[v], sizeof st[v]);
            nest->st[1 + v][lead] = s * lanes;
            nest->st[1 + v][lead + 1] = s;
        }
    }
    split_chunks(nest, chunks, ir_numel(&cg->g->nodes[id].type.shape) * lanes);
    kept_axes_outside(nest, lanes);
    jam_kept_axis(nest, lanes);
}

/* See cg.h. */
int cg_sum_begin(Cg *cg, int id, int nv, const int64_t (*st)[IR_MAX_RANK], Nest *nest) {
    const Node *n = &cg->g->nodes[id];
    const Shape *x = &cg->g->nodes[n->in[0]].type.shape;
    int64_t ny = ir_numel(&n->type.shape), run;
    int red[IR_MAX_RANK];
    reduced_axes(cg, id, red);
    int lanes = ir_sum_lanes(x, red, &run), chunks = ir_sum_chunks(x, red);
    cg_need_scratch(cg, 2 * chunks * lanes * ny);
    LLVMBuildMemSet(cg->b, cg->scratch, LLVMConstInt(cg->i8, 0, 0), cg_i64(cg, 8 * chunks * lanes * ny), 8);
    if (ir_numel(x) > 0) sum_nest(cg, id, lanes, chunks, run, nv, st, nest);
    return lanes;
}

/* See cg.h. */
void cg_sum_add(Cg *cg, LLVMValueRef off, LLVMValueRef v) {
    LLVMValueRef at = acc_addr(cg, off);
    LLVMValueRef a = LLVMBuildLoad2(cg->b, cg->f64, at, "");
    LLVMSetAlignment(a, 8);
    v = LLVMBuildFPExt(cg->b, v, cg->f64, "");
    LLVMSetAlignment(LLVMBuildStore(cg->b, LLVMBuildFAdd(cg->b, a, v, ""), at), 8);
}

/* acc[off[0]] += (double)x[off[1]]. */
static void sum_body(Cg *cg, LLVMValueRef off[CG_MAX_OPS], void *ctx) {
    int x = *(const int *)ctx;
    cg_sum_add(cg, off[0], cg_load(cg, x, off[1]));
}

/* See cg.h. */
void cg_sum_end(Cg *cg, int id, int lanes) {
    const Node *n = &cg->g->nodes[id];
    int red[IR_MAX_RANK];
    reduced_axes(cg, id, red);
    Shape flat = {1, {ir_numel(&n->type.shape)}};
    Nest nest;
    nest_start(&nest, &flat, 2);
    nest.st[0][0] = 1;
    nest.st[1][0] = lanes;
    RoundCtx c = {id, lanes, ir_sum_chunks(&cg->g->nodes[n->in[0]].type.shape, red), flat.dim[0] * lanes};
    cg_nest(cg, &nest, round_body, &c);
}

/* reduce_sum: x [..] -> y, in double, in ir_sum_lanes's order; 0 over
 * nothing. */
static void reduce_sum(Cg *cg, int id) {
    const Node *n = &cg->g->nodes[id];
    const Shape *x = &cg->g->nodes[n->in[0]].type.shape;
    if (ir_numel(&n->type.shape) == 0) return;
    int64_t st[1][IR_MAX_RANK];
    memset(st, 0, sizeof st);
    cg_strides(x, st[0]);
    Nest nest;
    int lanes = cg_sum_begin(cg, id, 1, (const int64_t(*)[IR_MAX_RANK])st, &nest);
    int in = n->in[0];
    if (ir_numel(x) > 0) cg_nest(cg, &nest, sum_body, &in);
    cg_sum_end(cg, id, lanes);
}

/* The body of reduce_max: y = (x > y || isnan(x)) ? x : y. */
typedef struct {
    int y, x;
} MaxCtx;

/* y[off[0]] = the larger of it and x[off[1]], NaN winning. */
static void max_body(Cg *cg, LLVMValueRef off[CG_MAX_OPS], void *ctx) {
    const MaxCtx *c = ctx;
    LLVMValueRef m = cg_load(cg, c->y, off[0]), v = cg_load(cg, c->x, off[1]);
    LLVMValueRef take = LLVMBuildOr(cg->b, LLVMBuildFCmp(cg->b, LLVMRealOGT, v, m, ""),
                                    LLVMBuildFCmp(cg->b, LLVMRealUNO, v, v, ""), "");
    cg_store(cg, c->y, off[0], LLVMBuildSelect(cg->b, take, v, m, ""));
}

/* The body of the -inf fill before reduce_max. */
static void neg_inf_body(Cg *cg, LLVMValueRef off[CG_MAX_OPS], void *ctx) {
    cg_store(cg, *(const int *)ctx, off[0], cg_f32(cg, -INFINITY));
}

/* reduce_max: x [..] -> y; -inf over nothing; a NaN wins. */
static void reduce_max(Cg *cg, int id) {
    const Node *n = &cg->g->nodes[id];
    const Shape *x = &cg->g->nodes[n->in[0]].type.shape;
    Nest nest;
    nest_start(&nest, &n->type.shape, 1);
    cg_strides(&n->type.shape, nest.st[0]);
    cg_nest(cg, &nest, neg_inf_body, &id);
    nest_start(&nest, x, 2);
    reduce_strides(cg, id, nest.st[0]);
    cg_strides(x, nest.st[1]);
    kept_axes_outside(&nest, 1);
    MaxCtx c = {id, n->in[0]};
    cg_nest(cg, &nest, max_body, &c);
}

/* reduce_sum or reduce_max. */
void cg_reduce(Cg *cg, int id) {
    if (cg->g->nodes[id].op == OP_REDUCE_SUM) reduce_sum(cg, id);
    else reduce_max(cg, id);
}

/* ---- data movement ---------------------------------------------------------- */

/* Bytes of node id's buffer. */
static int64_t bytes_of(Cg *cg, int id) {
    const TType *t = &cg->g->nodes[id].type;
    return ir_numel(&t->shape) * (t->dtype == DT_I64 ? 8 : 4);
}

/* reshape, broadcast, transpose, concat, slice, pad: see the top of the file. */
void cg_movement(Cg *cg, int id) {
    const Node *n = &cg->g->nodes[id];
    const Shape *y = &n->type.shape, *x = &cg->g->nodes[n->in[0]].type.shape;
    int64_t yst[IR_MAX_RANK], xst[IR_MAX_RANK], sst[IR_MAX_RANK];
    cg_strides(y, yst);
    cg_strides(x, xst);
    int64_t bytes = bytes_of(cg, id);
    switch ((int)n->op) {
    case OP_RESHAPE: /* a view (fusion.h) is its input's memory already */
        if (bytes && !(cg->plan->view_of && cg->plan->view_of[id] >= 0))
            LLVMBuildMemCpy(cg->b, cg_buffer(cg, id), 4, cg_buffer(cg, n->in[0]), 4, cg_i64(cg, bytes));
        break;
    case OP_BROADCAST:
        cg_bcast_strides(x, y, sst);
        cg_copy(cg, y, id, 0, yst, n->in[0], 0, sst);
        break;
    case OP_TRANSPOSE:
        for (int i = 0; i < y->rank; i++) sst[i] = xst[n->attr[i]];
        cg_copy(cg, y, id, 0, yst, n->in[0], 0, sst);
        break;
    case OP_CONCAT: {
        int64_t pos = 0, axis = n->attr[0];
        for (int k = 0; k < n->nin; k++) {
            const Shape *xk = &cg->g->nodes[n->in[k]].type.shape;
            cg_strides(xk, sst);
            cg_copy(cg, xk, id, pos * yst[axis], yst, n->in[k], 0, sst);
            pos += xk->dim[axis];
        }
        break;
    }
    case OP_SLICE: cg_copy(cg, y, id, 0, yst, n->in[0], n->attr[1] * xst[n->attr[0]], xst); break;
    case OP_PAD:
        if (bytes) LLVMBuildMemSet(cg->b, cg_buffer(cg, id), LLVMConstInt(cg->i8, 0, 0), cg_i64(cg, bytes), 4);
        cg_copy(cg, x, id, n->attr[1] * yst[n->attr[0]], yst, n->in[0], 0, xst);
        break;
    default: die("internal error: node %%%d (%s) is not data movement", id, ir_op_info[n->op].name);
    }
}
