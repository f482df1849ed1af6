/* aot_build.h — `mmgc --aot`: a model compiled into a standalone program
 * (see aot_build.c; what the program carries is runtime/aot.h). Part of
 * the mmgc command, which links LLVM; the program it makes does not. */
#ifndef MMGC_AOT_BUILD_H
#define MMGC_AOT_BUILD_H

#include <stddef.h>

#include "elaborate.h"
#include "program.h"

typedef struct {
    const char *output;     /* the program's path */
    const char *cpu;        /* "native" or an x86-64 level */
    const char *model;      /* --model, or NULL */
    const SetOption *sets;  /* --set values, carried into the program */
    int nsets;
    const char *weights;    /* --weights: a checkpoint baked in, or NULL */
} AotBuildOptions;

/* Builds the program for m (elaborated from p). 0, or -1 with a message;
 * nothing is left at o->output on failure. */
int aot_build(const Program *p, const Elaborated *m, const AotBuildOptions *o, char *err, size_t n);

#endif
