/* aot_header.h — `mmgc FILE.mmg --emit=header`: the C header of the object
 * --emit=obj writes (the model's constants, then mmgc_model.h). */
#ifndef MMGC_AOT_HEADER_H
#define MMGC_AOT_HEADER_H

#include <stdio.h>

#include "aot_build.h"
#include "elaborate.h"
#include "program.h"

/* Writes the header of m (elaborated from p with o's --model and --set;
 * the rest of o is unused) to out. */
void aot_header_write(const Program *p, const Elaborated *m, const AotBuildOptions *o, FILE *out);

#endif
