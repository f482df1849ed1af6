/* settings.c — the `train { ... }` section: flattening, overriding, reading.
 *
 * A train record is flattened to dotted keys ("early_stopping.patience"), so
 * a child model, and --set, can replace one field without restating the
 * rest. Values are read from the AST directly: they are constants, words
 * (val_loss), calls with keyword arguments (adam(lr: 1e-3), step(every: 10))
 * or lists of strings (no_decay: ["*.b"]).
 */
#include <string.h>

#include "elab.h"
#include "hints.h"
#include "util.h"

/* Every key mmgc reads, with what it must be and what it means (--help). */
typedef enum { K_INT, K_FLOAT, K_WORD, K_OPTIMIZER, K_SCHEDULE, K_PATTERNS } KeyKind;

static const struct {
    const char *key;
    KeyKind kind;
    const char *help;
} keys[] = {
    {"batch", K_INT, "samples per step, the B of shapes (default 64)"},
    {"max_epochs", K_INT, "the most epochs to train, at least 1 (default 100)"},
    {"val_split", K_FLOAT, "the fraction of train held out to validate, in [0, 1) (default 0.2)"},
    {"seed", K_INT, "the run's seed: split, shuffling, initial weights, dropout (default 0)"},
    {"optimizer", K_OPTIMIZER, "sgd, momentum, adam (default) or adamw, e.g. adamw(lr: 1e-3, weight_decay: 0.01)"},
    {"schedule", K_SCHEDULE, "lr per epoch: constant (default), step(every: N, gamma: G), cosine(t_max: T)"},
    {"warmup", K_INT, "steps of linear learning-rate warm-up (default 0: none)"},
    {"clip_grad_norm", K_FLOAT, "clip gradients to this global L2 norm (default 0: none)"},
    {"no_decay", K_PATTERNS, "parameters without weight decay, as globs: [\"*.b\", \"*norm*\"]"},
    {"early_stopping.monitor", K_WORD, "what early stopping watches: val_loss (default) or val_accuracy"},
    {"early_stopping.patience", K_INT, "epochs without improvement before stopping (default 5)"},
    {"early_stopping.min_delta", K_FLOAT, "the least change that counts as an improvement (default 0)"},
};

#define NKEYS (int)(sizeof keys / sizeof keys[0])

int settings_known(const char *key) {
    for (int i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].key, key)) return 1;
    return 0;
}

const char *train_setting_key(int i) { return i >= 0 && i < NKEYS ? keys[i].key : NULL; }

const char *train_setting_help(int i) { return i >= 0 && i < NKEYS ? keys[i].help : NULL; }

void settings_hint(Elab *E, const char *key, Loc loc, const char *const *others, int nothers, int list_if_none) {
    const char *cands[NKEYS + 64];
    int n = 0;
    for (int i = 0; i < NKEYS; i++) cands[n++] = keys[i].key;
    for (int i = 0; i < nothers && n < NKEYS + 64; i++) cands[n++] = others[i];
    const char *best = hint_nearest(key, cands, n);
    if (best) diag_note(E->diag, loc, "did you mean '%s'?", best);
    if (best ? !settings_known(best) : !list_if_none) return;
    char list[1024];
    size_t len = 0;
    for (int i = 0; i < NKEYS && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", keys[i].key);
    diag_note(E->diag, loc, "the train settings are %s", list);
}

void settings_collect(Elab *E, const Expr *record, const char *prefix, Setting **list, int *n, int *cap) {
    for (int i = 0; i < record->items.n; i++) {
        const Arg *f = record->items.items[i];
        const char *key = *prefix ? arena_printf(E->arena, "%s.%s", prefix, f->name) : f->name;
        if (f->value->kind == EX_RECORD) {
            settings_collect(E, f->value, key, list, n, cap);
            continue;
        }
        int j = 0;
        while (j < *n && strcmp((*list)[j].key, key)) j++;
        if (j == *n) {
            xgrow((void **)list, cap, *n + 1, sizeof **list);
            (*n)++;
        }
        (*list)[j] = (Setting){key, f->value, f->loc};
    }
}

/* A constant number from an expression (literals and unary minus). */
static int const_number(const Expr *e, double *out, int *is_int) {
    if (e->kind == EX_UNARY && e->op == '-') {
        int r = const_number(e->a, out, is_int);
        if (r == 0) *out = -*out;
        return r;
    }
    if (e->kind == EX_INT) {
        *out = (double)e->i;
        *is_int = 1;
        return 0;
    }
    if (e->kind == EX_FLOAT) {
        *out = e->f;
        *is_int = 0;
        return 0;
    }
    return -1;
}

/* What a keyword argument's value must be besides a number. */
typedef enum { R_ANY, R_POSITIVE, R_NONNEG, R_UNIT } KwRule;

/* A keyword argument a call may take, and where its value goes. */
typedef struct {
    const char *name;
    double *slot;
    int is_int; /* must be an integer */
    KwRule rule;
} KwArg;

/* The complaint about v under rule, or NULL when it is fine. */
static const char *rule_broken(KwRule rule, double v) {
    if (rule == R_POSITIVE && !(v > 0)) return "must be positive";
    if (rule == R_NONNEG && !(v >= 0)) return "must not be negative";
    if (rule == R_UNIT && !(v >= 0 && v < 1)) return "must be in [0, 1)";
    return NULL;
}

/* Reads the keyword arguments of call `e` (of `what`) into their slots;
 * `expected` lists the names for the message about any other. */
static int read_kwargs(Elab *E, const Expr *e, const char *what, const KwArg *args, int nargs, const char *expected) {
    for (int i = 0; e->kind == EX_CALL && i < e->items.n; i++) {
        const Arg *a = e->items.items[i];
        int k = 0;
        while (a->name && k < nargs && strcmp(a->name, args[k].name)) k++;
        if (!a->name || k == nargs) {
            diag_error(E->diag, a->loc, "%s: expected a keyword argument %s", what, expected);
            return -1;
        }
        double v;
        int is_int;
        if (const_number(a->value, &v, &is_int) || (args[k].is_int && !is_int)) {
            diag_error(E->diag, a->value->loc, "%s: '%s' must be %s", what, a->name,
                       args[k].is_int ? "an integer" : "a number");
            return -1;
        }
        const char *bad = rule_broken(args[k].rule, v);
        if (bad) {
            diag_error(E->diag, a->value->loc, "%s: '%s' %s", what, a->name, bad);
            return -1;
        }
        *args[k].slot = v;
    }
    return 0;
}

/* The index of the name e calls (or is) among names[0..n), or -1. */
static int callee_index(const Expr *e, const char *const *names, int n) {
    const Expr *callee = e->kind == EX_CALL ? e->a : e;
    for (int i = 0; i < n && callee->kind == EX_NAME; i++)
        if (!strcmp(callee->name, names[i])) return i;
    return -1;
}

/* Reads `adam(lr: 1e-3, ...)` (or a bare `adam`) into an OptimizerSpec,
 * keeping its schedule, clipping and no_decay. */
static int read_optimizer(Elab *E, const Setting *s, OptimizerSpec *o) {
    int kind = callee_index(s->value, optimizer_names, OPT_COUNT);
    if (kind < 0) {
        diag_error(E->diag, s->value->loc, "optimizer must be one of sgd, momentum, adam, adamw, e.g. adam(lr: 1e-3)");
        return -1;
    }
    o->kind = (OptimizerKind)kind;
    o->lr = kind <= OPT_MOMENTUM ? 1e-2 : 1e-3;
    o->momentum = 0.9, o->beta1 = 0.9, o->beta2 = 0.999, o->eps = 1e-8;
    o->weight_decay = kind == OPT_ADAMW ? 1e-2 : 0;
    const KwArg args[] = {{"lr", &o->lr, 0, R_POSITIVE},    {"momentum", &o->momentum, 0, R_NONNEG},
                          {"beta1", &o->beta1, 0, R_UNIT},   {"beta2", &o->beta2, 0, R_UNIT},
                          {"eps", &o->eps, 0, R_POSITIVE},   {"weight_decay", &o->weight_decay, 0, R_NONNEG}};
    return read_kwargs(E, s->value, optimizer_names[kind], args, 6, "lr, momentum, beta1, beta2, eps or weight_decay");
}

/* Reads `step(every: 10, gamma: 0.5)`, `cosine(t_max: 50, min_lr: 0)` or
 * `constant`. A bare `cosine` (or t_max 0) lasts max_epochs. */
static int read_schedule(Elab *E, const Setting *s, LrSchedule *l) {
    static const char *const names[] = {"constant", "step", "cosine"};
    const Expr *e = s->value;
    int kind = callee_index(e, names, 3);
    if (kind < 0) {
        diag_error(E->diag, e->loc, "schedule must be constant, step(every: N, gamma: G) or cosine(t_max: E, min_lr: L)");
        return -1;
    }
    double every = 0, gamma = 0.1, t_max = 0, min_lr = 0;
    const KwArg step_args[] = {{"every", &every, 1, R_ANY}, {"gamma", &gamma, 0, R_ANY}};
    const KwArg cosine_args[] = {{"t_max", &t_max, 1, R_ANY}, {"min_lr", &min_lr, 0, R_ANY}};
    if (kind == LR_STEP && read_kwargs(E, e, "step", step_args, 2, "every or gamma")) return -1;
    if (kind == LR_COSINE && read_kwargs(E, e, "cosine", cosine_args, 2, "t_max or min_lr")) return -1;
    if (kind == LR_CONSTANT && read_kwargs(E, e, "constant", NULL, 0, "(none)")) return -1;
    const char *bad = kind == LR_STEP && every < 1 ? "step: 'every' must be at least 1 (epochs)"
                      : kind == LR_STEP && gamma < 0 ? "step: 'gamma' must not be negative"
                      : t_max < 0                    ? "cosine: 't_max' must not be negative"
                      : min_lr < 0                   ? "cosine: 'min_lr' must not be negative"
                                                     : NULL;
    if (bad) {
        diag_error(E->diag, e->loc, "%s", bad);
        return -1;
    }
    l->kind = (LrScheduleKind)kind;
    l->every = (int)every, l->gamma = gamma, l->t_max = (int)t_max, l->min_lr = min_lr;
    return 0;
}

/* Reads `["*.b", "*norm*"]`: glob patterns over parameter paths. */
static int read_patterns(Elab *E, const Setting *s, OptimizerSpec *o) {
    const Expr *e = s->value;
    int ok = e->kind == EX_LIST && e->items.n <= MAX_NO_DECAY;
    for (int i = 0; ok && i < e->items.n; i++) ok = ((const Expr *)e->items.items[i])->kind == EX_STRING;
    if (!ok) {
        diag_error(E->diag, e->loc, "'%s' must be a list of at most %d strings (glob patterns over parameter paths), e.g. [\"*.b\", \"*norm*\"]",
                   s->key, MAX_NO_DECAY);
        return -1;
    }
    o->nno_decay = e->items.n;
    for (int i = 0; i < e->items.n; i++) {
        const Expr *x = e->items.items[i];
        o->no_decay[i] = x->name;
        o->no_decay_loc[i] = x->loc;
    }
    return 0;
}

/* Reads one setting into t. */
static int read_one(Elab *E, const Setting *s, KeyKind kind, TrainSettings *t) {
    double v = 0;
    int is_int = 0;
    if (kind == K_OPTIMIZER) return read_optimizer(E, s, &t->optimizer);
    if (kind == K_SCHEDULE) return read_schedule(E, s, &t->optimizer.schedule);
    if (kind == K_PATTERNS) return read_patterns(E, s, &t->optimizer);
    if (kind == K_WORD) {
        const char *w = s->value->kind == EX_NAME ? s->value->name : "";
        if (strcmp(w, "val_loss") && strcmp(w, "val_accuracy")) {
            diag_error(E->diag, s->value->loc, "'%s' must be val_loss or val_accuracy", s->key);
            return -1;
        }
        t->monitor = !strcmp(w, "val_loss") ? "val_loss" : "val_accuracy";
        t->monitor_loc = s->value->loc;
        return 0;
    }
    if (const_number(s->value, &v, &is_int) || (kind == K_INT && !is_int)) {
        diag_error(E->diag, s->value->loc, "'%s' must be %s", s->key, kind == K_INT ? "an integer" : "a number");
        return -1;
    }
    if (!strcmp(s->key, "batch") && (v < 1 || v > 1 << 20)) {
        diag_error(E->diag, s->value->loc, "'batch' must be between 1 and %d", 1 << 20);
        return -1;
    }
    if (!strcmp(s->key, "val_split") && (v < 0 || v >= 1)) {
        diag_error(E->diag, s->value->loc, "'val_split' must be in [0, 1)");
        return -1;
    }
    if (!strcmp(s->key, "max_epochs") && v < 1) {
        diag_error(E->diag, s->value->loc, "'max_epochs' must be at least 1");
        return -1;
    }
    if ((!strcmp(s->key, "early_stopping.patience") || !strcmp(s->key, "warmup") || !strcmp(s->key, "clip_grad_norm") ||
         !strcmp(s->key, "early_stopping.min_delta")) &&
        v < 0) {
        diag_error(E->diag, s->value->loc, "'%s' must not be negative", s->key);
        return -1;
    }
    if (!strcmp(s->key, "batch")) t->batch = (int)v;
    else if (!strcmp(s->key, "max_epochs")) t->max_epochs = (int)v;
    else if (!strcmp(s->key, "val_split")) t->val_split = v;
    else if (!strcmp(s->key, "seed")) t->seed = (long long)v;
    else if (!strcmp(s->key, "early_stopping.patience")) t->patience = (int)v;
    else if (!strcmp(s->key, "warmup")) t->optimizer.schedule.warmup = (int)v;
    else if (!strcmp(s->key, "clip_grad_norm")) t->optimizer.clip_grad_norm = v;
    else t->min_delta = v;
    return 0;
}

int settings_read(Elab *E, const Setting *list, int n, TrainSettings *t) {
    *t = (TrainSettings){.batch = 64, .max_epochs = 100, .val_split = 0.2, .seed = 0,
                         .optimizer = {.kind = OPT_ADAM, .lr = 1e-3, .momentum = 0.9, .beta1 = 0.9,
                                       .beta2 = 0.999, .eps = 1e-8, .schedule = {.kind = LR_CONSTANT}},
                         .monitor = "val_loss", .patience = 5, .min_delta = 0};
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < NKEYS && strcmp(keys[k].key, list[i].key)) k++;
        if (k == NKEYS) {
            diag_error(E->diag, list[i].loc, "unknown train setting '%s'", list[i].key);
            settings_hint(E, list[i].key, list[i].loc, NULL, 0, 1);
            ok = -1;
            continue;
        }
        if (read_one(E, &list[i], keys[k].kind, t)) ok = -1;
    }
    if (t->optimizer.schedule.kind == LR_COSINE && t->optimizer.schedule.t_max == 0)
        t->optimizer.schedule.t_max = t->max_epochs > 0 ? t->max_epochs : 1;
    return ok;
}
