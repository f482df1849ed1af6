/* fuzz_file.c — see fuzz.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

int fuzz_file_open(FuzzFile *f, const uint8_t *data, size_t size) {
    f->fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    if (f->fd < 0) return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t k = write(f->fd, data + done, size - done);
        if (k <= 0) {
            close(f->fd);
            return -1;
        }
        done += (size_t)k;
    }
    snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
    return 0;
}

void fuzz_file_close(FuzzFile *f) { close(f->fd); }
