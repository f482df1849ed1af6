/* aot_cpu.h — the start-up check of a program compiled ahead of time. */
#ifndef MMGC_AOT_CPU_H
#define MMGC_AOT_CPU_H

#include <stddef.h>

/* Which of the space-separated features ("avx avx2 fma") this CPU lacks,
 * into missing; 1 if any. */
int aot_cpu_missing(const char *features, char *missing, size_t n);

#endif
