/* codegen_rt.c — calls to the runtime helpers (rt.h).
 *
 * Contractions, pooling, gather/scatter and random numbers are one call
 *
 *   %status = call i32 @mmgc_rt_call(ptr @desc.<id>, ptr %out, ptr %ins, ptr %scratch, ptr %rnd)
 *
 * where @desc.<id> is a private constant RtDesc describing the node (op,
 * attributes, input and output shapes) and %ins a stack array of the input
 * buffers. The %RtDesc struct type mirrors the C struct byte for byte.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cg.h"
#include "rt.h"
#include "rt_desc.h"
#include "util.h"

/* The C layout, which the packed LLVM struct below spells out byte for
 * byte (with the padding before `shape` as an explicit i8 array), so the
 * constant means the same under any data layout. */
#define DESC_PAD (offsetof(RtDesc, shape) - offsetof(RtDesc, rank) - sizeof(((RtDesc *)0)->rank))
_Static_assert(offsetof(RtDesc, nin) == 4 && offsetof(RtDesc, nattr) == 8 && offsetof(RtDesc, rank) == 12,
               "RtDesc starts with three int32 fields");
_Static_assert(offsetof(RtDesc, attr) == offsetof(RtDesc, shape) + sizeof(((RtDesc *)0)->shape) &&
                   offsetof(RtDesc, value) == offsetof(RtDesc, attr) + sizeof(((RtDesc *)0)->attr),
               "RtDesc has no padding after shape");

/* %RtDesc = <{ i32 op, i32 nin, i32 nattr, [4 x i32] rank, [pad x i8],
 *              [4 x [6 x i64]] shape, [8 x i64] attr, double value }>,
 * created once per module. */
LLVMTypeRef cg_desc_type(Cg *cg) {
    if (cg->desc) return cg->desc;
    LLVMTypeRef shape_row = LLVMArrayType2(cg->i64, RT_MAX_RANK);
    LLVMTypeRef fields[8] = {cg->i32, cg->i32, cg->i32, LLVMArrayType2(cg->i32, RT_MAX_IN + 1),
                             LLVMArrayType2(cg->i8, DESC_PAD), LLVMArrayType2(shape_row, RT_MAX_IN + 1),
                             LLVMArrayType2(cg->i64, 8), cg->f64};
    cg->desc = LLVMStructCreateNamed(cg->ctx, "RtDesc");
    LLVMStructSetBody(cg->desc, fields, 8, 1);
    return cg->desc;
}

/* An LLVM array constant of n integers of type t. */
static LLVMValueRef int_array(LLVMTypeRef t, const int64_t *v, int n) {
    LLVMValueRef e[16];
    for (int i = 0; i < n; i++) e[i] = LLVMConstInt(t, (unsigned long long)v[i], 1);
    return LLVMConstArray2(t, e, (uint64_t)n);
}

/* The private constant global @desc.<id> holding d. */
static LLVMValueRef desc_global(Cg *cg, int id, const RtDesc *d) {
    LLVMTypeRef ty = cg_desc_type(cg);
    int64_t rank[RT_MAX_IN + 1];
    LLVMValueRef rows[RT_MAX_IN + 1];
    for (int k = 0; k <= RT_MAX_IN; k++) {
        rank[k] = d->rank[k];
        rows[k] = int_array(cg->i64, d->shape[k], RT_MAX_RANK);
    }
    LLVMValueRef f[8] = {
        LLVMConstInt(cg->i32, (unsigned long long)d->op, 1),
        LLVMConstInt(cg->i32, (unsigned long long)d->nin, 1),
        LLVMConstInt(cg->i32, (unsigned long long)d->nattr, 1),
        int_array(cg->i32, rank, RT_MAX_IN + 1),
        LLVMConstNull(LLVMArrayType2(cg->i8, DESC_PAD)),
        LLVMConstArray2(LLVMArrayType2(cg->i64, RT_MAX_RANK), rows, RT_MAX_IN + 1),
        int_array(cg->i64, d->attr, 8),
        LLVMConstReal(cg->f64, d->value),
    };
    char name[32];
    snprintf(name, sizeof name, "desc.%d", id);
    LLVMValueRef g = LLVMAddGlobal(cg->mod, ty, name);
    LLVMSetInitializer(g, LLVMConstNamedStruct(ty, f, 8));
    LLVMSetGlobalConstant(g, 1);
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
    LLVMSetAlignment(g, 8);
    return g;
}

/* One helper call for node id; returns its i32 status. A convolution
 * with an epilogue (fusion_epilogue) passes its bias as a third input
 * and says in attr[RT_ATTR_EPILOGUE] whether a ReLU follows. */
LLVMValueRef cg_rt_call(Cg *cg, int id) {
    const Node *n = &cg->g->nodes[id];
    RtDesc d;
    int in[RT_MAX_IN], nin = n->nin, bias, relu;
    if (rt_desc_of(cg->g, id, &d)) die("node %%%d: %d inputs do not fit an RtDesc", id, n->nin);
    for (int k = 0; k < nin; k++) in[k] = n->in[k];
    if (fusion_epilogue(cg->g, cg->plan, id, &bias, &relu) >= 0) {
        if (rt_desc_add_epilogue(&d, &cg->g->nodes[bias].type.shape, relu))
            die("node %%%d: no room for its epilogue in an RtDesc", id);
        in[nin++] = bias;
    }
    cg_need_scratch(cg, rt_scratch_floats(&d));
    LLVMValueRef ins = LLVMConstNull(cg->ptr);
    if (nin > 0) {
        ins = cg_entry_alloca(cg, LLVMArrayType2(cg->ptr, (uint64_t)nin), "ins");
        for (int k = 0; k < nin; k++) {
            LLVMValueRef at = LLVMBuildInBoundsGEP2(cg->b, cg->ptr, ins, (LLVMValueRef[]){cg_i64(cg, k)}, 1, "");
            LLVMBuildStore(cg->b, cg_buffer(cg, in[k]), at);
        }
    }
    LLVMTypeRef params[5] = {cg->ptr, cg->ptr, cg->ptr, cg->ptr, cg->ptr};
    LLVMTypeRef ft = LLVMFunctionType(cg->i32, params, 5, 0);
    LLVMValueRef f = cg_declare(cg, "mmgc_rt_call", ft);
    LLVMValueRef args[5] = {desc_global(cg, id, &d), cg_buffer(cg, id), ins, cg->scratch, cg->rnd};
    return LLVMBuildCall2(cg->b, ft, f, args, 5, "status");
}
