/* model.c — a model section elaborated: the model picked, `extends`
 * resolved, --set applied, inputs and labels declared, bindings evaluated
 * by name, `loss` and `logits` made outputs. Also the entry point,
 * elaborate(), which runs all of it on a stack of its own.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "elab.h"
#include "parse.h"
#include "util.h"

static Value none(void) { return (Value){.kind = V_NONE}; }

/* The stack elaboration runs on: room for MAX_DEPTH nested evaluations
 * (elaborate.c), in any build. */
#define ELAB_STACK_BYTES ((size_t)512 << 20)

/* ---- definitions ------------------------------------------------------------ */

/* Does s bind name (as `name = ...` or among `a, b = ...`)? */
static int binds(const ModelStmt *s, const char *name) {
    if (!s->names.n) return !strcmp(s->name, name);
    for (int i = 0; i < s->names.n; i++)
        if (!strcmp(s->names.items[i], name)) return 1;
    return 0;
}

/* Do s and o bind a name in common? Sets *name to it. */
static int binds_same(const ModelStmt *s, const ModelStmt *o, const char **name) {
    int n = s->names.n ? s->names.n : 1;
    for (int i = 0; i < n; i++) {
        *name = s->names.n ? s->names.items[i] : s->name;
        if (binds(o, *name)) return 1;
    }
    return 0;
}


/* One named definition, for the duplicate check. */
typedef struct {
    const char *name;
    Loc loc;
    int module;
} Def;

/* Reports blocks (kind 0) defined twice in one file, or models (kind 1)
 * defined twice anywhere in the program (of two, the one in the importing
 * file is the duplicate). A block may reuse a name another file defines:
 * the nearest definition wins (find_block in elaborate.c). */
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
            if (strcmp(defs[i].name, defs[j].name) || (!kind && defs[i].module != defs[j].module)) continue;
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

/* The model to elaborate: the named one, or the main file's only one. */
static ModelDef *pick_model(Elab *E, const char *name) {
    Program *p = E->prog;
    Module *main = p->modules[p->main_file];
    const char *path = p->src.files[p->main_file].path;
    if (name) {
        ModelDef *m = program_find_model(p, name);
        if (!m) diag_error(E->diag, NO_LOC, "no model named '%s' in %s", name, path);
        return m;
    }
    if (main->models.n == 1) return main->models.items[0];
    if (main->models.n == 0 && main->studies.n > 0)
        diag_error(E->diag, (Loc){p->main_file, 0, 0},
                   "this file defines study '%s' and no model: run the study with --study, or pick one of its "
                   "models with --model NAME",
                   ((StudyDef *)main->studies.items[0])->name);
    else if (main->models.n == 0)
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
        ModelDef *parent = program_find_model(E->prog, m->parent);
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
                const char *name;
                if (o->kind == MS_ASSIGN && binds_same(s, o, &name)) {
                    diag_error(E->diag, s->loc, "'%s' is bound twice in model '%s'", name, m->name);
                    diag_note(E->diag, o->loc, "'%s' was first bound here", name);
                    twice = bad = 1;
                }
            }
            if (twice) continue;
            for (int j = 0; j < inherited && at < 0; j++) {
                ModelStmt *o = out->items[j];
                const char *name;
                if (o->kind == MS_ASSIGN && binds_same(s, o, &name)) at = j;
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
        TType t = {elab_pattern_dtype(d->pattern), {0, {0}}};
        int bad = 0;
        for (int k = 0; k < d->pattern->dims.n && !bad; k++) {
            const Expr *x = d->pattern->dims.items[k];
            if (x->kind == EX_ELLIPSIS || t.shape.rank == IR_MAX_RANK) {
                diag_error(E->diag, x->loc, "an input's shape must be fully known (at most %d dimensions, no '...')",
                           IR_MAX_RANK);
                bad = 1;
                break;
            }
            bad = elab_eval_dim(E, f, x, &t.shape.dim[t.shape.rank++]) != 0;
        }
        elab_scope_bind(E, f->scope, d->name, none()); /* after an error, uses of it stay quiet */
        if (!strcmp(d->name, IR_TRAINING) || !strcmp(d->name, IR_SAMPLE_WEIGHT)) {
            diag_error(E->diag, d->loc, "'%s' is an input the runtime feeds itself; name this one differently", d->name);
            continue;
        }
        if (bad) continue;
        Op op = s->kind == MS_INPUT ? OP_INPUT : OP_LABEL;
        Value v = elab_node(E, op, NULL, 0, NULL, 0, 0, &t, d->loc);
        if (v.kind == V_NONE) continue;
        ir_set_name(E->g, v.node, elab_unique_name(E, d->name));
        elab_scope_bind(E, f->scope, d->name, v);
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
            if (s->kind == MS_ASSIGN && !s->names.n && !strcmp(s->name, sv[i].key)) {
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
            const char **bindings = arena_alloc(E->arena, (size_t)(stmts->n + 1) * sizeof *bindings);
            int nb = 0;
            for (int j = 0; j < stmts->n; j++) {
                const ModelStmt *s = stmts->items[j];
                if (s->kind == MS_ASSIGN && !s->names.n) bindings[nb++] = s->name;
            }
            settings_hint(E, sv[i].key, sv[i].loc, bindings, nb, 1);
            ok = -1;
        }
    }
    return ok;
}

/* The model's loss as a scalar. A loss of one value per sample ([B]) becomes
 * its mean over the real samples of the batch, weighted by a new input
 * "sample_weight" [B] (1 for a sample, 0 for padding in a short last batch),
 * and is kept as the output "sample_loss"; a scalar is used as it is. */
int elab_special(Elab *E, const char *name, Loc loc, Value *v) {
    Elaborated *out = E->out;
    int *node = !strcmp(name, IR_TRAINING) ? &out->training_node : !strcmp(name, IR_SAMPLE_WEIGHT) ? &out->weight_node : NULL;
    if (!node) return 0;
    if (*node < 0) {
        TType t = {DT_F32, {0, {0}}};
        if (node == &out->weight_node) t.shape = (Shape){1, {out->train.batch}};
        Value made = elab_node(E, OP_INPUT, NULL, 0, NULL, 0, 0, &t, loc);
        if (made.kind == V_NONE) return 0;
        ir_set_name(E->g, made.node, elab_unique_name(E, name));
        *node = made.node;
    }
    *v = (Value){.kind = V_TENSOR, .loc = loc, .node = *node};
    return 1;
}

static Value batch_loss(Elab *E, Value v, Loc loc, Elaborated *out) {
    const TType *t = elab_type(E, &v);
    char buf[128];
    if (t->shape.rank == 0) return v;
    if (t->shape.rank != 1 || t->shape.dim[0] != out->train.batch) {
        diag_error(E->diag, loc, "the loss must be a scalar or one value per sample ([B] = [%d]), got %s",
                   out->train.batch, ir_type_str(t, buf, sizeof buf));
        return none();
    }
    ir_add_output(E->g, IR_SAMPLE_LOSS, v.node);
    Value w;
    elab_special(E, IR_SAMPLE_WEIGHT, loc, &w);
    int64_t all[2] = {0, 0};
    int prod[2] = {v.node, w.node};
    Value wl = elab_node(E, OP_MUL, prod, 2, NULL, 0, 0, NULL, loc);
    Value num = elab_node(E, OP_REDUCE_SUM, &wl.node, 1, all, 2, 0, NULL, loc);
    Value den = elab_node(E, OP_REDUCE_SUM, &w.node, 1, all, 2, 0, NULL, loc);
    int q[2] = {num.node, den.node};
    Value mean = elab_node(E, OP_DIV, q, 2, NULL, 0, 0, NULL, loc);
    ir_set_name(E->g, mean.node, elab_unique_name(E, IR_LOSS));
    return mean;
}

/* Makes a bound `loss` or `logits` an output of the graph. */
static void record_output(Elab *E, Frame *f, const char *name, Value v, Loc loc) {
    if ((strcmp(name, IR_LOSS) && strcmp(name, IR_LOGITS)) || v.kind == V_NONE) return;
    if (v.kind != V_TENSOR || E->g->nodes[v.node].type.dtype != DT_F32) {
        diag_error(E->diag, loc, "'%s' must be an f32 tensor, got %s", name, elab_describe(E, &v));
        return;
    }
    if (!strcmp(name, IR_LOSS)) {
        if (elab_type(E, &v)->shape.rank == 1) elab_name_value(E, f, IR_SAMPLE_LOSS, v);
        v = batch_loss(E, v, loc, E->out);
        if (v.kind == V_NONE) return;
    }
    ir_add_output(E->g, name, v.node);
}

/* Evaluates one model binding and records `loss` and `logits` as outputs. */
static void eval_binding(Elab *E, Frame *f, ModelStmt *s) {
    Value v = elab_eval(E, f, s->value);
    if (s->names.n) {
        elab_unpack(E, f, &s->names, v, s->loc);
        for (int i = 0; i < s->names.n; i++)
            record_output(E, f, s->names.items[i], elab_scope_find_here(f->scope, s->names.items[i])->value, s->loc);
        return;
    }
    if (!strcmp(s->name, IR_LOSS) && v.kind == V_TENSOR && elab_type(E, &v)->shape.rank == 1)
        elab_name_value(E, f, IR_SAMPLE_LOSS, v);
    elab_name_value(E, f, s->name, v);
    elab_scope_bind(E, f->scope, s->name, v);
    record_output(E, f, s->name, v, s->value->loc);
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

int elab_resolve_binding(Elab *E, const char *name) {
    for (int k = 0; k < E->nbindings; k++)
        if (binds(E->bindings[k], name)) return run_binding(E, k) ? -1 : 1;
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
        case MS_DATA: out->data = program_relative_path(E->prog, s->loc.file, s->name); break;
        case MS_INPUT:
        case MS_LABEL: declare_io(E, f, s, out); break;
        case MS_TRAIN: break;
        case MS_ASSIGN:
            has_loss |= binds(s, IR_LOSS);
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
    out->weight_node = out->training_node = -1;
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
        Frame f = {.scope = elab_scope_new(&E, NULL), .path = "", .file = p->main_file};
        E.model_frame = &f;
        elab_scope_bind(&E, f.scope, "B", (Value){.kind = V_INT, .loc = m->loc, .i = out->train.batch});
        int eval_before = p->diag.nerrors;
        run_model(&E, &f, &stmts, out);
        for (int i = 0; i < E.noverrides; i++)
            if (!E.overrides[i].used && p->diag.nerrors == eval_before) {
                diag_error(E.diag, E.overrides[i].loc,
                           "unknown setting '%s' (not a model binding, a train setting or a block argument)",
                           E.overrides[i].key);
                settings_hint(&E, E.overrides[i].key, E.overrides[i].loc, NULL, 0, 0); /* a path: a train setting misspelled? */
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
    /* every node gets an entry: those after the last call are the model's */
    xgrow((void **)&E.block, &E.blockcap, E.g->nnodes + 1, sizeof *E.block);
    for (; E.nblock < E.g->nnodes; E.nblock++) E.block[E.nblock] = NULL;
    out->block = E.block;
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
    free(e->block);
    memset(e, 0, sizeof *e);
}
