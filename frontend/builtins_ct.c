/* builtins_ct.c — functions that run at compile time on numbers, lists and
 * tensor types, and make no graph node: `range` for `for` loops,
 * `floordiv`, `len`, `shape`, `rank`.
 * They share the primitives' calling convention (elab.h's Builtin). */
#include <math.h>
#include <string.h>

#include "elab.h"

/* The longest list `range` makes: a `for` over it is unrolled. */
#define MAX_RANGE 10000

static Value none(void) { return (Value){.kind = V_NONE}; }
static int given(const Value *v) { return !(v->kind == V_NONE && v->i); }

/* range(stop) or range(start, stop, step: 1): ints as Python's range. */
static Value range(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)b, (void)n;
    int64_t start = a[0].i, stop = a[1].i, step = a[2].i;
    if (!given(&a[1])) stop = start, start = 0;
    if (step == 0) {
        diag_error(E->diag, a[2].loc, "range() step must not be zero");
        return none();
    }
    double count = ceil(((double)stop - (double)start) / (double)step);
    if (count > MAX_RANGE) {
        diag_error(E->diag, loc, "range() of %.0f items is too long to unroll (at most %d)", count, MAX_RANGE);
        return none();
    }
    int len = count > 0 ? (int)count : 0;
    Value *items = arena_alloc(E->arena, (size_t)(len + 1) * sizeof *items);
    for (int i = 0; i < len; i++) items[i] = (Value){.kind = V_INT, .loc = loc, .i = start + i * step};
    return (Value){.kind = V_LIST, .loc = loc, .items = items, .n = len};
}

/* floordiv(a, b): a / b rounded down, Python's a // b; an int for ints. */
static Value floordiv(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)b, (void)n;
    double x = a[0].kind == V_INT ? (double)a[0].i : a[0].f, y = a[1].kind == V_INT ? (double)a[1].i : a[1].f;
    if (y == 0) {
        diag_error(E->diag, loc, "division by zero");
        return none();
    }
    if (a[0].kind == V_INT && a[1].kind == V_INT) {
        int64_t q = a[0].i / a[1].i;
        if ((a[0].i % a[1].i != 0) && ((a[0].i < 0) != (a[1].i < 0))) q--;
        return (Value){.kind = V_INT, .loc = loc, .i = q};
    }
    return (Value){.kind = V_FLOAT, .loc = loc, .f = floor(x / y)};
}

/* len(list): the number of items. */
static Value len(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)b, (void)n;
    if (a[0].kind != V_LIST) {
        diag_error(E->diag, a[0].loc, "len() needs a list, got %s", elab_describe(E, &a[0]));
        return none();
    }
    return (Value){.kind = V_INT, .loc = loc, .i = a[0].n};
}

/* shape(x): x's dimensions as a list of ints; rank(x): how many. */
static Value shape(Elab *E, const Builtin *b, Value *a, int n, Loc loc) {
    (void)n;
    if (a[0].kind != V_TENSOR) {
        diag_error(E->diag, a[0].loc, "%s() needs a tensor, got %s", b->name, elab_describe(E, &a[0]));
        return none();
    }
    const Shape *s = &elab_type(E, &a[0])->shape;
    if (!strcmp(b->name, "rank")) return (Value){.kind = V_INT, .loc = loc, .i = s->rank};
    Value *items = arena_alloc(E->arena, (size_t)(s->rank + 1) * sizeof *items);
    for (int i = 0; i < s->rank; i++) items[i] = (Value){.kind = V_INT, .loc = loc, .i = s->dim[i]};
    return (Value){.kind = V_LIST, .loc = loc, .items = items, .n = s->rank};
}

static const Builtin ct_builtins[] = {
    {"range", range, 0, -1, {{"start", 'i', NULL}, {"stop", 'i', "none"}, {"step", 'i', "1"}}},
    {"floordiv", floordiv, 0, -1, {{"a", 'f', NULL}, {"b", 'f', NULL}}},
    {"len", len, 0, -1, {{"items", 'a', NULL}}},
    {"shape", shape, 0, -1, {{"x", 'a', NULL}}},
    {"rank", shape, 0, -1, {{"x", 'a', NULL}}},
};

const Builtin *builtin_ct_find(const char *name) {
    for (size_t i = 0; i < sizeof ct_builtins / sizeof ct_builtins[0]; i++)
        if (!strcmp(ct_builtins[i].name, name)) return &ct_builtins[i];
    return NULL;
}

const Builtin *builtin_nth(int i) {
    int n = (int)(sizeof ct_builtins / sizeof ct_builtins[0]);
    if (i < n) return &ct_builtins[i];
    return builtin_prim_nth(i - n);
}
