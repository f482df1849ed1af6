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

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagLevel;

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
    int printed;  /* diagnostics diag_print has shown: each is shown once   */
    int muted;    /* the last error or warning repeated an earlier one: its
                     notes are dropped with it                               */
} Diag;

/* Errors after this many are counted, not recorded. */
#define DIAG_MAX_ERRORS 100

/* A location that points nowhere. */
#define NO_LOC ((Loc){-1, 0, 0})

void diag_error(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_warning(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A note belongs to the error or warning before it. */
void diag_note(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints the diagnostics not printed yet, each with its source line and a
 * caret (a long line is shown as a window around the caret). An error or
 * warning that repeats an earlier one (same place, same words: a block
 * called twice) is recorded once. */
void diag_print(Diag *d, FILE *out);
/* "file:line:col" of a location (or "<unknown>"), into buf. */
const char *diag_where(const Diag *d, Loc loc, char *buf, size_t n);
void diag_free(Diag *d);

#endif
