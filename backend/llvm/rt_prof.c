/* rt_prof.c — see rt_prof.h. */
#include "rt_prof.h"

#include <stddef.h>
#include <time.h>

/* Thread-local: two engines may run their steps on two threads. */
static _Thread_local RtProfile *current;

uint64_t rt_prof_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void rt_prof_begin(RtProfile *p) { current = p; }
void rt_prof_end(void) { current = NULL; }

void mmgc_prof_enter(int32_t k) {
    (void)k;
    if (current) current->entered = rt_prof_now();
}

void mmgc_prof_leave(int32_t k) {
    RtProfile *p = current;
    if (p && k >= 0 && k < p->nk) p->kernel_ns[k] += rt_prof_now() - p->entered;
}
