/* target.c — the host target machine, the optimization pipeline, and the
 * one helper through which every LLVM error becomes a message.
 *
 * Ownership: llvm_host_machine returns a TargetMachine the caller owns;
 * llvm_optimize borrows both the module and the machine. LLVM's error
 * values are consumed (and its messages disposed) only in llvm_fail.
 */
#include <llvm-c/Error.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <pthread.h>
#include <stdio.h>

#include "cg.h"

/* Formats "<what>: <message>" from an LLVMErrorRef or an LLVM-allocated
 * message, releases it, returns -1; see cg.h. */
int llvm_fail(char *err, size_t errlen, const char *what, LLVMErrorRef e, char *msg) {
    char *text = e ? LLVMGetErrorMessage(e) : msg;
    snprintf(err, errlen, "%s%s%s", what, text && *text ? ": " : "", text ? text : "");
    if (e) LLVMDisposeErrorMessage(text);
    else if (msg) LLVMDisposeMessage(msg);
    return -1;
}

static pthread_once_t native_once = PTHREAD_ONCE_INIT;

/* The native target, its assembly printer and parser: what the JIT and
 * --emit=asm need. */
static void init_native(void) {
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    LLVMInitializeNativeAsmParser();
}

void llvm_init_native(void) { pthread_once(&native_once, init_native); }

void llvm_host_names(LlvmHostNames *h) {
    h->triple = LLVMGetDefaultTargetTriple();
    h->cpu = LLVMGetHostCPUName();
    h->features = LLVMGetHostCPUFeatures();
}

void llvm_host_names_free(LlvmHostNames *h) {
    LLVMDisposeMessage(h->triple);
    LLVMDisposeMessage(h->cpu);
    LLVMDisposeMessage(h->features);
}

/* A TargetMachine for the host triple, CPU and features, at -O3 or (quick)
 * -O0: fast instruction selection and register allocation. */
LLVMTargetMachineRef llvm_host_machine(int for_jit, int quick, char *err, size_t errlen) {
    llvm_init_native();
    LlvmHostNames h;
    llvm_host_names(&h);
    LLVMTargetRef target;
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(h.triple, &target, &msg)) {
        llvm_host_names_free(&h);
        llvm_fail(err, errlen, "no LLVM target for the host", NULL, msg);
        return NULL;
    }
    LLVMTargetMachineRef tm =
        LLVMCreateTargetMachine(target, h.triple, h.cpu, h.features,
                                quick ? LLVMCodeGenLevelNone : LLVMCodeGenLevelAggressive, LLVMRelocDefault,
                                for_jit ? LLVMCodeModelJITDefault : LLVMCodeModelDefault);
    llvm_host_names_free(&h);
    if (!tm) snprintf(err, errlen, "cannot create an LLVM target machine for the host");
    return tm;
}

/* Data layout and triple from tm, then default<O3> with loop and SLP
 * vectorization, or (quick) only SROA: the kernels' loop counters and
 * accumulators out of memory into registers, the one pass whose absence
 * costs more at run time than it saves in compile time. */
int llvm_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, int quick, char *err, size_t errlen) {
    LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
    LLVMSetModuleDataLayout(m, dl);
    LLVMDisposeTargetData(dl);
    char *triple = LLVMGetTargetMachineTriple(tm);
    LLVMSetTarget(m, triple);
    LLVMDisposeMessage(triple);
    LLVMPassBuilderOptionsRef opt = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(opt, 1);
    LLVMPassBuilderOptionsSetSLPVectorization(opt, 1);
    LLVMPassBuilderOptionsSetLoopInterleaving(opt, 1);
    LLVMPassBuilderOptionsSetLoopUnrolling(opt, 0);
    LLVMErrorRef e = LLVMRunPasses(m, quick ? "function(sroa)" : "default<O3>", tm, opt);
    LLVMDisposePassBuilderOptions(opt);
    return e ? llvm_fail(err, errlen, "LLVM optimization failed", e, NULL) : 0;
}
