/* interp_ew.c — elementwise ops.
 *
 * Each op's scalar math is its row of ir/ew_math.def, in float (ewf_NAME,
 * as the compiled backends do it), applied by a generic kernel that walks
 * the output and reads every input through broadcast strides (numpy rules:
 * right-aligned, dims of 1 stretch). Choices a backend must match:
 *   relu(NaN) = 0, step(NaN) = 0 (both test x > 0);
 *   max/min propagate NaN (like torch.maximum), a NaN in either operand wins;
 *   gt/ge/eq give 1.0f or 0.0f (false for NaN);
 *   cast f32 -> i64 truncates toward zero, NaN gives 0, and values beyond
 *   the i64 range saturate.
 */
#include <math.h>

#include "ew_math.h"
#include "interp_impl.h"

/* The float instances of ew_math.def, by op. */
static const Fn1 fn1[OP_COUNT] = {
#define EW1(e, expr) [OP_##e] = ewf_##e,
#define EW2(e, expr)
#include "ew_math.def"
#undef EW1
#undef EW2
};
static const Fn2 fn2[OP_COUNT] = {
#define EW1(e, expr)
#define EW2(e, expr) [OP_##e] = ewf_##e,
#include "ew_math.def"
#undef EW1
#undef EW2
};

Fn1 ew_fn1(Op op) { return (unsigned)op < OP_COUNT ? fn1[op] : NULL; }
Fn2 ew_fn2(Op op) { return (unsigned)op < OP_COUNT ? fn2[op] : NULL; }

/* A walk over node id's shape with input k read through broadcast strides
 * as operand k, for the first nops inputs. */
static void ew_walk(const Interp *in, int id, int nops, Walk *w) {
    const Shape *y = shape_of(in, id);
    walk_start(w, y, nops);
    for (int k = 0; k < nops; k++) bcast_strides(arg_shape(in, id, k), y, w->st[k]);
}

/* y = f(x); unary ops have the input's shape, so no walk is needed. */
void k_unary(Interp *in, int id, Fn1 f) {
    const float *x = arg_f32(in, id, 0);
    float *y = out_f32(in, id);
    int64_t n = ir_numel(shape_of(in, id));
    for (int64_t i = 0; i < n; i++) y[i] = f(x[i]);
}

/* y = f(a, b), broadcast. */
void k_binary(Interp *in, int id, Fn2 f) {
    const float *a = arg_f32(in, id, 0), *b = arg_f32(in, id, 1);
    float *y = out_f32(in, id);
    int64_t n = ir_numel(shape_of(in, id));
    if (ir_shape_eq(arg_shape(in, id, 0), arg_shape(in, id, 1))) { /* no broadcasting */
        for (int64_t i = 0; i < n; i++) y[i] = f(a[i], b[i]);
        return;
    }
    Walk w;
    ew_walk(in, id, 2, &w);
    for (int64_t i = 0; i < n; i++, walk_next(&w)) y[i] = f(a[w.off[0]], b[w.off[1]]);
}

/* eq: a == b ? 1 : 0 as f32, broadcast; a and b are both f32 or both i64. */
void k_eq(Interp *in, int id) {
    float *y = out_f32(in, id);
    int64_t n = ir_numel(shape_of(in, id));
    Walk w;
    ew_walk(in, id, 2, &w);
    if (node_of(in, arg(in, id, 0))->type.dtype == DT_I64) {
        const int64_t *a = arg_i64(in, id, 0), *b = arg_i64(in, id, 1);
        for (int64_t i = 0; i < n; i++, walk_next(&w)) y[i] = a[w.off[0]] == b[w.off[1]];
    } else {
        const float *a = arg_f32(in, id, 0), *b = arg_f32(in, id, 1);
        for (int64_t i = 0; i < n; i++, walk_next(&w)) y[i] = a[w.off[0]] == b[w.off[1]];
    }
}

/* select(c, a, b): c != 0 ? a : b, all three broadcast. */
void k_select(Interp *in, int id) {
    const float *c = arg_f32(in, id, 0), *a = arg_f32(in, id, 1), *b = arg_f32(in, id, 2);
    float *y = out_f32(in, id);
    int64_t n = ir_numel(shape_of(in, id));
    Walk w;
    ew_walk(in, id, 3, &w);
    for (int64_t i = 0; i < n; i++, walk_next(&w))
        y[i] = c[w.off[0]] != 0 ? a[w.off[1]] : b[w.off[2]];
}

/* f32 -> i64: toward zero; NaN -> 0; saturates outside [-2^63, 2^63). */
static int64_t f32_to_i64(float x) {
    if (isnan(x)) return 0;
    if (x >= 0x1p63f) return INT64_MAX;
    if (x < -0x1p63f) return INT64_MIN;
    return (int64_t)x;
}

/* cast: to the node's dtype, same shape (f32 <-> i64, or a copy). */
void k_cast(Interp *in, int id) {
    int64_t n = ir_numel(shape_of(in, id));
    DType from = node_of(in, arg(in, id, 0))->type.dtype, to = node_of(in, id)->type.dtype;
    for (int64_t i = 0; i < n; i++) {
        if (from == DT_F32 && to == DT_F32) out_f32(in, id)[i] = arg_f32(in, id, 0)[i];
        else if (from == DT_F32) out_i64(in, id)[i] = f32_to_i64(arg_f32(in, id, 0)[i]);
        else if (to == DT_F32) out_f32(in, id)[i] = (float)arg_i64(in, id, 0)[i];
        else out_i64(in, id)[i] = arg_i64(in, id, 0)[i];
    }
}
