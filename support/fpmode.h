/* fpmode.h — how the calling thread treats denormal floats.
 *
 * A training step runs with denormals flushed to zero (x86-64: MXCSR's FTZ
 * and DAZ bits; AArch64: FPCR.FZ): a result below FLT_MIN (1.2e-38) in
 * magnitude becomes zero, and so does such an input. Without it, an Intel
 * core takes a microcode assist of a hundred cycles or more at every
 * operation that meets one, and training meets many: an Adam moment of a
 * weight whose gradient has gone to zero decays through the denormals for
 * 150 steps, and the squared gradients of Conv1Net's linear layer fall
 * there late in training. multimodal_gated's update of its linear
 * weights took 3-5 ms a step at the start and 53-70 ms by epoch 15 on an
 * Intel Xeon (Ice Lake), its whole step twice its first epoch's; flushed,
 * 3.6-4.2 ms. Evaluation and prediction keep IEEE denormals (they did
 * not slow down).
 *
 * The mode belongs to a thread; the pool's workers take the caller's with
 * each job (rt_thread.c), and a step sets it and puts the caller's back.
 * Elsewhere than x86-64 and AArch64 these do nothing.
 */
#ifndef MMGC_FPMODE_H
#define MMGC_FPMODE_H

#include <stdint.h>

typedef uint64_t FpMode;

/* The calling thread's mode, and setting it back. */
FpMode fp_mode(void);
void fp_set_mode(FpMode m);
/* Flushes denormals to zero on the calling thread; the mode before. */
FpMode fp_flush_denormals(void);

#endif
