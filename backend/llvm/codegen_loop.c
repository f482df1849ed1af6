/* codegen_loop.c — loop nests over strided operands.
 *
 * Every generated loop comes from cg_nest: elementwise ops, reductions and
 * data movement only choose the dims, each operand's strides and base
 * offset, and the body. Before emitting, the nest is simplified so that
 * LLVM sees few, long loops with constant trip counts:
 *
 *   dims of 1 are dropped (they move no operand);
 *   dims d and d+1 merge when every operand has st[d] = st[d+1] * dim[d+1]
 *   (it walks them as one contiguous run; a broadcast 0 stride merges with
 *   another 0 stride).
 *
 * Each loop is a rotated counting loop, i from 0 to n (n >= 1, a
 * constant), and the body's offsets are base + sum(i_d * st[d]), built
 * with nsw arithmetic so scalar evolution sees affine addresses.
 */
#include <string.h>

#include "cg.h"

/* A nest over s at offset 0 with all strides 0. */
void nest_start(Nest *n, const Shape *s, int nops) {
    memset(n, 0, sizeof *n);
    n->rank = s->rank;
    n->nops = nops;
    memcpy(n->dim, s->dim, sizeof n->dim);
}

/* st[d] = the product of the dims after d. */
void cg_strides(const Shape *s, int64_t st[IR_MAX_RANK]) {
    int64_t n = 1;
    for (int d = s->rank - 1; d >= 0; d--) {
        st[d] = n;
        n *= s->dim[d];
    }
}

/* Right-aligns s under out; a dim of 1 (or a missing one) gets stride 0. */
void cg_bcast_strides(const Shape *s, const Shape *out, int64_t st[IR_MAX_RANK]) {
    int64_t own[IR_MAX_RANK];
    cg_strides(s, own);
    int lead = out->rank - s->rank;
    for (int d = 0; d < out->rank; d++) {
        int sd = d - lead;
        st[d] = sd < 0 || s->dim[sd] == 1 ? 0 : own[sd];
    }
}

/* Drops dims of 1 and merges contiguous runs (see the top of the file). */
static void simplify(Nest *n) {
    Nest s = *n;
    s.rank = 0;
    for (int d = 0; d < n->rank; d++) {
        if (n->dim[d] == 1) continue;
        s.dim[s.rank] = n->dim[d];
        for (int k = 0; k < n->nops; k++) s.st[k][s.rank] = n->st[k][d];
        s.rank++;
    }
    Nest m = s;
    m.rank = 0;
    for (int d = 0; d < s.rank; d++) {
        int r = m.rank - 1, merge = r >= 0;
        for (int k = 0; k < s.nops && merge; k++) merge = m.st[k][r] == s.st[k][d] * s.dim[d];
        if (merge) {
            m.dim[r] *= s.dim[d];
            for (int k = 0; k < s.nops; k++) m.st[k][r] = s.st[k][d];
            continue;
        }
        m.dim[m.rank] = s.dim[d];
        for (int k = 0; k < s.nops; k++) m.st[k][m.rank] = s.st[k][d];
        m.rank++;
    }
    *n = m;
}

/* Emits loop d of the nest (and the ones inside it); off[k] holds each
 * operand's offset from the enclosing loops. */
static void emit_level(Cg *cg, const Nest *n, int d, LLVMValueRef off[CG_MAX_OPS], NestBody body,
                       void *ctx) {
    if (d == n->rank) {
        body(cg, off, ctx);
        return;
    }
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(cg->b);
    LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "loop");
    LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "done");
    LLVMBuildBr(cg->b, loop);
    LLVMPositionBuilderAtEnd(cg->b, loop);
    LLVMValueRef i = LLVMBuildPhi(cg->b, cg->i64, "i");
    LLVMValueRef inner[CG_MAX_OPS];
    for (int k = 0; k < n->nops; k++) {
        inner[k] = off[k];
        if (n->st[k][d] == 0) continue;
        LLVMValueRef step = n->st[k][d] == 1 ? i : LLVMBuildNSWMul(cg->b, i, cg_i64(cg, n->st[k][d]), "");
        inner[k] = LLVMBuildNSWAdd(cg->b, off[k], step, "");
    }
    emit_level(cg, n, d + 1, inner, body, ctx);
    LLVMValueRef next = LLVMBuildNUWAdd(cg->b, i, cg_i64(cg, 1), "");
    LLVMValueRef more = LLVMBuildICmp(cg->b, LLVMIntULT, next, cg_i64(cg, n->dim[d]), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(cg->b);
    LLVMBuildCondBr(cg->b, more, loop, exit);
    LLVMValueRef vals[2] = {cg_i64(cg, 0), next};
    LLVMBasicBlockRef from[2] = {pre, latch};
    LLVMAddIncoming(i, vals, from, 2);
    LLVMPositionBuilderAtEnd(cg->b, exit);
}

/* Simplifies the nest and emits it; nothing for an empty index space. */
void cg_nest(Cg *cg, const Nest *n, NestBody body, void *ctx) {
    for (int d = 0; d < n->rank; d++)
        if (n->dim[d] == 0) return;
    Nest s = *n;
    simplify(&s);
    LLVMValueRef off[CG_MAX_OPS];
    for (int k = 0; k < s.nops; k++) off[k] = cg_i64(cg, s.base[k]);
    emit_level(cg, &s, 0, off, body, ctx);
}

/* The body of cg_copy: operand 0 is the destination, 1 the source. */
typedef struct {
    int dst, src;
} CopyCtx;

/* dst[off[0]] = src[off[1]]. */
static void copy_body(Cg *cg, LLVMValueRef off[CG_MAX_OPS], void *ctx) {
    const CopyCtx *c = ctx;
    cg_store(cg, c->dst, off[0], cg_load(cg, c->src, off[1]));
}

/* Strided copy of every index of dims; see cg.h. */
void cg_copy(Cg *cg, const Shape *dims, int dst, int64_t doff, const int64_t dst_st[IR_MAX_RANK],
             int src, int64_t soff, const int64_t src_st[IR_MAX_RANK]) {
    Nest n;
    nest_start(&n, dims, 2);
    memcpy(n.st[0], dst_st, sizeof n.st[0]);
    memcpy(n.st[1], src_st, sizeof n.st[1]);
    n.base[0] = doff;
    n.base[1] = soff;
    CopyCtx c = {dst, src};
    cg_nest(cg, &n, copy_body, &c);
}
