/* io_util.c — see io_util.h. */
#include "io_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int io_fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

long long io_read(FILE *f, void *buf, size_t n, const char *path, char *err, size_t errlen) {
    size_t got = fread(buf, 1, n, f);
    if (got < n && ferror(f)) return io_fail(err, errlen, "%s: read error: %s", path, strerror(errno));
    return (long long)got;
}

long long io_bytes_left(FILE *f) {
    struct stat st;
    long pos = ftell(f);
    if (pos < 0 || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    long long left = (long long)st.st_size - pos;
    return left < 0 ? 0 : left;
}

/* ---- atomic writes ------------------------------------------------------------ */

/* fsync of the directory holding path, so the rename itself is durable (best effort). */
static void sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int io_write_atomic(const char *path, const char *who, const IoPart *parts, int nparts, char *err, size_t errlen) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) return io_fail(err, errlen, "%s: out of memory", who);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int rc = io_write_atomic_via(path, tmp, who, parts, nparts, err, errlen);
    free(tmp);
    return rc;
}

int io_write_atomic_via(const char *path, const char *tmp, const char *who, const IoPart *parts, int nparts, char *err,
                        size_t errlen) {
    struct stat st; /* a device or pipe would be replaced by a regular file, not written */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return io_fail(err, errlen, "%s: cannot write %s: not a regular file (it is replaced whole, atomically)", who, path);
    int ok = 0, saved = 0;
    FILE *f = fopen(tmp, "wb");
    if (f) {
        ok = 1;
        for (int i = 0; ok && i < nparts; i++) ok = !parts[i].n || fwrite(parts[i].data, 1, parts[i].n, f) == parts[i].n;
        ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
        saved = errno;
        if (fclose(f) != 0 && ok) ok = 0, saved = errno;
        if (ok && rename(tmp, path) != 0) ok = 0, saved = errno;
        if (!ok) remove(tmp);
    } else {
        saved = errno;
    }
    if (ok) sync_dir(path);
    else io_fail(err, errlen, "%s: cannot write %s: %s", who, tmp, strerror(saved));
    return ok ? 0 : -1;
}

int io_make_dirs(const char *dir, char *err, size_t errlen) { return io_make_dirs_mode(dir, 0777, err, errlen); }

int io_make_dirs_mode(const char *dir, unsigned mode, char *err, size_t errlen) {
    char *p = strdup(dir);
    if (!p) return io_fail(err, errlen, "%s: out of memory", dir);
    int rc = 0;
    for (char *s = p + (*p == '/');; s++) {
        if (*s != '/' && *s) continue;
        char c = *s;
        *s = 0;
        struct stat st;
        if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) rc = io_fail(err, errlen, "%s: cannot create %s: %s", dir, p, strerror(errno));
        else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) rc = io_fail(err, errlen, "%s: %s is not a directory", dir, p);
        *s = c;
        if (rc || !c) break;
    }
    free(p);
    return rc;
}

/* ---- UTF-8 ---------------------------------------------------------------------- */

size_t io_utf8_char(const unsigned char *s, size_t n, unsigned *cp) {
    if (!n) return 0;
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n) return 0;
    unsigned v = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        v = v << 6 | (s[k] & 0x3F);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    if (cp) *cp = v;
    return len;
}

int io_utf8_valid(const unsigned char *s, size_t n) {
    for (size_t i = 0, len; i < n; i += len)
        if (!(len = io_utf8_char(s + i, n - i, NULL))) return 0;
    return 1;
}

/* ---- a growable buffer ---------------------------------------------------------- */

void rb_add(RBuf *b, const void *p, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s, b->cap = cap;
    }
    if (n) memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = 0;
}

void rb_str(RBuf *b, const char *s) { rb_add(b, s, strlen(s)); }

void rb_printf(RBuf *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        rb_add(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rb_add(b, big, (size_t)n);
    free(big);
}
