/* opt.c — see opt.h. */
#include "opt.h"

#include <stdio.h>
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
