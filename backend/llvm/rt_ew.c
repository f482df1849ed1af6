/* rt_ew.c — the elementwise ops' scalar functions for generated code
 * (rt.h): the float instances of ir/ew_math.def, the interpreter's own
 * math, under names the JIT can resolve.
 */
#include "ew_math.h"
#include "rt.h"

#define EW1(e, expr) \
    float mmgc_ew_##e(float x) { return ewf_##e(x); }
#define EW2(e, expr) \
    float mmgc_ew_##e(float a, float b) { return ewf_##e(a, b); }
#include "ew_math.def"
#undef EW1
#undef EW2
