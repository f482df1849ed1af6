/* diag.c — see diag.h. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Records one diagnostic with a formatted message. */
static void add(Diag *d, DiagLevel level, Loc loc, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *msg = xmalloc((size_t)n + 1);
    vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
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

/* Prints the source line of loc and a caret under its column. */
static void quote(const Diag *d, Loc loc, FILE *out) {
    int len;
    const char *line = d->src ? sources_line(d->src, loc.file, loc.line, &len) : NULL;
    if (!line) return;
    fprintf(out, "    %.*s\n    ", len, line);
    for (int i = 0; i < loc.col - 1 && i < len; i++) fputc(line[i] == '\t' ? '\t' : ' ', out);
    fputs("^\n", out);
}

void diag_print(const Diag *d, FILE *out) {
    for (int i = 0; i < d->n; i++) {
        const Diagnostic *g = &d->items[i];
        const char *level = g->level == DIAG_ERROR ? "error" : "note";
        if (g->loc.file < 0) {
            fprintf(out, "mmgc: %s: %s\n", level, g->msg);
            continue;
        }
        char where[512];
        fprintf(out, "%s: %s: %s\n", diag_where(d, g->loc, where, sizeof where), level, g->msg);
        quote(d, g->loc, out);
    }
}

void diag_free(Diag *d) {
    for (int i = 0; i < d->n; i++) free(d->items[i].msg);
    free(d->items);
    d->items = NULL;
    d->n = d->cap = d->nerrors = 0;
}
