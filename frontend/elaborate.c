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
#include <stdlib.h>
#include <string.h>

#include "elab.h"
#include "util.h"

/* Nested evaluations (operators, calls, block bodies) one elaboration may
 * have in progress. Blocks cannot recurse and an expression is at most
 * AST_MAX_DEPTH deep, so only a chain of many blocks each nesting deeply
 * gets here; elaborate() runs on a stack sized for it. */
#define MAX_DEPTH 20000

static Value none(void) { return (Value){.kind = V_NONE}; }

/* ---- scopes --------------------------------------------------------------- */

Binding *elab_scope_find_here(Scope *s, const char *name) {
    for (Binding *b = s->head; b; b = b->next)
        if (!strcmp(b->name, name)) return b;
    return NULL;
}

Binding *elab_scope_find(Scope *s, const char *name) {
    for (; s; s = s->parent) {
        Binding *b = elab_scope_find_here(s, name);
        if (b) return b;
    }
    return NULL;
}

/* Binds (or rebinds) name in s. */
void elab_scope_bind(Elab *E, Scope *s, const char *name, Value v) {
    Binding *b = elab_scope_find_here(s, name);
    if (!b) {
        b = arena_alloc(E->arena, sizeof *b);
        b->name = name;
        b->next = s->head;
        s->head = b;
    }
    b->value = v;
}

Scope *elab_scope_new(Elab *E, Scope *parent) {
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
const char *elab_unique_name(Elab *E, const char *base) {
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
const char *elab_join(Elab *E, const char *path, const char *name) {
    return *path ? arena_printf(E->arena, "%s.%s", path, name) : name;
}

/* Names an unnamed tensor after the binding that holds it; a new instance
 * (attend = multihead_attention(heads: 4)) owns its params under that name. */
void elab_name_value(Elab *E, Frame *f, const char *name, Value v) {
    if (v.kind == V_BLOCK && v.inst && !v.inst->named) {
        v.inst->path = elab_join(E, f->path, elab_segment(E, f, name));
        v.inst->named = 1;
    }
    if (v.kind != V_TENSOR || E->g->nodes[v.node].name) return;
    ir_set_name(E->g, v.node, elab_unique_name(E, elab_join(E, f->path, name)));
}

void elab_claim_nodes(Elab *E, int first, const char *path) {
    int n = E->g->nnodes;
    if (n <= first || !*path) return;
    xgrow((void **)&E->block, &E->blockcap, n, sizeof *E->block);
    for (; E->nblock < n; E->nblock++) E->block[E->nblock] = NULL;
    const char *kept = NULL; /* interned once a node is claimed */
    for (int id = first; id < n; id++)
        if (!E->block[id]) E->block[id] = kept ? kept : (kept = ir_intern(E->g, path));
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

const int *elab_distances(Elab *E, int from) {
    Program *p = E->prog;
    if (!E->dist || E->ndist != p->nmodules) { /* (sources are only added before evaluation starts) */
        E->dist = arena_alloc(E->arena, (size_t)(p->nmodules + 1) * sizeof *E->dist);
        E->ndist = p->nmodules;
    }
    if (!E->dist[from]) {
        E->dist[from] = arena_alloc(E->arena, (size_t)(p->nmodules + 1) * sizeof **E->dist);
        program_distances(p, from, E->dist[from]);
    }
    return E->dist[from];
}

/* The block `name` as seen from module `from`: the nearest definition wins
 * (the file's own, then those of the files it imports, then theirs, ...),
 * so a user's `softmax` shadows the library's in the user's file while the
 * library keeps its own. Two at the same distance are ambiguous: an error
 * at loc, and *ambiguous set. */
static const BlockDef *find_block(Elab *E, int from, const char *name, int *file, Loc loc, int *ambiguous) {
    Program *p = E->prog;
    const int *dist = elab_distances(E, from);
    const BlockDef *best = NULL, *tie = NULL;
    int best_d = -1, tie_file = -1;
    *file = -1;
    for (int m = 0; m < p->nmodules; m++) {
        if (!p->modules[m] || dist[m] < 0) continue;
        List *bl = &p->modules[m]->blocks;
        for (int i = 0; i < bl->n; i++) {
            BlockDef *b = bl->items[i];
            if (strcmp(b->name, name)) continue;
            if (!best || dist[m] < best_d) best = b, best_d = dist[m], *file = m, tie = NULL;
            else if (dist[m] == best_d && m != *file) tie = b, tie_file = m;
            break;
        }
    }
    *ambiguous = tie != NULL;
    if (tie) {
        diag_error(E->diag, loc, "'%s' is ambiguous: %s and %s both define it, at the same distance through imports",
                   name, p->src.files[*file].path, p->src.files[tie_file].path);
        diag_note(E->diag, best->loc, "one '%s' is here", name);
        diag_note(E->diag, tie->loc, "another is here");
    }
    return best;
}

/* Resolves a name: local scopes (at the model level, evaluating a binding
 * not evaluated yet), then visible blocks, then primitives. */
static Value lookup(Elab *E, Frame *f, const char *name, Loc loc) {
    Binding *b = elab_scope_find(f->scope, name);
    if (b) return b->value;
    int r = f == E->model_frame ? elab_resolve_binding(E, name) : 0;
    if (r < 0) return none();
    if (r > 0) return elab_scope_find(f->scope, name)->value;
    int file = -1, ambiguous = 0;
    const BlockDef *blk = strncmp(name, "op.", 3) ? find_block(E, f->file, name, &file, loc, &ambiguous) : NULL;
    if (ambiguous) return none();
    if (blk) return (Value){.kind = V_BLOCK, .loc = loc, .block = blk, .file = file};
    const Builtin *bi = builtin_find(strncmp(name, "op.", 3) ? name : name + 3);
    if (!bi) bi = builtin_ct_find(name);
    if (bi) return (Value){.kind = V_BUILTIN, .loc = loc, .builtin = bi};
    Value special;
    if (E->out && elab_special(E, name, loc, &special)) return special;
    diag_error(E->diag, loc, "unknown name '%s'", name);
    hint_unknown_name(E, f, name, loc);
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

/* Lists at compile time: a + b joins, a * n (or n * a) repeats. */
static Value list_op(Elab *E, int op, Value a, Value b, Loc loc) {
    if (op == '+' && a.kind == V_LIST && b.kind == V_LIST) {
        Value *items = arena_alloc(E->arena, (size_t)(a.n + b.n + 1) * sizeof *items);
        memcpy(items, a.items, (size_t)a.n * sizeof *items);
        memcpy(items + a.n, b.items, (size_t)b.n * sizeof *items);
        return (Value){.kind = V_LIST, .loc = loc, .items = items, .n = a.n + b.n};
    }
    Value l = a.kind == V_LIST ? a : b, k = a.kind == V_LIST ? b : a;
    if (op == '*' && k.kind == V_INT && k.i >= 0 && (int64_t)l.n * k.i <= 10000) {
        int n = (int)(l.n * k.i);
        Value *items = arena_alloc(E->arena, (size_t)(n + 1) * sizeof *items);
        for (int i = 0; i < n; i++) items[i] = l.items[i % (l.n ? l.n : 1)];
        return (Value){.kind = V_LIST, .loc = loc, .items = items, .n = n};
    }
    diag_error(E->diag, loc, "operator '%s' on lists: a + b joins two lists, a * n repeats one (n an int, 0 to 10000 items), got %s and %s",
               ast_op_text(op), elab_describe(E, &a), elab_describe(E, &b));
    return none();
}

static Value binary(Elab *E, int op, Value a, Value b, Loc loc) {
    if (a.kind == V_NONE || b.kind == V_NONE) return none();
    if (a.kind == V_LIST || b.kind == V_LIST) return list_op(E, op, a, b, loc);
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
const char *elab_segment(Elab *E, Frame *f, const char *name) {
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
    if (bind_args(E, f, e, b->name, formals, np, 0, vals, locs, set)) {
        hint_misused_block(E, b, e->loc);
        return none();
    }

    /* The call's path: an instance keeps its own; otherwise a new segment. */
    const char *path = callee.inst ? callee.inst->path : elab_join(E, f->path, elab_segment(E, f, e->a->name ? e->a->name : b->name));
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

    Frame nf = {.scope = elab_scope_new(E, NULL), .path = path, .file = callee.file};
    nf.shared = f->shared || callee.inst;
    int bad = 0, before = E->diag->nerrors; /* errors of the call itself, not of its arguments' values */
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
            if (elab_match(E, &nf, pd->pattern, vals[i], what, locs[i])) {
                bad = 1;
                continue;
            }
        }
        elab_scope_bind(E, nf.scope, pd->name, vals[i]);
    }
    if (bad) {
        if (E->diag->nerrors > before) hint_misused_block(E, b, e->loc);
        return none();
    }
    for (int i = 0; i < np; i++) {
        ParamDecl *pd = b->params.items[i];
        if (set[i]) continue;
        if (!pd->dflt) {
            diag_error(E->diag, e->loc, "missing argument '%s' to '%s'", pd->name, b->name);
            hint_misused_block(E, b, e->loc);
            bad = 1;
            continue;
        }
        Value v = elab_eval(E, &nf, pd->dflt);
        if (v.kind != V_NONE && !type_ok(&v, pd->type)) {
            diag_error(E->diag, pd->dflt->loc, "default of '%s' must be %s, got %s", pd->name,
                       type_word(pd->type), elab_describe(E, &v));
            bad = 1;
        }
        elab_scope_bind(E, nf.scope, pd->name, v);
    }
    if (bad || recursive(E, b, e->loc)) return none();
    xgrow((void **)&E->calls, &E->callcap, E->ncalls + 1, sizeof *E->calls);
    E->calls[E->ncalls++] = b;
    int first = E->g->nnodes;
    Value r = run_body(E, &nf, b, e->loc);
    elab_claim_nodes(E, first, path);
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
    return elab_segment(E, f, key) + 1;
}

/* `param name: [shape] = init` — creates (or, in an instance, reuses) it. */
static void exec_param(Elab *E, Frame *f, const Stmt *s) {
    const char *kind = s->kind == ST_STATE ? "state" : "parameter";
    elab_scope_bind(E, f->scope, s->name, none()); /* after an error, uses of it stay quiet */
    TType t = {elab_pattern_dtype(s->pattern), {0, {0}}};
    int bad = 0;
    for (int i = 0; i < s->pattern->dims.n; i++) {
        const Expr *d = s->pattern->dims.items[i];
        if (d->kind == EX_ELLIPSIS) {
            diag_error(E->diag, d->loc, "a %s's shape cannot contain '...'", kind);
            return;
        }
        if (t.shape.rank == IR_MAX_RANK) {
            diag_error(E->diag, d->loc, "a %s has at most %d dimensions", kind, IR_MAX_RANK);
            return;
        }
        bad |= elab_eval_dim(E, f, d, &t.shape.dim[t.shape.rank++]);
    }
    Value init = elab_eval(E, f, s->value);
    if (bad || init.kind == V_NONE) return;
    if (init.kind != V_INIT) {
        diag_error(E->diag, s->value->loc, "%s '%s' needs an initializer like uniform(-0.1, 0.1), got %s", kind,
                   s->name, elab_describe(E, &init));
        return;
    }
    /* A param's path is the frame's and its name, numbered when a loop
     * declares it again (w, w_2, ...). Beneath an instance, the path finds
     * the param every call of the instance, at any depth, shares. */
    const char *key = elab_join(E, f->path, param_segment(E, f, s->name));
    Binding *old = f->shared ? elab_scope_find_here(&E->shared, key) : NULL;
    if (old) {
        const TType *ot = elab_type(E, &old->value);
        char a[128], b[128];
        if (!ir_shape_eq(&ot->shape, &t.shape)) {
            diag_error(E->diag, s->loc, "shared %s '%s' has shape %s here but %s at its first use", kind,
                       s->name, ir_shape_str(&t.shape, a, sizeof a), ir_shape_str(&ot->shape, b, sizeof b));
            return;
        }
        elab_scope_bind(E, f->scope, s->name, old->value);
        return;
    }
    Init in;
    if (resolve_init(E, init, &t.shape, s->value->loc, &in)) return;
    for (int i = 0; i < t.shape.rank; i++)
        if (t.shape.dim[i] <= 0) {
            diag_error(E->diag, s->loc, "%s '%s' has a dimension of size %lld", kind, s->name,
                       (long long)t.shape.dim[i]);
            return;
        }
    Value v = elab_node(E, s->kind == ST_STATE ? OP_STATE : OP_PARAM, NULL, 0, NULL, 0, 0, &t, s->loc);
    if (v.kind == V_NONE) return;
    E->g->nodes[v.node].init = in;
    ir_set_name(E->g, v.node, elab_unique_name(E, key));
    if (f->shared) elab_scope_bind(E, &E->shared, key, v);
    elab_scope_bind(E, f->scope, s->name, v);
}

/* `update NAME = value`: the value a state of this block takes after each
 * training step, as the output "update:PATH" (evaluation never updates). */
static void exec_update(Elab *E, Frame *f, const Stmt *s) {
    Binding *b = elab_scope_find(f->scope, s->name);
    Value v = elab_eval(E, f, s->value);
    if (!b || b->value.kind == V_NONE || v.kind == V_NONE) {
        if (!b) diag_error(E->diag, s->loc, "unknown state '%s' (declare it first: state %s: [...] = zeros())", s->name, s->name);
        return;
    }
    const Node *st = b->value.kind == V_TENSOR ? &E->g->nodes[b->value.node] : NULL;
    if (!st || st->op != OP_STATE) {
        diag_error(E->diag, s->loc, "'%s' is not a state, so it cannot be updated (declare it with state %s: [...] = ...)",
                   s->name, s->name);
        return;
    }
    v = elab_as_tensor(E, v, s->value->loc);
    char a[128], c[128];
    const TType *vt = elab_type(E, &v);
    if (vt->dtype != st->type.dtype || !ir_shape_eq(&vt->shape, &st->type.shape)) {
        diag_error(E->diag, s->value->loc, "the update of state '%s' is %s, but the state is %s", s->name,
                   ir_type_str(vt, a, sizeof a), ir_type_str(&st->type, c, sizeof c));
        return;
    }
    const char *out = arena_printf(E->arena, IR_UPDATE "%s", st->name);
    if (ir_output(E->g, out) >= 0) {
        diag_error(E->diag, s->loc, "state '%s' is updated twice in one step (is its block called twice?)", st->name);
        return;
    }
    ir_add_output(E->g, out, v.node);
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
        elab_scope_bind(E, f->scope, s->name, items.items[k]);
        int r = exec_stmts(E, f, b, &s->body, call_loc, ret);
        if (r) return r;
    }
    return 0;
}

/* Checks one returned value against result pattern k of b. 0 or -1. */
static int check_result(Elab *E, Frame *f, const BlockDef *b, int k, Value v, Loc loc, Loc call_loc) {
    const char *what = b->results.n > 1 ? arena_printf(E->arena, "result %d of '%s'", k + 1, b->name)
                                        : arena_printf(E->arena, "result of '%s'", b->name);
    if (v.kind == V_NONE) return -1;
    if (v.kind != V_TENSOR) {
        diag_error(E->diag, loc, "%s must be a tensor, got %s", what, elab_describe(E, &v));
        return -1;
    }
    if (elab_match(E, f, b->results.items[k], v, what, loc)) {
        diag_note(E->diag, call_loc, "in this call of '%s'", b->name);
        return -1;
    }
    return 0;
}

/* `return VALUE` or `return A, B`, checked against the block's result
 * patterns; several values are returned as a list. */
static int exec_return(Elab *E, Frame *f, const BlockDef *b, const Stmt *s, Loc call_loc, Value *ret) {
    Value v = elab_eval(E, f, s->value);
    *ret = v;
    int want = b->results.n;
    if (v.kind == V_NONE || want == 0) return 1;
    if (want == 1) {
        if (check_result(E, f, b, 0, v, s->value->loc, call_loc)) *ret = none();
        return 1;
    }
    int got = v.kind == V_LIST ? v.n : 1;
    if (got != want) {
        diag_error(E->diag, s->value->loc, "'%s' returns %d value%s here, but its result has %d", b->name, got,
                   got == 1 ? "" : "s", want);
        *ret = none();
        return 1;
    }
    const Expr *x = s->value;
    for (int k = 0; k < want; k++) {
        Loc loc = x->kind == EX_LIST && x->items.n == want ? ((Expr *)x->items.items[k])->loc : x->loc;
        if (check_result(E, f, b, k, v.items[k], loc, call_loc)) *ret = none();
    }
    return 1;
}

void elab_unpack(Elab *E, Frame *f, const List *names, Value v, Loc loc) {
    int ok = v.kind == V_LIST && v.n == names->n;
    if (v.kind != V_NONE && !ok)
        diag_error(E->diag, loc, "cannot unpack %s into %d names", v.kind == V_LIST ?
                   arena_printf(E->arena, "%d values", v.n) : elab_describe(E, &v), names->n);
    for (int i = 0; i < names->n; i++) {
        const char *name = names->items[i];
        Value item = ok ? v.items[i] : none();
        elab_name_value(E, f, name, item);
        elab_scope_bind(E, f->scope, name, item);
    }
}

static int exec_stmts(Elab *E, Frame *f, const BlockDef *b, const List *l, Loc call_loc, Value *ret) {
    for (int i = 0; i < l->n; i++) {
        const Stmt *s = l->items[i];
        int r = 0;
        switch (s->kind) {
        case ST_PARAM:
        case ST_STATE: exec_param(E, f, s); break;
        case ST_UPDATE: exec_update(E, f, s); break;
        case ST_ASSIGN: {
            Value v = elab_eval(E, f, s->value);
            if (s->names.n) {
                elab_unpack(E, f, &s->names, v, s->loc);
                break;
            }
            elab_name_value(E, f, s->name, v);
            elab_scope_bind(E, f->scope, s->name, v);
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
