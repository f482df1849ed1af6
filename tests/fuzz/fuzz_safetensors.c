/* fuzz_safetensors.c — the checkpoint reader (runtime/checkpoint.c) on
 * any bytes, as a file. A checkpoint it reads is walked whole: every
 * tensor (found again by name, its data read), every metadata entry.
 * Inputs over 1 MiB are skipped. */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "fuzz.h"

#define MAX_INPUT (1 << 20)

/* Reads every byte of t's data (so ASan sees a short buffer); returns a
 * checksum the caller ignores. */
static unsigned touch(const CkptTensor *t) {
    int64_t bytes = ir_numel(&t->shape) * (t->dtype == DT_F32 ? 4 : 8);
    unsigned sum = 0;
    for (int64_t i = 0; i < bytes; i++) sum += ((const unsigned char *)t->data)[i];
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzFile f;
    if (size > MAX_INPUT || fuzz_file_open(&f, data, size)) return 0;
    char err[512];
    Checkpoint *c = ckpt_read(f.path, err, sizeof err);
    volatile unsigned sink = 0;
    for (int i = 0; c && i < ckpt_count(c); i++) {
        const CkptTensor *t = ckpt_get(c, i);
        if (!t || !t->name || ckpt_find(c, t->name) == NULL) abort();
        sink += touch(t);
    }
    for (int i = 0; c && i < ckpt_meta_count(c); i++) {
        const char *k, *v;
        ckpt_meta_get(c, i, &k, &v);
        if (!k || !v || !ckpt_meta(c, k)) abort();
        sink += (unsigned)strlen(v);
    }
    (void)sink;
    ckpt_free(c);
    fuzz_file_close(&f);
    return 0;
}
