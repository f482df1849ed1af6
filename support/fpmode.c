/* fpmode.c — see fpmode.h. */
#include "fpmode.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>

/* MXCSR: flush results to zero (FTZ) and read inputs as zero (DAZ); its
 * low six bits are the sticky exception flags, not part of a mode. */
#define FLUSH (0x8000u | 0x0040u)
#define FLAGS 0x3fu

FpMode fp_mode(void) { return _mm_getcsr() & ~FLAGS; }
void fp_set_mode(FpMode m) { _mm_setcsr(((unsigned)m & ~FLAGS) | (_mm_getcsr() & FLAGS)); }

#elif defined(__aarch64__)

/* FPCR.FZ flushes both inputs and results. */
#define FLUSH ((FpMode)1 << 24)

FpMode fp_mode(void) {
    uint64_t r;
    __asm__ volatile("mrs %0, fpcr" : "=r"(r));
    return r;
}
void fp_set_mode(FpMode m) { __asm__ volatile("msr fpcr, %0" : : "r"(m)); }

#else

#define FLUSH 0
FpMode fp_mode(void) { return 0; }
void fp_set_mode(FpMode m) { (void)m; }

#endif

FpMode fp_flush_denormals(void) {
    FpMode before = fp_mode();
    if ((before & FLUSH) != FLUSH) fp_set_mode(before | FLUSH);
    return before;
}
