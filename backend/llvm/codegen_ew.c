/* codegen_ew.c — loop kernels: fused elementwise ops and constant fills.
 *
 * One loop nest over the kernel's shape; each member is computed in turn
 * from its inputs, which are values of earlier members (in registers),
 * constants, or loads through numpy broadcast strides; kept members are
 * stored. The scalar code matches the interpreter (ir/ew_math.def) op for
 * op, in float, without fast-math flags, so LLVM keeps IEEE semantics. An
 * op without a lowering below calls its scalar function (rt.h), which is
 * the interpreter's; the lowerings here let loops vectorize:
 *
 *   exp, log, sqrt, pow, fabs,    llvm intrinsics (exp, log, pow, sin, cos
 *   floor, sin, cos               become the same libm calls the
 *                                 interpreter makes)
 *   tanh                          a call to tanhf
 *   rsqrt, sigmoid                1 / sqrt(x), 1 / (1 + exp(-x)), as written
 *   relu, step                    x > 0 (ordered: NaN gives 0)
 *   sign                          x > 0 ? 1 : x < 0 ? -1 : x (ordered)
 *   mod                           a call of its scalar function
 *   max, min                      isnan(a) || a > b ? a : b (NaN wins)
 *   gt, ge, eq                    ordered compares (NaN gives 0) as 1.0 / 0.0
 *   select                        c != 0 (unordered: NaN selects a)
 *   cast f32 -> i64               llvm.fptosi.sat: toward zero, NaN -> 0,
 *                                 saturating, exactly ops.def's rule
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "util.h"

/* 1.0f where the i1 is true, else 0.0f. */
static LLVMValueRef as_f32(Cg *cg, LLVMValueRef bit) { return LLVMBuildUIToFP(cg->b, bit, cg->f32, ""); }

/* isnan(a) || a OP b ? a : b — max and min. */
static LLVMValueRef nan_wins(Cg *cg, LLVMRealPredicate pred, LLVMValueRef a, LLVMValueRef b) {
    LLVMValueRef nan = LLVMBuildFCmp(cg->b, LLVMRealUNO, a, a, "");
    LLVMValueRef cmp = LLVMBuildFCmp(cg->b, pred, a, b, "");
    return LLVMBuildSelect(cg->b, LLVMBuildOr(cg->b, nan, cmp, ""), a, b, "");
}

/* cast of x from dtype `from` to the dtype `to`. */
static LLVMValueRef cast(Cg *cg, DType from, DType to, LLVMValueRef x) {
    if (from == to) return x;
    if (to == DT_F32) return LLVMBuildSIToFP(cg->b, x, cg->f32, "");
    LLVMTypeRef over[2] = {cg->i64, cg->f32};
    unsigned id = LLVMLookupIntrinsicID("llvm.fptosi.sat", 15);
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(cg->mod, id, over, 2);
    LLVMTypeRef ft = LLVMIntrinsicGetType(cg->ctx, id, over, 2);
    return LLVMBuildCall2(cg->b, ft, f, &x, 1, "");
}

/* The C function name of each op's scalar math (rt.h), by op. */
static const char *const ew_fn[OP_COUNT] = {
#define EW1(e, expr) [OP_##e] = "mmgc_ew_" #e,
#define EW2(e, expr) [OP_##e] = "mmgc_ew_" #e,
#include "ew_math.def"
#undef EW1
#undef EW2
};

/* A call of op's scalar function mmgc_ew_ENUM (the interpreter's math). */
static LLVMValueRef call_math(Cg *cg, const Node *n, LLVMValueRef x[3]) {
    if (!ew_fn[n->op]) die("internal error: op '%s' has no scalar math (ir/ew_math.def)", ir_op_info[n->op].name);
    LLVMTypeRef params[2] = {cg->f32, cg->f32};
    LLVMTypeRef ft = LLVMFunctionType(cg->f32, params, (unsigned)n->nin, 0);
    return LLVMBuildCall2(cg->b, ft, cg_declare(cg, ew_fn[n->op], ft), x, (unsigned)n->nin, "");
}

/* The value of one element of node n from its inputs' elements x[]: an
 * LLVM lowering for the ops that have one here (so loops vectorize), else
 * a call of the op's scalar function. */
static LLVMValueRef scalar(Cg *cg, const Node *n, LLVMValueRef x[3]) {
    LLVMBuilderRef b = cg->b;
    LLVMValueRef zero = cg_f32(cg, 0), one = cg_f32(cg, 1);
    switch ((int)n->op) {
    case OP_NEG: return LLVMBuildFNeg(b, x[0], "");
    case OP_EXP: return cg_intrinsic(cg, "llvm.exp", x[0], NULL);
    case OP_LOG: return cg_intrinsic(cg, "llvm.log", x[0], NULL);
    case OP_SQRT: return cg_intrinsic(cg, "llvm.sqrt", x[0], NULL);
    case OP_RSQRT: return LLVMBuildFDiv(b, one, cg_intrinsic(cg, "llvm.sqrt", x[0], NULL), "");
    case OP_TANH: return cg_libm(cg, "tanhf", x[0]);
    case OP_SIGMOID: {
        LLVMValueRef e = cg_intrinsic(cg, "llvm.exp", LLVMBuildFNeg(b, x[0], ""), NULL);
        return LLVMBuildFDiv(b, one, LLVMBuildFAdd(b, one, e, ""), "");
    }
    case OP_RELU: return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, x[0], zero, ""), x[0], zero, "");
    case OP_ABS: return cg_intrinsic(cg, "llvm.fabs", x[0], NULL);
    case OP_STEP: return as_f32(cg, LLVMBuildFCmp(b, LLVMRealOGT, x[0], zero, ""));
    case OP_SIGN: {
        LLVMValueRef neg = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, x[0], zero, ""), cg_f32(cg, -1), x[0], "");
        return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, x[0], zero, ""), one, neg, "");
    }
    case OP_FLOOR: return cg_intrinsic(cg, "llvm.floor", x[0], NULL);
    case OP_SIN: return cg_intrinsic(cg, "llvm.sin", x[0], NULL);
    case OP_COS: return cg_intrinsic(cg, "llvm.cos", x[0], NULL);
    case OP_STOP_GRADIENT: return x[0];
    case OP_CAST: return cast(cg, cg->g->nodes[n->in[0]].type.dtype, n->type.dtype, x[0]);
    case OP_ADD: return LLVMBuildFAdd(b, x[0], x[1], "");
    case OP_SUB: return LLVMBuildFSub(b, x[0], x[1], "");
    case OP_MUL: return LLVMBuildFMul(b, x[0], x[1], "");
    case OP_DIV: return LLVMBuildFDiv(b, x[0], x[1], "");
    case OP_MAX: return nan_wins(cg, LLVMRealOGT, x[0], x[1]);
    case OP_MIN: return nan_wins(cg, LLVMRealOLT, x[0], x[1]);
    case OP_POW: return cg_intrinsic(cg, "llvm.pow", x[0], x[1]);
    case OP_GT: return as_f32(cg, LLVMBuildFCmp(b, LLVMRealOGT, x[0], x[1], ""));
    case OP_GE: return as_f32(cg, LLVMBuildFCmp(b, LLVMRealOGE, x[0], x[1], ""));
    case OP_EQ:
        if (cg->g->nodes[n->in[0]].type.dtype == DT_I64)
            return as_f32(cg, LLVMBuildICmp(b, LLVMIntEQ, x[0], x[1], ""));
        return as_f32(cg, LLVMBuildFCmp(b, LLVMRealOEQ, x[0], x[1], ""));
    case OP_SELECT:
        return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealUNE, x[0], zero, ""), x[1], x[2], "");
    }
    return call_math(cg, n, x);
}

/* The value of constant node id (for i64: truncated, NaN 0, saturated). */
static LLVMValueRef const_value(Cg *cg, int id) {
    const Node *n = &cg->g->nodes[id];
    double v = n->value;
    if (n->type.dtype == DT_F32) return cg_f32(cg, (float)v);
    return cg_i64(cg, isnan(v) ? 0 : v >= 0x1p63 ? INT64_MAX : v < -0x1p63 ? INT64_MIN : (int64_t)v);
}

/* A loop kernel's operands: view[v] are the strides of the v-th distinct
 * way of reading a buffer over the kernel's shape (view 0: contiguous,
 * where every kept member is stored); at[m][j] is the view member m's
 * input j is loaded through (-1: a member's value or an inlined constant). */
typedef struct {
    const FusedKernel *k;
    int64_t view[CG_MAX_OPS][IR_MAX_RANK];
    int nview;
    int (*at)[3];
    int first;   /* the nest's operand of view 0: 1 when operand 0 is a reduction's partial sums */
} LoopCtx;

/* The view of strides st over shape y, added if new. A dim of 1 gets
 * stride 0 (its index is always 0), so that a shape read whole and read
 * broadcast ([64, 256, 1]: strides 256, 1, 1 and 256, 1, 0) is one view. */
static int view_of(LoopCtx *c, const Shape *y, int64_t st[IR_MAX_RANK]) {
    for (int d = 0; d < y->rank; d++)
        if (y->dim[d] == 1) st[d] = 0;
    for (int v = 0; v < c->nview; v++)
        if (!memcmp(c->view[v], st, sizeof c->view[v])) return v;
    if (c->nview == CG_MAX_OPS) die("internal error: a loop kernel reads more than %d shapes", CG_MAX_OPS);
    memcpy(c->view[c->nview], st, sizeof c->view[0]);
    return c->nview++;
}

/* The loop body: every member in order, from its inputs' values (loaded
 * through their views, or already in registers); kept ones stored. */
static void loop_body(Cg *cg, LLVMValueRef off[CG_MAX_OPS], void *ctx) {
    const LoopCtx *c = ctx;
    LLVMValueRef *view = off + c->first;
    int members = c->k->n - (c->k->reduce >= 0);
    for (int m = 0; m < members; m++) {
        int id = c->k->nodes[m];
        const Node *n = &cg->g->nodes[id];
        LLVMValueRef x[3] = {NULL, NULL, NULL}, v;
        for (int j = 0; j < n->nin; j++) {
            int in = n->in[j];
            if (c->at[m][j] >= 0) x[j] = cg_load(cg, in, view[c->at[m][j]]);
            else x[j] = cg->val[in] ? cg->val[in] : const_value(cg, in);
        }
        v = n->op == OP_CONST ? const_value(cg, id) : scalar(cg, n, x);
        cg->val[id] = v;
        if (cg->plan->kept[id]) cg_store(cg, id, view[0], v);
    }
    if (c->k->reduce >= 0) cg_sum_add(cg, off[0], cg->val[cg->g->nodes[c->k->reduce].in[0]]);
    for (int m = 0; m < members; m++) cg->val[c->k->nodes[m]] = NULL;
}

/* A loop kernel: one nest over its shape (see cg.h); with a reduce_sum,
 * the reduction's nest (fusion.h), its partial sums operand 0. */
void cg_loop(Cg *cg, const FusedKernel *k) {
    const Shape *y = &cg->g->nodes[k->nodes[0]].type.shape;
    int members = k->n - (k->reduce >= 0);
    LoopCtx c = {k, {{0}}, 0, xcalloc((size_t)k->n, sizeof *c.at), k->reduce >= 0};
    int64_t st[IR_MAX_RANK];
    memset(st, 0, sizeof st);
    cg_strides(y, st);
    view_of(&c, y, st);
    for (int m = 0; m < members; m++) {
        const Node *n = &cg->g->nodes[k->nodes[m]];
        for (int j = 0; j < n->nin; j++) {
            int in = n->in[j];
            c.at[m][j] = -1;
            if (cg->plan->kernel_of[in] == cg->plan->kernel_of[k->nodes[m]] || !cg->plan->kept[in]) continue;
            memset(st, 0, sizeof st);
            cg_bcast_strides(&cg->g->nodes[in].type.shape, y, st);
            c.at[m][j] = view_of(&c, y, st);
        }
    }
    Nest nest;
    if (k->reduce >= 0) {
        if (c.nview >= CG_MAX_OPS) die("internal error: a loop kernel with a reduction reads %d shapes", c.nview);
        int lanes = cg_sum_begin(cg, k->reduce, c.nview, (const int64_t(*)[IR_MAX_RANK])c.view, &nest);
        cg_nest(cg, &nest, loop_body, &c);
        cg_sum_end(cg, k->reduce, lanes);
    } else {
        nest_start(&nest, y, c.nview);
        memcpy(nest.st, c.view, sizeof c.view);
        cg_nest(cg, &nest, loop_body, &c);
    }
    free(c.at);
}
