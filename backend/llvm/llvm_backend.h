/* llvm_backend.h — the LLVM backend's public entry points besides its
 * Engine (engine_llvm, declared in runtime/engine.h).
 *
 * The backend lowers a verified graph to one LLVM module (backend/llvm/cg.h
 * describes it), optimizes it with default<O3> for the host CPU (first
 * running quick code while that compiles: LlvmTiers), and
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
    double quick;     /* quick code, all phases (see LlvmTiers)              */
    int modules;      /* optimized modules                                   */
    int quick_modules;
    int quick_runs;   /* runs (steps, evaluation batches) made on quick code */
    int cache_hits, cache_misses; /* modules loaded from the code cache, or compiled
                                   * and stored; neither while it is off */
    int cache_off;                /* modules compiled with the cache off */
    char cache_note[256];         /* the last entry that could not be read or
                                   * written and why, or "" (never an error) */
    char tier_note[256];          /* why optimized code never replaced quick
                                   * code, or "" */
} LlvmTimes;

/* The totals so far (engines created with engine_llvm); a compile still
 * running in the background is counted when it ends. */
LlvmTimes llvm_times(void);

/* How an engine gets code that is not in the code cache. With tiers on
 * (the default) it starts at once with quick code (SROA and -O0), while
 * its optimized code is compiled, and stored in the cache, on a thread of
 * its own; the engine runs the optimized code from the first run after
 * it is ready. Both give the same bits. Off: the engine waits for the
 * optimized code (what a benchmark of the step wants). Quick only: the
 * engine runs quick code for good, cache or not (tests compare the two). */
typedef enum { LLVM_TIERS_ON, LLVM_TIERS_OFF, LLVM_TIERS_QUICK_ONLY } LlvmTiers;
/* For engines created from now on. */
void llvm_set_tiers(LlvmTiers mode);
/* Returns once no optimized code is being compiled in the background. */
void llvm_tiers_wait(void);

#endif
