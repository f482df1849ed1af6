/* opt.h — command-line options given as "--opt V" or "--opt=V", shared by
 * mmgc (cli.c) and mkdigits.
 *
 *   if (opt_is(argv[i], "--out") && !(out = opt_value(argc, argv, &i, "--out", err, n))) return -1;
 */
#ifndef MMGC_OPT_H
#define MMGC_OPT_H

#include <stddef.h>

/* Whether arg names option opt, alone or as "opt=...". */
int opt_is(const char *arg, const char *opt);

/* The value of the option opt at argv[*i] (which opt_is): what follows '='
 * or the next argument, which it then consumes (++*i). NULL with "option
 * OPT needs a value" in err when there is none. */
const char *opt_value(int argc, char **argv, int *i, const char *opt, char *err, size_t n);

/* argv[0..argc) as one line a shell would run again: arguments with
 * characters other than letters, digits and -_./=:,+@% in single quotes
 * ('it'\''s'). A malloc'd string, or NULL when out of memory. */
char *opt_command_line(int argc, char **argv);

#endif
