/* settings.c — the `train { ... }` section: flattening, overriding, reading.
 *
 * A train record is flattened to dotted keys ("early_stopping.patience"), so
 * a child model, and --set, can replace one field without restating the
 * rest. Values are read from the AST directly: they are constants, words
 * (val_loss) or an optimizer call (adam(lr: 1e-3)).
 */
#include <string.h>

#include "elab.h"
#include "util.h"

/* Every key mmgc reads, with what it must be. */
typedef enum { K_INT, K_FLOAT, K_WORD, K_OPTIMIZER } KeyKind;

static const struct {
    const char *key;
    KeyKind kind;
} keys[] = {
    {"batch", K_INT},
    {"max_epochs", K_INT},
    {"val_split", K_FLOAT},
    {"seed", K_INT},
    {"optimizer", K_OPTIMIZER},
    {"early_stopping.monitor", K_WORD},
    {"early_stopping.patience", K_INT},
    {"early_stopping.min_delta", K_FLOAT},
};

#define NKEYS (int)(sizeof keys / sizeof keys[0])

int settings_known(const char *key) {
    for (int i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].key, key)) return 1;
    return 0;
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
        *out = -*out;
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

/* Reads `adam(lr: 1e-3, ...)` (or a bare `adam`) into an OptimizerSpec. */
static int read_optimizer(Elab *E, const Setting *s, OptimizerSpec *o) {
    static const char *names[] = {"sgd", "momentum", "adam", "adamw"};
    const Expr *e = s->value;
    const Expr *callee = e->kind == EX_CALL ? e->a : e;
    int kind = -1;
    for (int i = 0; i < 4 && callee->kind == EX_NAME; i++)
        if (!strcmp(callee->name, names[i])) kind = i;
    if (kind < 0) {
        diag_error(E->diag, e->loc, "optimizer must be one of sgd, momentum, adam, adamw, e.g. adam(lr: 1e-3)");
        return -1;
    }
    *o = (OptimizerSpec){(OptimizerKind)kind, 1e-3, 0.9, 0.9, 0.999, 1e-8, kind == OPT_ADAMW ? 1e-2 : 0};
    if (kind <= OPT_MOMENTUM) o->lr = 1e-2;
    if (e->kind != EX_CALL) return 0;
    for (int i = 0; i < e->items.n; i++) {
        const Arg *a = e->items.items[i];
        double v;
        int is_int;
        double *slot = !a->name                         ? NULL
                       : !strcmp(a->name, "lr")           ? &o->lr
                       : !strcmp(a->name, "momentum")     ? &o->momentum
                       : !strcmp(a->name, "beta1")        ? &o->beta1
                       : !strcmp(a->name, "beta2")        ? &o->beta2
                       : !strcmp(a->name, "eps")          ? &o->eps
                       : !strcmp(a->name, "weight_decay") ? &o->weight_decay
                                                          : NULL;
        if (!slot) {
            diag_error(E->diag, a->loc, "%s: expected a keyword argument lr, momentum, beta1, beta2, eps or weight_decay",
                       names[kind]);
            return -1;
        }
        if (const_number(a->value, &v, &is_int)) {
            diag_error(E->diag, a->value->loc, "%s: '%s' must be a number", names[kind], a->name);
            return -1;
        }
        *slot = v;
    }
    return 0;
}

/* Reads one setting into t. */
static int read_one(Elab *E, const Setting *s, KeyKind kind, TrainSettings *t) {
    double v = 0;
    int is_int = 0;
    if (kind == K_OPTIMIZER) return read_optimizer(E, s, &t->optimizer);
    if (kind == K_WORD) {
        const char *w = s->value->kind == EX_NAME ? s->value->name : "";
        if (strcmp(w, "val_loss") && strcmp(w, "val_accuracy")) {
            diag_error(E->diag, s->value->loc, "'%s' must be val_loss or val_accuracy", s->key);
            return -1;
        }
        t->monitor = !strcmp(w, "val_loss") ? "val_loss" : "val_accuracy";
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
    if ((!strcmp(s->key, "max_epochs") || !strcmp(s->key, "early_stopping.patience")) && v < 0) {
        diag_error(E->diag, s->value->loc, "'%s' must not be negative", s->key);
        return -1;
    }
    if (!strcmp(s->key, "batch")) t->batch = (int)v;
    else if (!strcmp(s->key, "max_epochs")) t->max_epochs = (int)v;
    else if (!strcmp(s->key, "val_split")) t->val_split = v;
    else if (!strcmp(s->key, "seed")) t->seed = (long long)v;
    else if (!strcmp(s->key, "early_stopping.patience")) t->patience = (int)v;
    else t->min_delta = v;
    return 0;
}

int settings_read(Elab *E, const Setting *list, int n, TrainSettings *t) {
    *t = (TrainSettings){.batch = 64, .max_epochs = 100, .val_split = 0.2, .seed = 0,
                         .optimizer = {OPT_ADAM, 1e-3, 0.9, 0.9, 0.999, 1e-8, 0},
                         .monitor = "val_loss", .patience = 5, .min_delta = 0};
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < NKEYS && strcmp(keys[k].key, list[i].key)) k++;
        if (k == NKEYS) {
            diag_error(E->diag, list[i].loc, "unknown train setting '%s'", list[i].key);
            ok = -1;
            continue;
        }
        if (read_one(E, &list[i], keys[k].kind, t)) ok = -1;
    }
    return ok;
}
