/* lint.c — checks on the syntax tree that need no evaluation: a block
 * argument that nothing in the block reads is a warning (a `bias: false`
 * that silently does nothing). Names starting with '_' are exempt. */
#include <string.h>

#include "elab.h"

/* Does name occur as a name (not a keyword argument) in e? */
static int reads_expr(const Expr *e, const char *name) {
    if (!e) return 0;
    switch (e->kind) {
    case EX_NAME: return !strcmp(e->name, name);
    case EX_INT: case EX_FLOAT: case EX_STRING: case EX_BOOL: case EX_ELLIPSIS: return 0;
    case EX_UNARY: return reads_expr(e->a, name);
    case EX_BINARY: return reads_expr(e->a, name) || reads_expr(e->b, name);
    case EX_CALL:
    case EX_RECORD:
        if (reads_expr(e->a, name)) return 1;
        for (int i = 0; i < e->items.n; i++)
            if (reads_expr(((Arg *)e->items.items[i])->value, name)) return 1;
        return 0;
    case EX_LIST:
        for (int i = 0; i < e->items.n; i++)
            if (reads_expr(e->items.items[i], name)) return 1;
        return 0;
    }
    return 0;
}

static int reads_pattern(const Pattern *p, const char *name) {
    for (int i = 0; p && i < p->dims.n; i++)
        if (reads_expr(p->dims.items[i], name)) return 1;
    return 0;
}

static int reads_stmts(const List *l, const char *name) {
    for (int i = 0; i < l->n; i++) {
        const Stmt *s = l->items[i];
        if (reads_expr(s->value, name) || reads_pattern(s->pattern, name) || reads_stmts(&s->body, name) ||
            reads_stmts(&s->orelse, name))
            return 1;
    }
    return 0;
}

/* Is argument k of b read anywhere: the body, the result's shape, another
 * argument's shape or default? */
static int arg_read(const BlockDef *b, int k) {
    const char *name = ((ParamDecl *)b->params.items[k])->name;
    if (reads_stmts(&b->body, name)) return 1;
    for (int i = 0; i < b->results.n; i++)
        if (reads_pattern(b->results.items[i], name)) return 1;
    for (int i = 0; i < b->params.n; i++) {
        const ParamDecl *p = b->params.items[i];
        if (i != k && (reads_pattern(p->pattern, name) || reads_expr(p->dflt, name))) return 1;
    }
    return 0;
}

void lint_program(Elab *E) {
    Program *p = E->prog;
    for (int m = 0; m < p->nmodules; m++) {
        if (!p->modules[m]) continue;
        const List *blocks = &p->modules[m]->blocks;
        for (int i = 0; i < blocks->n; i++) {
            const BlockDef *b = blocks->items[i];
            for (int k = 0; k < b->params.n; k++) {
                const ParamDecl *pd = b->params.items[k];
                if (pd->name[0] != '_' && !arg_read(b, k))
                    diag_warning(E->diag, pd->loc,
                                 "argument '%s' of '%s' is never used (name it '_%s' if that is meant)", pd->name,
                                 b->name, pd->name);
            }
        }
    }
}
