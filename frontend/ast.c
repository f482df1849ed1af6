/* ast.c — AST builders; see ast.h. Each is one allocation in the arena. */
#include "ast.h"

#include <string.h>

void list_push(Arena *a, List *l, void *item) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 4;
        void **items = arena_alloc(a, (size_t)cap * sizeof *items);
        if (l->n) memcpy(items, l->items, (size_t)l->n * sizeof *items);
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = item;
}

const char *ast_op_text(int op) {
    switch (op) {
    case '+': return "+";
    case '-': return "-";
    case '*': return "*";
    case '/': return "/";
    case '@': return "@";
    case '<': return "<";
    case '>': return ">";
    case AST_LE: return "<=";
    case AST_GE: return ">=";
    case AST_EQ: return "==";
    case AST_NE: return "!=";
    case AST_POW: return "**";
    default: return "?";
    }
}

int ast_op_prec(int op) {
    switch (op) {
    case '+': case '-': return 2;
    case '*': case '/': case '@': return 3;
    case AST_POW: return 4;
    default: return 1;
    }
}

/* A new expression node of the given kind. */
static Expr *expr(Arena *a, ExprKind kind, Loc loc) {
    Expr *e = arena_alloc(a, sizeof *e);
    e->kind = kind;
    e->loc = loc;
    e->depth = 1;
    return e;
}

/* Makes e at least one deeper than its operand x. */
static void over(Expr *e, const Expr *x) {
    if (x && x->depth + 1 > e->depth) e->depth = x->depth + 1;
}

/* The same over a list of Expr* (lists) or Arg* (calls, records). */
static void over_all(Expr *e, const List *l, int args) {
    for (int i = 0; i < l->n; i++) over(e, args ? ((Arg *)l->items[i])->value : l->items[i]);
}

Expr *ast_name(Arena *a, Loc loc, const char *name) {
    Expr *e = expr(a, EX_NAME, loc);
    e->name = name;
    return e;
}

Expr *ast_int(Arena *a, Loc loc, int64_t v) {
    Expr *e = expr(a, EX_INT, loc);
    e->i = v;
    return e;
}

Expr *ast_float(Arena *a, Loc loc, double v) {
    Expr *e = expr(a, EX_FLOAT, loc);
    e->f = v;
    return e;
}

Expr *ast_string(Arena *a, Loc loc, const char *s) {
    Expr *e = expr(a, EX_STRING, loc);
    e->name = s;
    return e;
}

Expr *ast_bool(Arena *a, Loc loc, int v) {
    Expr *e = expr(a, EX_BOOL, loc);
    e->i = v;
    return e;
}

Expr *ast_ellipsis(Arena *a, Loc loc) { return expr(a, EX_ELLIPSIS, loc); }

Expr *ast_unary(Arena *a, Loc loc, int op, Expr *x) {
    Expr *e = expr(a, EX_UNARY, loc);
    e->op = op;
    e->a = x;
    over(e, x);
    return e;
}

Expr *ast_binary(Arena *a, Loc loc, int op, Expr *l, Expr *r) {
    Expr *e = expr(a, EX_BINARY, loc);
    e->op = op;
    e->a = l;
    e->b = r;
    over(e, l);
    over(e, r);
    return e;
}

Expr *ast_call(Arena *a, Loc loc, Expr *callee, List args) {
    Expr *e = expr(a, EX_CALL, loc);
    e->a = callee;
    e->items = args;
    over(e, callee);
    over_all(e, &args, 1);
    return e;
}

Expr *ast_list(Arena *a, Loc loc, List items) {
    Expr *e = expr(a, EX_LIST, loc);
    e->items = items;
    over_all(e, &items, 0);
    return e;
}

Expr *ast_record(Arena *a, Loc loc, List fields) {
    Expr *e = expr(a, EX_RECORD, loc);
    e->items = fields;
    over_all(e, &fields, 1);
    return e;
}

Arg *ast_arg(Arena *a, Loc loc, const char *name, Expr *value) {
    Arg *g = arena_alloc(a, sizeof *g);
    *g = (Arg){name, value, loc};
    return g;
}

Pattern *ast_pattern(Arena *a, Loc loc, List dims, const char *dtype) {
    Pattern *p = arena_alloc(a, sizeof *p);
    *p = (Pattern){dims, dtype, loc};
    return p;
}

ParamDecl *ast_param_decl(Arena *a, Loc loc, const char *name, TypeKind type, Pattern *p,
                          Expr *dflt) {
    ParamDecl *d = arena_alloc(a, sizeof *d);
    *d = (ParamDecl){name, type, p, dflt, loc};
    return d;
}

Stmt *ast_stmt(Arena *a, Loc loc, StmtKind kind, const char *name, Pattern *p, Expr *value) {
    Stmt *s = arena_alloc(a, sizeof *s);
    *s = (Stmt){.kind = kind, .name = name, .pattern = p, .value = value, .loc = loc};
    return s;
}

Stmt *ast_unpack(Arena *a, Loc loc, List names, Expr *value) {
    Stmt *s = ast_stmt(a, loc, ST_ASSIGN, names.items[0], NULL, value);
    s->names = names;
    return s;
}

ModelStmt *ast_model_unpack(Arena *a, Loc loc, List names, Expr *value) {
    ModelStmt *s = ast_model_stmt(a, loc, MS_ASSIGN, names.items[0], (List){0}, value);
    s->names = names;
    return s;
}

List ast_names(Arena *a, List names, const char *name) {
    list_push(a, &names, (void *)name);
    return names;
}

Stmt *ast_if(Arena *a, Loc loc, Expr *cond, List then, List orelse) {
    Stmt *s = ast_stmt(a, loc, ST_IF, NULL, NULL, cond);
    s->body = then;
    s->orelse = orelse;
    return s;
}

Stmt *ast_for(Arena *a, Loc loc, const char *var, Expr *items, List body) {
    Stmt *s = ast_stmt(a, loc, ST_FOR, var, NULL, items);
    s->body = body;
    return s;
}

List ast_stmt_list(Arena *a, Stmt *s) {
    List l = {0};
    list_push(a, &l, s);
    return l;
}

BlockDef *ast_block(Arena *a, Loc loc, BlockKind kind, const char *name, List params,
                    List results, List body) {
    BlockDef *b = arena_alloc(a, sizeof *b);
    *b = (BlockDef){kind, name, params, results, body, loc};
    return b;
}

Decl *ast_decl(Arena *a, Loc loc, const char *name, Pattern *p) {
    Decl *d = arena_alloc(a, sizeof *d);
    *d = (Decl){name, p, loc};
    return d;
}

ModelStmt *ast_model_stmt(Arena *a, Loc loc, ModelStmtKind kind, const char *name, List decls,
                          Expr *value) {
    ModelStmt *s = arena_alloc(a, sizeof *s);
    *s = (ModelStmt){.kind = kind, .name = name, .decls = decls, .value = value, .loc = loc};
    return s;
}

ModelDef *ast_model(Arena *a, Loc loc, const char *name, const char *parent, Loc parent_loc,
                    List stmts) {
    ModelDef *m = arena_alloc(a, sizeof *m);
    *m = (ModelDef){name, parent, parent_loc, stmts, loc};
    return m;
}

StudyDef *ast_study(Arena *a, Loc loc, const char *name, Expr *record) {
    StudyDef *st = arena_alloc(a, sizeof *st);
    *st = (StudyDef){name, record, loc};
    return st;
}

Import *ast_import(Arena *a, Loc loc, const char *path) {
    Import *i = arena_alloc(a, sizeof *i);
    *i = (Import){path, loc};
    return i;
}
