/* ew_math.h — the elementwise ops' scalar math (ew_math.def) as functions:
 *
 *   float  ewf_ENUM(float x)   / ewf_ENUM(float a, float b)
 *   double ewd_ENUM(double x)  / ewd_ENUM(double a, double b)
 *
 * The float ones are the interpreter's kernels and the LLVM backend's
 * fallback; the double ones fold numbers in the front end. This header
 * includes <tgmath.h>, so include it only where the math is made.
 */
#ifndef MMGC_EW_MATH_H
#define MMGC_EW_MATH_H

#include <tgmath.h>

#define EW1(e, expr)                                                   \
    static inline float ewf_##e(float x) { return (float)(expr); }    \
    static inline double ewd_##e(double x) { return (double)(expr); }
#define EW2(e, expr)                                                            \
    static inline float ewf_##e(float a, float b) { return (float)(expr); }    \
    static inline double ewd_##e(double a, double b) { return (double)(expr); }
#include "ew_math.def"
#undef EW1
#undef EW2

#endif
