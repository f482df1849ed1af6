/* pattern.c — shape patterns: `a: [B, n]` checks a tensor's shape and binds
 * the names it introduces; messages print a pattern as written and with
 * its names' values ("[B, 2 * n] = [64, 256]").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "elab.h"
#include "util.h"


/* Evaluates a shape-pattern dimension to an int (integral floats allowed). */
int elab_eval_dim(Elab *E, Frame *f, const Expr *d, int64_t *out) {
    Value v = elab_eval(E, f, d);
    if (v.kind == V_NONE) return -1;
    if (v.kind == V_INT || (v.kind == V_FLOAT && v.f == floor(v.f))) {
        *out = v.kind == V_INT ? v.i : (int64_t)v.f;
        return 0;
    }
    diag_error(E->diag, d->loc, "shape dimension must be an integer, got %s", elab_describe(E, &v));
    return -1;
}

/* Prints a pattern as written: "[B, 2 * n]". */
const char *elab_pattern_text(Elab *E, const Pattern *p) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ast_print_pattern(p, m);
    fclose(m);
    const char *s = arena_strdup(E->arena, buf);
    free(buf);
    return s;
}

DType elab_pattern_dtype(const Pattern *p) { return p->dtype && !strcmp(p->dtype, "i64") ? DT_I64 : DT_F32; }

/* The shape a pattern asks for, with its names' current values:
 * "[64, 128]"; dims it cannot evaluate print as written. Where two names
 * have the same value (B = hidden = 64) both are shown with it:
 * "[B=64, hidden=64]", so a swapped pair of dimensions can be told apart. */
static const char *expected_text(Elab *E, Frame *f, const Pattern *p) {
    int n = p->dims.n;
    int64_t *val = arena_alloc(E->arena, (size_t)(n + 1) * sizeof *val);
    char *known = arena_alloc(E->arena, (size_t)n + 1);
    for (int i = 0; i < n; i++) {
        const Expr *x = p->dims.items[i];
        Binding *b = x->kind == EX_NAME ? elab_scope_find_here(f->scope, x->name) : NULL;
        if (b && b->value.kind == V_INT) val[i] = b->value.i, known[i] = 1;
        else if (x->kind == EX_INT) val[i] = x->i, known[i] = 1;
        else if (x->kind != EX_ELLIPSIS && x->kind != EX_NAME) {
            Diag quiet = {0};
            Diag *saved = E->diag;
            E->diag = &quiet;
            known[i] = elab_eval_dim(E, f, x, &val[i]) == 0;
            E->diag = saved;
            diag_free(&quiet);
        }
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    fputc('[', m);
    for (int i = 0; i < n; i++) {
        const Expr *x = p->dims.items[i];
        if (i) fputs(", ", m);
        if (!known[i]) {
            ast_print_expr(x, m);
            continue;
        }
        int twin = 0;
        for (int j = 0; j < n && x->kind == EX_NAME; j++) {
            const Expr *y = p->dims.items[j];
            twin |= j != i && known[j] && val[j] == val[i] && y->kind == EX_NAME && strcmp(y->name, x->name);
        }
        if (twin) fprintf(m, "%s=", x->name);
        fprintf(m, "%lld", (long long)val[i]);
    }
    fputc(']', m);
    fclose(m);
    const char *s = arena_strdup(E->arena, buf);
    free(buf);
    return s;
}

/* Checks a tensor against a shape pattern, binding its free names in
 * f->scope. `what` says whose shape it is, for messages. Returns 0 or -1. */
int elab_match(Elab *E, Frame *f, const Pattern *p, Value v, const char *what, Loc loc) {
    char buf[128];
    const TType *t = elab_type(E, &v);
    int ell = -1;
    for (int i = 0; i < p->dims.n; i++)
        if (((Expr *)p->dims.items[i])->kind == EX_ELLIPSIS) ell = i;
    int fixed = p->dims.n - (ell >= 0);
    if (t->dtype != elab_pattern_dtype(p)) {
        diag_error(E->diag, loc, "%s has dtype %s, expected %s", what, ir_dtype_name(t->dtype),
                   ir_dtype_name(elab_pattern_dtype(p)));
        return -1;
    }
    if (ell < 0 ? t->shape.rank != fixed : t->shape.rank < fixed) {
        diag_error(E->diag, loc, "%s has shape %s, expected %s", what, ir_shape_str(&t->shape, buf, sizeof buf),
                   elab_pattern_text(E, p));
        return -1;
    }
    for (int i = 0, d = 0; i < p->dims.n; i++) {
        const Expr *x = p->dims.items[i];
        if (x->kind == EX_ELLIPSIS) {
            d += t->shape.rank - fixed;
            continue;
        }
        int64_t actual = t->shape.dim[d++];
        if (x->kind == EX_NAME && !elab_scope_find_here(f->scope, x->name) && strcmp(x->name, "_")) {
            elab_scope_bind(E, f->scope, x->name, (Value){.kind = V_INT, .loc = loc, .i = actual});
            continue;
        }
        if (x->kind == EX_NAME && !strcmp(x->name, "_")) continue;
        int64_t want;
        if (elab_eval_dim(E, f, x, &want)) return -1;
        if (want != actual) {
            diag_error(E->diag, loc, "%s has shape %s, expected %s = %s", what,
                       ir_shape_str(&t->shape, buf, sizeof buf), elab_pattern_text(E, p), expected_text(E, f, p));
            Binding *b = x->kind == EX_NAME ? elab_scope_find_here(f->scope, x->name) : NULL;
            if (b) diag_note(E->diag, b->value.loc, "'%s' = %lld was bound here", x->name, (long long)want);
            return -1;
        }
    }
    return 0;
}
