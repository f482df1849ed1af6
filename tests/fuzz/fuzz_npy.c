/* fuzz_npy.c — the NPY reader (runtime/npy.c) on any bytes, as a file.
 * A file it reads is converted to each of the five dtypes too, which
 * checks every value against the target's range. Inputs over 1 MiB are
 * skipped. */
#include <stdlib.h>

#include "fuzz.h"
#include "npy.h"

#define MAX_INPUT (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzFile f;
    if (size > MAX_INPUT || fuzz_file_open(&f, data, size)) return 0;
    NpyArray a;
    char err[512];
    if (npy_read(f.path, &a, err, sizeof err) == 0) {
        if (!a.data || a.nbytes != (size_t)npy_numel(&a) * npy_itemsize(a.dtype)) abort();
        static const char dtypes[] = "fdilb";
        for (int i = 0; dtypes[i]; i++) {
            NpyArray c;
            if (npy_convert(&a, dtypes[i], &c, err, sizeof err) == 0) npy_free(&c);
        }
        npy_free(&a);
    }
    fuzz_file_close(&f);
    return 0;
}
