/* hints.c — notes that follow an error and say what was probably meant:
 * a library block called where a primitive was meant (`concat` for `cat`),
 * and a near miss for an unknown name (`rleu` for `relu`); the near miss
 * is also hint_nearest (hints.h), for options and settings. */
#include <stdlib.h>
#include <string.h>

#include "elab.h"
#include "hints.h"
#include "util.h"

/* Blocks of the library whose names a newcomer takes for a primitive. */
static const struct {
    const char *block, *hint;
} misused[] = {
    {"concat", "'concat' is the fusion block of lib/fusion.mmg (two features in, their concatenation out); "
               "to join tensors along an axis use the primitive cat(a, b, axis: 1)"},
    {"max", "'max' is the fusion block of lib/fusion.mmg; the elementwise maximum of two tensors is "
            "maximum(a, b), the largest value along an axis is amax(x, axis: 1)"},
    {"add", "'add' is the fusion block of lib/fusion.mmg; to add tensors write a + b"},
    {"mul", "'mul' is the fusion block of lib/fusion.mmg; to multiply tensors write a * b"},
};

void hint_misused_block(Elab *E, const BlockDef *b, Loc loc) {
    for (size_t i = 0; i < sizeof misused / sizeof misused[0]; i++)
        if (!strcmp(b->name, misused[i].block)) diag_note(E->diag, loc, "%s", misused[i].hint);
}

/* Names from other libraries and their .mmg spelling. */
static const struct {
    const char *name, *mmg;
} aliases[] = {
    {"concatenate", "cat"}, {"torch.cat", "cat"},   {"view", "reshape"},  {"permute", "transpose"},
    {"bmm", "matmul"},      {"dense", "linear"},    {"Linear", "linear"}, {"clamp", "maximum and minimum"},
    {"clip", "maximum and minimum"}, {"linear_nobias", "linear(x, out, bias: false)"},
};

/* Edit distance between a and b, a swap of neighbours counting as one
 * edit (rleu -> relu); anything above `limit` is limit + 1. */
static int distance(const char *a, const char *b, int limit) {
    int n = (int)strlen(a), m = (int)strlen(b);
    if (abs(n - m) > limit) return limit + 1;
    int w = m + 1, *d = xmalloc((size_t)(n + 1) * (size_t)w * sizeof *d);
    for (int i = 0; i <= n; i++)
        for (int j = 0; j <= m; j++) {
            int v = i == 0 ? j : j == 0 ? i : d[(i - 1) * w + j - 1] + (a[i - 1] != b[j - 1]);
            if (i && j && d[(i - 1) * w + j] + 1 < v) v = d[(i - 1) * w + j] + 1;
            if (i && j && d[i * w + j - 1] + 1 < v) v = d[i * w + j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[(i - 2) * w + j - 2] + 1 < v)
                v = d[(i - 2) * w + j - 2] + 1;
            d[i * w + j] = v;
        }
    int r = d[n * w + m];
    free(d);
    return r > limit ? limit + 1 : r;
}

/* The edit distance a typo of name may have, plus one. */
static int typo_limit(const char *name) {
    size_t len = strlen(name);
    return len <= 3 ? 2 : len <= 6 ? 3 : 4;
}

/* Keeps the closest candidate to name within the allowed distance. */
static void consider(const char *name, const char *cand, const char **best, int *best_d) {
    if (!strcmp(name, cand)) return;
    int d = distance(name, cand, *best_d - 1);
    if (d < *best_d) *best = cand, *best_d = d;
}

void hint_unknown_name(Elab *E, Frame *f, const char *name, Loc loc) {
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(name, aliases[i].name)) {
            diag_note(E->diag, loc, "in .mmg that is %s", aliases[i].mmg);
            return;
        }
    const char *best = NULL;
    int best_d = typo_limit(name);
    for (Scope *s = f->scope; s; s = s->parent)
        for (Binding *b = s->head; b; b = b->next) consider(name, b->name, &best, &best_d);
    Program *p = E->prog;
    const int *dist = elab_distances(E, f->file);
    for (int m = 0; m < p->nmodules; m++) {
        if (!p->modules[m] || dist[m] < 0) continue;
        const List *bl = &p->modules[m]->blocks;
        for (int i = 0; i < bl->n; i++) consider(name, ((BlockDef *)bl->items[i])->name, &best, &best_d);
    }
    for (int i = 0; builtin_nth(i); i++) consider(name, builtin_nth(i)->name, &best, &best_d);
    if (best) diag_note(E->diag, loc, "did you mean '%s'?", best);
}

const char *hint_nearest(const char *name, const char *const *candidates, int n) {
    const char *best = NULL;
    int best_d = typo_limit(name);
    for (int i = 0; i < n; i++)
        if (candidates[i]) consider(name, candidates[i], &best, &best_d);
    return best;
}
