/* aot.h — what a program compiled ahead of time carries (`mmgc --aot`
 * writes one C file defining mmgc_aot_model; runtime/aot_main.c reads it).
 *
 * The program holds its model's .mmg sources, not a serialized graph: it
 * elaborates them as mmgc does, builds the same training step, and finds
 * the machine code compiled for each graph by the graph's fingerprint
 * (ir_fingerprint). A --set that changes a graph (batch, lr) therefore
 * needs a new build, and the program says so; one that does not
 * (max_epochs, patience, seed) just works.
 */
#ifndef MMGC_AOT_H
#define MMGC_AOT_H

#include <stdint.h>

#include "program.h"

/* One compiled step: the graph it was compiled from, its entry (see
 * engine_compiled.h: StepFn), where it records a failing node, its scratch. */
typedef struct {
    uint64_t fingerprint;
    int32_t (*step)(void **bufs, const void *rnd, float *scratch);
    int32_t *fail_node;
    int64_t scratch_floats;
} AotStep;

typedef struct {
    const char *model;           /* --model at build time, or NULL */
    const ProgramFile *files;    /* the sources, main file first */
    int nfiles;
    const char *const *sets;     /* --set at build time */
    int nsets;
    const AotStep *steps;        /* the training step and the evaluation */
    int nsteps;
    const char *cpu;             /* --cpu: "native", "x86-64-v3", ... */
    const char *cpu_features;    /* what the code needs: "avx avx2 fma" */
    const char *about;           /* the model, for --help */
    const unsigned char *weights; /* --weights baked in (safetensors), or NULL */
    int64_t weights_size;
} AotModel;

/* Defined by the program's generated C file. */
extern const AotModel mmgc_aot_model;

#endif
