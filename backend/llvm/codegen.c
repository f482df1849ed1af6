/* codegen.c — lowers a verified Graph to an LLVM module (see cg.h for the
 * module's interface).
 *
 * The graph is cut into the kernels of its fusion plan, each kernel
 * becomes a function over noalias buffers, and mmgc_step calls them in
 * order, loading every buffer pointer from bufs[] and
 * returning the first nonzero status of a runtime helper (after storing
 * the failing node in mmgc_fail_node). lower_node picks each node's
 * lowering by its op's class.
 *
 * One step may be lowered as several modules (llvm_codegen_part), so that
 * threads optimize and compile them at once: part 0 has mmgc_step and a
 * first run of kernels, each other part a further run; a kernel called
 * from another part's module is external (hidden), the rest internal.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>

#include "cg.h"
#include "util.h"

/* ---- helpers the lowerings share --------------------------------------------- */

/* float or i64. */
LLVMTypeRef cg_elem(Cg *cg, DType d) { return d == DT_I64 ? cg->i64 : cg->f32; }

/* An i64 constant. */
LLVMValueRef cg_i64(Cg *cg, int64_t v) { return LLVMConstInt(cg->i64, (unsigned long long)v, 1); }
/* A float constant (v rounded to float). */
LLVMValueRef cg_f32(Cg *cg, double v) { return LLVMConstReal(cg->f32, v); }

/* The node whose buffer holds id's value (fusion_storage): the PARAM or
 * STATE an update is computed into, the value a loop member is computed
 * over (one buffer, so the kernel's noalias buffers do not overlap), else
 * id itself. */
static int storage_of(const Cg *cg, int id) { return fusion_storage(cg->plan, id); }

/* See cg.h. */
LLVMValueRef cg_buffer(Cg *cg, int node) { return cg->buf[storage_of(cg, node)]; }

/* &buf[off] of node's buffer (its storage's), inbounds. */
LLVMValueRef cg_addr(Cg *cg, int node, LLVMValueRef off) {
    LLVMTypeRef t = cg_elem(cg, cg->g->nodes[node].type.dtype);
    return LLVMBuildInBoundsGEP2(cg->b, t, cg_buffer(cg, node), &off, 1, "");
}

/* buf[off], aligned to the element size. */
LLVMValueRef cg_load(Cg *cg, int node, LLVMValueRef off) {
    DType d = cg->g->nodes[node].type.dtype;
    LLVMValueRef v = LLVMBuildLoad2(cg->b, cg_elem(cg, d), cg_addr(cg, node, off), "");
    LLVMSetAlignment(v, d == DT_I64 ? 8 : 4);
    return v;
}

/* buf[off] = v. */
void cg_store(Cg *cg, int node, LLVMValueRef off, LLVMValueRef v) {
    LLVMValueRef s = LLVMBuildStore(cg->b, v, cg_addr(cg, node, off));
    LLVMSetAlignment(s, cg->g->nodes[node].type.dtype == DT_I64 ? 8 : 4);
}

/* name.f32(a[, b]): the intrinsic overloaded on float. */
LLVMValueRef cg_intrinsic(Cg *cg, const char *name, LLVMValueRef a, LLVMValueRef b) {
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    if (!id) die("no LLVM intrinsic %s", name);
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(cg->mod, id, &cg->f32, 1);
    LLVMTypeRef ft = LLVMIntrinsicGetType(cg->ctx, id, &cg->f32, 1);
    LLVMValueRef args[2] = {a, b};
    return LLVMBuildCall2(cg->b, ft, f, args, b ? 2 : 1, "");
}

/* name(a) for a libm float function, declared on first use. */
LLVMValueRef cg_libm(Cg *cg, const char *name, LLVMValueRef a) {
    LLVMTypeRef ft = LLVMFunctionType(cg->f32, &cg->f32, 1, 0);
    return LLVMBuildCall2(cg->b, ft, cg_declare(cg, name, ft), &a, 1, "");
}

/* The external function name of type ft, declared nounwind on first use. */
LLVMValueRef cg_declare(Cg *cg, const char *name, LLVMTypeRef ft) {
    LLVMValueRef f = LLVMGetNamedFunction(cg->mod, name);
    if (!f) {
        f = LLVMAddFunction(cg->mod, name, ft);
        LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, cg_attr(cg, "nounwind"));
    }
    return f;
}

/* An alloca at the top of the current function's entry block. */
LLVMValueRef cg_entry_alloca(Cg *cg, LLVMTypeRef t, const char *name) {
    LLVMBuilderRef b = LLVMCreateBuilderInContext(cg->ctx);
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(cg->fn);
    LLVMValueRef first = LLVMGetFirstInstruction(entry);
    if (first) LLVMPositionBuilderBefore(b, first);
    else LLVMPositionBuilderAtEnd(b, entry);
    LLVMValueRef a = LLVMBuildAlloca(b, t, name);
    LLVMDisposeBuilder(b);
    return a;
}

/* Keeps the largest scratch request of any kernel. */
void cg_need_scratch(Cg *cg, int64_t floats) {
    if (floats > cg->scratch_floats) cg->scratch_floats = floats;
}

/* An enum attribute ("noalias", "nounwind") with no value. */
LLVMAttributeRef cg_attr(Cg *cg, const char *name) {
    return LLVMCreateEnumAttribute(cg->ctx, LLVMGetEnumAttributeKindForName(name, strlen(name)), 0);
}

/* ---- kernels ------------------------------------------------------------------ */


/* The buffers kernel k touches, each once: the memory of the kept values
 * among its members and their inputs, in order of first use (an update
 * computed in place and the node it updates are one buffer). Returns the
 * count; ids go to nodes[] (room for all). */
static int kernel_buffers(const Cg *cg, const FusedKernel *k, int *nodes, char *seen) {
    const Graph *g = cg->g;
    int n = 0, bias, relu;
    for (int i = 0; i < k->n; i++) {
        const Node *nd = &g->nodes[k->nodes[i]];
        for (int j = -1; j < nd->nin; j++) {
            int id = j < 0 ? k->nodes[i] : nd->in[j];
            if (!cg->plan->kept[id]) continue;
            id = storage_of(cg, id);
            if (!seen[id]) seen[id] = 1, nodes[n++] = id;
        }
    }
    /* a convolution's epilogue reads its bias (and writes where the convolution does) */
    if (!k->loop && fusion_epilogue(g, cg->plan, k->nodes[0], &bias, &relu) >= 0 && !seen[storage_of(cg, bias)])
        seen[storage_of(cg, bias)] = 1, nodes[n++] = storage_of(cg, bias);
    for (int i = 0; i < n; i++) seen[nodes[i]] = 0;
    return n;
}

/* Emits node id into the current kernel, by its op's class (ops.def).
 * Returns the helper's i32 status, or NULL for nodes that cannot fail. */
static LLVMValueRef lower_node(Cg *cg, int id) {
    Op op = cg->g->nodes[id].op;
    switch (ir_op_info[op].cls) {
    case OC_SOURCE:
        if (ir_is_external(op)) return NULL; /* filled from outside */
        if (op == OP_CONST) break;           /* loop kernels: cg_loop */
        return cg_rt_call(cg, id);           /* random numbers, iota */
    case OC_EW: break;
    case OC_REDUCE: cg_reduce(cg, id); return NULL;
    case OC_SHAPE: cg_movement(cg, id); return NULL;
    case OC_CONTRACT: case OC_INDEX: return cg_rt_call(cg, id);
    }
    die("internal error: node %%%d (%s) is not a kernel of its own", id, ir_op_info[op].name);
}

/* 1 if kernel k returns a helper's status (lower_node returns one): a
 * single node that calls a runtime helper. */
static int kernel_can_fail(const Cg *cg, const FusedKernel *k) {
    if (k->loop) return 0;
    Op op = cg->g->nodes[k->nodes[0]].op;
    switch (ir_op_info[op].cls) {
    case OC_SOURCE: return !ir_is_external(op) && op != OP_CONST;
    case OC_CONTRACT: case OC_INDEX: return 1;
    case OC_EW: case OC_REDUCE: case OC_SHAPE: return 0;
    }
    return 0;
}

/* The kernel's function type: i32 (one ptr per buffer, scratch, rnd). */
static LLVMTypeRef kernel_type(Cg *cg, int nbuf) {
    LLVMTypeRef *p = xmalloc((size_t)(nbuf + 2) * sizeof *p);
    for (int i = 0; i < nbuf + 2; i++) p[i] = cg->ptr;
    LLVMTypeRef t = LLVMFunctionType(cg->i32, p, (unsigned)nbuf + 2, 0);
    free(p);
    return t;
}

/* Kernel k's function over buffers bufs[0..nbuf), declared: internal
 * when this module defines it and calls it (part 0), external when another
 * part's module calls it (the step is in part 0) or defines it. */
static LLVMValueRef kernel_function(Cg *cg, const FusedKernel *k, int nbuf, int owner) {
    const Node *first = &cg->g->nodes[k->nodes[0]];
    char name[96];
    snprintf(name, sizeof name, "k%d_%s", k->nodes[0], k->loop ? "loop" : ir_op_info[first->op].name);
    LLVMValueRef fn = LLVMAddFunction(cg->mod, name, kernel_type(cg, nbuf));
    if (owner == 0) LLVMSetLinkage(fn, LLVMInternalLinkage);
    else LLVMSetVisibility(fn, LLVMHiddenVisibility);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, cg_attr(cg, "nounwind"));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, cg_attr(cg, "noinline"));
    for (int i = 0; i <= nbuf; i++) LLVMAddAttributeAtIndex(fn, (unsigned)i + 1, cg_attr(cg, "noalias"));
    return fn;
}

/* Builds the body of kernel k, fn over buffers bufs[0..nbuf). */
static void build_kernel(Cg *cg, const FusedKernel *k, LLVMValueRef fn, const int *bufs, int nbuf) {
    for (int i = 0; i < nbuf; i++) {
        char pname[24];
        snprintf(pname, sizeof pname, "n%d", bufs[i]);
        cg->buf[bufs[i]] = LLVMGetParam(fn, (unsigned)i);
        LLVMSetValueName2(cg->buf[bufs[i]], pname, strlen(pname));
    }
    cg->scratch = LLVMGetParam(fn, (unsigned)nbuf);
    cg->rnd = LLVMGetParam(fn, (unsigned)nbuf + 1);
    LLVMSetValueName2(cg->scratch, "scratch", 7);
    LLVMSetValueName2(cg->rnd, "rnd", 3);
    cg->fn = fn;
    cg->kbuf = bufs;
    cg->nkbuf = nbuf;
    cg->npar = 0;
    LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry"));
    /* a loop kernel cannot fail; any other kernel is one node, whose
     * helper's status (if it calls one) is the kernel's */
    LLVMValueRef status = NULL;
    if (k->loop) cg_loop(cg, k);
    else status = lower_node(cg, k->nodes[0]);
    if ((status != NULL) != kernel_can_fail(cg, k))
        die("internal error: kernel of node %%%d: kernel_can_fail disagrees with its lowering", k->nodes[0]);
    LLVMBuildRet(cg->b, status ? status : LLVMConstInt(cg->i32, 0, 0));
    for (int i = 0; i < nbuf; i++) cg->buf[bufs[i]] = NULL;
}

/* 1 if kernel k writes an update into its PARAM or STATE. */
static int writes_in_place(const Cg *cg, const FusedKernel *k) {
    for (int i = 0; i < k->n; i++)
        if (fusion_update_into(cg->plan, k->nodes[i]) >= 0) return 1;
    return 0;
}

/* In the step, before a kernel that writes in place: continues at a new
 * block that calls it when the guard's value (KernelPlan.guard, one f32)
 * is finite; returns the block after it, where both ways meet. */
static LLVMBasicBlockRef guard_kernel(Cg *cg, LLVMValueRef step) {
    LLVMValueRef table = LLVMGetParam(step, 0);
    LLVMValueRef at = LLVMBuildInBoundsGEP2(cg->b, cg->ptr, table, (LLVMValueRef[]){cg_i64(cg, cg->plan->guard)}, 1, "");
    LLVMValueRef v = LLVMBuildLoad2(cg->b, cg->f32, LLVMBuildLoad2(cg->b, cg->ptr, at, "guard"), "loss");
    LLVMValueRef mag = cg_intrinsic(cg, "llvm.fabs", v, NULL);
    LLVMValueRef finite = LLVMBuildFCmp(cg->b, LLVMRealOLT, mag, cg_f32(cg, INFINITY), "finite");
    LLVMBasicBlockRef run = LLVMAppendBasicBlockInContext(cg->ctx, step, "update");
    LLVMBasicBlockRef after = LLVMAppendBasicBlockInContext(cg->ctx, step, "after_update");
    LLVMBuildCondBr(cg->b, finite, run, after);
    LLVMPositionBuilderAtEnd(cg->b, run);
    return after;
}

/* ---- mmgc_step ------------------------------------------------------------------ */

/* With cg->profile: a call of void name(i32 k), the profiling mark of
 * kernel k (rt_prof.h). */
static void prof_mark(Cg *cg, const char *name, int k) {
    if (!cg->profile) return;
    LLVMTypeRef ft = LLVMFunctionType(LLVMVoidTypeInContext(cg->ctx), &cg->i32, 1, 0);
    LLVMValueRef arg = LLVMConstInt(cg->i32, (unsigned long long)k, 0);
    LLVMBuildCall2(cg->b, ft, cg_declare(cg, name, ft), &arg, 1, "");
}

/* Calls kernel fn (the plan's kernel k) from the step: loads its buffers
 * from bufs[], passes scratch and rnd (between the profiling marks, if
 * any, so the loads count as the kernel's); if it can fail, returns its status after recording the
 * kernel's first node in @mmgc_fail_node. */
static void call_kernel(Cg *cg, LLVMValueRef step, LLVMValueRef fn, int k, const int *bufs, int nbuf, int can_fail,
                        int node, LLVMValueRef fail_node) {
    prof_mark(cg, "mmgc_prof_enter", k);
    LLVMValueRef *args = xmalloc((size_t)(nbuf + 2) * sizeof *args);
    LLVMValueRef table = LLVMGetParam(step, 0);
    for (int i = 0; i < nbuf; i++) {
        LLVMValueRef at = LLVMBuildInBoundsGEP2(cg->b, cg->ptr, table, (LLVMValueRef[]){cg_i64(cg, bufs[i])}, 1, "");
        char name[24];
        snprintf(name, sizeof name, "b%d", bufs[i]);
        args[i] = LLVMBuildLoad2(cg->b, cg->ptr, at, name);
    }
    args[nbuf] = LLVMGetParam(step, 2);
    args[nbuf + 1] = LLVMGetParam(step, 1);
    LLVMValueRef status = LLVMBuildCall2(cg->b, kernel_type(cg, nbuf), fn, args, (unsigned)nbuf + 2, "");
    prof_mark(cg, "mmgc_prof_leave", k);
    free(args);
    if (!can_fail) return;
    LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(cg->ctx, step, "fail");
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(cg->ctx, step, "ok");
    LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntNE, status, LLVMConstInt(cg->i32, 0, 0), ""), fail, ok);
    LLVMPositionBuilderAtEnd(cg->b, fail);
    LLVMBuildStore(cg->b, LLVMConstInt(cg->i32, (unsigned long long)node, 1), fail_node);
    LLVMBuildRet(cg->b, status);
    LLVMPositionBuilderAtEnd(cg->b, ok);
}

/* Declares @mmgc_fail_node = global i32 -1 and
 * i32 @mmgc_step(ptr noalias %bufs, ptr %rnd, ptr noalias %scratch). */
static LLVMValueRef step_function(Cg *cg, LLVMValueRef *fail_node) {
    *fail_node = LLVMAddGlobal(cg->mod, cg->i32, "mmgc_fail_node");
    LLVMSetInitializer(*fail_node, LLVMConstInt(cg->i32, (unsigned long long)-1, 1));
    LLVMTypeRef p[3] = {cg->ptr, cg->ptr, cg->ptr};
    LLVMValueRef step = LLVMAddFunction(cg->mod, "mmgc_step", LLVMFunctionType(cg->i32, p, 3, 0));
    LLVMAddAttributeAtIndex(step, LLVMAttributeFunctionIndex, cg_attr(cg, "nounwind"));
    LLVMAddAttributeAtIndex(step, 1, cg_attr(cg, "noalias"));
    LLVMAddAttributeAtIndex(step, 3, cg_attr(cg, "noalias"));
    LLVMSetValueName2(LLVMGetParam(step, 0), "bufs", 4);
    LLVMSetValueName2(LLVMGetParam(step, 1), "rnd", 3);
    LLVMSetValueName2(LLVMGetParam(step, 2), "scratch", 7);
    return step;
}

/* What compiling kernel k is taken to cost, in the units of
 * kernel_parts: its nodes and a function's fixed cost. */
static double kernel_weight(const FusedKernel *k) { return 4.0 + k->n; }

/* part[i] = the part (of nparts) whose module defines kernel i: runs of
 * consecutive kernels of about equal compile cost, part 0 also holding
 * mmgc_step, weighed as 3 per kernel it calls (its loads and calls). */
static void kernel_parts(const KernelPlan *plan, int nparts, int *part) {
    double total = 3.0 * plan->nk, run = total;
    for (int i = 0; i < plan->nk; i++) total += kernel_weight(&plan->k[i]);
    for (int i = 0; i < plan->nk; i++) {
        double w = kernel_weight(&plan->k[i]);
        int p = (int)((run + w / 2) * nparts / total);
        part[i] = p < nparts ? p : nparts - 1;
        run += w;
    }
}

/* Builds the kernels of part cg->part (of cg->nparts) and, in part 0, the
 * step that calls them all (the others' declared). */
static void build_module(Cg *cg) {
    const Graph *g = cg->g;
    const FusedKernel *ks = cg->plan->k;
    int nk = cg->plan->nk;
    int *bufs = xmalloc(((size_t)g->nnodes + 1) * sizeof *bufs), *part = xmalloc(((size_t)nk + 1) * sizeof *part);
    char *seen = xcalloc((size_t)g->nnodes + 1, 1);
    kernel_parts(cg->plan, cg->nparts, part);
    LLVMValueRef fail_node = NULL, step = cg->part == 0 ? step_function(cg, &fail_node) : NULL;
    LLVMBasicBlockRef body = step ? LLVMAppendBasicBlockInContext(cg->ctx, step, "entry") : NULL;
    for (int i = 0; i < nk; i++) {
        if (fusion_in_call(cg->plan, i)) continue; /* computed in a convolution's call */
        if (!step && part[i] != cg->part) continue;
        int nbuf = kernel_buffers(cg, &ks[i], bufs, seen);
        LLVMValueRef fn = kernel_function(cg, &ks[i], nbuf, part[i]);
        if (part[i] == cg->part) build_kernel(cg, &ks[i], fn, bufs, nbuf);
        if (!step) continue;
        LLVMPositionBuilderAtEnd(cg->b, body);
        LLVMBasicBlockRef after = cg->plan->guard >= 0 && writes_in_place(cg, &ks[i]) ? guard_kernel(cg, step) : NULL;
        call_kernel(cg, step, fn, i, bufs, nbuf, kernel_can_fail(cg, &ks[i]), ks[i].nodes[0], fail_node);
        if (after) {
            LLVMBuildBr(cg->b, after);
            LLVMPositionBuilderAtEnd(cg->b, after);
        }
        body = LLVMGetInsertBlock(cg->b);
    }
    if (step) {
        LLVMPositionBuilderAtEnd(cg->b, body);
        LLVMBuildRet(cg->b, LLVMConstInt(cg->i32, 0, 0));
    }
    free(bufs);
    free(part);
    free(seen);
}

/* Lowers g into a new module; see cg.h. */
int llvm_codegen(const Graph *g, const KernelPlan *plan, int profile, LLVMContextRef ctx, LLVMModuleRef *out,
                 int64_t *scratch_floats, char *err, size_t errlen) {
    return llvm_codegen_part(g, plan, profile, 0, 1, ctx, out, scratch_floats, err, errlen);
}

/* Part `part` of nparts into a new module; see cg.h. */
int llvm_codegen_part(const Graph *g, const KernelPlan *plan, int profile, int part, int nparts, LLVMContextRef ctx,
                      LLVMModuleRef *out, int64_t *scratch_floats, char *err, size_t errlen) {
    Cg cg;
    memset(&cg, 0, sizeof cg);
    cg.g = g;
    cg.plan = plan;
    cg.profile = profile;
    cg.part = part;
    cg.nparts = nparts;
    cg.ctx = ctx;
    cg.i1 = LLVMInt1TypeInContext(ctx);
    cg.i8 = LLVMInt8TypeInContext(ctx);
    cg.i32 = LLVMInt32TypeInContext(ctx);
    cg.i64 = LLVMInt64TypeInContext(ctx);
    cg.f32 = LLVMFloatTypeInContext(ctx);
    cg.f64 = LLVMDoubleTypeInContext(ctx);
    cg.ptr = LLVMPointerTypeInContext(ctx, 0);
    cg.mod = LLVMModuleCreateWithNameInContext(g->name ? g->name : "mmgc", ctx);
    cg.b = LLVMCreateBuilderInContext(ctx);
    cg.buf = xcalloc((size_t)g->nnodes + 1, sizeof *cg.buf);
    cg.val = xcalloc((size_t)g->nnodes + 1, sizeof *cg.val);
    build_module(&cg);
    LLVMDisposeBuilder(cg.b);
    free(cg.buf);
    free(cg.val);
    char *msg = NULL;
    if (LLVMVerifyModule(cg.mod, LLVMReturnStatusAction, &msg)) {
        LLVMDisposeModule(cg.mod);
        return llvm_fail(err, errlen, "internal error: generated module does not verify", NULL, msg);
    }
    LLVMDisposeMessage(msg);
    *out = cg.mod;
    *scratch_floats = cg.scratch_floats;
    return 0;
}
