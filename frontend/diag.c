/* diag.c — see diag.h. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Is there already an error or warning with this level, place and text? */
static int repeated(const Diag *d, DiagLevel level, Loc loc, const char *msg) {
    for (int i = 0; i < d->n; i++) {
        const Diagnostic *g = &d->items[i];
        if (g->level == level && g->loc.file == loc.file && g->loc.line == loc.line && g->loc.col == loc.col &&
            !strcmp(g->msg, msg))
            return 1;
    }
    return 0;
}

/* Records one diagnostic with a formatted message. */
static void add(Diag *d, DiagLevel level, Loc loc, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *msg = xmalloc((size_t)n + 1);
    vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    if (level == DIAG_ERROR && d->nerrors >= DIAG_MAX_ERRORS) {
        free(msg);
        if (d->nerrors++ == DIAG_MAX_ERRORS) {
            msg = xmalloc(64);
            snprintf(msg, 64, "too many errors; the first %d are shown", DIAG_MAX_ERRORS);
            xgrow((void **)&d->items, &d->cap, d->n + 1, sizeof *d->items);
            d->items[d->n++] = (Diagnostic){DIAG_NOTE, NO_LOC, msg};
        }
        d->muted = 1;
        return;
    }
    if (level != DIAG_NOTE) d->muted = repeated(d, level, loc, msg);
    if (d->muted) {
        free(msg);
        return;
    }
    xgrow((void **)&d->items, &d->cap, d->n + 1, sizeof *d->items);
    d->items[d->n++] = (Diagnostic){level, loc, msg};
    if (level == DIAG_ERROR) d->nerrors++;
}

void diag_error(Diag *d, Loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    add(d, DIAG_ERROR, loc, fmt, ap);
    va_end(ap);
}

void diag_warning(Diag *d, Loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    add(d, DIAG_WARNING, loc, fmt, ap);
    va_end(ap);
}

void diag_note(Diag *d, Loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    add(d, DIAG_NOTE, loc, fmt, ap);
    va_end(ap);
}

const char *diag_where(const Diag *d, Loc loc, char *buf, size_t n) {
    if (!d->src || loc.file < 0 || loc.file >= d->src->n)
        snprintf(buf, n, "<unknown>");
    else if (loc.line <= 0)
        snprintf(buf, n, "%s", d->src->files[loc.file].path);
    else
        snprintf(buf, n, "%s:%d:%d", d->src->files[loc.file].path, loc.line, loc.col);
    return buf;
}

/* A quoted line longer than this shows only a window around the caret. */
#define QUOTE_WIDTH 120

/* Prints the source line of loc and a caret under its column. */
static void quote(const Diag *d, Loc loc, FILE *out) {
    int len;
    const char *line = d->src ? sources_line(d->src, loc.file, loc.line, &len) : NULL;
    if (!line) return;
    int from = 0, to = len, col = loc.col - 1 < len ? loc.col - 1 : len;
    if (len > QUOTE_WIDTH) {
        from = col > QUOTE_WIDTH / 2 ? col - QUOTE_WIDTH / 2 : 0;
        to = from + QUOTE_WIDTH < len ? from + QUOTE_WIDTH : len;
    }
    const char *pre = from > 0 ? "..." : "", *post = to < len ? "..." : "";
    fprintf(out, "    %s%.*s%s\n    %s", pre, to - from, line + from, post, *pre ? "   " : "");
    for (int i = from; i < col; i++) fputc(line[i] == '\t' ? '\t' : ' ', out);
    fputs("^\n", out);
}

static const char *level_name(DiagLevel l) {
    switch (l) {
    case DIAG_ERROR: return "error";
    case DIAG_WARNING: return "warning";
    case DIAG_NOTE: return "note";
    }
    return "?";
}

void diag_print(Diag *d, FILE *out) {
    for (int i = d->printed; i < d->n; i++) {
        const Diagnostic *g = &d->items[i];
        const char *level = level_name(g->level);
        if (g->loc.file < 0) {
            fprintf(out, "mmgc: %s: %s\n", level, g->msg);
            continue;
        }
        char where[512];
        fprintf(out, "%s: %s: %s\n", diag_where(d, g->loc, where, sizeof where), level, g->msg);
        quote(d, g->loc, out);
    }
    d->printed = d->n;
}

void diag_free(Diag *d) {
    for (int i = 0; i < d->n; i++) free(d->items[i].msg);
    free(d->items);
    d->items = NULL;
    d->n = d->cap = d->nerrors = d->printed = d->muted = 0;
}
