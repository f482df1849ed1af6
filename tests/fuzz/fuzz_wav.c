/* fuzz_wav.c — the WAV reader (runtime/wav.c) on any bytes, as a file.
 * A file it reads must come back as float32 [channels, frames] with a
 * positive rate. Inputs over 1 MiB are skipped. */
#include <stdlib.h>

#include "fuzz.h"
#include "wav.h"

#define MAX_INPUT (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzFile f;
    if (size > MAX_INPUT || fuzz_file_open(&f, data, size)) return 0;
    NpyArray a;
    int rate = 0;
    char err[512];
    if (wav_read(f.path, &a, &rate, err, sizeof err) == 0) {
        if (!a.data || a.dtype != 'f' || a.rank != 2 || rate <= 0) abort();
        npy_free(&a);
    }
    fuzz_file_close(&f);
    return 0;
}
