/* llvm_backend.h — the LLVM backend's public entry points besides its
 * Engine (engine_llvm, declared in runtime/engine.h).
 *
 * The backend lowers a verified graph to one LLVM module (backend/llvm/cg.h
 * describes it), optimizes it with default<O3> for the host CPU, and
 * JIT-compiles it with ORC LLJIT; the runtime helpers it calls are in
 * backend/llvm/rt.h. Compiled code is kept on disk between runs
 * (backend/llvm/code_cache.h).
 */
#ifndef MMGC_LLVM_BACKEND_H
#define MMGC_LLVM_BACKEND_H

#include <stddef.h>
#include <stdio.h>

#include "ir.h"

/* Writes the optimized module of g to out: LLVM IR, or the host's
 * assembly if asm_not_ir; with profile, the profiled build of the step
 * (its kernels timed: rt_prof.h). Returns 0, or -1 with a message. */
int llvm_emit(const Graph *g, int asm_not_ir, int profile, FILE *out, char *err, size_t errlen);

/* Seconds spent compiling, summed over every module the process built. */
typedef struct {
    double codegen;   /* graph -> LLVM IR                                   */
    double optimize;  /* default<O3>                                         */
    double jit;       /* machine code, linking, symbol resolution            */
    double cache;     /* the code cache: key, reading and writing entries    */
    int modules;
    int cache_hits, cache_misses; /* modules loaded from the code cache, or compiled
                                   * and stored; neither while it is off */
    int cache_off;                /* modules compiled with the cache off */
    char cache_note[256];         /* the last entry that could not be read or
                                   * written and why, or "" (never an error) */
} LlvmTimes;

/* The totals so far (engines created with engine_llvm). */
LlvmTimes llvm_times(void);

#endif
