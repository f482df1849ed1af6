/* code_cache.c — the code cache's files (code_cache.h).
 *
 * An entry, KEYHEX.o, is a 72-byte header and the object:
 *
 *   0  magic "MMGCOBJ\n"          48  scratch_floats    int64
 *   8  CODE_CACHE_FORMAT   u32    56  object size       u64
 *  12  header size (72)    u32    64  CRC-32 of the object
 *  16  key (32 bytes)             68  CRC-32 of bytes 0..68
 *  72  the object
 *
 * little-endian. The key is stored as well as named, so a renamed or
 * colliding file is not taken for another step's; the header's own CRC
 * covers scratch_floats, which sizes a buffer the code writes into. A file
 * that fails any check is a miss, and the store after the rebuild
 * replaces it.
 */
#include "code_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32.h"
#include "io_util.h"

#define MAGIC "MMGCOBJ\n"
#define HEADER 72
#define MAX_OBJECT ((uint64_t)1 << 30) /* far above any step's; a bigger size is corruption */
#define STALE_SECONDS 3600             /* a temporary this old lost its writer */

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* $NAME if set and not empty, else NULL. */
static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

char *code_cache_dir(void) {
    const char *off = env("MMGC_NO_CACHE");
    if (off && strcmp(off, "0")) return NULL;
    const char *dir = getenv("MMGC_CACHE_DIR"), *base;
    if (dir) return *dir ? strdup(dir) : NULL; /* set but empty: off */
    const char *sub = (base = env("XDG_CACHE_HOME")) ? "mmgc" : (base = env("HOME")) ? ".cache/mmgc" : NULL;
    if (!sub) return NULL;
    size_t n = strlen(base) + strlen(sub) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", base, sub);
    return p;
}

char *code_cache_path(const char *dir, const unsigned char key[CODE_CACHE_KEY_BYTES]) {
    size_t n = strlen(dir) + 2 * CODE_CACHE_KEY_BYTES + 4;
    char *p = malloc(n);
    if (!p) return NULL;
    size_t at = (size_t)snprintf(p, n, "%s/", dir);
    for (int i = 0; i < CODE_CACHE_KEY_BYTES; i++) at += (size_t)snprintf(p + at, n - at, "%02x", key[i]);
    snprintf(p + at, n - at, ".o");
    return p;
}

/* Reads the whole regular file path (at most max bytes) into *data. 0 on
 * success, 1 if it does not exist, -1 with a message. */
static int slurp(const char *path, uint64_t max, unsigned char **data, size_t *size, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 1 : io_fail(err, errlen, "%s: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
        rc = io_fail(err, errlen, "%s: not a cache entry", path);
    unsigned char *buf = rc ? NULL : malloc((size_t)st.st_size + 1);
    if (!rc && !buf) rc = io_fail(err, errlen, "%s: out of memory", path);
    size_t got = 0;
    while (!rc && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) rc = io_fail(err, errlen, "%s: read error: %s", path, r ? strerror(errno) : "file shrank");
        else got += (size_t)r;
    }
    close(fd);
    if (rc) {
        free(buf);
        return -1;
    }
    *data = buf, *size = got;
    return 0;
}

int code_cache_load(const char *dir, const unsigned char key[CODE_CACHE_KEY_BYTES], CodeCacheEntry *e, char *err,
                    size_t errlen) {
    memset(e, 0, sizeof *e);
    if (errlen) err[0] = 0;
    char *path = code_cache_path(dir, key);
    if (!path) return 0;
    unsigned char *b = NULL;
    size_t n = 0;
    int rc = slurp(path, HEADER + MAX_OBJECT, &b, &n, err, errlen);
    const char *bad = NULL; /* rc: absent (err empty) or unreadable (err says why) */
    if (rc) {
    } else if (n < HEADER || memcmp(b, MAGIC, 8)) bad = "not a cache entry";
    else if (get32(b + 8) != CODE_CACHE_FORMAT || get32(b + 12) != HEADER) bad = "another format";
    else if (crc32_update(0, b, 68) != get32(b + 68)) bad = "corrupt header";
    else if (memcmp(b + 16, key, CODE_CACHE_KEY_BYTES)) bad = "another key";
    else if (get64(b + 56) != n - HEADER) bad = "not as long as its header says (cut short?)";
    else if ((int64_t)get64(b + 48) < 0) bad = "corrupt header";
    else if (crc32_update(0, b + HEADER, n - HEADER) != get32(b + 64)) bad = "corrupt object";
    if (bad) io_fail(err, errlen, "%s: %s", path, bad);
    if (!rc && !bad) utimensat(AT_FDCWD, path, NULL, 0); /* recently used: the last to be evicted */
    free(path);
    if (rc || bad) {
        free(b);
        return 0;
    }
    e->scratch_floats = (int64_t)get64(b + 48);
    e->size = n - HEADER;
    memmove(b, b + HEADER, e->size); /* the caller frees e->object */
    e->object = b;
    return 1;
}

/* KEYHEX.o: a cache entry's name. */
static int is_entry_name(const char *name) {
    size_t n = strlen(name);
    if (n != 2 * CODE_CACHE_KEY_BYTES + 2 || strcmp(name + n - 2, ".o")) return 0;
    for (size_t i = 0; i + 2 < n; i++)
        if (!strchr("0123456789abcdef", name[i])) return 0;
    return 1;
}

/* KEYHEX.o.PID.N.tmp: a writer's temporary. */
static int is_temporary_name(const char *name) {
    size_t n = strlen(name);
    return n >= 2 * CODE_CACHE_KEY_BYTES + 6 && !strcmp(name + n - 4, ".tmp") &&
           !strncmp(name + 2 * CODE_CACHE_KEY_BYTES, ".o.", 3);
}

uint64_t code_cache_limit(int *bad) {
    *bad = 0;
    const char *v = env("MMGC_CACHE_SIZE");
    if (!v) return CODE_CACHE_DEFAULT_LIMIT;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    int shift = 0;
    if (*end && strchr("kK", *end)) shift = 10, end++;
    else if (*end && strchr("mM", *end)) shift = 20, end++;
    else if (*end && strchr("gG", *end)) shift = 30, end++;
    if (shift && (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))) end += strlen(end);
    if (end == v || !(*v >= '0' && *v <= '9') || *end || errno || n > (UINT64_MAX >> shift)) {
        *bad = 1;
        return CODE_CACHE_DEFAULT_LIMIT;
    }
    return (uint64_t)n << shift;
}

typedef struct {
    char name[2 * CODE_CACHE_KEY_BYTES + 3];
    uint64_t size;
    struct timespec used; /* mtime: written, or last read (a hit touches it) */
} Listed;

static int older_first(const void *a, const void *b) {
    const Listed *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec) return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    if (x->used.tv_nsec != y->used.tv_nsec) return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* After a store of keep: removes the temporaries of writers that were
 * killed before their rename (untouched for an hour; a live writer takes
 * milliseconds), then, while the entries take more than the limit, the
 * least recently used one (never keep). Best effort: a file another run
 * removed first, or one that cannot be removed, is passed over. */
static void tidy(const char *dir, const char *keep) {
    DIR *d = opendir(dir);
    if (!d) return;
    int bad;
    uint64_t limit = code_cache_limit(&bad), total = 0;
    time_t now = time(NULL);
    Listed *list = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *f; (f = readdir(d));) {
        int entry = is_entry_name(f->d_name);
        if (!entry && !is_temporary_name(f->d_name)) continue;
        struct stat st;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, f->d_name) >= (int)sizeof path) continue;
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (!entry) {
            if (now - st.st_mtime > STALE_SECONDS) unlink(path);
            continue;
        }
        total += (uint64_t)st.st_size;
        if (!strcmp(f->d_name, keep)) continue;
        if (n == cap) {
            Listed *grown = realloc(list, (cap = cap ? 2 * cap : 64) * sizeof *list);
            if (!grown) break;
            list = grown;
        }
        memcpy(list[n].name, f->d_name, sizeof list[n].name); /* is_entry_name: exactly that long, with its NUL */
        list[n].size = (uint64_t)st.st_size;
        list[n++].used = st.st_mtim;
    }
    closedir(d);
    if (limit && total > limit) {
        qsort(list, n, sizeof *list, older_first);
        for (size_t i = 0; i < n && total > limit; i++) {
            char path[4096];
            if (snprintf(path, sizeof path, "%s/%s", dir, list[i].name) >= (int)sizeof path) continue;
            if (unlink(path) == 0 || errno == ENOENT) total -= list[i].size;
        }
    }
    free(list);
}

int code_cache_store(const char *dir, const unsigned char key[CODE_CACHE_KEY_BYTES], const CodeCacheEntry *e, char *err,
                     size_t errlen) {
    if (io_make_dirs_mode(dir, 0755, err, errlen)) return -1;
    unsigned char h[HEADER];
    memcpy(h, MAGIC, 8);
    put32(h + 8, CODE_CACHE_FORMAT);
    put32(h + 12, HEADER);
    memcpy(h + 16, key, CODE_CACHE_KEY_BYTES);
    put64(h + 48, (uint64_t)e->scratch_floats);
    put64(h + 56, e->size);
    put32(h + 64, crc32_update(0, e->object, e->size));
    put32(h + 68, crc32_update(0, h, 68));
    char *path = code_cache_path(dir, key);
    if (!path) return io_fail(err, errlen, "%s: out of memory", dir);
    /* a temporary per process and store: concurrent runs of one model each
     * write their own, and whichever renames last leaves the same bytes */
    static atomic_uint serial;
    size_t n = strlen(path) + 64;
    char *tmp = malloc(n);
    int rc = -1;
    if (tmp) {
        snprintf(tmp, n, "%s.%ld.%u.tmp", path, (long)getpid(), atomic_fetch_add(&serial, 1));
        IoPart parts[2] = {{h, HEADER}, {e->object, e->size}};
        rc = io_write_atomic_via(path, tmp, path, parts, 2, err, errlen);
        if (!rc) tidy(dir, strrchr(path, '/') + 1);
    } else
        io_fail(err, errlen, "%s: out of memory", dir);
    free(tmp);
    free(path);
    return rc;
}
