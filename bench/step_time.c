/* step_time.c — the time of one training step (forward, loss, backward,
 * optimizer update) of a model, on one backend, with random data; with
 * --eval, of one evaluation step (forward and loss, training off).
 *
 *   mmgc-bench-step MODEL.mmg [--backend=interp|llvm] [--steps N] [--set K=V ...] [--eval] [--profile[=FILE.json]]
 *   mmgc-bench-step --blas-core
 *
 * Prints the median milliseconds per step over N steps (after 2 warm-up
 * steps) and the peak resident memory (runtime/bench_step.c, which a
 * program compiled with --aot runs as `PROGRAM bench`). bench/run.sh puts
 * it beside PyTorch. With the llvm backend it also prints the compile time
 * and whether the code came from the code cache (a cold vs a warm start).
 * --profile (llvm backend) also prints the step's time by .mmg source line
 * over the N steps (runtime/profile.h), and with =FILE.json writes it as
 * JSON. The step is timed on its optimized code: the LLVM backend's quick
 * first tier (llvm_backend.h: LlvmTiers) is off. --blas-core prints the OpenBLAS core the program runs
 * (after the same choice as mmgc's, blas_configure) and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_step.h"
#include "blas.h"
#include "elaborate.h"
#include "engine.h"
#include "llvm_backend.h"
#include "program.h"

int main(int argc, char **argv) {
    blas_configure(argc, argv); /* as mmgc and compiled programs do */
    llvm_set_tiers(LLVM_TIERS_OFF);
    if (argc == 2 && !strcmp(argv[1], "--blas-core")) {
        printf("%s\n", blas_core());
        return 0;
    }
    const char *file = NULL, *backend = "interp", *json = NULL;
    int steps = 20, nsets = 0, profile = 0, eval = 0;
    SetOption *sets = calloc((size_t)argc, sizeof *sets);
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--backend=", 10)) backend = argv[i] + 10;
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--set") && i + 1 < argc) sets[nsets++].text = argv[++i];
        else if (!strcmp(argv[i], "--profile")) profile = 1;
        else if (!strcmp(argv[i], "--eval")) eval = 1;
        else if (!strncmp(argv[i], "--profile=", 10) && argv[i][10]) profile = 1, json = argv[i] + 10;
        else file = argv[i];
    }
    const EngineOps *ops = engine_find(backend);
    if (!file || !ops || steps < 1) {
        fprintf(stderr, "usage: mmgc-bench-step MODEL.mmg [--backend=interp|llvm] [--steps N] [--set K=V] "
                        "[--eval] [--profile[=FILE.json]]\n");
        return 2;
    }
    Program p;
    program_init(&p);
    program_default_libdirs(&p);
    Elaborated m = {0};
    char err[1024];
    if (program_load(&p, file) || elaborate(&p, NULL, sets, nsets, &m)) {
        diag_print(&p.diag, stderr);
        return 1;
    }
    if (bench_steps(&m, ops, steps, eval, profile, json, stdout, err, sizeof err)) {
        fprintf(stderr, "mmgc-bench-step: %s\n", err);
        return 1;
    }
    if (!strcmp(ops->name, "llvm")) {
        LlvmTimes t = llvm_times();
        printf("compile %.3f s (codegen %.3f s, optimize %.3f s, jit %.3f s, cache %.3f s; cache: %d hits, %d misses)\n",
               t.codegen + t.optimize + t.jit + t.cache, t.codegen, t.optimize, t.jit, t.cache, t.cache_hits,
               t.cache_misses);
        if (t.cache_note[0]) printf("code cache: %s\n", t.cache_note);
    }
    elaborated_free(&m);
    program_free(&p);
    free(sets);
    return 0;
}
