/* fuzz.h — what every fuzz harness in tests/fuzz/ shares.
 *
 * Each harness is one file defining LLVMFuzzerTestOneInput. It is linked
 * either with libFuzzer (clang -fsanitize=fuzzer: `make fuzz`) or with
 * driver.c, a plain main that replays files through it (the corpus and
 * past crashes, in `make test`). A harness keeps no state between inputs,
 * frees what it allocates, and skips inputs over its size limit so that
 * the work per input stays bounded.
 */
#ifndef MMGC_FUZZ_H
#define MMGC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The entry point libFuzzer calls once per input; returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An input given to a reader that only takes a path: an anonymous
 * in-memory file (memfd), named by path, holding the input's bytes. */
typedef struct {
    int fd;
    char path[64];
} FuzzFile;

/* Makes *f hold data[0..size); 0, or -1 if it could not (then nothing
 * needs closing). */
int fuzz_file_open(FuzzFile *f, const uint8_t *data, size_t size);
/* Closes f's file; its memory goes with it. */
void fuzz_file_close(FuzzFile *f);

#endif
