/* elaborate.c — evaluation of .mmg into the forward graph.
 *
 * Values are tensors (graph nodes), numbers, bools, strings, lists, blocks
 * and initializers. Calling a block runs its body in a fresh frame whose
 * path names its parameters; calling it with no tensor arguments binds its
 * configuration and returns an instance that owns one set of parameters
 * for all its later calls. Errors record a diagnostic and yield V_NONE,
 * which later steps pass through silently, so one run reports many errors.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "elab.h"
#include "parse.h"
#include "util.h"

/* Nested evaluations (operators, calls, block bodies) one elaboration may
 * have in progress. Blocks cannot recurse and an expression is at most
 * AST_MAX_DEPTH deep, so only a chain of many blocks each nesting deeply
 * gets here; elaborate() runs on a stack sized for it. */
#define MAX_DEPTH 20000
#define ELAB_STACK_BYTES ((size_t)512 << 20)

static Value none(void) { return (Value){.kind = V_NONE}; }

/* ---- scopes --------------------------------------------------------------- */

static Binding *scope_find_here(Scope *s, const char *name) {
    for (Binding *b = s->head; b; b = b->next)
        if (!strcmp(b->name, name)) return b;
    return NULL;
}

static Binding *scope_find(Scope *s, const char *name) {
    for (; s; s = s->parent) {
        Binding *b = scope_find_here(s, name);
        if (b) return b;
    }
    return NULL;
}

/* Binds (or rebinds) name in s. */
static void scope_bind(Elab *E, Scope *s, const char *name, Value v) {
    Binding *b = scope_find_here(s, name);
    if (!b) {
        b = arena_alloc(E->arena, sizeof *b);
        b->name = name;
        b->next = s->head;
        s->head = b;
    }
    b->value = v;
}

static Scope *scope_new(Elab *E, Scope *parent) {
    Scope *s = arena_alloc(E->arena, sizeof *s);
    s->parent = parent;
    return s;
}

/* ---- values ----------------------------------------------------------------- */

const TType *elab_type(Elab *E, const Value *v) { return &E->g->nodes[v->node].type; }

const char *elab_describe(Elab *E, const Value *v) {
    char buf[128];
    switch (v->kind) {
    case V_NONE: return "nothing";
    case V_TENSOR: return arena_printf(E->arena, "a tensor %s", ir_type_str(elab_type(E, v), buf, sizeof buf));
    case V_INT: return arena_printf(E->arena, "the int %lld", (long long)v->i);
    case V_FLOAT: return arena_printf(E->arena, "the float %g", v->f);
    case V_BOOL: return v->i ? "true" : "false";
    case V_STRING: return arena_printf(E->arena, "the string \"%s\"", v->s);
    case V_SYMBOL: return arena_printf(E->arena, "the word '%s'", v->s);
    case V_LIST: return "a list";
    case V_BLOCK: return arena_printf(E->arena, "block '%s'", v->block->name);
    case V_BUILTIN: return arena_printf(E->arena, "primitive '%s'", v->builtin->name);
    case V_INIT: return "an initializer";
    }
    return "a value";
}

/* Picks a node name not used yet: base, base_2, base_3, ... */
static const char *unique_name(Elab *E, const char *base) {
    const char *name = base;
    for (int k = 2;; k++) {
        int taken = 0;
        for (int i = 0; i < E->g->nnodes && !taken; i++)
            taken = E->g->nodes[i].name && !strcmp(E->g->nodes[i].name, name);
        if (!taken) return name;
        name = arena_printf(E->arena, "%s_%d", base, k);
    }
}

/* "path.name", or "name" at the model level. */
static const char *join(Elab *E, const char *path, const char *name) {
    return *path ? arena_printf(E->arena, "%s.%s", path, name) : name;
}

static const char *segment(Elab *E, Frame *f, const char *name);

/* Names an unnamed tensor after the binding that holds it; a new instance
 * (attend = multihead_attention(heads: 4)) owns its params under that name. */
static void name_value(Elab *E, Frame *f, const char *name, Value v) {
    if (v.kind == V_BLOCK && v.inst && !v.inst->named) {
        v.inst->path = join(E, f->path, segment(E, f, name));
        v.inst->named = 1;
    }
    if (v.kind != V_TENSOR || E->g->nodes[v.node].name) return;
    ir_set_name(E->g, v.node, unique_name(E, join(E, f->path, name)));
}

Value elab_node(Elab *E, Op op, const int *in, int nin, const int64_t *attr, int nattr, double value,
                const TType *given, Loc loc) {
    char err[512];
    int id = ir_build(E->g, op, in, nin, attr, nattr, value, given, loc, err, sizeof err);
    if (id < 0) {
        diag_error(E->diag, loc, "%s", err);
        return none();
    }
    return (Value){.kind = V_TENSOR, .loc = loc, .node = id};
}

Value elab_const(Elab *E, double v, Loc loc) {
    TType t = {DT_F32, {0, {0}}};
    return elab_node(E, OP_CONST, NULL, 0, NULL, 0, v, &t, loc);
}

Value elab_as_tensor(Elab *E, Value v, Loc loc) {
    if (v.kind == V_INT) return elab_const(E, (double)v.i, loc);
    if (v.kind == V_FLOAT) return elab_const(E, v.f, loc);
    return v;
}

static int is_number(const Value *v) { return v->kind == V_INT || v->kind == V_FLOAT; }
static double num(const Value *v) { return v->kind == V_INT ? (double)v->i : v->f; }

/* ---- names ----------------------------------------------------------------- */

/* Every block of every module, for lookup by name. */
static const BlockDef *find_block(Elab *E, int from, const char *name, int *file) {
    Program *p = E->prog;
    for (int m = 0; m < p->nmodules; m++) {
        if (!p->modules[m] || !program_sees(p, from, m)) continue;
        List *bl = &p->modules[m]->blocks;
        for (int i = 0; i < bl->n; i++) {
            BlockDef *b = bl->items[i];
            if (!strcmp(b->name, name)) {
                *file = m;
                return b;
            }
        }
    }
    return NULL;
}

static int run_binding(Elab *E, int k);

/* Resolves a name: local scopes (at the model level, evaluating a binding
 * not evaluated yet), then visible blocks, then primitives. */
static Value lookup(Elab *E, Frame *f, const char *name, Loc loc) {
    Binding *b = scope_find(f->scope, name);
    if (b) return b->value;
    for (int k = 0; f == E->model_frame && k < E->nbindings; k++)
        if (!strcmp(E->bindings[k]->name, name)) {
            if (run_binding(E, k)) return none();
            return scope_find(f->scope, name)->value;
        }
    int file;
    const BlockDef *blk = strncmp(name, "op.", 3) ? find_block(E, f->file, name, &file) : NULL;
    if (blk) return (Value){.kind = V_BLOCK, .loc = loc, .block = blk, .file = file};
    const Builtin *bi = builtin_find(strncmp(name, "op.", 3) ? name : name + 3);
    if (!bi) bi = builtin_ct_find(name);
    if (bi) return (Value){.kind = V_BUILTIN, .loc = loc, .builtin = bi};
    diag_error(E->diag, loc, "unknown name '%s'", name);
    return none();
}

/* ---- operators --------------------------------------------------------------- */

static int is_comparison(int op) { return ast_op_prec(op) == 1; }

/* Compares two numbers (or two bools with == and !=) at compile time. */
static Value fold_compare(Elab *E, int op, Value a, Value b, Loc loc) {
    if ((a.kind == V_BOOL) != (b.kind == V_BOOL) || (a.kind == V_BOOL && op != AST_EQ && op != AST_NE)) {
        diag_error(E->diag, loc, "operator '%s' cannot compare %s and %s", ast_op_text(op), elab_describe(E, &a),
                   elab_describe(E, &b));
        return none();
    }
    double x = a.kind == V_BOOL ? (double)a.i : num(&a), y = b.kind == V_BOOL ? (double)b.i : num(&b);
    int r = op == '<' ? x < y : op == '>' ? x > y : op == AST_LE ? x <= y : op == AST_GE ? x >= y
          : op == AST_EQ ? x == y : x != y;
    return (Value){.kind = V_BOOL, .loc = loc, .i = r};
}

/* Arithmetic on two numbers, at compile time. int op int stays int, but
 * for '/' (an int only when exact) and '**' with a negative exponent. */
static Value fold(Elab *E, int op, Value a, Value b, Loc loc) {
    if (is_comparison(op)) return fold_compare(E, op, a, b, loc);
    if (op == '@') {
        diag_error(E->diag, loc, "operator '@' needs two tensors, got %s and %s", elab_describe(E, &a),
                   elab_describe(E, &b));
        return none();
    }
    double x = num(&a), y = num(&b);
    if (op == '/' && y == 0) {
        diag_error(E->diag, loc, "division by zero");
        return none();
    }
    if (a.kind == V_INT && b.kind == V_INT) {
        int64_t r;
        int exact = 1;
        switch (op) {
        case '+': exact = !__builtin_add_overflow(a.i, b.i, &r); break;
        case '-': exact = !__builtin_sub_overflow(a.i, b.i, &r); break;
        case '*': exact = !__builtin_mul_overflow(a.i, b.i, &r); break;
        case '/': exact = a.i % b.i == 0 && !(a.i == INT64_MIN && b.i == -1), r = exact ? a.i / b.i : 0; break;
        default: { /* **, by squaring */
            int64_t base = a.i, e = b.i;
            r = 1;
            exact = e >= 0;
            while (exact && e > 0) {
                if (e & 1) exact = !__builtin_mul_overflow(r, base, &r);
                e >>= 1;
                if (e && exact) exact = !__builtin_mul_overflow(base, base, &base);
            }
            break;
        }
        }
        if (exact) return (Value){.kind = V_INT, .loc = loc, .i = r};
        if (op != '/' && op != AST_POW) {
            diag_error(E->diag, loc, "integer overflow in %lld %s %lld", (long long)a.i, ast_op_text(op), (long long)b.i);
            return none();
        }
    }
    double r = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : op == '/' ? x / y : pow(x, y);
    if (!isfinite(r)) {
        diag_error(E->diag, loc, "%g %s %g is not a finite number", x, ast_op_text(op), y);
        return none();
    }
    return (Value){.kind = V_FLOAT, .loc = loc, .f = r};
}

/* Adds "left/right operand ... comes from here" notes after a shape error. */
static void operand_notes(Elab *E, const Value *a, const Value *b) {
    char buf[128];
    const Value *v[2] = {a, b};
    const char *side[2] = {"left", "right"};
    for (int i = 0; i < 2; i++)
        if (v[i]->kind == V_TENSOR)
            diag_note(E->diag, v[i]->loc, "%s operand %s comes from here", side[i],
                      ir_type_str(elab_type(E, v[i]), buf, sizeof buf));
}

/* The graph op of a binary operator on tensors; comparisons written the
 * other way round swap their operands (a < b is gt(b, a)). */
static Op tensor_op(int op, int *swap) {
    *swap = op == '<' || op == AST_LE;
    switch (op) {
    case '+': return OP_ADD;
    case '-': return OP_SUB;
    case '*': return OP_MUL;
    case '/': return OP_DIV;
    case '@': return OP_MATMUL;
    case '<': case '>': return OP_GT;
    case AST_LE: case AST_GE: return OP_GE;
    case AST_EQ: case AST_NE: return OP_EQ;
    default: return OP_POW;
    }
}

static Value binary(Elab *E, int op, Value a, Value b, Loc loc) {
    if (a.kind == V_NONE || b.kind == V_NONE) return none();
    int bools = a.kind == V_BOOL && b.kind == V_BOOL;
    if ((is_number(&a) && is_number(&b)) || (bools && is_comparison(op))) return fold(E, op, a, b, loc);
    const Value *bad = a.kind != V_TENSOR && !is_number(&a) ? &a : b.kind != V_TENSOR && !is_number(&b) ? &b : NULL;
    if (bad) {
        diag_error(E->diag, bad->loc, "operator '%s' needs tensors or numbers, got %s", ast_op_text(op),
                   elab_describe(E, bad));
        return none();
    }
    if (op == '@' && (a.kind != V_TENSOR || b.kind != V_TENSOR)) return fold(E, op, a, b, loc);
    Value ta = elab_as_tensor(E, a, a.loc), tb = elab_as_tensor(E, b, b.loc);
    if (ta.kind == V_NONE || tb.kind == V_NONE) return none();
    int swap;
    Op gop = tensor_op(op, &swap);
    int in[2] = {swap ? tb.node : ta.node, swap ? ta.node : tb.node};
    int64_t attr[2] = {0, 0};
    int before = E->diag->nerrors;
    Value r = elab_node(E, gop, in, 2, attr, op == '@' ? 2 : 0, 0, NULL, loc);
    if (E->diag->nerrors > before) operand_notes(E, &ta, &tb);
    if (op == AST_NE && r.kind == V_TENSOR) { /* a != b is 1 - (a == b) */
        Value one = elab_const(E, 1, loc);
        int d[2] = {one.node, r.node};
        r = elab_node(E, OP_SUB, d, 2, NULL, 0, 0, NULL, loc);
    }
    return r;
}

static Value negate(Elab *E, Value a, Loc loc) {
    if (a.kind == V_NONE) return a;
    if (a.kind == V_INT) return (Value){.kind = V_INT, .loc = loc, .i = -a.i};
    if (a.kind == V_FLOAT) return (Value){.kind = V_FLOAT, .loc = loc, .f = -a.f};
    if (a.kind != V_TENSOR) {
        diag_error(E->diag, a.loc, "operator '-' needs a tensor or a number, got %s", elab_describe(E, &a));
        return none();
    }
    return elab_node(E, OP_NEG, &a.node, 1, NULL, 0, 0, NULL, loc);
}

/* ---- calls -------------------------------------------------------------------- */

static Value call(Elab *E, Frame *f, const Expr *e);

/* A unique path segment for a call of `name` in frame f: name, name_2, ... */
static const char *segment(Elab *E, Frame *f, const char *name) {
    const char *base = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
    for (Segment *s = f->segments; s; s = s->next)
        if (!strcmp(s->name, base)) {
            s->count++;
            return arena_printf(E->arena, "%s_%d", base, s->count);
        }
    Segment *s = arena_alloc(E->arena, sizeof *s);
    *s = (Segment){base, 1, f->segments};
    f->segments = s;
    return base;
}

/* Matches call arguments to formal names. vals/locs/set have nf slots;
 * positional arguments fill unset slots in order. With `variadic`, all
 * positional arguments go to slot 0 as a list. Returns 0 or -1. */
static int bind_args(Elab *E, Frame *f, const Expr *e, const char *callee, const char *const *formals,
                     int nf, int variadic, Value *vals, Loc *locs, char *set) {
    int ok = 0, next = 0;
    List *args = (List *)&e->items;
    Value *rest = NULL;
    int nrest = 0;
    if (variadic) rest = arena_alloc(E->arena, (size_t)(args->n + 1) * sizeof *rest);
    for (int i = 0; i < args->n; i++) {
        Arg *a = args->items[i];
        Value v = elab_eval(E, f, a->value);
        int slot = -1;
        if (a->name) {
            for (int k = 0; k < nf; k++)
                if (!strcmp(formals[k], a->name)) slot = k;
            if (slot < 0) {
                diag_error(E->diag, a->loc, "unknown keyword argument '%s' to '%s'", a->name, callee);
                ok = -1;
                continue;
            }
            if (set[slot]) {
                diag_error(E->diag, a->loc, "argument '%s' of '%s' given twice", a->name, callee);
                ok = -1;
                continue;
            }
        } else if (variadic) {
            rest[nrest++] = v;
            continue;
        } else {
            while (next < nf && set[next]) next++;
            if (next == nf) {
                diag_error(E->diag, a->loc, "too many arguments to '%s' (it takes %d)", callee, nf);
                ok = -1;
                continue;
            }
            slot = next;
        }
        vals[slot] = v;
        locs[slot] = a->loc;
        set[slot] = 1;
    }
    if (variadic) {
        vals[0] = (Value){.kind = V_LIST, .loc = e->loc, .items = rest, .n = nrest};
        locs[0] = e->loc;
        set[0] = 1;
    }
    return ok;
}

/* The Override for key, or NULL. Marks it used. */
static Override *find_override(Elab *E, const char *key) {
    for (int i = 0; i < E->noverrides; i++)
        if (!strcmp(E->overrides[i].key, key)) {
            E->overrides[i].used = 1;
            return &E->overrides[i];
        }
    return NULL;
}

/* Evaluates a shape-pattern dimension to an int (integral floats allowed). */
static int eval_dim(Elab *E, Frame *f, const Expr *d, int64_t *out) {
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
static const char *pattern_text(Elab *E, const Pattern *p) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    fputc('[', m);
    for (int i = 0; i < p->dims.n; i++) {
        if (i) fputs(", ", m);
        ast_print_expr(p->dims.items[i], m);
    }
    fputc(']', m);
    if (p->dtype) fprintf(m, " %s", p->dtype);
    fclose(m);
    const char *s = arena_strdup(E->arena, buf);
    free(buf);
    return s;
}

static DType pattern_dtype(const Pattern *p) { return p->dtype && !strcmp(p->dtype, "i64") ? DT_I64 : DT_F32; }

/* The shape a pattern asks for, with its names' current values:
 * "[64, 128]"; dims it cannot evaluate print as written. */
static const char *expected_text(Elab *E, Frame *f, const Pattern *p, const TType *t) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    fputc('[', m);
    for (int i = 0; i < p->dims.n; i++) {
        const Expr *x = p->dims.items[i];
        if (i) fputs(", ", m);
        Binding *b = x->kind == EX_NAME ? scope_find_here(f->scope, x->name) : NULL;
        if (b && b->value.kind == V_INT)
            fprintf(m, "%lld", (long long)b->value.i);
        else if (x->kind == EX_INT)
            fprintf(m, "%lld", (long long)x->i);
        else if (x->kind == EX_ELLIPSIS || x->kind == EX_NAME)
            ast_print_expr(x, m);
        else {
            Diag quiet = {0};
            Diag *saved = E->diag;
            E->diag = &quiet;
            int64_t d;
            if (eval_dim(E, f, x, &d) == 0) fprintf(m, "%lld", (long long)d);
            else ast_print_expr(x, m);
            E->diag = saved;
            diag_free(&quiet);
        }
    }
    fputc(']', m);
    (void)t;
    fclose(m);
    const char *s = arena_strdup(E->arena, buf);
    free(buf);
    return s;
}

/* Checks a tensor against a shape pattern, binding its free names in
 * f->scope. `what` says whose shape it is, for messages. Returns 0 or -1. */
static int match(Elab *E, Frame *f, const Pattern *p, Value v, const char *what, Loc loc) {
    char buf[128];
    const TType *t = elab_type(E, &v);
    int ell = -1;
    for (int i = 0; i < p->dims.n; i++)
        if (((Expr *)p->dims.items[i])->kind == EX_ELLIPSIS) ell = i;
    int fixed = p->dims.n - (ell >= 0);
    if (t->dtype != pattern_dtype(p)) {
        diag_error(E->diag, loc, "%s has dtype %s, expected %s", what, ir_dtype_name(t->dtype),
                   ir_dtype_name(pattern_dtype(p)));
        return -1;
    }
    if (ell < 0 ? t->shape.rank != fixed : t->shape.rank < fixed) {
        diag_error(E->diag, loc, "%s has shape %s, expected %s", what, ir_shape_str(&t->shape, buf, sizeof buf),
                   pattern_text(E, p));
        return -1;
    }
    for (int i = 0, d = 0; i < p->dims.n; i++) {
        const Expr *x = p->dims.items[i];
        if (x->kind == EX_ELLIPSIS) {
            d += t->shape.rank - fixed;
            continue;
        }
        int64_t actual = t->shape.dim[d++];
        if (x->kind == EX_NAME && !scope_find_here(f->scope, x->name) && strcmp(x->name, "_")) {
            scope_bind(E, f->scope, x->name, (Value){.kind = V_INT, .loc = loc, .i = actual});
            continue;
        }
        if (x->kind == EX_NAME && !strcmp(x->name, "_")) continue;
        int64_t want;
        if (eval_dim(E, f, x, &want)) return -1;
        if (want != actual) {
            diag_error(E->diag, loc, "%s has shape %s, expected %s = %s", what,
                       ir_shape_str(&t->shape, buf, sizeof buf), pattern_text(E, p), expected_text(E, f, p, t));
            Binding *b = x->kind == EX_NAME ? scope_find_here(f->scope, x->name) : NULL;
            if (b) diag_note(E->diag, b->value.loc, "'%s' = %lld was bound here", x->name, (long long)want);
            return -1;
        }
    }
    return 0;
}

/* Is the value acceptable for a parameter of this type? */
static int type_ok(const Value *v, TypeKind t) {
    switch (t) {
    case TY_TENSOR: return v->kind == V_TENSOR;
    case TY_INT: return v->kind == V_INT;
    case TY_FLOAT: return is_number(v);
    case TY_BOOL: return v->kind == V_BOOL;
    case TY_BLOCK: return v->kind == V_BLOCK || v->kind == V_BUILTIN;
    case TY_STRING: return v->kind == V_STRING;
    }
    return 0;
}

static const char *type_word(TypeKind t) {
    switch (t) {
    case TY_TENSOR: return "a tensor";
    case TY_INT: return "an int";
    case TY_FLOAT: return "a float";
    case TY_BOOL: return "a bool";
    case TY_BLOCK: return "a block";
    case TY_STRING: return "a string";
    }
    return "?";
}

static Value run_body(Elab *E, Frame *f, const BlockDef *b, Loc call_loc);

/* Is a call of b, at loc, a cycle (b already being called)? Reports it
 * with the cycle's blocks in call order: "f -> g -> f". */
static int recursive(Elab *E, const BlockDef *b, Loc loc) {
    int start = E->ncalls - 1;
    while (start >= 0 && E->calls[start] != b) start--;
    if (start < 0) return 0;
    char *cycle = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&cycle, &len);
    for (int i = start; i < E->ncalls; i++) fprintf(m, "%s -> ", E->calls[i]->name);
    fputs(b->name, m);
    fclose(m);
    diag_error(E->diag, loc, "'%s' calls itself (%s); a block cannot be recursive", b->name, cycle);
    free(cycle);
    return 1;
}

/* Calls a .mmg block. */
static Value call_block(Elab *E, Frame *f, Value callee, const Expr *e) {
    const BlockDef *b = callee.block;
    int np = b->params.n;
    const char **formals = arena_alloc(E->arena, (size_t)(np + 1) * sizeof *formals);
    Value *vals = arena_alloc(E->arena, (size_t)(np + 1) * sizeof *vals);
    Loc *locs = arena_alloc(E->arena, (size_t)(np + 1) * sizeof *locs);
    char *set = arena_alloc(E->arena, (size_t)np + 1);
    for (int i = 0; i < np; i++) {
        formals[i] = ((ParamDecl *)b->params.items[i])->name;
        if (callee.inst && callee.inst->set[i]) {
            vals[i] = callee.inst->args[i];
            set[i] = 1;
            locs[i] = vals[i].loc;
        }
    }
    if (bind_args(E, f, e, b->name, formals, np, 0, vals, locs, set)) return none();

    /* The call's path: an instance keeps its own; otherwise a new segment. */
    const char *path = callee.inst ? callee.inst->path : join(E, f->path, segment(E, f, e->a->name ? e->a->name : b->name));
    for (int i = 0; i < np; i++) {
        Override *o = find_override(E, arena_printf(E->arena, "%s.%s", path, formals[i]));
        if (o) {
            vals[i] = elab_eval(E, E->model_frame, o->value);
            locs[i] = o->loc;
            set[i] = 1;
        }
    }

    int ntensor = 0, given_tensor = 0;
    for (int i = 0; i < np; i++) {
        ParamDecl *pd = b->params.items[i];
        if (pd->type == TY_TENSOR) {
            ntensor++;
            given_tensor += set[i];
        }
    }
    if (ntensor && !given_tensor && !callee.inst) {
        /* A partial call: bind the configuration, own the parameters. */
        Instance *inst = arena_alloc(E->arena, sizeof *inst);
        *inst = (Instance){b, callee.file, path, vals, set, 0};
        return (Value){.kind = V_BLOCK, .loc = e->loc, .block = b, .file = callee.file, .inst = inst};
    }

    Frame nf = {.scope = scope_new(E, NULL), .path = path, .file = callee.file};
    nf.shared = f->shared || callee.inst;
    int bad = 0;
    for (int i = 0; i < np; i++) {
        ParamDecl *pd = b->params.items[i];
        if (!set[i]) continue;
        if (vals[i].kind == V_NONE) {
            bad = 1;
            continue;
        }
        if (!type_ok(&vals[i], pd->type)) {
            diag_error(E->diag, locs[i], "argument '%s' of '%s' must be %s, got %s", pd->name, b->name,
                       type_word(pd->type), elab_describe(E, &vals[i]));
            bad = 1;
            continue;
        }
        if (vals[i].kind == V_TENSOR) {
            const char *what = arena_printf(E->arena, "argument '%s' of '%s'", pd->name, b->name);
            if (match(E, &nf, pd->pattern, vals[i], what, locs[i])) {
                bad = 1;
                continue;
            }
        }
        scope_bind(E, nf.scope, pd->name, vals[i]);
    }
    if (bad) return none();
    for (int i = 0; i < np; i++) {
        ParamDecl *pd = b->params.items[i];
        if (set[i]) continue;
        if (!pd->dflt) {
            diag_error(E->diag, e->loc, "missing argument '%s' to '%s'", pd->name, b->name);
            bad = 1;
            continue;
        }
        Value v = elab_eval(E, &nf, pd->dflt);
        if (v.kind != V_NONE && !type_ok(&v, pd->type)) {
            diag_error(E->diag, pd->dflt->loc, "default of '%s' must be %s, got %s", pd->name,
                       type_word(pd->type), elab_describe(E, &v));
            bad = 1;
        }
        scope_bind(E, nf.scope, pd->name, v);
    }
    if (bad || recursive(E, b, e->loc)) return none();
    xgrow((void **)&E->calls, &E->callcap, E->ncalls + 1, sizeof *E->calls);
    E->calls[E->ncalls++] = b;
    Value r = run_body(E, &nf, b, e->loc);
    E->ncalls--;
    return r;
}

/* Fills the defaults of a builtin's parameters by parsing their text. */
static Value builtin_default(const BuiltinParam *bp, Loc loc) {
    const char *d = bp->dflt;
    if (!strcmp(d, "true") || !strcmp(d, "false")) return (Value){.kind = V_BOOL, .loc = loc, .i = d[0] == 't'};
    if (!strcmp(d, "none")) return (Value){.kind = V_NONE, .loc = loc, .i = 1};
    if (strpbrk(d, ".e")) return (Value){.kind = V_FLOAT, .loc = loc, .f = strtod(d, NULL)};
    return (Value){.kind = V_INT, .loc = loc, .i = strtoll(d, NULL, 10)};
}

/* Checks a builtin argument against its kind letter. */
static int builtin_arg_ok(const Value *v, int kind) {
    switch (kind) {
    case 't': return v->kind == V_TENSOR || v->kind == V_INT || v->kind == V_FLOAT;
    case 'n': return is_number(v) || v->kind == V_TENSOR;
    case 'i': return v->kind == V_INT;
    case 'f': return is_number(v);
    case 'b': return v->kind == V_BOOL;
    case 'l': return v->kind == V_LIST || v->kind == V_INT || (v->kind == V_NONE && v->i);
    default: return 1;
    }
}

static const char *builtin_kind_word(int kind) {
    switch (kind) {
    case 't': return "a tensor";
    case 'n': return "a tensor or a number";
    case 'i': return "an int";
    case 'f': return "a number";
    case 'b': return "a bool";
    case 'l': return "an int or a list of ints";
    default: return "a value";
    }
}

/* Calls a primitive. */
static Value call_builtin(Elab *E, Frame *f, const Builtin *bi, const Expr *e) {
    int np = builtin_nparams(bi);
    const char *formals[8] = {0};
    Value vals[8] = {0};
    Loc locs[8];
    char set[8] = {0};
    for (int i = 0; i < np; i++) formals[i] = bi->params[i].name;
    if (bind_args(E, f, e, bi->name, formals, np, bi->variadic, vals, locs, set)) return none();
    for (int i = 0; i < np; i++) {
        const BuiltinParam *bp = &bi->params[i];
        if (!set[i]) {
            if (!bp->dflt) {
                diag_error(E->diag, e->loc, "missing argument '%s' to '%s'", bp->name, bi->name);
                return none();
            }
            vals[i] = builtin_default(bp, e->loc);
            locs[i] = e->loc;
            continue;
        }
        if (vals[i].kind == V_NONE) return none();
        if (bi->variadic && i == 0) {
            for (int k = 0; k < vals[0].n; k++) {
                if (vals[0].items[k].kind == V_NONE) return none();
                if (vals[0].items[k].kind != V_TENSOR) {
                    diag_error(E->diag, vals[0].items[k].loc, "arguments of '%s' must be tensors, got %s",
                               bi->name, elab_describe(E, &vals[0].items[k]));
                    return none();
                }
            }
            continue;
        }
        if (!builtin_arg_ok(&vals[i], bp->kind)) {
            diag_error(E->diag, locs[i], "argument '%s' of '%s' must be %s, got %s", bp->name, bi->name,
                       builtin_kind_word(bp->kind), elab_describe(E, &vals[i]));
            return none();
        }
    }
    return bi->fn(E, bi, vals, np, e->loc);
}

static Value call(Elab *E, Frame *f, const Expr *e) {
    Value callee = elab_eval(E, f, e->a);
    if (callee.kind == V_NONE) {
        /* still evaluate the arguments, to report their errors too */
        for (int i = 0; i < e->items.n; i++) elab_eval(E, f, ((Arg *)e->items.items[i])->value);
        return none();
    }
    if (callee.kind == V_BLOCK) return call_block(E, f, callee, e);
    if (callee.kind == V_BUILTIN) return call_builtin(E, f, callee.builtin, e);
    diag_error(E->diag, e->a->loc, "cannot call %s", elab_describe(E, &callee));
    return none();
}

/* ---- block bodies --------------------------------------------------------- */

/* Resolves a shape-dependent initializer into fixed bounds for shape s. */
static int resolve_init(Elab *E, Value v, const Shape *s, Loc loc, Init *out) {
    if (v.rule == IK_FIXED) {
        *out = v.init;
        return 0;
    }
    if (s->rank < 2) {
        diag_error(E->diag, loc, "this initializer needs a parameter of rank 2 or more (it reads fan-in and fan-out from the shape)");
        return -1;
    }
    /* [in, out] matrices; [out, in, k...] convolution kernels */
    double fan_in, fan_out;
    if (s->rank == 2) {
        fan_in = (double)s->dim[0];
        fan_out = (double)s->dim[1];
    } else {
        double rf = 1;
        for (int i = 2; i < s->rank; i++) rf *= (double)s->dim[i];
        fan_in = (double)s->dim[1] * rf;
        fan_out = (double)s->dim[0] * rf;
    }
    double bound = v.rule == IK_XAVIER_UNIFORM ? v.f * sqrt(6.0 / (fan_in + fan_out)) : 1.0 / sqrt(fan_in);
    *out = (Init){INIT_UNIFORM, -bound, bound};
    return 0;
}

/* The n-th `param name` a frame declares is "name", then "name_2", ... */
static const char *param_segment(Elab *E, Frame *f, const char *name) {
    const char *key = arena_printf(E->arena, "%%%s", name); /* '%' keeps params apart from calls */
    return segment(E, f, key) + 1;
}

/* `param name: [shape] = init` — creates (or, in an instance, reuses) it. */
static void exec_param(Elab *E, Frame *f, const Stmt *s) {
    scope_bind(E, f->scope, s->name, none()); /* after an error, uses of it stay quiet */
    TType t = {pattern_dtype(s->pattern), {0, {0}}};
    int bad = 0;
    for (int i = 0; i < s->pattern->dims.n; i++) {
        const Expr *d = s->pattern->dims.items[i];
        if (d->kind == EX_ELLIPSIS) {
            diag_error(E->diag, d->loc, "a parameter's shape cannot contain '...'");
            return;
        }
        if (t.shape.rank == IR_MAX_RANK) {
            diag_error(E->diag, d->loc, "a parameter has at most %d dimensions", IR_MAX_RANK);
            return;
        }
        bad |= eval_dim(E, f, d, &t.shape.dim[t.shape.rank++]);
    }
    Value init = elab_eval(E, f, s->value);
    if (bad || init.kind == V_NONE) return;
    if (init.kind != V_INIT) {
        diag_error(E->diag, s->value->loc, "parameter '%s' needs an initializer like uniform(-0.1, 0.1), got %s",
                   s->name, elab_describe(E, &init));
        return;
    }
    /* A param's path is the frame's and its name, numbered when a loop
     * declares it again (w, w_2, ...). Beneath an instance, the path finds
     * the param every call of the instance, at any depth, shares. */
    const char *key = join(E, f->path, param_segment(E, f, s->name));
    Binding *old = f->shared ? scope_find_here(&E->shared, key) : NULL;
    if (old) {
        const TType *ot = elab_type(E, &old->value);
        char a[128], b[128];
        if (!ir_shape_eq(&ot->shape, &t.shape)) {
            diag_error(E->diag, s->loc, "shared parameter '%s' has shape %s here but %s at its first use",
                       s->name, ir_shape_str(&t.shape, a, sizeof a), ir_shape_str(&ot->shape, b, sizeof b));
            return;
        }
        scope_bind(E, f->scope, s->name, old->value);
        return;
    }
    Init in;
    if (resolve_init(E, init, &t.shape, s->value->loc, &in)) return;
    for (int i = 0; i < t.shape.rank; i++)
        if (t.shape.dim[i] <= 0) {
            diag_error(E->diag, s->loc, "parameter '%s' has a dimension of size %lld", s->name,
                       (long long)t.shape.dim[i]);
            return;
        }
    Value v = elab_node(E, OP_PARAM, NULL, 0, NULL, 0, 0, &t, s->loc);
    if (v.kind == V_NONE) return;
    E->g->nodes[v.node].init = in;
    ir_set_name(E->g, v.node, unique_name(E, key));
    if (f->shared) scope_bind(E, &E->shared, key, v);
    scope_bind(E, f->scope, s->name, v);
}

/* Runs a statement list in frame f. Returns 1 after a `return` (its value
 * in *ret), 0 at the end of the list, -1 where an error leaves nothing
 * sensible to run (a condition that failed to evaluate). */
static int exec_stmts(Elab *E, Frame *f, const BlockDef *b, const List *l, Loc call_loc, Value *ret);

/* `if` picks a branch by a compile-time bool. */
static int exec_if(Elab *E, Frame *f, const BlockDef *b, const Stmt *s, Loc call_loc, Value *ret) {
    Value c = elab_eval(E, f, s->value);
    if (c.kind == V_NONE) return -1;
    if (c.kind != V_BOOL) {
        diag_error(E->diag, s->value->loc, "the condition of 'if' must be a bool known at compile time, got %s",
                   elab_describe(E, &c));
        if (c.kind == V_TENSOR)
            diag_note(E->diag, s->value->loc, "to choose between tensors per element, use select(cond, a, b)");
        return -1;
    }
    return exec_stmts(E, f, b, c.i ? &s->body : &s->orelse, call_loc, ret);
}

/* `for x in LIST` runs its body once per item, x bound to it. */
static int exec_for(Elab *E, Frame *f, const BlockDef *b, const Stmt *s, Loc call_loc, Value *ret) {
    Value items = elab_eval(E, f, s->value);
    if (items.kind == V_NONE) return -1;
    if (items.kind != V_LIST) {
        diag_error(E->diag, s->value->loc, "'for' needs a list known at compile time, like range(n) or [1, 2, 4]; got %s",
                   elab_describe(E, &items));
        return -1;
    }
    for (int k = 0; k < items.n; k++) {
        scope_bind(E, f->scope, s->name, items.items[k]);
        int r = exec_stmts(E, f, b, &s->body, call_loc, ret);
        if (r) return r;
    }
    return 0;
}

/* `return VALUE`, checked against the block's result pattern. */
static int exec_return(Elab *E, Frame *f, const BlockDef *b, const Stmt *s, Loc call_loc, Value *ret) {
    Value v = elab_eval(E, f, s->value);
    *ret = v;
    if (v.kind == V_TENSOR && b->result) {
        const char *what = arena_printf(E->arena, "result of '%s'", b->name);
        if (match(E, f, b->result, v, what, s->value->loc)) {
            diag_note(E->diag, call_loc, "in this call of '%s'", b->name);
            *ret = none();
        }
    } else if (v.kind != V_NONE && b->result) {
        diag_error(E->diag, s->value->loc, "'%s' must return a tensor, got %s", b->name, elab_describe(E, &v));
        *ret = none();
    }
    return 1;
}

static int exec_stmts(Elab *E, Frame *f, const BlockDef *b, const List *l, Loc call_loc, Value *ret) {
    for (int i = 0; i < l->n; i++) {
        const Stmt *s = l->items[i];
        int r = 0;
        switch (s->kind) {
        case ST_PARAM: exec_param(E, f, s); break;
        case ST_ASSIGN: {
            Value v = elab_eval(E, f, s->value);
            name_value(E, f, s->name, v);
            scope_bind(E, f->scope, s->name, v);
            break;
        }
        case ST_RETURN:
            if (i + 1 < l->n)
                diag_error(E->diag, ((Stmt *)l->items[i + 1])->loc, "statement after return in '%s'", b->name);
            r = exec_return(E, f, b, s, call_loc, ret);
            break;
        case ST_IF: r = exec_if(E, f, b, s, call_loc, ret); break;
        case ST_FOR: r = exec_for(E, f, b, s, call_loc, ret); break;
        }
        if (r) return r;
    }
    return 0;
}

static Value run_body(Elab *E, Frame *f, const BlockDef *b, Loc call_loc) {
    Value ret = none();
    int r = exec_stmts(E, f, b, &b->body, call_loc, &ret);
    if (r == 0) diag_error(E->diag, b->loc, "block '%s' ends without a return", b->name);
    return r > 0 ? ret : none();
}

/* ---- expressions ------------------------------------------------------------ */

static Value eval(Elab *E, Frame *f, const Expr *e);

/* Evaluates e, refusing to nest deeper than MAX_DEPTH (once per run). */
Value elab_eval(Elab *E, Frame *f, const Expr *e) {
    if (E->depth >= MAX_DEPTH) {
        if (!E->too_deep)
            diag_error(E->diag, e->loc, "evaluation nested more than %d levels deep (calls within calls)", MAX_DEPTH);
        E->too_deep = 1;
        return none();
    }
    E->depth++;
    Value v = eval(E, f, e);
    E->depth--;
    return v;
}

static Value eval(Elab *E, Frame *f, const Expr *e) {
    switch (e->kind) {
    case EX_NAME: {
        Value v = lookup(E, f, e->name, e->loc);
        if (v.kind == V_BLOCK || v.kind == V_BUILTIN) v.loc = e->loc;
        return v;
    }
    case EX_INT: return (Value){.kind = V_INT, .loc = e->loc, .i = e->i};
    case EX_FLOAT: return (Value){.kind = V_FLOAT, .loc = e->loc, .f = e->f};
    case EX_STRING: return (Value){.kind = V_STRING, .loc = e->loc, .s = e->name};
    case EX_BOOL: return (Value){.kind = V_BOOL, .loc = e->loc, .i = e->i};
    case EX_ELLIPSIS:
        diag_error(E->diag, e->loc, "'...' is only allowed in a shape pattern");
        return none();
    case EX_UNARY: return negate(E, elab_eval(E, f, e->a), e->loc);
    case EX_BINARY: {
        Value a = elab_eval(E, f, e->a);
        Value b = elab_eval(E, f, e->b);
        return binary(E, e->op, a, b, e->loc);
    }
    case EX_CALL: return call(E, f, e);
    case EX_LIST: {
        Value *items = arena_alloc(E->arena, (size_t)(e->items.n + 1) * sizeof *items);
        for (int i = 0; i < e->items.n; i++) {
            items[i] = elab_eval(E, f, e->items.items[i]);
            if (items[i].kind == V_NONE) return none();
        }
        return (Value){.kind = V_LIST, .loc = e->loc, .items = items, .n = e->items.n};
    }
    case EX_RECORD:
        diag_error(E->diag, e->loc, "a record { ... } is only allowed in train settings");
        return none();
    }
    return none();
}

/* ---- definitions ------------------------------------------------------------ */

/* One named definition, for the duplicate check. */
typedef struct {
    const char *name;
    Loc loc;
    int module;
} Def;

/* Reports blocks (kind 0) or models (kind 1) defined twice anywhere in the
 * program. Of two, the one in the importing file is the duplicate. */
static void check_duplicates_of(Elab *E, int kind) {
    Program *p = E->prog;
    Def *defs = NULL;
    int n = 0, cap = 0;
    for (int m = 0; m < p->nmodules; m++) {
        if (!p->modules[m]) continue;
        List *l = kind ? &p->modules[m]->models : &p->modules[m]->blocks;
        for (int i = 0; i < l->n; i++) {
            xgrow((void **)&defs, &cap, n + 1, sizeof *defs);
            defs[n++] = kind ? (Def){((ModelDef *)l->items[i])->name, ((ModelDef *)l->items[i])->loc, m}
                             : (Def){((BlockDef *)l->items[i])->name, ((BlockDef *)l->items[i])->loc, m};
        }
    }
    for (int j = 0; j < n; j++)
        for (int i = 0; i < j; i++) {
            if (strcmp(defs[i].name, defs[j].name)) continue;
            int first = i, dup = j;
            if (defs[i].module != defs[j].module && program_sees(p, defs[i].module, defs[j].module))
                first = j, dup = i;
            diag_error(E->diag, defs[dup].loc, "duplicate definition of %s '%s'", kind ? "model" : "block",
                       defs[dup].name);
            diag_note(E->diag, defs[first].loc, "'%s' was first defined here", defs[first].name);
            break;
        }
    free(defs);
}

static void check_duplicates(Elab *E) {
    check_duplicates_of(E, 0);
    check_duplicates_of(E, 1);
}

static ModelDef *find_model(Program *p, const char *name) {
    for (int m = 0; m < p->nmodules; m++) {
        if (!p->modules[m]) continue;
        List *l = &p->modules[m]->models;
        for (int i = 0; i < l->n; i++)
            if (!strcmp(((ModelDef *)l->items[i])->name, name)) return l->items[i];
    }
    return NULL;
}

/* The model to elaborate: the named one, or the main file's only one. */
static ModelDef *pick_model(Elab *E, const char *name) {
    Program *p = E->prog;
    Module *main = p->modules[p->main_file];
    const char *path = p->src.files[p->main_file].path;
    if (name) {
        ModelDef *m = find_model(p, name);
        if (!m) diag_error(E->diag, NO_LOC, "no model named '%s' in %s", name, path);
        return m;
    }
    if (main->models.n == 1) return main->models.items[0];
    if (main->models.n == 0)
        diag_error(E->diag, (Loc){p->main_file, 0, 0},
                   "no model in this file (a 'model NAME { ... }' section names the inputs, labels and loss)");
    else
        diag_error(E->diag, (Loc){p->main_file, 0, 0}, "%d models in this file; choose one with --model NAME",
                   main->models.n);
    return NULL;
}

/* The statements of a model after `extends`: the parent's, with the child's
 * bindings replacing the parent's of the same name, and the child's data,
 * input and label sections replacing all the parent's of the same kind;
 * train sections all apply, in order. A name bound twice in one model is
 * an error. */
static int model_stmts(Elab *E, ModelDef *m, List *out, int depth) {
    if (depth > 32) {
        diag_error(E->diag, m->loc, "model '%s' extends itself", m->name);
        return -1;
    }
    if (m->parent) {
        ModelDef *parent = find_model(E->prog, m->parent);
        if (!parent) {
            diag_error(E->diag, m->parent_loc, "unknown model '%s'", m->parent);
            return -1;
        }
        if (model_stmts(E, parent, out, depth + 1)) return -1;
    }
    int inherited = out->n, bad = 0;
    char replaced[MS_TRAIN + 1] = {0}; /* section kinds this model has replaced */
    for (int i = 0; i < m->stmts.n; i++) {
        ModelStmt *s = m->stmts.items[i];
        int at = -1; /* the inherited statement s replaces */
        if (s->kind == MS_ASSIGN) {
            int twice = 0;
            for (int j = inherited; j < out->n && !twice; j++) {
                ModelStmt *o = out->items[j];
                if (o->kind == MS_ASSIGN && !strcmp(o->name, s->name)) {
                    diag_error(E->diag, s->loc, "'%s' is bound twice in model '%s'", s->name, m->name);
                    diag_note(E->diag, o->loc, "'%s' was first bound here", s->name);
                    twice = bad = 1;
                }
            }
            if (twice) continue;
            for (int j = 0; j < inherited && at < 0; j++) {
                ModelStmt *o = out->items[j];
                if (o->kind == MS_ASSIGN && !strcmp(o->name, s->name)) at = j;
            }
        } else if (s->kind != MS_TRAIN && !replaced[s->kind]) {
            replaced[s->kind] = 1;
            for (int j = 0; j < inherited; j++) {
                if (((ModelStmt *)out->items[j])->kind != s->kind) continue;
                if (at < 0) {
                    at = j;
                    continue;
                }
                /* the parent's other sections of this kind go too */
                memmove(&out->items[j], &out->items[j + 1], (size_t)(out->n - j - 1) * sizeof *out->items);
                out->n--, inherited--, j--;
            }
        }
        if (at >= 0) out->items[at] = s;
        else list_push(E->arena, out, s);
    }
    return bad ? -1 : 0;
}

/* ---- --set ------------------------------------------------------------------ */

typedef struct {
    const char *key;
    Expr *value;
    Loc loc;
} SetValue;

/* Parses each --set KEY=VALUE into a key and an expression. */
static int parse_sets(Elab *E, const SetOption *sets, int nsets, SetValue *out) {
    int ok = 0;
    for (int i = 0; i < nsets; i++) {
        const char *t = sets[i].text;
        const char *eq = strchr(t, '=');
        int id = program_add_text(E->prog, "<command line>", t);
        ir_file(E->g, arena_printf(E->arena, "<--set %d>", i + 1)); /* ids stay aligned with sources */
        if (!eq || eq == t || !eq[1]) {
            diag_error(E->diag, (Loc){id, 1, 1}, "invalid --set '%s': expected KEY=VALUE", t);
            ok = -1;
            continue;
        }
        out[i].key = arena_strndup(E->arena, t, (size_t)(eq - t));
        out[i].loc = (Loc){id, 1, 1};
        out[i].value = parse_expr(&E->prog->arena, E->diag, id, (int)(eq - t) + 1);
        if (!out[i].value) ok = -1;
    }
    return ok;
}

/* ---- the model ----------------------------------------------------------------- */

/* Creates the INPUT or LABEL nodes of one declaration list. */
static void declare_io(Elab *E, Frame *f, ModelStmt *s, Elaborated *out) {
    for (int i = 0; i < s->decls.n; i++) {
        Decl *d = s->decls.items[i];
        TType t = {pattern_dtype(d->pattern), {0, {0}}};
        int bad = 0;
        for (int k = 0; k < d->pattern->dims.n && !bad; k++) {
            const Expr *x = d->pattern->dims.items[k];
            if (x->kind == EX_ELLIPSIS || t.shape.rank == IR_MAX_RANK) {
                diag_error(E->diag, x->loc, "an input's shape must be fully known (at most %d dimensions, no '...')",
                           IR_MAX_RANK);
                bad = 1;
                break;
            }
            bad = eval_dim(E, f, x, &t.shape.dim[t.shape.rank++]) != 0;
        }
        scope_bind(E, f->scope, d->name, none()); /* after an error, uses of it stay quiet */
        if (bad) continue;
        Op op = s->kind == MS_INPUT ? OP_INPUT : OP_LABEL;
        Value v = elab_node(E, op, NULL, 0, NULL, 0, 0, &t, d->loc);
        if (v.kind == V_NONE) continue;
        ir_set_name(E->g, v.node, unique_name(E, d->name));
        scope_bind(E, f->scope, d->name, v);
        ModelIO **list = s->kind == MS_INPUT ? &out->inputs : &out->labels;
        int *n = s->kind == MS_INPUT ? &out->ninputs : &out->nlabels;
        *list = xrealloc(*list, (size_t)(*n + 1) * sizeof **list);
        (*list)[(*n)++] = (ModelIO){d->name, v.node};
    }
}

/* Applies --set values: model bindings and train settings directly, the rest
 * (block arguments by path) during evaluation. */
static int apply_sets(Elab *E, SetValue *sv, int nsets, List *stmts, Setting **settings, int *ns, int *scap) {
    int ok = 0;
    E->overrides = arena_alloc(E->arena, (size_t)(nsets + 1) * sizeof *E->overrides);
    for (int i = 0; i < nsets; i++) {
        int done = 0;
        for (int j = 0; j < stmts->n && !done; j++) {
            ModelStmt *s = stmts->items[j];
            if (s->kind == MS_ASSIGN && !strcmp(s->name, sv[i].key)) {
                ModelStmt *copy = arena_alloc(E->arena, sizeof *copy);
                *copy = *s;
                copy->value = sv[i].value;
                stmts->items[j] = copy;
                done = 1;
            }
        }
        if (!done && settings_known(sv[i].key)) {
            xgrow((void **)settings, scap, *ns + 1, sizeof **settings);
            (*settings)[(*ns)++] = (Setting){sv[i].key, sv[i].value, sv[i].loc};
            done = 1;
        }
        if (!done && strchr(sv[i].key, '.'))
            E->overrides[E->noverrides++] = (Override){sv[i].key, sv[i].value, sv[i].loc, 0};
        else if (!done) {
            diag_error(E->diag, sv[i].loc, "unknown setting '%s' (not a model binding, a train setting or a block argument)",
                       sv[i].key);
            ok = -1;
        }
    }
    return ok;
}

/* The model's loss as a scalar. A loss of one value per sample ([B]) becomes
 * its mean over the real samples of the batch, weighted by a new input
 * "sample_weight" [B] (1 for a sample, 0 for padding in a short last batch),
 * and is kept as the output "sample_loss"; a scalar is used as it is. */
static Value batch_loss(Elab *E, Value v, Loc loc, Elaborated *out) {
    const TType *t = elab_type(E, &v);
    char buf[128];
    if (t->shape.rank == 0) return v;
    if (t->shape.rank != 1 || t->shape.dim[0] != out->train.batch) {
        diag_error(E->diag, loc, "the loss must be a scalar or one value per sample ([B] = [%d]), got %s",
                   out->train.batch, ir_type_str(t, buf, sizeof buf));
        return none();
    }
    ir_add_output(E->g, "sample_loss", v.node);
    TType wt = *t;
    Value w = elab_node(E, OP_INPUT, NULL, 0, NULL, 0, 0, &wt, loc);
    ir_set_name(E->g, w.node, unique_name(E, "sample_weight"));
    out->weight_node = w.node;
    int64_t all[2] = {0, 0};
    int prod[2] = {v.node, w.node};
    Value wl = elab_node(E, OP_MUL, prod, 2, NULL, 0, 0, NULL, loc);
    Value num = elab_node(E, OP_REDUCE_SUM, &wl.node, 1, all, 2, 0, NULL, loc);
    Value den = elab_node(E, OP_REDUCE_SUM, &w.node, 1, all, 2, 0, NULL, loc);
    int q[2] = {num.node, den.node};
    Value mean = elab_node(E, OP_DIV, q, 2, NULL, 0, 0, NULL, loc);
    ir_set_name(E->g, mean.node, unique_name(E, "loss"));
    return mean;
}

/* Evaluates one model binding and records `loss` and `logits` as outputs. */
static void eval_binding(Elab *E, Frame *f, ModelStmt *s) {
    Value v = elab_eval(E, f, s->value);
    if (!strcmp(s->name, "loss") && v.kind == V_TENSOR && elab_type(E, &v)->shape.rank == 1)
        name_value(E, f, "sample_loss", v);
    name_value(E, f, s->name, v);
    scope_bind(E, f->scope, s->name, v);
    if ((!strcmp(s->name, "loss") || !strcmp(s->name, "logits")) && v.kind != V_NONE) {
        if (v.kind != V_TENSOR || E->g->nodes[v.node].type.dtype != DT_F32) {
            diag_error(E->diag, s->value->loc, "'%s' must be an f32 tensor, got %s", s->name, elab_describe(E, &v));
            return;
        }
        if (!strcmp(s->name, "loss")) {
            v = batch_loss(E, v, s->value->loc, E->out);
            if (v.kind == V_NONE) return;
        }
        ir_add_output(E->g, s->name, v.node);
    }
}

/* Evaluates binding k unless done; a binding that needs itself, directly
 * or through others, is an error naming the cycle. Returns 0 or -1. */
static int run_binding(Elab *E, int k) {
    if (E->bstate[k] == 2) return 0;
    if (E->bstate[k] == 1) {
        char *cycle = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&cycle, &len);
        int i = E->nrunning - 1;
        while (E->running[i] != k) i--;
        for (; i < E->nrunning; i++) fprintf(m, "%s -> ", E->bindings[E->running[i]]->name);
        fputs(E->bindings[k]->name, m);
        fclose(m);
        diag_error(E->diag, E->bindings[k]->loc, "'%s' depends on itself (%s)", E->bindings[k]->name, cycle);
        free(cycle);
        return -1;
    }
    E->bstate[k] = 1;
    E->running[E->nrunning++] = k;
    eval_binding(E, E->model_frame, E->bindings[k]);
    E->nrunning--;
    E->bstate[k] = 2;
    return 0;
}

/* Declares the model's data, inputs and labels, then evaluates its
 * bindings: in order, except that one read before its turn is evaluated
 * then (a child model's new binding read by an overridden one). */
static void run_model(Elab *E, Frame *f, List *stmts, Elaborated *out) {
    E->out = out;
    E->bindings = arena_alloc(E->arena, (size_t)(stmts->n + 1) * sizeof *E->bindings);
    E->bstate = arena_alloc(E->arena, (size_t)stmts->n + 1);
    E->running = arena_alloc(E->arena, (size_t)(stmts->n + 1) * sizeof *E->running);
    int has_loss = 0;
    for (int i = 0; i < stmts->n; i++) {
        ModelStmt *s = stmts->items[i];
        switch (s->kind) {
        case MS_DATA: out->data = s->name; break;
        case MS_INPUT:
        case MS_LABEL: declare_io(E, f, s, out); break;
        case MS_TRAIN: break;
        case MS_ASSIGN:
            has_loss |= !strcmp(s->name, "loss");
            E->bindings[E->nbindings++] = s;
            break;
        }
    }
    for (int k = 0; k < E->nbindings; k++) run_binding(E, k);
    if (!has_loss)
        diag_error(E->diag, (Loc){E->prog->main_file, 0, 0}, "model '%s' has no 'loss = ...' binding", out->model);
}

/* Were all errors since `before` about the command line (--set)? */
static int only_cmdline_errors(const Program *p, int before_errors) {
    int seen = 0, any = 0;
    for (int i = 0; i < p->diag.n; i++) {
        const Diagnostic *d = &p->diag.items[i];
        if (d->level != DIAG_ERROR || seen++ < before_errors) continue;
        if (d->loc.file < 0 || p->modules[d->loc.file] || p->real[d->loc.file]) return 0;
        any = 1;
    }
    return any;
}

static int elaborate_here(Program *p, const char *model, const SetOption *sets, int nsets, Elaborated *out) {
    memset(out, 0, sizeof *out);
    out->weight_node = -1;
    Arena arena = {0};
    Elab E = {.prog = p, .diag = &p->diag, .arena = &arena};
    int before = p->diag.nerrors;
    check_duplicates(&E);
    lint_program(&E);
    ModelDef *m = p->diag.nerrors == before ? pick_model(&E, model) : NULL;
    if (!m) {
        arena_free(&arena);
        return -1;
    }
    out->model = m->name;
    E.g = ir_graph_new(m->name);
    out->graph = E.g;
    for (int i = 0; i < p->src.n; i++) ir_file(E.g, p->src.files[i].path);

    List stmts = {0};
    SetValue *sv = arena_alloc(&arena, (size_t)(nsets + 1) * sizeof *sv);
    int bad = model_stmts(&E, m, &stmts, 0);
    bad |= parse_sets(&E, sets, nsets, sv);
    Setting *settings = NULL;
    int ns = 0, scap = 0;
    for (int i = 0; i < stmts.n; i++) {
        ModelStmt *s = stmts.items[i];
        if (s->kind == MS_TRAIN) settings_collect(&E, s->value, "", &settings, &ns, &scap);
    }
    if (!bad) bad |= apply_sets(&E, sv, nsets, &stmts, &settings, &ns, &scap);
    if (!bad) bad |= settings_read(&E, settings, ns, &out->train);
    free(settings);

    if (!bad) {
        Frame f = {.scope = scope_new(&E, NULL), .path = "", .file = p->main_file};
        E.model_frame = &f;
        scope_bind(&E, f.scope, "B", (Value){.kind = V_INT, .loc = m->loc, .i = out->train.batch});
        int eval_before = p->diag.nerrors;
        run_model(&E, &f, &stmts, out);
        for (int i = 0; i < E.noverrides; i++)
            if (!E.overrides[i].used && p->diag.nerrors == eval_before) {
                diag_error(E.diag, E.overrides[i].loc,
                           "unknown setting '%s' (not a model binding, a train setting or a block argument)",
                           E.overrides[i].key);
            }
    }
    if (p->diag.nerrors == before) {
        char err[512];
        if (ir_verify(E.g, err, sizeof err)) diag_error(E.diag, NO_LOC, "internal error: invalid graph: %s", err);
    }
    out->cmdline_error = only_cmdline_errors(p, before);
    /* keep strings the graph's caller reads alive past this arena */
    out->data = out->data ? ir_intern(E.g, out->data) : NULL;
    out->model = ir_intern(E.g, out->model);
    for (int i = 0; i < out->ninputs; i++) out->inputs[i].name = ir_intern(E.g, out->inputs[i].name);
    for (int i = 0; i < out->nlabels; i++) out->labels[i].name = ir_intern(E.g, out->labels[i].name);
    free(E.calls);
    arena_free(&arena);
    return p->diag.nerrors > before ? -1 : 0;
}

typedef struct {
    Program *p;
    const char *model;
    const SetOption *sets;
    int nsets;
    Elaborated *out;
    int rc;
} ElabJob;

static void *elaborate_job(void *arg) {
    ElabJob *j = arg;
    j->rc = elaborate_here(j->p, j->model, j->sets, j->nsets, j->out);
    return NULL;
}

/* Elaboration recurses as deep as the program nests: it runs on a thread
 * whose stack holds MAX_DEPTH levels, whatever the caller's stack is. */
int elaborate(Program *p, const char *model, const SetOption *sets, int nsets, Elaborated *out) {
    ElabJob job = {p, model, sets, nsets, out, -1};
    pthread_attr_t attr;
    pthread_t t;
    if (pthread_attr_init(&attr) == 0 && pthread_attr_setstacksize(&attr, ELAB_STACK_BYTES) == 0 &&
        pthread_create(&t, &attr, elaborate_job, &job) == 0) {
        pthread_join(t, NULL);
    } else {
        elaborate_job(&job); /* no thread: the caller's stack will have to do */
    }
    pthread_attr_destroy(&attr);
    return job.rc;
}

void elaborated_free(Elaborated *e) {
    ir_graph_free(e->graph);
    free(e->inputs);
    free(e->labels);
    memset(e, 0, sizeof *e);
}
