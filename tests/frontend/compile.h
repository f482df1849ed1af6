/* compile.h — frontend test helper: load and elaborate one file the way
 * the mmgc command does, with the source tree's models/ as the library. */
#ifndef MMGC_TEST_COMPILE_H
#define MMGC_TEST_COMPILE_H

#include "elaborate.h"
#include "program.h"

typedef struct {
    Program prog;
    Elaborated model;
    int status; /* 0 ok, 1 program error, 2 command-line error */
} Compiled;

/* Compiles path with the given --set texts (may be NULL). */
void compile_file(Compiled *c, const char *path, const char *const *sets, int nsets);
/* Compiles .mmg text written to a temporary file (imports resolve in
 * models/lib and models/), then removes the file. */
void compile_text(Compiled *c, const char *text, const char *const *sets, int nsets);
/* Writes len bytes to a fresh temporary .mmg file; returns its path (static). */
const char *compile_temp_file(const char *text, size_t len);
void compile_free(Compiled *c);
/* compile_file / compile_text that assert success, printing the
 * diagnostics otherwise; 1 if it compiled. */
int compile_file_ok(Compiled *c, const char *path, const char *const *sets, int nsets);
int compile_text_ok(Compiled *c, const char *text);
/* Number of trainable scalars in the compiled model. */
long long compiled_params(const Compiled *c);

/* Compiles a model at batch 4 and builds its training step (forward,
 * backward, the model's optimizer); 1 if both worked. */
int compile_train_step(Compiled *c, const char *path);
/* Runs check on every .mmg file in models/ and models/examples/; asserts
 * each passes and that there are at least the study's 11 and the examples. */
void compile_each_model(int (*check)(const char *path));

#endif
