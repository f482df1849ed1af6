/* fuzz_idx.c — the IDX reader (runtime/idx.c) on any bytes, as a file:
 * idx_read, and idx_read_as to float32 and int64 (what the digits data
 * set asks for images and labels). Inputs over 1 MiB are skipped. */
#include <stdlib.h>

#include "fuzz.h"
#include "idx.h"

#define MAX_INPUT (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzFile f;
    if (size > MAX_INPUT || fuzz_file_open(&f, data, size)) return 0;
    NpyArray a;
    char err[512];
    if (idx_read(f.path, &a, err, sizeof err) == 0) {
        if (!a.data || a.rank < 1) abort();
        npy_free(&a);
        if (idx_read_as(f.path, 'f', &a, err, sizeof err) == 0) npy_free(&a);
        if (idx_read_as(f.path, 'l', &a, err, sizeof err) == 0) npy_free(&a);
    }
    fuzz_file_close(&f);
    return 0;
}
