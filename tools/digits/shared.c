/* shared.c — see shared.h. MAP_ANONYMOUS is not POSIX, hence _DEFAULT_SOURCE. */
#define _DEFAULT_SOURCE
#include "shared.h"

#include <sys/mman.h>

void *shared_alloc(size_t bytes) {
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void shared_free(void *p, size_t bytes) {
    if (p) munmap(p, bytes ? bytes : 1);
}
