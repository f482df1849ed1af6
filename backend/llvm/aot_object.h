/* aot_object.h — steps compiled ahead of time into object files (the
 * LLVM side of `mmgc --aot`; see aot_object.c). */
#ifndef MMGC_AOT_OBJECT_H
#define MMGC_AOT_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* Is cpu one --cpu accepts? And their names, for messages. */
int llvm_aot_cpu_ok(const char *cpu);
const char *llvm_aot_cpus(void);

/* The CPU features code for cpu may rely on, among those a program checks
 * at start-up, space-separated ("avx avx2 fma"), into out. */
void llvm_aot_required(const char *cpu, char *out, size_t n);

/* Plans, generates and optimizes g for cpu and writes it to the object file
 * path, its symbols suffixed (mmgc_step_SUFFIX, mmgc_fail_node_SUFFIX);
 * *scratch_floats is the scratch the step needs. 0, or -1 with a message. */
int llvm_aot_object(const Graph *g, const char *cpu, const char *suffix, const char *path, int64_t *scratch_floats,
                    char *err, size_t errlen);

#endif
