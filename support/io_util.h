/* io_util.h — what the runtime's file formats (npy, idx, wav, checkpoint,
 * report) and mkdigits share: error messages into the caller's buffer,
 * reads that tell a short file from a read error, atomic writes through
 * PATH.tmp, mkdir -p, UTF-8 checks, and a growable buffer to build a file in.
 *
 * Functions that can fail return 0, or -1 with a message in err (when err
 * is not NULL and errlen is not 0): "WHO: what is wrong".
 */
#ifndef MMGC_IO_UTIL_H
#define MMGC_IO_UTIL_H

#include <stddef.h>
#include <stdio.h>

/* Writes a message to err (if any); returns -1 so callers can `return io_fail(...)`. */
__attribute__((format(printf, 3, 4))) int io_fail(char *err, size_t errlen, const char *fmt, ...);

/* Reads up to n bytes; returns how many it got (fewer at the end of the
 * file), or -1 with "PATH: read error: reason" in err. */
long long io_read(FILE *f, void *buf, size_t n, const char *path, char *err, size_t errlen);

/* The bytes left in a regular file after f's position (0 past its end),
 * or -1 when f is not a regular file or its size is unknown. */
long long io_bytes_left(FILE *f);

/* One piece of a file: n bytes at data (data may be NULL when n is 0). */
typedef struct {
    const void *data;
    size_t n;
} IoPart;

/* Writes parts[0..nparts) to path atomically: to path.tmp (replacing any
 * stale one), flushed and fsync'd, then renamed over path, then the
 * directory fsync'd. On failure path is untouched, path.tmp is removed, and
 * err gets "WHO: cannot write PATH.tmp: reason" (who names the file or
 * directory the caller was asked to write). A path that exists and is not a
 * regular file (a device, a pipe, a directory) is refused, never replaced:
 * "WHO: cannot write PATH: not a regular file (...)". */
int io_write_atomic(const char *path, const char *who, const IoPart *parts, int nparts, char *err, size_t errlen);

/* io_write_atomic through a temporary file the caller names (in path's
 * directory, so the rename is atomic): writers that may run at once (two
 * processes filling one cache) each need a name of their own, or one would
 * rename the other's half-written file; the message names tmp. */
int io_write_atomic_via(const char *path, const char *tmp, const char *who, const IoPart *parts, int nparts, char *err,
                        size_t errlen);

/* mkdir -p dir: "DIR: cannot create D: reason" or "DIR: D is not a directory". */
int io_make_dirs(const char *dir, char *err, size_t errlen);
/* The same, creating missing directories with mode (before the umask). */
int io_make_dirs_mode(const char *dir, unsigned mode, char *err, size_t errlen);

/* The length (1 to 4) of the well-formed UTF-8 character at s[0, n) — no
 * overlong forms, surrogates or values past U+10FFFF — or 0 if it is not
 * one. *cp (if not NULL) gets its code point. */
size_t io_utf8_char(const unsigned char *s, size_t n, unsigned *cp);
/* Whether s[0, n) is well-formed UTF-8. */
int io_utf8_valid(const unsigned char *s, size_t n);

/* A growable buffer, kept NUL-terminated; {0} is an empty one. */
typedef struct {
    char *s;
    size_t n, cap;
    int oom; /* set once an allocation failed; later appends do nothing */
} RBuf;

/* Appends n bytes. */
void rb_add(RBuf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
void rb_str(RBuf *b, const char *s);
/* Appends formatted text. */
__attribute__((format(printf, 2, 3))) void rb_printf(RBuf *b, const char *fmt, ...);

#endif
