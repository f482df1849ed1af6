/* jit.c — the optimized module as an object, and ORC LLJIT: links the
 * object for the host and finds mmgc_step in it.
 *
 * The JIT gets an object, not IR, so code compiled now and code read from
 * the on-disk cache (code_cache.h) take one path: what the cache's tests
 * check on a hit is what every run executes. The object is emitted by the
 * JIT's own target machine (llvm_host_machine(1, ...): the JIT code model),
 * before that machine is handed to the LLJIT.
 *
 * Ownership, in the order things change hands:
 *   the TargetMachine  -> JITTargetMachineBuilder (destroys the machine)
 *   the JTMB           -> the LLJITBuilder
 *   the LLJITBuilder   -> LLVMOrcCreateLLJIT (even when it fails)
 *   the process search generator -> the main JITDylib
 *   the absolute-symbol unit     -> the main JITDylib (ours again if defining fails)
 *   the object's memory buffer   -> the LLJIT (even when adding fails)
 *   the LLJIT          -> LlvmJit, freed by llvm_jit_free with all its code
 *
 * Symbols: libm (expf, tanhf, ...) and memset/memcpy come from the
 * process through the dynamic-library search generator. The runtime's own
 * entry points (mmgc_rt_call, rt_parallel, the mmgc_ew_* scalar functions,
 * the profiling marks mmgc_prof_enter/leave) are defined as absolute symbols
 * from their addresses here, which also makes the static linker keep the
 * runtime helpers in every program that links this backend (nothing else
 * references them before the JIT runs).
 */
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/TargetMachine.h>
#include <stdint.h>
#include <stdlib.h>

#include "cg.h"
#include "rt.h"
#include "rt_prof.h"
#include "rt_thread.h"
#include "util.h"

struct LlvmJit {
    LLVMOrcLLJITRef jit;
};

/* Frees the JIT and all its code. */
void llvm_jit_free(LlvmJit *j) {
    if (!j) return;
    if (j->jit) {
        LLVMErrorRef e = LLVMOrcDisposeLLJIT(j->jit);
        if (e) LLVMConsumeError(e); /* nothing left to report it to */
    }
    free(j);
}

/* The runtime functions generated code calls, defined for the JIT by
 * address (they need not be exported from the executable). */
static const struct {
    const char *name;
    void *addr;
} rt_symbols[] = {
    {"mmgc_rt_call", (void *)&mmgc_rt_call},
    {"rt_parallel", (void *)&rt_parallel},
    {"mmgc_prof_enter", (void *)&mmgc_prof_enter},
    {"mmgc_prof_leave", (void *)&mmgc_prof_leave},
#define EW1(e, expr) {"mmgc_ew_" #e, (void *)&mmgc_ew_##e},
#define EW2(e, expr) {"mmgc_ew_" #e, (void *)&mmgc_ew_##e},
#include "ew_math.def"
#undef EW1
#undef EW2
};
#define NRT_SYMBOLS (sizeof rt_symbols / sizeof rt_symbols[0])

/* Adds the process's symbols (libm, libc) and rt_symbols to the main JITDylib. */
static int add_symbols(LLVMOrcLLJITRef jit, char *err, size_t errlen) {
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(jit);
    LLVMOrcDefinitionGeneratorRef gen;
    LLVMErrorRef e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen, LLVMOrcLLJITGetGlobalPrefix(jit),
                                                                          NULL, NULL);
    if (e) return llvm_fail(err, errlen, "cannot search the process for symbols", e, NULL);
    LLVMOrcJITDylibAddGenerator(jd, gen);
    LLVMOrcCSymbolMapPair sym[NRT_SYMBOLS];
    for (size_t i = 0; i < NRT_SYMBOLS; i++)
        sym[i] = (LLVMOrcCSymbolMapPair){
            LLVMOrcLLJITMangleAndIntern(jit, rt_symbols[i].name),
            {(LLVMOrcExecutorAddress)(uintptr_t)rt_symbols[i].addr,
             {LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable, 0}},
        };
    LLVMOrcMaterializationUnitRef mu = LLVMOrcAbsoluteSymbols(sym, NRT_SYMBOLS);
    e = LLVMOrcJITDylibDefine(jd, mu);
    if (e) {
        LLVMOrcDisposeMaterializationUnit(mu);
        return llvm_fail(err, errlen, "cannot define the runtime's symbols for the JIT", e, NULL);
    }
    return 0;
}

/* An LLJIT for the machine tm describes (tm is consumed). */
static LLVMOrcLLJITRef create_jit(LLVMTargetMachineRef tm, char *err, size_t errlen) {
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm));
    LLVMOrcLLJITRef jit = NULL;
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&jit, builder);
    if (e) {
        llvm_fail(err, errlen, "cannot create the LLVM JIT", e, NULL);
        return NULL;
    }
    return jit;
}

/* Looks up name; 0 with its address in *addr, or -1. */
static int lookup(LLVMOrcLLJITRef jit, const char *name, void **addr, char *err, size_t errlen) {
    LLVMOrcExecutorAddress a = 0;
    LLVMErrorRef e = LLVMOrcLLJITLookup(jit, &a, name);
    if (e) return llvm_fail(err, errlen, "JIT compilation failed", e, NULL);
    *addr = (void *)(uintptr_t)a;
    return 0;
}

/* See cg.h. */
int llvm_emit_object(LLVMModuleRef mod, LLVMTargetMachineRef tm, LLVMMemoryBufferRef *obj, char *err, size_t errlen) {
    char *msg = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &msg, obj))
        return llvm_fail(err, errlen, "cannot compile the module to machine code", NULL, msg);
    return 0;
}

/* See cg.h. Looking mmgc_step up is what links the objects. */
LlvmJit *llvm_jit(LLVMMemoryBufferRef *objs, int nobj, LLVMTargetMachineRef tm, void **step, void **fail_node,
                  char *err, size_t errlen) {
    LlvmJit *j = xcalloc(1, sizeof *j);
    j->jit = create_jit(tm, err, errlen);
    int i = 0, bad = !j->jit || add_symbols(j->jit, err, errlen);
    LLVMErrorRef e = NULL;
    for (; !bad && i < nobj && !e; i++) e = LLVMOrcLLJITAddObjectFile(j->jit, LLVMOrcLLJITGetMainJITDylib(j->jit), objs[i]);
    for (; i < nobj; i++) LLVMDisposeMemoryBuffer(objs[i]); /* not handed over */
    if (bad || e || lookup(j->jit, "mmgc_step", step, err, errlen) ||
        lookup(j->jit, "mmgc_fail_node", fail_node, err, errlen)) {
        if (e) llvm_fail(err, errlen, "cannot add the object to the JIT", e, NULL);
        llvm_jit_free(j);
        return NULL;
    }
    return j;
}
