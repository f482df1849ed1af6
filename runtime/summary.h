/* summary.h — the --summary report of a model. */
#ifndef MMGC_SUMMARY_H
#define MMGC_SUMMARY_H

#include <stdio.h>

#include "elaborate.h"

/* One row per parameter (path, shape, count), the total, forward FLOPs per sample. */
void summary_print(const Elaborated *m, FILE *out);
/* Total number of trainable scalars. */
long long summary_param_count(const Graph *g);

#endif
