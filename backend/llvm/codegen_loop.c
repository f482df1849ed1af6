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
 *   another 0 stride), and the merged dim is a loop.
 *
 * A dim marked unroll (a reduction's jammed outputs, codegen_shape.c) is
 * emitted as that many copies of the loops inside it, one per index.
 *
 * Each loop is a rotated counting loop, i from 0 to n (n >= 1, a
 * constant), and the body's offsets are base + sum(i_d * st[d]), built
 * with nsw arithmetic so scalar evolution sees affine addresses. The one
 * exception is the outermost loop of a nest run on the thread pool (see
 * cg.h): each task runs it over its own range lo..hi, values computed
 * from the task index; the loops inside keep their constant trip counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "util.h"

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
        s.unroll[s.rank] = n->unroll[d];
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
            m.unroll[r] = 0; /* a merged run is a loop again */
            for (int k = 0; k < s.nops; k++) m.st[k][r] = s.st[k][d];
            continue;
        }
        m.dim[m.rank] = s.dim[d];
        m.unroll[m.rank] = s.unroll[d];
        for (int k = 0; k < s.nops; k++) m.st[k][m.rank] = s.st[k][d];
        m.rank++;
    }
    *n = m;
}

/* Emits loop d of the nest (and the ones inside it); off[k] holds each
 * operand's offset from the enclosing loops. Loop 0 runs from lo to hi
 * (values, lo < hi) when lo is given, else every loop from 0 to its dim. */
static void emit_level(Cg *cg, const Nest *n, int d, LLVMValueRef off[CG_MAX_OPS], NestBody body, void *ctx,
                       LLVMValueRef lo, LLVMValueRef hi) {
    if (d == n->rank) {
        body(cg, off, ctx);
        return;
    }
    if (!lo && n->unroll[d]) { /* straight-line copies of the loops inside, index j a constant */
        for (int64_t j = 0; j < n->dim[d]; j++) {
            LLVMValueRef inner[CG_MAX_OPS];
            for (int k = 0; k < n->nops; k++)
                inner[k] = n->st[k][d] == 0 ? off[k] : LLVMBuildNSWAdd(cg->b, off[k], cg_i64(cg, j * n->st[k][d]), "");
            emit_level(cg, n, d + 1, inner, body, ctx, NULL, NULL);
        }
        return;
    }
    if (!lo) lo = cg_i64(cg, 0), hi = cg_i64(cg, n->dim[d]);
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
    emit_level(cg, n, d + 1, inner, body, ctx, NULL, NULL);
    LLVMValueRef next = LLVMBuildNUWAdd(cg->b, i, cg_i64(cg, 1), "");
    LLVMValueRef more = LLVMBuildICmp(cg->b, LLVMIntULT, next, hi, "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(cg->b);
    LLVMBuildCondBr(cg->b, more, loop, exit);
    LLVMValueRef vals[2] = {lo, next};
    LLVMBasicBlockRef from[2] = {pre, latch};
    LLVMAddIncoming(i, vals, from, 2);
    LLVMPositionBuilderAtEnd(cg->b, exit);
}

/* The operands' base offsets as values. */
static void base_offsets(Cg *cg, const Nest *n, LLVMValueRef off[CG_MAX_OPS]) {
    for (int k = 0; k < n->nops; k++) off[k] = cg_i64(cg, n->base[k]);
}

/* ---- parallel nests ---------------------------------------------------------- */

/* How many iterations of the outermost loop one task runs, or 0 when the
 * nest stays serial: it is small, or two iterations of loop 0 could write
 * the same element of operand 0 (its stride there is not larger than the
 * span the inner loops write). */
static int64_t par_chunk(const Nest *n) {
    if (n->rank == 0) return 0;
    int64_t total = 1, span = 0;
    for (int d = 0; d < n->rank; d++) total *= n->dim[d];
    for (int d = 1; d < n->rank; d++) {
        if (n->st[0][d] < 0) return 0;
        span += (n->dim[d] - 1) * n->st[0][d];
    }
    if (total < CG_PAR_MIN || n->st[0][0] <= span) return 0;
    int64_t inner = total / n->dim[0];
    int64_t chunk = inner >= CG_PAR_GRAIN ? 1 : (CG_PAR_GRAIN + inner - 1) / inner;
    return chunk < n->dim[0] ? chunk : 0;
}

/* The function a task runs, void (ptr args, i64 task) as RtTask:
 * args holds the kernel's buffers, then scratch and rnd. It runs
 * iterations [task * chunk, min(task * chunk + chunk, dim 0)) of loop 0.
 * The loop itself is built in an always-inlined function whose buffers
 * are noalias parameters, so the kernel's aliasing facts carry over. */
static LLVMValueRef task_function(Cg *cg, const Nest *n, int64_t chunk, NestBody body, void *ctx) {
    int nb = cg->nkbuf;
    char name[128];
    size_t len;
    const char *kname = LLVMGetValueName2(cg->fn, &len);
    LLVMTypeRef *p = xmalloc((size_t)(nb + 4) * sizeof *p);
    for (int i = 0; i < nb + 2; i++) p[i] = cg->ptr;
    p[nb + 2] = p[nb + 3] = cg->i64;
    LLVMTypeRef range_t = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), p, (unsigned)nb + 4, 0);
    snprintf(name, sizeof name, "%.*s.par%d.range", (int)len, kname, cg->npar);
    LLVMValueRef range = LLVMAddFunction(cg->mod, name, range_t);
    LLVMSetLinkage(range, LLVMInternalLinkage);
    LLVMAddAttributeAtIndex(range, LLVMAttributeFunctionIndex, cg_attr(cg, "nounwind"));
    LLVMAddAttributeAtIndex(range, LLVMAttributeFunctionIndex, cg_attr(cg, "alwaysinline"));
    for (int i = 0; i <= nb; i++) LLVMAddAttributeAtIndex(range, (unsigned)i + 1, cg_attr(cg, "noalias"));

    LLVMTypeRef task_p[2] = {cg->ptr, cg->i64};
    LLVMTypeRef task_t = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), task_p, 2, 0);
    snprintf(name, sizeof name, "%.*s.par%d", (int)len, kname, cg->npar++);
    LLVMValueRef task = LLVMAddFunction(cg->mod, name, task_t);
    LLVMSetLinkage(task, LLVMInternalLinkage);
    LLVMAddAttributeAtIndex(task, LLVMAttributeFunctionIndex, cg_attr(cg, "nounwind"));

    /* task: load the pointers, bound the range, call range. */
    LLVMValueRef args = LLVMGetParam(task, 0), t = LLVMGetParam(task, 1);
    LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, task, "entry"));
    LLVMValueRef *call = xmalloc((size_t)(nb + 4) * sizeof *call);
    for (int i = 0; i < nb + 2; i++) {
        LLVMValueRef at = LLVMBuildInBoundsGEP2(cg->b, cg->ptr, args, (LLVMValueRef[]){cg_i64(cg, i)}, 1, "");
        call[i] = LLVMBuildLoad2(cg->b, cg->ptr, at, "");
    }
    LLVMValueRef lo = LLVMBuildNSWMul(cg->b, t, cg_i64(cg, chunk), "lo");
    LLVMValueRef end = LLVMBuildNSWAdd(cg->b, lo, cg_i64(cg, chunk), "");
    LLVMValueRef past = LLVMBuildICmp(cg->b, LLVMIntSGT, end, cg_i64(cg, n->dim[0]), "");
    call[nb + 2] = lo;
    call[nb + 3] = LLVMBuildSelect(cg->b, past, cg_i64(cg, n->dim[0]), end, "hi");
    LLVMBuildCall2(cg->b, range_t, range, call, (unsigned)nb + 4, "");
    LLVMBuildRetVoid(cg->b);
    free(call);
    free(p);

    /* range: the nest over the kernel's buffers as its own parameters. */
    for (int i = 0; i < nb; i++) cg->buf[cg->kbuf[i]] = LLVMGetParam(range, (unsigned)i);
    cg->scratch = LLVMGetParam(range, (unsigned)nb);
    cg->rnd = LLVMGetParam(range, (unsigned)nb + 1);
    cg->fn = range;
    LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, range, "entry"));
    LLVMValueRef off[CG_MAX_OPS];
    base_offsets(cg, n, off);
    emit_level(cg, n, 0, off, body, ctx, LLVMGetParam(range, (unsigned)nb + 2), LLVMGetParam(range, (unsigned)nb + 3));
    LLVMBuildRetVoid(cg->b);
    return task;
}

/* Emits the nest as rt_parallel(tasks, task function, args) in the kernel
 * being built; the kernel's state in cg is restored around building the
 * task function. */
static void emit_parallel(Cg *cg, const Nest *n, int64_t chunk, NestBody body, void *ctx) {
    int nb = cg->nkbuf;
    LLVMValueRef fn = cg->fn, scratch = cg->scratch, rnd = cg->rnd;
    LLVMBasicBlockRef at = LLVMGetInsertBlock(cg->b);
    LLVMValueRef *bufs = xmalloc((size_t)(nb + 2) * sizeof *bufs);
    for (int i = 0; i < nb; i++) bufs[i] = cg->buf[cg->kbuf[i]];
    bufs[nb] = scratch, bufs[nb + 1] = rnd;

    LLVMValueRef task = task_function(cg, n, chunk, body, ctx);

    for (int i = 0; i < nb; i++) cg->buf[cg->kbuf[i]] = bufs[i];
    cg->fn = fn, cg->scratch = scratch, cg->rnd = rnd;
    LLVMPositionBuilderAtEnd(cg->b, at);
    LLVMValueRef args = cg_entry_alloca(cg, LLVMArrayType2(cg->ptr, (uint64_t)nb + 2), "par");
    for (int i = 0; i < nb + 2; i++) {
        LLVMValueRef slot = LLVMBuildInBoundsGEP2(cg->b, cg->ptr, args, (LLVMValueRef[]){cg_i64(cg, i)}, 1, "");
        LLVMBuildStore(cg->b, bufs[i], slot);
    }
    free(bufs);
    LLVMTypeRef p[3] = {cg->i64, cg->ptr, cg->ptr};
    LLVMTypeRef ft = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), p, 3, 0);
    LLVMValueRef call[3] = {cg_i64(cg, (n->dim[0] + chunk - 1) / chunk), task, args};
    LLVMBuildCall2(cg->b, ft, cg_declare(cg, "rt_parallel", ft), call, 3, "");
}

/* Simplifies the nest and emits it, on the thread pool when it is large
 * (see cg.h); nothing for an empty index space. */
void cg_nest(Cg *cg, const Nest *n, NestBody body, void *ctx) {
    for (int d = 0; d < n->rank; d++)
        if (n->dim[d] == 0) return;
    Nest s = *n;
    simplify(&s);
    int64_t chunk = cg->kbuf ? par_chunk(&s) : 0;
    if (chunk) {
        emit_parallel(cg, &s, chunk, body, ctx);
        return;
    }
    LLVMValueRef off[CG_MAX_OPS];
    base_offsets(cg, &s, off);
    emit_level(cg, &s, 0, off, body, ctx, NULL, NULL);
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
