/* zeroed.c — see zeroed.h. MAP_ANONYMOUS is not POSIX, hence _DEFAULT_SOURCE. */
#define _DEFAULT_SOURCE
#include "zeroed.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* From this size on, a block is mapped: below it, a mapping's system calls
 * and page faults cost more than clearing the block. */
#define MAPPED_FROM ((size_t)1 << 20)

static size_t rounded(size_t bytes) { return bytes ? (bytes + 63) / 64 * 64 : 64; }

void *zeroed_alloc(size_t bytes) {
    size_t n = rounded(bytes);
    if (n >= MAPPED_FROM) {
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    void *p = aligned_alloc(64, n);
    if (p) memset(p, 0, n);
    return p;
}

void zeroed_free(void *p, size_t bytes) {
    if (!p) return;
    size_t n = rounded(bytes);
    if (n >= MAPPED_FROM)
        munmap(p, n);
    else
        free(p);
}
