/* rt_prof.h — the clock a profiled step calls around each kernel.
 *
 * With profiling on, the code generator (codegen.c) wraps the call of
 * kernel k in mmgc_step in mmgc_prof_enter(k) / mmgc_prof_leave(k). The
 * engine (engine_compiled.c) makes its RtProfile the thread's current one
 * for the duration of the step call (rt_prof_begin / rt_prof_end), so the
 * generated code needs no pointer to it and its signature stays the same.
 * Without profiling none of this is emitted: the step is unchanged.
 *
 * The clock is CLOCK_MONOTONIC (a vDSO read, ~20-30 ns): two reads per
 * kernel, which for the study's models (a few hundred kernels, steps of
 * milliseconds) stays well under 1% of the step.
 */
#ifndef MMGC_RT_PROF_H
#define MMGC_RT_PROF_H

#include <stdint.h>

typedef struct {
    int nk;              /* kernels of the step                       */
    uint64_t *kernel_ns; /* [nk]: time inside each kernel, summed     */
    uint64_t step_ns;    /* time of the step calls, summed            */
    uint64_t runs;       /* step calls measured                       */
    uint64_t entered;    /* private: when the current kernel started  */
} RtProfile;

/* Nanoseconds on the monotonic clock. */
uint64_t rt_prof_now(void);
/* Makes p the calling thread's current profile (NULL: none). */
void rt_prof_begin(RtProfile *p);
void rt_prof_end(void);

/* Called by a profiled mmgc_step before and after kernel k. */
void mmgc_prof_enter(int32_t k);
void mmgc_prof_leave(int32_t k);

#endif
