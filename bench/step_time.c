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

#define USAGE                                                                                       \
    "usage: mmgc-bench-step MODEL.mmg [--backend=interp|llvm] [--steps N] [--set K=V] [--eval] "   \
    "[--profile[=FILE.json]]\n       mmgc-bench-step --blas-core\n"

/* A usage error: what was wrong, then the usage; exit status 2. */
static int usage_error(const char *what, const char *arg) {
    fprintf(stderr, "mmgc-bench-step: %s '%s'\n" USAGE, what, arg);
    return 2;
}

typedef struct {
    const char *file, *backend, *json;
    int steps, nsets, profile, eval;
    SetOption *sets; /* argc of them at most */
} Args;

/* Reads the command line into a: 0, -1 for --help (usage printed), or
 * a usage error's status. */
static int parse_args(int argc, char **argv, Args *a) {
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            fputs(USAGE, stdout);
            return -1;
        }
        if ((!strcmp(s, "--steps") || !strcmp(s, "--set")) && i + 1 == argc)
            return usage_error("a value must follow", s);
        if (!strncmp(s, "--backend=", 10)) a->backend = s + 10;
        else if (!strcmp(s, "--steps")) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*argv[i] == '\0' || *end || n < 1 || n > 1000000)
                return usage_error("--steps takes a count from 1 to 1000000, not", argv[i]);
            a->steps = (int)n;
        } else if (!strcmp(s, "--set")) a->sets[a->nsets++].text = argv[++i];
        else if (!strcmp(s, "--profile")) a->profile = 1;
        else if (!strcmp(s, "--eval")) a->eval = 1;
        else if (!strncmp(s, "--profile=", 10) && s[10]) a->profile = 1, a->json = s + 10;
        else if (s[0] == '-') return usage_error("unknown option", s);
        else if (a->file) return usage_error("one model at a time; a second one:", s);
        else a->file = s;
    }
    if (!engine_find(a->backend)) return usage_error("no such backend:", a->backend);
    if (!a->file) {
        fprintf(stderr, "mmgc-bench-step: no model file\n" USAGE);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv) {
    blas_configure(argc, argv); /* as mmgc and compiled programs do */
    llvm_set_tiers(LLVM_TIERS_OFF);
    if (argc == 2 && !strcmp(argv[1], "--blas-core")) {
        printf("%s\n", blas_core());
        return 0;
    }
    Args a = {.backend = "interp", .steps = 20, .sets = calloc((size_t)argc, sizeof(SetOption))};
    int rc = parse_args(argc, argv, &a);
    if (rc) {
        free(a.sets);
        return rc < 0 ? 0 : rc;
    }
    const EngineOps *ops = engine_find(a.backend);
    Program p;
    program_init(&p);
    program_default_libdirs(&p);
    Elaborated m = {0};
    char err[1024];
    rc = 0;
    if (program_load(&p, a.file) || elaborate(&p, NULL, a.sets, a.nsets, &m)) {
        diag_print(&p.diag, stderr);
        rc = 1;
    } else if (bench_steps(&m, ops, a.steps, a.eval, a.profile, a.json, stdout, err, sizeof err)) {
        fprintf(stderr, "mmgc-bench-step: %s\n", err);
        rc = 1;
    }
    if (rc) {
        elaborated_free(&m);
        program_free(&p);
        free(a.sets);
        return rc;
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
    free(a.sets);
    return 0;
}
