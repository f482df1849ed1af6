/* util.h — allocation that cannot fail quietly, and internal-error reporting.
 *
 * die() is for broken invariants inside mmgc, never for bad user input:
 * user errors go through diagnostics and return a status.
 */
#ifndef MMGC_UTIL_H
#define MMGC_UTIL_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Grows *buf (capacity *cap, elements of size elem) to hold at least need. */
void xgrow(void **buf, int *cap, int need, size_t elem);
/* Reads a whole file; returns NULL (errno set) on failure. *len may be NULL. */
char *read_file(const char *path, size_t *len);
/* The same, but fails with errno EFBIG once the file exceeds max bytes
 * (reads at most max + 1: safe on /dev/zero). */
char *read_file_max(const char *path, size_t max, size_t *len);

_Noreturn void die_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define die(...) die_at(__FILE__, __LINE__, __VA_ARGS__)

#endif
