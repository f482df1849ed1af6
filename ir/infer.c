/* infer.c — the shape rule of every op in ops.def.
 *
 * ir_infer checks the generic things (op, input count and ids, attribute
 * count, the types of the inputs) and then runs the op's rule, chosen by
 * its class: a new elementwise op needs no rule of its own; a new op of
 * another class needs a case in rule_of (the per-op tests fail without).
 * Messages name the op but carry no location; the caller adds it.
 *
 * Limits keep all shape arithmetic inside int64: every dim is at most
 * DIM_MAX, every element count at most NUMEL_MAX, and every integer
 * attribute used in arithmetic is range-checked first.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "ir.h"

#define DIM_MAX ((int64_t)1 << 32)
#define NUMEL_MAX ((int64_t)1 << 48)

/* Everything a rule needs: the call's arguments and where to write. */
typedef struct {
    const Graph *g;
    Op op;
    const char *name; /* op name, prefix of every message */
    const int *in;
    int nin;
    const int64_t *attr;
    int nattr;
    const TType *given;
    TType *out;
    char *err;
    size_t errlen;
} Ctx;

typedef int (*Rule)(Ctx *c);

/* A type rendered for a message; C11 keeps the temporary alive for the
 * whole full expression, so tstr(t).s can be passed to printf. */
typedef struct {
    char s[160];
} TStr;

/* "f32[64, 10]" as a TStr. */
static TStr tstr(const TType *t) {
    TStr r;
    ir_type_str(t, r.s, sizeof r.s);
    return r;
}

/* "[1, 0, 2]" for a list of ints (truncated if very long). */
static TStr list_str(const int64_t *v, int n) {
    TStr r;
    size_t pos = 0, cap = sizeof r.s - 8; /* room for "...]" */
    r.s[pos++] = '[';
    for (int i = 0; i < n && pos < cap; i++) {
        int k = snprintf(r.s + pos, cap - pos, "%s%" PRId64, i ? ", " : "", v[i]);
        pos = k < 0 || (size_t)k >= cap - pos ? cap : pos + (size_t)k;
    }
    snprintf(r.s + pos, sizeof r.s - pos, "%s", pos >= cap ? "...]" : "]");
    return r;
}

/* Writes "<op>: <message>" into err; returns -1. */
__attribute__((format(printf, 2, 3))) static int fail(Ctx *c, const char *fmt, ...) {
    int k = snprintf(c->err, c->errlen, "%s: ", c->name);
    if (k >= 0 && (size_t)k < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Writes the message without the op prefix; returns -1. */
__attribute__((format(printf, 2, 3))) static int fail_bare(Ctx *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The type of input i. */
static const TType *ty(const Ctx *c, int i) { return &c->g->nodes[c->in[i]].type; }

/* ---- limits and generic checks ------------------------------------------ */

/* 1 if t has a known dtype, a rank in [0, IR_MAX_RANK] and dims in
 * [0, DIM_MAX] whose product is at most NUMEL_MAX. */
static int type_ok(const TType *t) {
    if (t->dtype != DT_F32 && t->dtype != DT_I64) return 0;
    if (t->shape.rank < 0 || t->shape.rank > IR_MAX_RANK) return 0;
    int64_t n = 1;
    for (int i = 0; i < t->shape.rank; i++) {
        int64_t d = t->shape.dim[i];
        if (d < 0 || d > DIM_MAX) return 0;
        if (d != 0 && n > NUMEL_MAX / d) return 0;
        n *= d;
    }
    return 1;
}

/* Explains why type_ok(t) failed; `what` is "result type", "input 1", ... */
static int bad_type(Ctx *c, const char *what, const TType *t) {
    if (t->dtype != DT_F32 && t->dtype != DT_I64)
        return fail(c, "%s has an invalid dtype (%d)", what, (int)t->dtype);
    if (t->shape.rank < 0 || t->shape.rank > IR_MAX_RANK)
        return fail(c, "%s has rank %d; the limit is %d", what, t->shape.rank, IR_MAX_RANK);
    for (int i = 0; i < t->shape.rank; i++)
        if (t->shape.dim[i] < 0) return fail(c, "%s %s has a negative dimension", what, tstr(t).s);
    return fail(c, "%s %s is too large", what, tstr(t).s);
}

/* Checks the number of inputs against the op's arity. */
static int check_arity(Ctx *c) {
    int a = ir_op_info[c->op].arity;
    if (a < 0 && c->nin < 1) return fail(c, "expected at least 1 input, got %d", c->nin);
    if (a >= 0 && c->nin != a)
        return fail(c, "expected %d input%s, got %d", a, a == 1 ? "" : "s", c->nin);
    return 0;
}

/* Checks that every input names an existing node with a sane type. */
static int check_inputs(Ctx *c) {
    if (c->nin > 0 && !c->in) return fail(c, "input list is missing");
    for (int i = 0; i < c->nin; i++) {
        if (c->in[i] < 0 || c->in[i] >= c->g->nnodes)
            return fail(c, "input %d refers to node %%%d, which does not exist", i, c->in[i]);
        if (!type_ok(ty(c, i))) {
            char what[32];
            snprintf(what, sizeof what, "input %d", i);
            return bad_type(c, what, ty(c, i));
        }
    }
    return 0;
}

/* "stride pad_l pad_r" / "keepdims axes[]": the integer attribute names. */
static TStr attr_names(const AttrSchema *s) {
    TStr r;
    size_t pos = 0;
    r.s[0] = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->at[i].kind == ATTR_VALUE) continue;
        int k = snprintf(r.s + pos, sizeof r.s - pos, "%s%s%s", pos ? " " : "", s->at[i].name,
                         s->at[i].kind == ATTR_LIST ? "[]" : "");
        if (k < 0 || (size_t)k >= sizeof r.s - pos) break;
        pos += (size_t)k;
    }
    return r;
}

/* Checks the attribute count against the op's schema. */
static int check_attr_count(Ctx *c) {
    AttrSchema s;
    ir_attr_schema(c->op, &s);
    if (c->nattr < 0 || c->nattr > IR_MAX_ATTR)
        return fail(c, "%d attributes; the limit is %d", c->nattr, IR_MAX_ATTR);
    if (c->nattr > 0 && !c->attr) return fail(c, "attribute list is missing");
    int ok = s.has_list ? c->nattr >= s.nfixed : c->nattr == s.nfixed;
    if (ok) return 0;
    if (s.nfixed == 0 && !s.has_list)
        return fail(c, "expected no attributes, got %d", c->nattr);
    return fail(c, "expected %s%d attribute%s (%s), got %d", s.has_list ? "at least " : "",
                s.nfixed, s.nfixed == 1 ? "" : "s", attr_names(&s).s, c->nattr);
}

/* The given result type, checked to exist and be sane; NULL after a failure. */
static const TType *need_given(Ctx *c) {
    if (!c->given) {
        fail(c, "the result type must be given");
        return NULL;
    }
    if (!type_ok(c->given)) {
        bad_type(c, "result type", c->given);
        return NULL;
    }
    return c->given;
}

/* Requires t to be f32; `what` names it in the message. */
static int need_f32(Ctx *c, const char *what, const TType *t) {
    if (t->dtype == DT_F32) return 0;
    return fail(c, "%s is %s, expected f32", what, tstr(t).s);
}

/* Requires every input to be f32. */
static int inputs_f32(Ctx *c) {
    for (int i = 0; i < c->nin; i++) {
        char what[32];
        snprintf(what, sizeof what, "input %d", i);
        if (need_f32(c, what, ty(c, i))) return -1;
    }
    return 0;
}

/* Requires a and b to have the same dtype. */
static int same_dtype(Ctx *c, const TType *a, const TType *b) {
    if (a->dtype == b->dtype) return 0;
    return fail(c, "dtypes differ: %s and %s", tstr(a).s, tstr(b).s);
}

/* Requires lo <= v <= hi for the attribute called what. */
static int attr_range(Ctx *c, const char *what, int64_t v, int64_t lo, int64_t hi) {
    if (v >= lo && v <= hi) return 0;
    if (hi == DIM_MAX) return fail(c, "%s must be >= %" PRId64 ", got %" PRId64, what, lo, v);
    return fail(c, "%s must be between %" PRId64 " and %" PRId64 ", got %" PRId64, what, lo, hi, v);
}

/* Requires 0 <= axis < rank. */
static int axis_ok(Ctx *c, int64_t axis, int rank) {
    if (axis >= 0 && axis < rank) return 0;
    return fail(c, "axis %" PRId64 " out of range for rank %d", axis, rank);
}

/* ---- sources and elementwise --------------------------------------------- */

/* input, label, const: the given type, any dtype. */
static int rule_source(Ctx *c) {
    const TType *t = need_given(c);
    if (!t) return -1;
    *c->out = *t;
    return 0;
}

/* param, state, random numbers: the given type, which must be f32. */
static int rule_source_f32(Ctx *c) {
    const TType *t = need_given(c);
    if (!t || need_f32(c, "the type", t)) return -1;
    *c->out = *t;
    return 0;
}

/* iota: the given f32 type, of rank >= 1, and an axis of it. */
static int rule_iota(Ctx *c) {
    if (rule_source_f32(c)) return -1;
    return axis_ok(c, c->attr[0], c->out->shape.rank);
}

/* Broadcasts the types of all inputs into *c->out (dtype of input 0). */
static int broadcast_inputs(Ctx *c) {
    *c->out = *ty(c, 0);
    for (int i = 1; i < c->nin; i++) {
        if (ir_broadcast(&c->out->shape, &ty(c, i)->shape, &c->out->shape) == 0) continue;
        return fail_bare(c, "cannot broadcast %s and %s", tstr(c->out).s, tstr(ty(c, i)).s);
    }
    return 0;
}

/* Arithmetic and comparisons: f32 inputs, broadcast; the result is f32. */
static int rule_arith(Ctx *c) {
    if (inputs_f32(c)) return -1;
    return broadcast_inputs(c);
}

/* eq: inputs of one dtype (f32 or i64), broadcast; the result is f32. */
static int rule_eq(Ctx *c) {
    if (same_dtype(c, ty(c, 0), ty(c, 1)) || broadcast_inputs(c)) return -1;
    c->out->dtype = DT_F32;
    return 0;
}

/* cast: the given dtype, the input's shape. */
static int rule_cast(Ctx *c) {
    const TType *t = need_given(c);
    if (!t) return -1;
    if (!ir_shape_eq(&t->shape, &ty(c, 0)->shape))
        return fail(c, "shapes differ: %s and %s", tstr(ty(c, 0)).s, tstr(t).s);
    *c->out = *t;
    return 0;
}

/* ---- reductions ----------------------------------------------------------- */

/* Marks the reduced axes of a rank-r input in red[]: attr[1..] are sorted,
 * unique and in range; none means all. */
static int reduced_axes(Ctx *c, int r, int red[IR_MAX_RANK]) {
    const int64_t *axes = c->attr + 1;
    int n = c->nattr - 1;
    for (int i = 0; i < r; i++) red[i] = n == 0;
    for (int k = 0; k < n; k++) {
        if (axis_ok(c, axes[k], r)) return -1;
        if (k > 0 && axes[k] <= axes[k - 1])
            return fail(c, "axes must be sorted and unique, got %s", list_str(axes, n).s);
        red[axes[k]] = 1;
    }
    return 0;
}

/* reduce_*: x f32 [..] -> reduced axes dropped, or kept as 1 (keepdims). */
static int rule_reduce(Ctx *c) {
    const TType *x = ty(c, 0);
    int red[IR_MAX_RANK];
    if (need_f32(c, "the input", x) || attr_range(c, "keepdims", c->attr[0], 0, 1) ||
        reduced_axes(c, x->shape.rank, red))
        return -1;
    memset(c->out, 0, sizeof *c->out);
    c->out->dtype = x->dtype;
    for (int i = 0; i < x->shape.rank; i++) {
        if (red[i] && !c->attr[0]) continue;
        c->out->shape.dim[c->out->shape.rank++] = red[i] ? 1 : x->shape.dim[i];
    }
    return 0;
}

/* ---- data movement -------------------------------------------------------- */

/* reshape: the given type; same dtype and element count. */
static int rule_reshape(Ctx *c) {
    const TType *t = need_given(c), *x = ty(c, 0);
    if (!t || same_dtype(c, x, t)) return -1;
    if (ir_numel(&x->shape) != ir_numel(&t->shape))
        return fail(c, "%s has %" PRId64 " elements, %s has %" PRId64, tstr(x).s,
                    ir_numel(&x->shape), tstr(t).s, ir_numel(&t->shape));
    *c->out = *t;
    return 0;
}

/* broadcast: the given type; the input must broadcast to it exactly. */
static int rule_broadcast(Ctx *c) {
    const TType *t = need_given(c), *x = ty(c, 0);
    if (!t || same_dtype(c, x, t)) return -1;
    Shape s;
    if (x->shape.rank > t->shape.rank || ir_broadcast(&x->shape, &t->shape, &s) != 0 ||
        !ir_shape_eq(&s, &t->shape))
        return fail(c, "cannot broadcast %s to %s", tstr(x).s, tstr(t).s);
    *c->out = *t;
    return 0;
}

/* transpose: out.dim[i] = x.dim[perm[i]]; perm permutes 0..rank-1. */
static int rule_transpose(Ctx *c) {
    const TType *x = ty(c, 0);
    int r = x->shape.rank, seen[IR_MAX_RANK] = {0};
    if (c->nattr != r)
        return fail(c, "perm %s has %d entries for rank %d", list_str(c->attr, c->nattr).s,
                    c->nattr, r);
    *c->out = *x;
    for (int i = 0; i < r; i++) {
        int64_t p = c->attr[i];
        if (p < 0 || p >= r || seen[p]++)
            return fail(c, "%s is not a permutation of 0..%d", list_str(c->attr, r).s, r - 1);
        c->out->shape.dim[i] = x->shape.dim[p];
    }
    return 0;
}

/* 1 if a and b have the same rank and agree on every dim but axis. */
static int same_but_axis(const Shape *a, const Shape *b, int axis) {
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (i != axis && a->dim[i] != b->dim[i]) return 0;
    return 1;
}

/* concat: inputs equal except along attr[0], where their dims add up. */
static int rule_concat(Ctx *c) {
    const TType *x = ty(c, 0);
    int64_t axis = c->attr[0];
    if (axis_ok(c, axis, x->shape.rank)) return -1;
    *c->out = *x;
    for (int i = 1; i < c->nin; i++) {
        if (same_dtype(c, x, ty(c, i))) return -1;
        if (!same_but_axis(&x->shape, &ty(c, i)->shape, (int)axis))
            return fail(c, "%s and %s differ outside axis %" PRId64, tstr(x).s, tstr(ty(c, i)).s,
                        axis);
        c->out->shape.dim[axis] += ty(c, i)->shape.dim[axis];
    }
    return 0;
}

/* slice: keeps [start, end) of one axis; 0 <= start <= end <= dim. */
static int rule_slice(Ctx *c) {
    const TType *x = ty(c, 0);
    int64_t axis = c->attr[0], start = c->attr[1], end = c->attr[2];
    if (axis_ok(c, axis, x->shape.rank)) return -1;
    int64_t d = x->shape.dim[axis];
    if (start < 0 || start > end || end > d)
        return fail(c, "range %" PRId64 "..%" PRId64 " does not fit axis %" PRId64 " of size %" PRId64,
                    start, end, axis, d);
    *c->out = *x;
    c->out->shape.dim[axis] = end - start;
    return 0;
}

/* pad: adds `before` and `after` zeros along one axis. */
static int rule_pad(Ctx *c) {
    const TType *x = ty(c, 0);
    int64_t axis = c->attr[0], before = c->attr[1], after = c->attr[2];
    if (axis_ok(c, axis, x->shape.rank)) return -1;
    if (before < 0 || after < 0 || before > DIM_MAX || after > DIM_MAX)
        return fail(c, "padding must be between 0 and %" PRId64 ", got %" PRId64 " and %" PRId64,
                    DIM_MAX, before, after);
    *c->out = *x;
    c->out->shape.dim[axis] += before + after;
    return 0;
}

/* ---- matmul --------------------------------------------------------------- */

/* The first `rank - 2` dims of s (the batch dims of a matmul operand). */
static Shape batch_of(const Shape *s) {
    Shape b;
    memset(&b, 0, sizeof b);
    b.rank = s->rank - 2;
    memcpy(b.dim, s->dim, (size_t)b.rank * sizeof b.dim[0]);
    return b;
}

/* matmul: a [..., M, K] (ta: [..., K, M]) @ b [..., K, N] (tb: [..., N, K])
 * -> [batch, M, N]; the batch dims broadcast. */
static int rule_matmul(Ctx *c) {
    const TType *a = ty(c, 0), *b = ty(c, 1);
    int64_t ta = c->attr[0], tb = c->attr[1];
    if (attr_range(c, "ta", ta, 0, 1) || attr_range(c, "tb", tb, 0, 1) || inputs_f32(c)) return -1;
    int ra = a->shape.rank, rb = b->shape.rank;
    if (ra < 2 || rb < 2)
        return fail(c, "operands need rank >= 2, got %s @ %s", tstr(a).s, tstr(b).s);
    int64_t m = a->shape.dim[ra - 2 + ta], ka = a->shape.dim[ra - 1 - ta];
    int64_t kb = b->shape.dim[rb - 2 + tb], n = b->shape.dim[rb - 1 - tb];
    if (ka != kb)
        return fail(c, "inner dimensions differ: %s%s @ %s%s (%" PRId64 " vs %" PRId64 ")",
                    tstr(a).s, ta ? "^T" : "", tstr(b).s, tb ? "^T" : "", ka, kb);
    Shape ba = batch_of(&a->shape), bb = batch_of(&b->shape), bo;
    if (ir_broadcast(&ba, &bb, &bo) != 0)
        return fail(c, "batch dimensions do not broadcast: %s @ %s", tstr(a).s, tstr(b).s);
    c->out->dtype = DT_F32;
    c->out->shape = bo;
    c->out->shape.dim[c->out->shape.rank++] = m;
    c->out->shape.dim[c->out->shape.rank++] = n;
    return 0;
}

/* ---- convolution ---------------------------------------------------------- */

/* Output length of a window k with stride s over l padded by pl + pr:
 * (l + pl + pr - k) / s + 1, which must be >= 1. `what` is "length" etc. */
static int conv_len(Ctx *c, const char *what, int64_t l, int64_t k, int64_t s, int64_t pl,
                    int64_t pr, int64_t *out) {
    if (k < 1) return fail(c, "kernel %s must be >= 1, got %" PRId64, what, k);
    if (l + pl + pr < k)
        return fail(c,
                    "kernel %s %" PRId64 " exceeds the padded input %s %" PRId64 " (%" PRId64
                    " + %" PRId64 " + %" PRId64 ")",
                    what, k, what, l + pl + pr, l, pl, pr);
    *out = (l + pl + pr - k) / s + 1;
    return 0;
}

/* Checks x [B, Ci, ...] and w [Co, Ci, ...] of rank r; starts *y as
 * [B, Co, ...] (spatial dims left to the caller). */
static int conv_common(Ctx *c, const TType *x, const TType *w, int r, TType *y) {
    static const char *const form[] = {"", "", "", "x [B, Ci, L] and w [Co, Ci, K]",
                                 "x [B, Ci, H, W] and w [Co, Ci, Kh, Kw]"};
    if (x->shape.rank != r || w->shape.rank != r)
        return fail(c, "expected %s, got %s and %s", form[r], tstr(x).s, tstr(w).s);
    if (need_f32(c, "x", x) || need_f32(c, "w", w)) return -1;
    if (x->shape.dim[1] != w->shape.dim[1])
        return fail(c, "input has %" PRId64 " channels but the weight expects %" PRId64,
                    x->shape.dim[1], w->shape.dim[1]);
    memset(y, 0, sizeof *y);
    y->dtype = DT_F32;
    y->shape.rank = r;
    y->shape.dim[0] = x->shape.dim[0];
    y->shape.dim[1] = w->shape.dim[0];
    return 0;
}

/* conv1d: x [B, Ci, L], w [Co, Ci, K] -> y [B, Co, Lo]; attr stride pad_l pad_r. */
static int conv1d_type(Ctx *c, const TType *x, const TType *w, TType *y) {
    const int64_t *a = c->attr;
    if (attr_range(c, "stride", a[0], 1, DIM_MAX) || attr_range(c, "pad_l", a[1], 0, DIM_MAX) ||
        attr_range(c, "pad_r", a[2], 0, DIM_MAX) || conv_common(c, x, w, 3, y))
        return -1;
    return conv_len(c, "length", x->shape.dim[2], w->shape.dim[2], a[0], a[1], a[2],
                    &y->shape.dim[2]);
}

/* conv2d: x [B, Ci, H, W], w [Co, Ci, Kh, Kw] -> y [B, Co, Ho, Wo];
 * attr stride_h stride_w pad_h pad_w (padding on both sides). */
static int conv2d_type(Ctx *c, const TType *x, const TType *w, TType *y) {
    const int64_t *a = c->attr;
    if (attr_range(c, "stride_h", a[0], 1, DIM_MAX) || attr_range(c, "stride_w", a[1], 1, DIM_MAX) ||
        attr_range(c, "pad_h", a[2], 0, DIM_MAX) || attr_range(c, "pad_w", a[3], 0, DIM_MAX) ||
        conv_common(c, x, w, 4, y))
        return -1;
    const int64_t *xd = x->shape.dim, *wd = w->shape.dim;
    return conv_len(c, "height", xd[2], wd[2], a[0], a[2], a[2], &y->shape.dim[2]) ||
           conv_len(c, "width", xd[3], wd[3], a[1], a[3], a[3], &y->shape.dim[3]);
}

typedef int (*ConvFn)(Ctx *c, const TType *x, const TType *w, TType *y);

/* Requires dy to equal the forward result `fwd` computed from x and w. */
static int dy_matches(Ctx *c, const TType *dy, const TType *fwd) {
    if (dy->dtype == fwd->dtype && ir_shape_eq(&dy->shape, &fwd->shape)) return 0;
    return fail(c, "dy is %s but the forward op gives %s", tstr(dy).s, tstr(fwd).s);
}

/* conv forward: inputs (x, w). */
static int conv_forward(Ctx *c, ConvFn f) { return f(c, ty(c, 0), ty(c, 1), c->out); }

/* conv grad_input: inputs (dy, w); the given type is x's. */
static int conv_grad_input(Ctx *c, ConvFn f) {
    const TType *x = need_given(c);
    TType y;
    if (!x || f(c, x, ty(c, 1), &y) || dy_matches(c, ty(c, 0), &y)) return -1;
    *c->out = *x;
    return 0;
}

/* conv grad_weight: inputs (x, dy); the given type is w's. */
static int conv_grad_weight(Ctx *c, ConvFn f) {
    const TType *w = need_given(c);
    TType y;
    if (!w || f(c, ty(c, 0), w, &y) || dy_matches(c, ty(c, 1), &y)) return -1;
    *c->out = *w;
    return 0;
}

static int rule_conv1d(Ctx *c) { return conv_forward(c, conv1d_type); }
static int rule_conv1d_gi(Ctx *c) { return conv_grad_input(c, conv1d_type); }
static int rule_conv1d_gw(Ctx *c) { return conv_grad_weight(c, conv1d_type); }
static int rule_conv2d(Ctx *c) { return conv_forward(c, conv2d_type); }
static int rule_conv2d_gi(Ctx *c) { return conv_grad_input(c, conv2d_type); }
static int rule_conv2d_gw(Ctx *c) { return conv_grad_weight(c, conv2d_type); }

/* ---- pooling -------------------------------------------------------------- */

/* floor((l - k) / s) + 1 windows; the window must fit. */
static int pool_len(Ctx *c, const char *what, int64_t l, int64_t k, int64_t s, int64_t *out) {
    if (k > l)
        return fail(c, "window %s %" PRId64 " exceeds the input %s %" PRId64, what, k, what, l);
    *out = (l - k) / s + 1;
    return 0;
}

/* max_pool1d: x [B, C, L] -> [B, C, Lo]; attr kernel stride. */
static int pool1d_type(Ctx *c, const TType *x, TType *y) {
    const int64_t *a = c->attr;
    if (attr_range(c, "kernel", a[0], 1, DIM_MAX) || attr_range(c, "stride", a[1], 1, DIM_MAX))
        return -1;
    if (x->shape.rank != 3) return fail(c, "expected x [B, C, L], got %s", tstr(x).s);
    if (need_f32(c, "x", x)) return -1;
    *y = *x;
    return pool_len(c, "length", x->shape.dim[2], a[0], a[1], &y->shape.dim[2]);
}

/* max_pool2d: x [B, C, H, W] -> [B, C, Ho, Wo]; attr kernel_h kernel_w stride_h stride_w. */
static int pool2d_type(Ctx *c, const TType *x, TType *y) {
    const int64_t *a = c->attr;
    if (attr_range(c, "kernel_h", a[0], 1, DIM_MAX) || attr_range(c, "kernel_w", a[1], 1, DIM_MAX) ||
        attr_range(c, "stride_h", a[2], 1, DIM_MAX) || attr_range(c, "stride_w", a[3], 1, DIM_MAX))
        return -1;
    if (x->shape.rank != 4) return fail(c, "expected x [B, C, H, W], got %s", tstr(x).s);
    if (need_f32(c, "x", x)) return -1;
    *y = *x;
    return pool_len(c, "height", x->shape.dim[2], a[0], a[2], &y->shape.dim[2]) ||
           pool_len(c, "width", x->shape.dim[3], a[1], a[3], &y->shape.dim[3]);
}

typedef int (*PoolFn)(Ctx *c, const TType *x, TType *y);

/* pool grad: inputs (x, dy); dy must be pool(x); the result is x's type. */
static int pool_grad(Ctx *c, PoolFn f) {
    TType y;
    if (f(c, ty(c, 0), &y) || dy_matches(c, ty(c, 1), &y)) return -1;
    *c->out = *ty(c, 0);
    return 0;
}

static int rule_pool1d(Ctx *c) { return pool1d_type(c, ty(c, 0), c->out); }
static int rule_pool1d_grad(Ctx *c) { return pool_grad(c, pool1d_type); }
static int rule_pool2d(Ctx *c) { return pool2d_type(c, ty(c, 0), c->out); }
static int rule_pool2d_grad(Ctx *c) { return pool_grad(c, pool2d_type); }

/* ---- indexing ------------------------------------------------------------- */

/* gather: x [N, C] f32, idx [N] i64 -> [N] f32. */
static int rule_gather(Ctx *c) {
    const TType *x = ty(c, 0), *idx = ty(c, 1);
    if (x->dtype != DT_F32 || x->shape.rank != 2 || idx->dtype != DT_I64 || idx->shape.rank != 1 ||
        idx->shape.dim[0] != x->shape.dim[0])
        return fail(c, "expected x f32[N, C] and idx i64[N], got %s and %s", tstr(x).s,
                    tstr(idx).s);
    *c->out = *idx;
    c->out->dtype = DT_F32;
    return 0;
}

/* scatter: v [N] f32, idx [N] i64 -> the given [N, C] f32. */
static int rule_scatter(Ctx *c) {
    const TType *t = need_given(c), *v = ty(c, 0), *idx = ty(c, 1);
    if (!t) return -1;
    if (v->dtype != DT_F32 || v->shape.rank != 1 || idx->dtype != DT_I64 ||
        !ir_shape_eq(&idx->shape, &v->shape) || t->dtype != DT_F32 || t->shape.rank != 2 ||
        t->shape.dim[0] != v->shape.dim[0])
        return fail(c, "expected v f32[N], idx i64[N] and result f32[N, C], got %s, %s and %s",
                    tstr(v).s, tstr(idx).s, tstr(t).s);
    *c->out = *t;
    return 0;
}

/* argmax: x f32 [..], a non-empty axis -> i64 [..] without that axis. */
static int rule_argmax(Ctx *c) {
    const TType *x = ty(c, 0);
    int64_t axis = c->attr[0];
    if (need_f32(c, "the input", x) || axis_ok(c, axis, x->shape.rank)) return -1;
    if (x->shape.dim[axis] == 0) return fail(c, "axis %" PRId64 " of %s is empty", axis, tstr(x).s);
    *c->out = *x;
    c->out->dtype = DT_I64;
    c->out->shape.rank--;
    for (int i = (int)axis; i < c->out->shape.rank; i++) c->out->shape.dim[i] = x->shape.dim[i + 1];
    return 0;
}

/* ---- dispatch ------------------------------------------------------------- */

/* The rule of op, by its class (ops.def): every elementwise op but cast
 * and eq broadcasts f32 inputs, every reduction has one rule; the other
 * classes have one case per op. NULL for an op without a rule. */
static Rule rule_of(Op op) {
    switch (ir_op_info[op].cls) {
    case OC_SOURCE:
        if (op == OP_IOTA) return rule_iota;
        return op == OP_INPUT || op == OP_LABEL || op == OP_CONST ? rule_source : rule_source_f32;
    case OC_EW: return op == OP_CAST ? rule_cast : op == OP_EQ ? rule_eq : rule_arith;
    case OC_REDUCE: return rule_reduce;
    case OC_SHAPE: case OC_CONTRACT: case OC_INDEX: break;
    }
    switch ((int)op) {
    case OP_RESHAPE: return rule_reshape;
    case OP_BROADCAST: return rule_broadcast;
    case OP_TRANSPOSE: return rule_transpose;
    case OP_CONCAT: return rule_concat;
    case OP_SLICE: return rule_slice;
    case OP_PAD: return rule_pad;
    case OP_MATMUL: return rule_matmul;
    case OP_CONV1D: return rule_conv1d;
    case OP_CONV1D_GRAD_INPUT: return rule_conv1d_gi;
    case OP_CONV1D_GRAD_WEIGHT: return rule_conv1d_gw;
    case OP_CONV2D: return rule_conv2d;
    case OP_CONV2D_GRAD_INPUT: return rule_conv2d_gi;
    case OP_CONV2D_GRAD_WEIGHT: return rule_conv2d_gw;
    case OP_MAX_POOL1D: return rule_pool1d;
    case OP_MAX_POOL1D_GRAD: return rule_pool1d_grad;
    case OP_MAX_POOL2D: return rule_pool2d;
    case OP_MAX_POOL2D_GRAD: return rule_pool2d_grad;
    case OP_GATHER: return rule_gather;
    case OP_SCATTER: return rule_scatter;
    case OP_ARGMAX: return rule_argmax;
    }
    return NULL;
}

/* For an op without a rule (a bug in its recipe). */
static int rule_missing(Ctx *c) { return fail(c, "no shape rule"); }

/* Infers the result type of op applied to in[] with attr[]; see ir.h. */
int ir_infer(const Graph *g, Op op, const int *in, int nin, const int64_t *attr, int nattr,
             const TType *given, TType *out, char *err, size_t errlen) {
    if ((unsigned)op >= OP_COUNT) {
        snprintf(err, errlen, "unknown op %d", (int)op);
        return -1;
    }
    TType t;
    memset(&t, 0, sizeof t);
    Ctx c = {g, op, ir_op_info[op].name, in, nin, attr, nattr, given, &t, err, errlen};
    Rule rule = rule_of(op) ? rule_of(op) : rule_missing;
    if (check_arity(&c) || check_inputs(&c) || check_attr_count(&c) || rule(&c)) return -1;
    if (!type_ok(&t)) return bad_type(&c, "result", &t);
    *out = t;
    return 0;
}
