/* aot_weights.c — see aot_weights.h. */
#define _GNU_SOURCE /* memfd_create */
#include "aot_weights.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aot.h"

int aot_weights_open(char *path, size_t size, char *err, size_t n) {
    int fd = memfd_create("weights", MFD_CLOEXEC);
    const unsigned char *p = mmgc_aot_model.weights;
    int64_t left = mmgc_aot_model.weights_size;
    while (fd >= 0 && left > 0) {
        ssize_t w = write(fd, p, (size_t)left);
        if (w <= 0) break;
        p += w, left -= w;
    }
    if (fd < 0 || left > 0) {
        snprintf(err, n, "cannot hold the baked weights in memory: %s", strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    snprintf(path, size, "/proc/self/fd/%d", fd);
    return fd;
}
