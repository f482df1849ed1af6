/* out_file.c — see out_file.h. */
#include "out_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int out_file_in_place(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

int out_file_probe(const char *option, const char *path, char *err, size_t errlen) {
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) return io_fail(err, errlen, "%s %s: is a directory", option, path);
    if (exists && !S_ISREG(st.st_mode)) {
        if (!S_ISCHR(st.st_mode)) return 0; /* a pipe: opening it would be seen by its reader */
        int fd = open(path, O_WRONLY);
        if (fd < 0) return io_fail(err, errlen, "%s %s: cannot write %s: %s", option, path, path, strerror(errno));
        close(fd);
        return 0;
    }
    size_t n = strlen(path) + 5;
    char *tmp = malloc(n);
    if (!tmp) return io_fail(err, errlen, "%s %s: out of memory", option, path);
    snprintf(tmp, n, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644), rc = 0;
    if (fd < 0) rc = io_fail(err, errlen, "%s %s: cannot write %s: %s", option, path, tmp, strerror(errno));
    else {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

int out_file_probe_atomic(const char *option, const char *path, char *err, size_t errlen) {
    if (out_file_in_place(path))
        return io_fail(err, errlen, "%s %s: not a regular file (it is replaced whole, atomically)", option, path);
    return out_file_probe(option, path, err, errlen);
}

/* Writes n bytes to stream f (already open on path), flushed; errors name path. */
static int put(FILE *f, const char *path, const void *data, size_t n, char *err, size_t errlen) {
    if ((n && fwrite(data, 1, n, f) != n) || fflush(f) != 0)
        return io_fail(err, errlen, "%s: cannot write %s: %s", path, path, strerror(errno));
    return 0;
}

/* Reads the whole of a regular file into b; a missing file is empty. */
static int slurp(const char *path, RBuf *b, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? 0 : io_fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    char chunk[8192];
    long long got;
    while ((got = io_read(f, chunk, sizeof chunk, path, err, errlen)) > 0) rb_add(b, chunk, (size_t)got);
    fclose(f);
    if (got < 0) return -1;
    return b->oom ? io_fail(err, errlen, "%s: out of memory", path) : 0;
}

int out_file_open(OutFile *f, const char *path, int keep, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path) return io_fail(err, errlen, "%s: out of memory", path);
    if (out_file_in_place(path)) {
        if (!(f->stream = fopen(path, keep ? "a" : "w")))
            return io_fail(err, errlen, "%s: cannot write %s: %s", path, path, strerror(errno));
        return 0;
    }
    return keep ? slurp(path, &f->text, err, errlen) : 0;
}

int out_file_append(OutFile *f, const char *text, size_t n, char *err, size_t errlen) {
    if (f->stream) return put(f->stream, f->path, text, n, err, errlen);
    rb_add(&f->text, text, n);
    if (f->text.oom) return io_fail(err, errlen, "%s: out of memory", f->path);
    return io_write_atomic(f->path, f->path, &(IoPart){f->text.s, f->text.n}, 1, err, errlen);
}

int out_file_close(OutFile *f, char *err, size_t errlen) {
    int rc = 0;
    if (f->stream && fclose(f->stream) != 0)
        rc = io_fail(err, errlen, "%s: cannot write %s: %s", f->path, f->path, strerror(errno));
    free(f->path);
    free(f->text.s);
    memset(f, 0, sizeof *f);
    return rc;
}

int out_file_write(const char *path, const void *data, size_t n, char *err, size_t errlen) {
    if (!out_file_in_place(path)) return io_write_atomic(path, path, &(IoPart){data, n}, 1, err, errlen);
    FILE *f = fopen(path, "w");
    if (!f) return io_fail(err, errlen, "%s: cannot write %s: %s", path, path, strerror(errno));
    int rc = put(f, path, data, n, err, errlen);
    if (fclose(f) != 0 && !rc) rc = io_fail(err, errlen, "%s: cannot write %s: %s", path, path, strerror(errno));
    return rc;
}
