/* opt.c — see opt.h. */
#include "opt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int opt_is(const char *arg, const char *opt) {
    size_t len = strlen(opt);
    return !strncmp(arg, opt, len) && (arg[len] == 0 || arg[len] == '=');
}

const char *opt_value(int argc, char **argv, int *i, const char *opt, char *err, size_t n) {
    size_t len = strlen(opt);
    if (argv[*i][len] == '=') return argv[*i] + len + 1;
    if (*i + 1 >= argc) {
        snprintf(err, n, "option %s needs a value", opt);
        return NULL;
    }
    return argv[++*i];
}

/* Whether arg can stand unquoted in a shell command. */
static int shell_plain(const char *arg) {
    if (!*arg) return 0;
    for (const char *p = arg; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_./=:,+@%", *p)) return 0;
    return 1;
}

char *opt_command_line(int argc, char **argv) {
    size_t cap = 1;
    for (int i = 0; i < argc; i++) cap += 4 * strlen(argv[i]) + 3;
    char *out = malloc(cap), *w = out;
    if (!out) return NULL;
    for (int i = 0; i < argc; i++) {
        if (i) *w++ = ' ';
        int plain = shell_plain(argv[i]);
        if (!plain) *w++ = '\'';
        for (const char *p = argv[i]; *p; p++) {
            if (*p == '\'' && !plain) memcpy(w, "'\\''", 4), w += 4;
            else *w++ = *p;
        }
        if (!plain) *w++ = '\'';
    }
    *w = 0;
    return out;
}
