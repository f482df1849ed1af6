/* builtins.c — the primitives .mmg code calls: each becomes one IR op (or,
 * on plain numbers, is computed at compile time), plus the parameter
 * initializers. Everything else — linear layers, softmax, losses, fusion
 * methods — is written in .mmg on top of these (models/lib/).
 *
 * A .mmg block may take a primitive's name (models/lib/nn.mmg defines
 * conv2d); `op.NAME` always means the primitive.
 */
#include <string.h>

#include "elab.h"
#include "ew_math.h"

static Value none(void) { return (Value){.kind = V_NONE}; }
static int is_number(const Value *v) { return v->kind == V_INT || v->kind == V_FLOAT; }
static double num(const Value *v) { return v->kind == V_INT ? (double)v->i : v->f; }
static Value fnum(double x, Loc loc) { return (Value){.kind = V_FLOAT, .loc = loc, .f = x}; }
static int given(const Value *v) { return !(v->kind == V_NONE && v->i); }

/* Reads an int or a list of ints into out (at most max). Returns the count or -1. */
static int ints(Elab *E, const Value *v, const char *what, int64_t *out, int max) {
    if (v->kind == V_INT) {
        out[0] = v->i;
        return 1;
    }
    if (v->kind != V_LIST || v->n > max) {
        diag_error(E->diag, v->loc, "%s must be an int or a list of at most %d ints", what, max);
        return -1;
    }
    for (int i = 0; i < v->n; i++) {
        const Value *x = &v->items[i];
        if (x->kind == V_FLOAT && x->f == floor(x->f)) {
            out[i] = (int64_t)x->f;
            continue;
        }
        if (x->kind != V_INT) {
            diag_error(E->diag, x->loc, "%s must contain ints, got %s", what, elab_describe(E, x));
            return -1;
        }
        out[i] = x->i;
    }
    return v->n;
}

/* Normalizes a possibly negative axis for a tensor of rank r. */
static int axis_of(Elab *E, int64_t axis, int r, Loc loc, int64_t *out) {
    if (axis < -r || axis >= r) {
        diag_error(E->diag, loc, "axis %lld is out of range for a tensor of rank %d", (long long)axis, r);
        return -1;
    }
    *out = axis < 0 ? axis + r : axis;
    return 0;
}

static const Shape *shape_of(Elab *E, const Value *v) { return &elab_type(E, v)->shape; }

/* ---- elementwise ------------------------------------------------------------- */

/* Folds an elementwise op on numbers with its math from ir/ew_math.def
 * (in double); 0 if the op has no row there (then a tensor is built). */
static int fold(Op op, const Value *a, int n, double *out) {
    double x = num(&a[0]), y = n > 1 ? num(&a[1]) : 0;
    switch ((int)op) {
#define EW1(e, expr) case OP_##e: *out = ewd_##e(x); return n == 1;
#define EW2(e, expr) case OP_##e: *out = ewd_##e(x, y); return n == 2;
#include "ew_math.def"
#undef EW1
#undef EW2
    }
    return 0;
}

/* An elementwise op of n operands: computed now if they are all numbers
 * and the op has math to fold, else one node (numbers become constants). */
static Value ew(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    int k = b->params[1].name ? 2 : 1, numbers = 1, in[2];
    double v;
    (void)n;
    for (int i = 0; i < k; i++) numbers &= is_number(&a[i]);
    if (numbers && fold((Op)b->op, a, k, &v)) return fnum(v, loc);
    for (int i = 0; i < k; i++) {
        Value t = elab_as_tensor(E, a[i], loc);
        if (t.kind == V_NONE) return none();
        in[i] = t.node;
    }
    return elab_node(E, (Op)b->op, in, k, NULL, 0, 0, NULL, loc);
}

/* less(a, b) and less_equal(a, b): greater and greater_equal, swapped. */
static Value less(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    Value swapped[2] = {a[1], a[0]};
    return ew(E, b, swapped, n, loc);
}

static Value select_(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)b, (void)n;
    int in[3];
    for (int i = 0; i < 3; i++) {
        Value t = elab_as_tensor(E, a[i], loc);
        if (t.kind == V_NONE) return none();
        in[i] = t.node;
    }
    return elab_node(E, OP_SELECT, in, 3, NULL, 0, 0, NULL, loc);
}

/* ---- reductions --------------------------------------------------------------- */

/* sum / mean / amax / amin (x, axis: int or list (default: all), keepdims:
 * bool); amin(x) is -amax(-x). */
static Value reduce(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (a[0].kind != V_TENSOR) {
        diag_error(E->diag, a[0].loc, "'%s' needs a tensor, got %s", b->name, elab_describe(E, &a[0]));
        return none();
    }
    const Shape *s = shape_of(E, &a[0]);
    int64_t attr[IR_MAX_ATTR] = {a[2].i};
    int64_t axes[IR_MAX_RANK];
    int na = 0;
    if (given(&a[1])) {
        na = ints(E, &a[1], "axis", axes, IR_MAX_RANK);
        if (na < 0) return none();
    } else
        for (; na < s->rank; na++) axes[na] = na;
    /* sorted, unique, non-negative */
    char used[IR_MAX_RANK] = {0};
    for (int i = 0; i < na; i++) {
        int64_t ax;
        if (axis_of(E, axes[i], s->rank, a[1].loc, &ax)) return none();
        used[ax] = 1;
    }
    int k = 1;
    double count = 1;
    for (int i = 0; i < s->rank; i++)
        if (used[i]) {
            attr[k++] = i;
            count *= (double)s->dim[i];
        }
    Op op = b->op == OP_REDUCE_MAX ? OP_REDUCE_MAX : OP_REDUCE_SUM;
    int negate = !strcmp(b->name, "amin");
    Value x = negate ? elab_node(E, OP_NEG, &a[0].node, 1, NULL, 0, 0, NULL, loc) : a[0];
    if (x.kind == V_NONE) return none();
    Value r = elab_node(E, op, &x.node, 1, attr, k, 0, NULL, loc);
    if (negate && r.kind != V_NONE) return elab_node(E, OP_NEG, &r.node, 1, NULL, 0, 0, NULL, loc);
    if (strcmp(b->name, "mean") || r.kind == V_NONE) return r;
    Value c = elab_const(E, 1.0 / count, loc);
    int in[2] = {r.node, c.node};
    return elab_node(E, OP_MUL, in, 2, NULL, 0, 0, NULL, loc);
}

/* ---- data movement ------------------------------------------------------------ */

static int need_tensor(Elab *E, const Builtin *b, const Value *v) {
    if (v->kind == V_TENSOR) return 0;
    diag_error(E->diag, v->loc, "'%s' needs a tensor, got %s", b->name, elab_describe(E, v));
    return -1;
}

/* reshape(x, [d0, d1, ...]) — one dimension may be -1 */
static Value reshape(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0])) return none();
    TType t = *elab_type(E, &a[0]);
    int r = ints(E, &a[1], "shape", t.shape.dim, IR_MAX_RANK);
    if (r < 0) return none();
    t.shape.rank = r;
    int64_t known = 1, total = ir_numel(shape_of(E, &a[0]));
    int free_dim = -1;
    for (int i = 0; i < r; i++) {
        if (t.shape.dim[i] == -1 && free_dim < 0) free_dim = i;
        else if (t.shape.dim[i] <= 0) {
            diag_error(E->diag, a[1].loc, "reshape: dimension %d is %lld", i, (long long)t.shape.dim[i]);
            return none();
        } else known *= t.shape.dim[i];
    }
    if (free_dim >= 0) {
        if (known == 0 || total % known) {
            char buf[128];
            diag_error(E->diag, a[1].loc, "reshape: cannot fit %s into a shape with -1",
                       ir_type_str(elab_type(E, &a[0]), buf, sizeof buf));
            return none();
        }
        t.shape.dim[free_dim] = total / known;
    }
    return elab_node(E, OP_RESHAPE, &a[0].node, 1, NULL, 0, 0, &t, loc);
}

/* transpose(x, perm) — without perm, swaps the last two axes */
static Value transpose(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0])) return none();
    int r = shape_of(E, &a[0])->rank;
    int64_t perm[IR_MAX_ATTR];
    int np = r;
    if (given(&a[1])) {
        np = ints(E, &a[1], "perm", perm, IR_MAX_RANK);
        if (np < 0) return none();
    } else {
        for (int i = 0; i < r; i++) perm[i] = i;
        if (r >= 2) {
            perm[r - 2] = r - 1;
            perm[r - 1] = r - 2;
        }
    }
    return elab_node(E, OP_TRANSPOSE, &a[0].node, 1, perm, np, 0, NULL, loc);
}

/* cat(a, b, ..., axis: 0) */
static Value cat(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)b, (void)n;
    if (a[0].n == 0) {
        diag_error(E->diag, loc, "cat needs at least one tensor");
        return none();
    }
    int in[64];
    if (a[0].n > 64) {
        diag_error(E->diag, loc, "cat takes at most 64 tensors");
        return none();
    }
    for (int i = 0; i < a[0].n; i++) in[i] = a[0].items[i].node;
    int64_t axis;
    if (axis_of(E, a[1].i, shape_of(E, &a[0].items[0])->rank, a[1].loc, &axis)) return none();
    return elab_node(E, OP_CONCAT, in, a[0].n, &axis, 1, 0, NULL, loc);
}

/* slice(x, axis, start, end) and pad(x, axis, before, after) */
static Value slice_pad(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0])) return none();
    int64_t attr[3] = {0, a[2].i, a[3].i};
    if (axis_of(E, a[1].i, shape_of(E, &a[0])->rank, a[1].loc, &attr[0])) return none();
    return elab_node(E, (Op)b->op, &a[0].node, 1, attr, 3, 0, NULL, loc);
}

/* ---- contractions -------------------------------------------------------------- */

static Value matmul(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0]) || need_tensor(E, b, &a[1])) return none();
    int in[2] = {a[0].node, a[1].node};
    int64_t attr[2] = {a[2].i, a[3].i};
    return elab_node(E, OP_MATMUL, in, 2, attr, 2, 0, NULL, loc);
}

/* Reads an int-or-pair argument into two values. */
static int pair(Elab *E, const Value *v, const char *what, int64_t out[2]) {
    int k = ints(E, v, what, out, 2);
    if (k == 1) out[1] = out[0];
    return k < 0 ? -1 : 0;
}

/* conv1d(x, w, stride, padding: int or [left, right]) */
static Value conv1d(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0]) || need_tensor(E, b, &a[1])) return none();
    int64_t pad[2];
    if (pair(E, &a[3], "padding", pad)) return none();
    int64_t attr[3] = {a[2].i, pad[0], pad[1]};
    int in[2] = {a[0].node, a[1].node};
    return elab_node(E, OP_CONV1D, in, 2, attr, 3, 0, NULL, loc);
}

/* conv2d(x, w, stride: int or [h, w], padding: int or [h, w]) */
static Value conv2d(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0]) || need_tensor(E, b, &a[1])) return none();
    int64_t st[2], pad[2];
    if (pair(E, &a[2], "stride", st) || pair(E, &a[3], "padding", pad)) return none();
    int64_t attr[4] = {st[0], st[1], pad[0], pad[1]};
    int in[2] = {a[0].node, a[1].node};
    return elab_node(E, OP_CONV2D, in, 2, attr, 4, 0, NULL, loc);
}

/* max_pool1d(x, kernel, stride: kernel) */
static Value max_pool1d(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0])) return none();
    int64_t attr[2] = {a[1].i, given(&a[2]) ? a[2].i : a[1].i};
    return elab_node(E, OP_MAX_POOL1D, &a[0].node, 1, attr, 2, 0, NULL, loc);
}

/* max_pool2d(x, kernel: int or [h, w], stride: kernel) */
static Value max_pool2d(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0])) return none();
    int64_t k[2], s[2];
    if (pair(E, &a[1], "kernel", k)) return none();
    if (!given(&a[2])) s[0] = k[0], s[1] = k[1];
    else if (pair(E, &a[2], "stride", s)) return none();
    int64_t attr[4] = {k[0], k[1], s[0], s[1]};
    return elab_node(E, OP_MAX_POOL2D, &a[0].node, 1, attr, 4, 0, NULL, loc);
}

static Value gather(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0]) || need_tensor(E, b, &a[1])) return none();
    int in[2] = {a[0].node, a[1].node};
    return elab_node(E, OP_GATHER, in, 2, NULL, 0, 0, NULL, loc);
}

/* argmax(x, axis: -1): the index of the first largest element, as i64 */
static Value argmax(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0])) return none();
    int64_t axis;
    if (axis_of(E, a[1].i, shape_of(E, &a[0])->rank, a[1].loc, &axis)) return none();
    return elab_node(E, OP_ARGMAX, &a[0].node, 1, &axis, 1, 0, NULL, loc);
}

/* one_hot(index [N] i64, classes) -> [N, classes] f32: ones scattered */
static Value one_hot(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0])) return none();
    const TType *t = elab_type(E, &a[0]);
    if (t->dtype != DT_I64 || t->shape.rank != 1) {
        char buf[128];
        diag_error(E->diag, loc, "one_hot needs an i64 index [N], got %s", ir_type_str(t, buf, sizeof buf));
        return none();
    }
    if (a[1].i < 1) {
        diag_error(E->diag, a[1].loc, "one_hot needs at least 1 class, got %lld", (long long)a[1].i);
        return none();
    }
    TType vt = {DT_F32, t->shape}, yt = {DT_F32, {2, {t->shape.dim[0], a[1].i}}};
    Value ones = elab_node(E, OP_CONST, NULL, 0, NULL, 0, 1.0, &vt, loc);
    if (ones.kind == V_NONE) return none();
    int in[2] = {ones.node, a[0].node};
    return elab_node(E, OP_SCATTER, in, 2, NULL, 0, 0, &yt, loc);
}

/* ---- random numbers ----------------------------------------------------------- */

/* dropout_mask(x, p): 0 or 1/(1-p) per element in training, 1 in evaluation */
static Value dropout_mask(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0])) return none();
    double p = num(&a[1]);
    if (p < 0 || p >= 1) {
        diag_error(E->diag, a[1].loc, "dropout probability must be in [0, 1), got %g", p);
        return none();
    }
    TType t = {DT_F32, *shape_of(E, &a[0])};
    int64_t stream = E->streams++;
    return elab_node(E, OP_DROPOUT_MASK, NULL, 0, &stream, 1, p, &t, loc);
}

/* Reads a shape argument [d0, d1, ...] (or one int) into an f32 type. */
static int shape_arg(Elab *E, const Value *v, TType *t) {
    *t = (TType){DT_F32, {0, {0}}};
    int r = ints(E, v, "shape", t->shape.dim, IR_MAX_RANK);
    if (r < 0) return -1;
    t->shape.rank = r;
    for (int i = 0; i < r; i++)
        if (t->shape.dim[i] < 0) {
            diag_error(E->diag, v->loc, "shape: dimension %d is %lld", i, (long long)t->shape.dim[i]);
            return -1;
        }
    return 0;
}

/* random_uniform([d0, d1, ...]): U[0, 1); random_normal([...]): N(0, 1) */
static Value random_(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    TType t;
    if (shape_arg(E, &a[0], &t)) return none();
    int64_t stream = E->streams++;
    return elab_node(E, (Op)b->op, NULL, 0, &stream, 1, 0, &t, loc);
}

/* ---- constant tensors ------------------------------------------------------------ */

/* full([shape], value); zeros([shape]) and ones([shape]) come here too */
static Value full(Elab *E, Value shape, double value, Loc loc) {
    TType t;
    if (shape_arg(E, &shape, &t)) return none();
    return elab_node(E, OP_CONST, NULL, 0, NULL, 0, value, &t, loc);
}

static Value full_(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)b, (void)n;
    return full(E, a[0], num(&a[1]), loc);
}

/* iota of the given dims along axis (f32). */
static Value iota(Elab *E, const int64_t *dims, int rank, int64_t axis, Loc loc) {
    TType t = {DT_F32, {rank, {0}}};
    for (int i = 0; i < rank; i++) t.shape.dim[i] = dims[i];
    return elab_node(E, OP_IOTA, NULL, 0, &axis, 1, 0, &t, loc);
}

/* Requires a size n >= 1 for what. */
static int size_ok(Elab *E, const Value *v, const char *what) {
    if (v->i >= 1) return 0;
    diag_error(E->diag, v->loc, "%s needs a size of at least 1, got %lld", what, (long long)v->i);
    return -1;
}

/* arange(n): [0, 1, ..., n-1] as f32 */
static Value arange(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)b, (void)n;
    if (size_ok(E, &a[0], "arange")) return none();
    return iota(E, &a[0].i, 1, 0, loc);
}

/* eye(n): the [n, n] identity, as row index == column index */
static Value eye(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)b, (void)n;
    if (size_ok(E, &a[0], "eye")) return none();
    int64_t dims[2] = {a[0].i, a[0].i};
    Value r = iota(E, dims, 2, 0, loc), c = iota(E, dims, 2, 1, loc);
    if (r.kind == V_NONE || c.kind == V_NONE) return none();
    int in[2] = {r.node, c.node};
    return elab_node(E, OP_EQ, in, 2, NULL, 0, 0, NULL, loc);
}

/* ---- initializers and shape queries --------------------------------------------- */

/* An initializer for `param`; zeros([shape]) and ones([shape]) with a
 * shape are constant tensors instead. */
static Value init(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    int zeros = !strcmp(b->name, "zeros"), ones = !strcmp(b->name, "ones");
    if ((zeros || ones) && given(&a[0])) return full(E, a[0], ones, loc);
    Value v = {.kind = V_INIT, .loc = loc, .rule = IK_FIXED};
    if (!strcmp(b->name, "zeros")) v.init = (Init){INIT_ZEROS, 0, 0};
    else if (!strcmp(b->name, "ones")) v.init = (Init){INIT_ONES, 0, 0};
    else if (!strcmp(b->name, "uniform")) v.init = (Init){INIT_UNIFORM, num(&a[0]), num(&a[1])};
    else if (!strcmp(b->name, "normal")) v.init = (Init){INIT_NORMAL, num(&a[0]), num(&a[1])};
    else if (!strcmp(b->name, "xavier_uniform")) v.rule = IK_XAVIER_UNIFORM, v.f = num(&a[0]);
    else v.rule = IK_FAN_IN_UNIFORM;
    if (v.init.kind == INIT_UNIFORM && !(v.init.a < v.init.b)) {
        diag_error(E->diag, loc, "uniform(%g, %g): the low bound must be below the high bound", v.init.a, v.init.b);
        return none();
    }
    return v;
}

/* dim(x, axis): the size of one dimension, as an int */
static Value dim(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (need_tensor(E, b, &a[0])) return none();
    const Shape *s = shape_of(E, &a[0]);
    int64_t ax;
    if (axis_of(E, a[1].i, s->rank, a[1].loc, &ax)) return none();
    return (Value){.kind = V_INT, .loc = loc, .i = s->dim[ax]};
}

/* ---- the table ----------------------------------------------------------------- */

#define T1 {{"x", 'n', NULL}}
#define T2 {{"a", 'n', NULL}, {"b", 'n', NULL}}
#define RED {{"x", 't', NULL}, {"axis", 'l', "none"}, {"keepdims", 'b', "false"}}

static const Builtin builtins[] = {
    {"neg", ew, 0, OP_NEG, T1},
    {"exp", ew, 0, OP_EXP, T1},
    {"log", ew, 0, OP_LOG, T1},
    {"sqrt", ew, 0, OP_SQRT, T1},
    {"rsqrt", ew, 0, OP_RSQRT, T1},
    {"tanh", ew, 0, OP_TANH, T1},
    {"sigmoid", ew, 0, OP_SIGMOID, T1},
    {"relu", ew, 0, OP_RELU, T1},
    {"abs", ew, 0, OP_ABS, T1},
    {"step", ew, 0, OP_STEP, T1},
    {"sign", ew, 0, OP_SIGN, T1},
    {"floor", ew, 0, OP_FLOOR, T1},
    {"sin", ew, 0, OP_SIN, T1},
    {"cos", ew, 0, OP_COS, T1},
    {"stop_gradient", ew, 0, OP_STOP_GRADIENT, T1},
    {"maximum", ew, 0, OP_MAX, T2},
    {"minimum", ew, 0, OP_MIN, T2},
    {"pow", ew, 0, OP_POW, T2},
    {"mod", ew, 0, OP_MOD, T2},
    {"greater", ew, 0, OP_GT, T2},
    {"greater_equal", ew, 0, OP_GE, T2},
    {"equal", ew, 0, OP_EQ, T2},
    {"less", less, 0, OP_GT, T2},
    {"less_equal", less, 0, OP_GE, T2},
    {"select", select_, 0, OP_SELECT, {{"cond", 'n', NULL}, {"a", 'n', NULL}, {"b", 'n', NULL}}},
    {"sum", reduce, 0, OP_REDUCE_SUM, RED},
    {"mean", reduce, 0, OP_REDUCE_SUM, RED},
    {"amax", reduce, 0, OP_REDUCE_MAX, RED},
    {"amin", reduce, 0, OP_REDUCE_MAX, RED},
    {"reshape", reshape, 0, OP_RESHAPE, {{"x", 't', NULL}, {"shape", 'l', NULL}}},
    {"transpose", transpose, 0, OP_TRANSPOSE, {{"x", 't', NULL}, {"perm", 'l', "none"}}},
    {"cat", cat, 1, OP_CONCAT, {{"tensors", 'a', NULL}, {"axis", 'i', "0"}}},
    {"slice", slice_pad, 0, OP_SLICE,
     {{"x", 't', NULL}, {"axis", 'i', NULL}, {"start", 'i', NULL}, {"end", 'i', NULL}}},
    {"pad", slice_pad, 0, OP_PAD,
     {{"x", 't', NULL}, {"axis", 'i', NULL}, {"before", 'i', NULL}, {"after", 'i', NULL}}},
    {"matmul", matmul, 0, OP_MATMUL,
     {{"a", 't', NULL}, {"b", 't', NULL}, {"ta", 'b', "false"}, {"tb", 'b', "false"}}},
    {"conv1d", conv1d, 0, OP_CONV1D,
     {{"x", 't', NULL}, {"w", 't', NULL}, {"stride", 'i', "1"}, {"padding", 'l', "0"}}},
    {"conv2d", conv2d, 0, OP_CONV2D,
     {{"x", 't', NULL}, {"w", 't', NULL}, {"stride", 'l', "1"}, {"padding", 'l', "0"}}},
    {"max_pool1d", max_pool1d, 0, OP_MAX_POOL1D,
     {{"x", 't', NULL}, {"kernel", 'i', NULL}, {"stride", 'i', "none"}}},
    {"max_pool2d", max_pool2d, 0, OP_MAX_POOL2D,
     {{"x", 't', NULL}, {"kernel", 'l', NULL}, {"stride", 'l', "none"}}},
    {"gather", gather, 0, OP_GATHER, {{"x", 't', NULL}, {"index", 't', NULL}}},
    {"argmax", argmax, 0, OP_ARGMAX, {{"x", 't', NULL}, {"axis", 'i', "-1"}}},
    {"one_hot", one_hot, 0, OP_SCATTER, {{"index", 't', NULL}, {"classes", 'i', NULL}}},
    {"dropout_mask", dropout_mask, 0, OP_DROPOUT_MASK, {{"x", 't', NULL}, {"p", 'f', NULL}}},
    {"random_uniform", random_, 0, OP_RANDOM_UNIFORM, {{"shape", 'l', NULL}}},
    {"random_normal", random_, 0, OP_RANDOM_NORMAL, {{"shape", 'l', NULL}}},
    {"full", full_, 0, OP_CONST, {{"shape", 'l', NULL}, {"value", 'f', NULL}}},
    {"arange", arange, 0, OP_IOTA, {{"n", 'i', NULL}}},
    {"eye", eye, 0, OP_IOTA, {{"n", 'i', NULL}}},
    {"zeros", init, 0, -1, {{"shape", 'l', "none"}}},
    {"ones", init, 0, -1, {{"shape", 'l', "none"}}},
    {"uniform", init, 0, -1, {{"low", 'f', NULL}, {"high", 'f', NULL}}},
    {"normal", init, 0, -1, {{"mean", 'f', "0.0"}, {"std", 'f', "1.0"}}},
    {"xavier_uniform", init, 0, -1, {{"gain", 'f', "1.0"}}},
    {"fan_in_uniform", init, 0, -1, {{0}}},
    {"dim", dim, 0, -1, {{"x", 't', NULL}, {"axis", 'i', NULL}}},
};

const Builtin *builtin_find(const char *name) {
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (!strcmp(builtins[i].name, name)) return &builtins[i];
    return NULL;
}

int builtin_nparams(const Builtin *b) {
    int n = 0;
    while (n < 6 && b->params[n].name) n++;
    return n;
}

const Builtin *builtin_prim_nth(int i) {
    return i >= 0 && i < (int)(sizeof builtins / sizeof builtins[0]) ? &builtins[i] : NULL;
}
