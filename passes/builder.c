/* builder.c — see builder.h. */
#include "builder.h"

#include "util.h"

int b_op(Builder *b, Op op, const int *in, int nin, const int64_t *attr, int nattr, double value,
         const TType *given) {
    char err[512];
    int id = ir_build(b->g, op, in, nin, attr, nattr, value, given, b->loc, err, sizeof err);
    if (id < 0) die("a pass built an invalid %s node: %s", ir_op_info[op].name, err);
    return id;
}

int b_ew1(Builder *b, Op op, int a) { return b_op(b, op, &a, 1, NULL, 0, 0, NULL); }

int b_ew2(Builder *b, Op op, int a, int c) {
    int in[2] = {a, c};
    return b_op(b, op, in, 2, NULL, 0, 0, NULL);
}

int b_scalar(Builder *b, double v) {
    TType t = {DT_F32, {0, {0}}};
    return b_op(b, OP_CONST, NULL, 0, NULL, 0, v, &t);
}

int b_state(Builder *b, const TType *t, const char *name) {
    int id = b_op(b, OP_STATE, NULL, 0, NULL, 0, 0, t);
    ir_set_name(b->g, id, name);
    return id;
}

int b_reshape(Builder *b, int x, Shape s) {
    if (ir_shape_eq(b_shape(b, x), &s)) return x;
    TType t = {b_type(b, x)->dtype, s};
    return b_op(b, OP_RESHAPE, &x, 1, NULL, 0, 0, &t);
}

int b_broadcast(Builder *b, int x, Shape s) {
    if (ir_shape_eq(b_shape(b, x), &s)) return x;
    TType t = {b_type(b, x)->dtype, s};
    return b_op(b, OP_BROADCAST, &x, 1, NULL, 0, 0, &t);
}

int b_sum_to(Builder *b, int x, Shape s) {
    Shape xs = *b_shape(b, x);
    if (ir_shape_eq(&xs, &s)) return x;
    int64_t attr[1 + IR_MAX_RANK] = {1};
    int n = 1, lead = xs.rank - s.rank;
    for (int i = 0; i < xs.rank; i++)
        if (i < lead || (s.dim[i - lead] == 1 && xs.dim[i] != 1)) attr[n++] = i;
    int r = n > 1 ? b_op(b, OP_REDUCE_SUM, &x, 1, attr, n, 0, NULL) : x;
    return b_reshape(b, r, s);
}
