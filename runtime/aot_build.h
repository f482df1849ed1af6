/* aot_build.h — `mmgc --aot`: a model compiled into a standalone program
 * (see aot_build.c; what the program carries is runtime/aot.h). Part of
 * the mmgc command, which links LLVM; the program it makes does not. */
#ifndef MMGC_AOT_BUILD_H
#define MMGC_AOT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "elaborate.h"
#include "program.h"

typedef struct {
    const char *output;     /* the program's path */
    const char *cpu;        /* "native" or an x86-64 level */
    const char *model;      /* --model, or NULL */
    const SetOption *sets;  /* --set values, carried into the program */
    int nsets;
    const char *weights;    /* --weights: a checkpoint baked in, or NULL */
    int object;             /* --emit=obj: a relocatable object for C programs
                               (mmgc_model.h), not a program */
} AotBuildOptions;

/* Builds the program for m (elaborated from p). 0, or -1 with a message;
 * nothing is left at o->output on failure. */
/* A hash of the sources p loaded (each file's text, in load order): what
 * --help and the generated header name the model's sources by. */
uint64_t aot_sources_hash(const Program *p);

int aot_build(const Program *p, const Elaborated *m, const AotBuildOptions *o, char *err, size_t n);

#endif
