/* bench_step.h — timing a model's training or evaluation step (see bench_step.c). */
#ifndef MMGC_BENCH_STEP_H
#define MMGC_BENCH_STEP_H

#include <stdio.h>

#include "elaborate.h"
#include "engine.h"

/* Runs 2 + steps training steps of m on ops with random data (with eval,
 * evaluation steps: the forward graph and the loss, training off, no
 * update) and prints "MS ms/step  MIB MiB peak  (BACKEND, batch B, N
 * steps)" ("N evaluation steps"): the median step and the process's peak
 * resident memory. With profile, the steps after the warm-up are also
 * profiled (profile.h): the table follows, and with profile_json the JSON
 * goes there. 0, or -1 with a message. */
int bench_steps(const Elaborated *m, const EngineOps *ops, int steps, int eval, int profile, const char *profile_json,
                FILE *out, char *err, size_t n);

#endif
