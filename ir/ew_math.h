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

/* Floored modulo, as Python's % on floats: fmod (exact), moved into the
 * sign of b; a zero result takes b's sign; b = 0 gives NaN. */
#define EW_MOD_OF(T, name)                                                         \
    static inline T name(T a, T b) {                                               \
        T r = fmod(a, b);                                                          \
        return r != 0 ? ((r < 0) != (b < 0) ? r + b : r) : copysign((T)0, b);     \
    }
EW_MOD_OF(float, ew_modf)
EW_MOD_OF(double, ew_modd)
#define ew_mod(a, b) _Generic((a), float: ew_modf, default: ew_modd)(a, b)

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
