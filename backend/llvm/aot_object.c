/* aot_object.c — a step compiled ahead of time: the graph planned
 * (pipeline_plan, as the JIT plans it), generated, optimized with O3 for a
 * chosen CPU and written as a relocatable object. Its two external symbols
 * get a suffix, so several steps link into one program:
 *   int32_t mmgc_step_SUFFIX(void **bufs, const RtRandom *rnd, float *scratch)
 *   int32_t mmgc_fail_node_SUFFIX
 *
 * Ownership: the context, module and target machine are ours and disposed
 * before returning; LLVM's messages go through llvm_fail.
 */
#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <stdio.h>
#include <string.h>

#include "aot_object.h"
#include "cg.h"
#include "passes.h"

/* The CPUs --cpu accepts besides "native": the x86-64 levels every
 * compiler knows, each with what it adds to the one before. */
static const struct {
    const char *cpu, *features;
} levels[] = {
    {"x86-64", ""},
    {"x86-64-v2", "+sse3,+ssse3,+sse4.1,+sse4.2,+popcnt"},
    {"x86-64-v3", "+sse3,+ssse3,+sse4.1,+sse4.2,+popcnt,+avx,+avx2,+bmi,+bmi2,+fma,+f16c"},
    {"x86-64-v4", "+sse3,+ssse3,+sse4.1,+sse4.2,+popcnt,+avx,+avx2,+bmi,+bmi2,+fma,+f16c,+avx512f,+avx512bw,"
                  "+avx512cd,+avx512dq,+avx512vl"},
};
#define NLEVELS (int)(sizeof levels / sizeof levels[0])

/* The features a program checks at start-up (aot_cpu.c knows each). */
static const char *const checked[] = {"sse3",   "ssse3", "sse4.1", "sse4.2",  "popcnt",   "avx",      "avx2",
                                      "bmi",    "bmi2",  "fma",    "f16c",    "avx512f",  "avx512bw", "avx512cd",
                                      "avx512dq", "avx512vl"};

int llvm_aot_cpu_ok(const char *cpu) {
    if (!strcmp(cpu, "native")) return 1;
    for (int i = 0; i < NLEVELS; i++)
        if (!strcmp(cpu, levels[i].cpu)) return 1;
    return 0;
}

const char *llvm_aot_cpus(void) { return "native, x86-64, x86-64-v2, x86-64-v3, x86-64-v4"; }

/* The features the code for cpu may use, "+a,+b,-c" as LLVM writes them;
 * the caller disposes of it with LLVMDisposeMessage. */
static char *features_of(const char *cpu) {
    if (!strcmp(cpu, "native")) return LLVMGetHostCPUFeatures();
    for (int i = 0; i < NLEVELS; i++)
        if (!strcmp(cpu, levels[i].cpu)) return LLVMCreateMessage(levels[i].features);
    return LLVMCreateMessage("");
}

void llvm_aot_required(const char *cpu, char *out, size_t n) {
    char *all = features_of(cpu);
    size_t at = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "+%s", checked[i]);
        for (const char *p = all; (p = strstr(p, want)); p += strlen(want)) {
            char end = p[strlen(want)];
            if ((p == all || p[-1] == ',') && (end == ',' || end == 0)) {
                at += (size_t)snprintf(out + at, at < n ? n - at : 0, "%s%s", at ? " " : "", checked[i]);
                break;
            }
        }
    }
    LLVMDisposeMessage(all);
}

/* A target machine for cpu: position-independent code for an executable. */
static LLVMTargetMachineRef machine_for(const char *cpu, char *err, size_t errlen) {
    llvm_init_native();
    char *triple = LLVMGetDefaultTargetTriple(), *msg = NULL;
    LLVMTargetRef target;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
        LLVMDisposeMessage(triple);
        llvm_fail(err, errlen, "no LLVM target for this machine", NULL, msg);
        return NULL;
    }
    char *name = !strcmp(cpu, "native") ? LLVMGetHostCPUName() : LLVMCreateMessage(cpu);
    char *features = !strcmp(cpu, "native") ? LLVMGetHostCPUFeatures() : LLVMCreateMessage("");
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, triple, name, features, LLVMCodeGenLevelAggressive,
                                                      LLVMRelocPIC, LLVMCodeModelDefault);
    LLVMDisposeMessage(triple);
    LLVMDisposeMessage(name);
    LLVMDisposeMessage(features);
    if (!tm) snprintf(err, errlen, "cannot create an LLVM target machine for CPU '%s'", cpu);
    return tm;
}

/* Renames global `from` of mod to from_SUFFIX. */
static void rename_global(LLVMModuleRef mod, int function, const char *from, const char *suffix) {
    LLVMValueRef v = function ? LLVMGetNamedFunction(mod, from) : LLVMGetNamedGlobal(mod, from);
    char name[128];
    snprintf(name, sizeof name, "%s_%s", from, suffix);
    if (v) LLVMSetValueName2(v, name, strlen(name));
}

int llvm_aot_object(const Graph *g, const char *cpu, const char *suffix, const char *path, int64_t *scratch_floats,
                    char *err, size_t errlen) {
    if (ir_verify(g, err, errlen)) return -1;
    KernelPlan plan;
    if (pipeline_plan(g, &plan, NULL, err, errlen)) return -1;
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = NULL;
    LLVMTargetMachineRef tm = NULL;
    int rc = llvm_codegen(g, &plan, 0, ctx, &mod, scratch_floats, err, errlen);
    fusion_plan_free(&plan);
    if (!rc) {
        rename_global(mod, 1, "mmgc_step", suffix);
        rename_global(mod, 0, "mmgc_fail_node", suffix);
        rc = (tm = machine_for(cpu, err, errlen)) ? 0 : -1;
    }
    if (!rc) rc = llvm_optimize(mod, tm, 0, err, errlen);
    char *msg = NULL;
    if (!rc && LLVMTargetMachineEmitToFile(tm, mod, path, LLVMObjectFile, &msg))
        rc = llvm_fail(err, errlen, "cannot write the object file", NULL, msg);
    if (tm) LLVMDisposeTargetMachine(tm);
    if (mod) LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    return rc;
}
