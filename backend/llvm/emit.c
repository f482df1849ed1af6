/* emit.c — --emit=llvm and --emit=asm: the optimized module as text.
 *
 * The module is built in a context of its own, optimized exactly as the
 * JIT's is (default<O3> for the host CPU), printed, and freed with the
 * context. Ownership stays here: the context owns the module's types, the
 * module is disposed before the context, and LLVM's strings and memory
 * buffers are disposed as soon as they are written out.
 */
#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>
#include <stdio.h>

#include "cg.h"
#include "llvm_backend.h"
#include "passes.h"

/* Writes the IR or the host assembly of an optimized module to out. */
static int print(LLVMModuleRef mod, LLVMTargetMachineRef tm, int asm_not_ir, FILE *out, char *err,
                 size_t errlen) {
    if (!asm_not_ir) {
        char *text = LLVMPrintModuleToString(mod);
        fputs(text, out);
        LLVMDisposeMessage(text);
        return 0;
    }
    LLVMMemoryBufferRef buf;
    char *msg = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMAssemblyFile, &msg, &buf))
        return llvm_fail(err, errlen, "cannot emit assembly", NULL, msg);
    fwrite(LLVMGetBufferStart(buf), 1, LLVMGetBufferSize(buf), out);
    LLVMDisposeMemoryBuffer(buf);
    return 0;
}

/* See llvm_backend.h. */
int llvm_emit(const Graph *g, int asm_not_ir, int profile, FILE *out, char *err, size_t errlen) {
    if (ir_verify(g, err, errlen)) return -1;
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = NULL;
    int64_t scratch;
    LLVMTargetMachineRef tm = NULL;
    KernelPlan plan;
    int rc = pipeline_plan(g, &plan, NULL, err, errlen);
    if (!rc) {
        rc = llvm_codegen(g, &plan, profile, ctx, &mod, &scratch, err, errlen);
        fusion_plan_free(&plan);
    }
    if (!rc) rc = (tm = llvm_host_machine(0, 0, err, errlen)) ? 0 : -1;
    if (!rc) rc = llvm_optimize(mod, tm, 0, err, errlen);
    if (!rc) rc = print(mod, tm, asm_not_ir, out, err, errlen);
    if (tm) LLVMDisposeTargetMachine(tm);
    if (mod) LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    return rc;
}
