/* study_spec.c — see study_spec.h. Reads the study's record field by field;
 * every problem is a diagnostic at the field or value that has it. */
#include "study_spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct {
    Program *p;
    StudySpec *s;
    int errors;
} Reader;

__attribute__((format(printf, 3, 4))) static void error(Reader *r, Loc loc, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(&r->p->diag, loc, "%s", msg);
    r->errors++;
}

/* A value as `--set KEY=VALUE` takes it: a name, a number, a string,
 * true/false; NULL (and an error) for anything else. */
static char *value_text(Reader *r, const Expr *e) {
    char buf[64];
    const Expr *x = e->kind == EX_UNARY && e->op == '-' ? e->a : e;
    const char *minus = x != e ? "-" : "";
    switch (x->kind) {
    case EX_NAME:
        if (x == e) return xstrdup(x->name);
        break;
    case EX_INT: snprintf(buf, sizeof buf, "%s%lld", minus, (long long)x->i); return xstrdup(buf);
    case EX_FLOAT:
        for (int digits = 6; digits <= 17; digits++) { /* the shortest text that reads back the same */
            snprintf(buf, sizeof buf, "%s%.*g", minus, digits, x->f);
            if (strtod(buf + (x != e), NULL) == x->f) break;
        }
        if (!strpbrk(buf, ".en")) strcat(buf, ".0"); /* stays a float */
        return xstrdup(buf);
    case EX_STRING:
        if (x == e) {
            char *t = xmalloc(strlen(x->name) + 3);
            sprintf(t, "\"%s\"", x->name);
            return t;
        }
        break;
    case EX_BOOL:
        if (x == e) return xstrdup(x->i ? "true" : "false");
        break;
    case EX_ELLIPSIS: case EX_UNARY: case EX_BINARY: case EX_CALL: case EX_LIST: case EX_RECORD: break;
    }
    error(r, e->loc, "a study value is a name, a number, a string or true/false");
    return NULL;
}

/* The field `name` of a record, or NULL. */
static const Arg *field(const Expr *rec, const char *name) {
    for (int i = 0; i < rec->items.n; i++) {
        const Arg *a = rec->items.items[i];
        if (a->name && !strcmp(a->name, name)) return a;
    }
    return NULL;
}

/* Checks that every field of rec is named and one of keys (NULL-ended). */
static void check_keys(Reader *r, const Expr *rec, const char *const *keys, const char *what) {
    for (int i = 0; i < rec->items.n; i++) {
        const Arg *a = rec->items.items[i];
        if (!a->name) {
            error(r, a->loc, "%s takes named fields (KEY: VALUE)", what);
            continue;
        }
        int k = 0;
        while (keys[k] && strcmp(keys[k], a->name)) k++;
        if (keys[k]) continue;
        char list[256] = "";
        for (int j = 0; keys[j]; j++) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", keys[j]);
        error(r, a->loc, "unknown %s field '%s' (expected %s)", what, a->name, list);
    }
    for (int i = 0; i < rec->items.n; i++)
        for (int j = 0; j < i; j++) {
            const Arg *a = rec->items.items[i], *b = rec->items.items[j];
            if (a->name && b->name && !strcmp(a->name, b->name)) error(r, a->loc, "'%s' is given twice", a->name);
        }
}

/* A model section that exists, named by e. */
static const char *model_name(Reader *r, const Expr *e) {
    if (e->kind != EX_NAME) {
        error(r, e->loc, "expected the name of a model");
        return NULL;
    }
    if (!program_find_model(r->p, e->name)) {
        error(r, e->loc, "unknown model '%s'", e->name);
        return NULL;
    }
    return e->name;
}

/* Appends a run. */
static StudyRun *add_run(Reader *r, const char *name, const char *model, int baseline, Loc loc) {
    StudySpec *s = r->s;
    for (int i = 0; i < s->nruns; i++)
        if (!strcmp(s->runs[i].name, name)) {
            error(r, loc, "two runs of the study are both named '%s'", name);
            return NULL;
        }
    s->runs = xrealloc(s->runs, (size_t)(s->nruns + 1) * sizeof *s->runs);
    StudyRun *run = &s->runs[s->nruns++];
    *run = (StudyRun){xstrdup(name), model, NULL, 0, baseline, loc};
    return run;
}

static void add_set(StudyRun *run, const char *key, const char *value) {
    run->sets = xrealloc(run->sets, (size_t)(run->nsets + 1) * sizeof *run->sets);
    run->sets[run->nsets] = xmalloc(strlen(key) + strlen(value) + 2);
    sprintf(run->sets[run->nsets++], "%s=%s", key, value);
}

/* The varied keys: for each, its values' texts (from `vary`, or narrowed
 * by a variant). */
typedef struct {
    const char *key;
    char **values;
    int n;
    Loc loc;
} Axis;

/* The list of values of one varied key (in a variant, one value may stand
 * for a list of one). */
static int read_axis(Reader *r, const Arg *a, Axis *ax, int variant) {
    *ax = (Axis){a->name, NULL, 0, a->loc};
    if (variant && a->value->kind != EX_LIST) {
        ax->values = xcalloc(1, sizeof *ax->values);
        if (!(ax->values[0] = value_text(r, a->value))) return -1;
        ax->n = 1;
        return 0;
    }
    if (a->value->kind != EX_LIST || !a->value->items.n) {
        error(r, a->value->loc, "'%s' in vary takes a non-empty list of values ([a, b, ...])", a->name);
        return -1;
    }
    ax->values = xcalloc((size_t)a->value->items.n, sizeof *ax->values);
    for (int i = 0; i < a->value->items.n; i++) {
        if (!(ax->values[i] = value_text(r, a->value->items.items[i]))) return -1;
        ax->n++;
    }
    return 0;
}

/* One run per combination of the axes' values, named by the values joined
 * with '/' and suffix ("+variant"), with the variant's extra sets. */
static void add_combinations(Reader *r, const char *model, const Axis *ax, int nax, const char *suffix,
                             const Expr *extra, Loc loc) {
    int total = 1;
    for (int k = 0; k < nax; k++) total *= ax[k].n;
    for (int c = 0; c < total; c++) {
        char name[512] = "";
        int rest = c, pick[16];
        for (int k = nax - 1; k >= 0; k--) {
            pick[k] = rest % ax[k].n;
            rest /= ax[k].n;
        }
        for (int k = 0; k < nax; k++)
            snprintf(name + strlen(name), sizeof name - strlen(name), "%s%s", k ? "/" : "", ax[k].values[pick[k]]);
        if (!nax) snprintf(name, sizeof name, "%s", model); /* nothing varies: the model as it is */
        if (suffix) snprintf(name + strlen(name), sizeof name - strlen(name), "+%s", suffix);
        StudyRun *run = add_run(r, name, model, 0, loc);
        if (!run) continue;
        for (int k = 0; k < nax; k++) add_set(run, ax[k].key, ax[k].values[pick[k]]);
        for (int i = 0; extra && i < extra->items.n; i++) {
            const Arg *a = extra->items.items[i];
            int varied = 0;
            for (int k = 0; k < nax; k++) varied |= !strcmp(ax[k].key, a->name);
            char *v = varied ? NULL : value_text(r, a->value);
            if (v) add_set(run, a->name, v);
            free(v);
        }
    }
}

static void free_axes(Axis *ax, int n) {
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < ax[k].n; i++) free(ax[k].values[i]);
        free(ax[k].values);
    }
}

/* model, vary and variants: the varied runs. */
static void read_varied(Reader *r, const Expr *rec) {
    const Arg *m = field(rec, "model"), *vary = field(rec, "vary"), *variants = field(rec, "variants");
    if (!m) {
        if (vary || variants) error(r, (vary ? vary : variants)->loc, "'%s' needs 'model: NAME' (the model it varies)",
                                    vary ? "vary" : "variants");
        return;
    }
    const char *model = model_name(r, m->value);
    Axis ax[16];
    int nax = 0;
    if (vary && vary->value->kind != EX_RECORD) error(r, vary->value->loc, "vary takes a record: { KEY: [values] }");
    else if (vary) {
        for (int i = 0; i < vary->value->items.n && nax < 16; i++) {
            const Arg *a = vary->value->items.items[i];
            if (!a->name) error(r, a->loc, "vary takes named fields (KEY: [values])");
            else if (read_axis(r, a, &ax[nax], 0) == 0) nax++;
            else free_axes(&ax[nax], 1);
        }
    }
    if (!model) {
        free_axes(ax, nax);
        return;
    }
    add_combinations(r, model, ax, nax, NULL, NULL, m->loc);
    if (variants && variants->value->kind != EX_RECORD)
        error(r, variants->value->loc, "variants takes a record: { NAME: { KEY: VALUE, ... } }");
    for (int v = 0; variants && variants->value->kind == EX_RECORD && v < variants->value->items.n; v++) {
        const Arg *var = variants->value->items.items[v];
        if (!var->name || var->value->kind != EX_RECORD) {
            error(r, var->loc, "a variant is NAME: { KEY: VALUE, ... }");
            continue;
        }
        Axis narrowed[16];
        memcpy(narrowed, ax, sizeof ax);
        Axis own[16];
        int nown = 0;
        for (int k = 0; k < nax; k++) {
            const Arg *a = field(var->value, ax[k].key);
            if (!a) continue;
            if (read_axis(r, a, &own[nown], 1) == 0) narrowed[k] = own[nown++];
            else free_axes(&own[nown], 1);
        }
        add_combinations(r, model, narrowed, nax, var->name, var->value, var->loc);
        free_axes(own, nown);
    }
    free_axes(ax, nax);
}

/* seeds: N (0 .. N-1) or a list of integers. */
static void read_seeds(Reader *r, const Arg *a) {
    StudySpec *s = r->s;
    if (!a) {
        s->seeds = xmalloc(3 * sizeof *s->seeds);
        for (int i = 0; i < 3; i++) s->seeds[s->nseeds++] = i;
        return;
    }
    const Expr *e = a->value;
    if (e->kind == EX_INT) {
        if (e->i < 1 || e->i > 1000) {
            error(r, e->loc, "seeds takes a count from 1 to 1000 or a list of seeds, got %lld", (long long)e->i);
            return;
        }
        s->seeds = xmalloc((size_t)e->i * sizeof *s->seeds);
        for (int i = 0; i < e->i; i++) s->seeds[s->nseeds++] = i;
        return;
    }
    if (e->kind != EX_LIST || !e->items.n) {
        error(r, e->loc, "seeds takes a count (3) or a list of seeds ([0, 7, 42])");
        return;
    }
    s->seeds = xmalloc((size_t)e->items.n * sizeof *s->seeds);
    for (int i = 0; i < e->items.n; i++) {
        const Expr *x = e->items.items[i];
        if (x->kind != EX_INT) error(r, x->loc, "a seed is an integer");
        else {
            for (int j = 0; j < s->nseeds; j++)
                if (s->seeds[j] == x->i) error(r, x->loc, "seed %lld is given twice", (long long)x->i);
            s->seeds[s->nseeds++] = x->i;
        }
    }
}

/* A number field of a reference entry. */
static double ref_number(Reader *r, const Expr *rec, const char *key) {
    const Arg *a = field(rec, key);
    if (!a) return -1;
    const Expr *e = a->value;
    if (e->kind == EX_INT) return (double)e->i;
    if (e->kind == EX_FLOAT) return e->f;
    error(r, e->loc, "'%s' is a number", key);
    return -1;
}

/* reference: { RUN: { test_loss: X, test_accuracy: Y }, ... } — each RUN a
 * run of the study. */
static void read_reference(Reader *r, const Arg *a) {
    static const char *const keys[] = {"test_loss", "test_accuracy", NULL};
    StudySpec *s = r->s;
    if (!a) return;
    if (a->value->kind != EX_RECORD) {
        error(r, a->value->loc, "reference takes a record: { RUN: { test_loss: X, test_accuracy: Y } }");
        return;
    }
    s->refs = xcalloc((size_t)a->value->items.n + 1, sizeof *s->refs);
    for (int i = 0; i < a->value->items.n; i++) {
        const Arg *e = a->value->items.items[i];
        int known = 0;
        for (int k = 0; e->name && k < s->nruns; k++) known |= !strcmp(s->runs[k].name, e->name);
        if (!e->name || e->value->kind != EX_RECORD) {
            error(r, e->loc, "a reference entry is RUN: { test_loss: X, test_accuracy: Y }");
            continue;
        }
        if (!known) {
            error(r, e->loc, "reference names '%s', which is not a run of this study", e->name);
            continue;
        }
        check_keys(r, e->value, keys, "reference");
        s->refs[s->nrefs++] = (StudyReference){e->name, ref_number(r, e->value, "test_loss"),
                                               ref_number(r, e->value, "test_accuracy")};
    }
}

/* The study `name`, or the main file's only one. */
static const StudyDef *find_study(Program *p, const char *name) {
    const Module *main = p->modules[p->main_file];
    const char *path = p->src.files[p->main_file].path;
    for (int m = 0; name && m < p->nmodules; m++)
        for (int i = 0; p->modules[m] && i < p->modules[m]->studies.n; i++)
            if (!strcmp(((StudyDef *)p->modules[m]->studies.items[i])->name, name)) return p->modules[m]->studies.items[i];
    if (name) diag_error(&p->diag, NO_LOC, "no study named '%s' in %s", name, path);
    else if (main->studies.n == 1) return main->studies.items[0];
    else if (!main->studies.n)
        diag_error(&p->diag, (Loc){p->main_file, 0, 0},
                   "no study in this file (a 'study NAME { model: ..., vary: {...}, seeds: N }' section names the runs)");
    else
        diag_error(&p->diag, (Loc){p->main_file, 0, 0}, "%d studies in this file; choose one with --model NAME",
                   main->studies.n);
    return NULL;
}

int study_spec_read(Program *p, const char *name, StudySpec *out) {
    static const char *const keys[] = {"baselines", "model",     "vary",  "variants", "seeds", "data",
                                       "reference", "contrastive_table", NULL};
    memset(out, 0, sizeof *out);
    const StudyDef *st = find_study(p, name);
    if (!st) return -1;
    Reader r = {p, out, 0};
    out->name = st->name;
    out->loc = st->loc;
    const Expr *rec = st->record;
    check_keys(&r, rec, keys, "study");
    const Arg *a = field(rec, "baselines");
    if (a && a->value->kind != EX_LIST) error(&r, a->value->loc, "baselines takes a list of models ([a, b])");
    for (int i = 0; a && a->value->kind == EX_LIST && i < a->value->items.n; i++) {
        const Expr *e = a->value->items.items[i];
        const char *m = model_name(&r, e);
        if (m) add_run(&r, m, m, 1, e->loc);
    }
    read_varied(&r, rec);
    read_seeds(&r, field(rec, "seeds"));
    if ((a = field(rec, "data"))) {
        if (a->value->kind != EX_STRING) error(&r, a->value->loc, "data takes a directory as a string (\"data/digits\")");
        else out->data = program_relative_path(p, a->value->loc.file, a->value->name);
    }
    if ((a = field(rec, "contrastive_table"))) {
        if (a->value->kind != EX_BOOL) error(&r, a->value->loc, "contrastive_table takes true or false");
        else out->contrastive_table = (int)a->value->i;
    }
    read_reference(&r, field(rec, "reference"));
    if (!r.errors && !out->nruns)
        error(&r, st->loc, "study '%s' has no runs (give 'baselines: [...]' or 'model: NAME')", st->name);
    return r.errors ? -1 : 0;
}

void study_spec_free(StudySpec *s) {
    for (int i = 0; i < s->nruns; i++) {
        for (int k = 0; k < s->runs[i].nsets; k++) free(s->runs[i].sets[k]);
        free(s->runs[i].sets);
        free(s->runs[i].name);
    }
    free(s->runs);
    free(s->seeds);
    free(s->refs);
    memset(s, 0, sizeof *s);
}
