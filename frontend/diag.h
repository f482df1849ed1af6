/* diag.h — diagnostics: every user-facing error goes through here.
 *
 * Functions that can fail on user input record a diagnostic and return a
 * status; only main() prints them (diag_print) and chooses the exit code.
 * Printed form:
 *
 *   models/x.mmg:3:9: error: unknown name 'foo'
 *       y = foo(x)
 *           ^
 */
#ifndef MMGC_DIAG_H
#define MMGC_DIAG_H

#include <stdio.h>

#include "ir.h"
#include "source.h"

typedef enum { DIAG_ERROR, DIAG_NOTE } DiagLevel;

typedef struct {
    DiagLevel level;
    Loc loc;   /* loc.line == 0: no place (e.g. the command line) */
    char *msg;
} Diagnostic;

typedef struct {
    Sources *src;
    Diagnostic *items;
    int n, cap;
    int nerrors;
} Diag;

/* A location that points nowhere. */
#define NO_LOC ((Loc){-1, 0, 0})

void diag_error(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_note(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints every diagnostic with its source line and a caret. */
void diag_print(const Diag *d, FILE *out);
/* "file:line:col" of a location (or "<unknown>"), into buf. */
const char *diag_where(const Diag *d, Loc loc, char *buf, size_t n);
void diag_free(Diag *d);

#endif
