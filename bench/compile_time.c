/* compile_time.c — how long a model takes from its .mmg file to a ready
 * training step and evaluation step on the llvm backend: parse and
 * elaborate, derive the training step (autodiff), then plan, generate,
 * optimize and compile both steps (or read them from the code cache),
 * as `mmgc MODEL.mmg --train` does before its first step, on the wall
 * clock.
 *
 *   mmgc-bench-compile MODEL.mmg
 *
 * Prints "ready S s (N quick modules; cache: H hits)", then "optimized S s
 * (N modules; cache: H hits, M misses)". With an empty code cache
 * ($MMGC_CACHE_DIR) that is a cold start, ready with quick code
 * (llvm_backend.h: LlvmTiers), and "optimized" says when the optimized
 * code, compiled in the background, was ready too; run again, a warm
 * start, both from the cache. bench/compile_time.sh does both for every
 * study model. Then it runs one training step and one evaluation on
 * zeroed inputs and prints "first steps S s": the steps' memory is backed
 * as they first write it, so a start that is ready sooner is not paid for
 * by a slower first step unseen.
 */
#include <stdio.h>
#include <time.h>

#include "elaborate.h"
#include "engine.h"
#include "llvm_backend.h"
#include "program.h"
#include "train.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mmgc-bench-compile MODEL.mmg\n");
        return 2;
    }
    double t0 = now();
    Program p;
    program_init(&p);
    program_default_libdirs(&p);
    Elaborated m = {0};
    char err[1024];
    if (program_load(&p, argv[1]) || elaborate(&p, NULL, NULL, 0, &m)) {
        diag_print(&p.diag, stderr);
        return 1;
    }
    Graph *step = train_step_graph(&m, 1, err, sizeof err);
    Engine train, eval;
    if (!step || engine_open_pair(&train, step, 0, &eval, m.graph, engine_find("llvm"), err, sizeof err)) {
        fprintf(stderr, "mmgc-bench-compile: %s\n", err);
        return 1;
    }
    double secs = now() - t0;
    LlvmTimes t = llvm_times();
    printf("ready %.3f s (%d quick modules; cache: %d hits)\n", secs, t.quick_modules, t.cache_hits);
    llvm_tiers_wait();
    t = llvm_times();
    printf("optimized %.3f s (%d modules; cache: %d hits, %d misses)\n", now() - t0, t.modules, t.cache_hits,
           t.cache_misses);
    if (t.cache_note[0]) printf("code cache: %s\n", t.cache_note);
    t0 = now();
    if (train.ops->run(train.impl, 1, 1, 0, err, sizeof err) || eval.ops->run(eval.impl, 0, 1, 0, err, sizeof err)) {
        fprintf(stderr, "mmgc-bench-compile: %s\n", err);
        return 1;
    }
    printf("first steps %.3f s\n", now() - t0);
    engine_close(&train);
    engine_close(&eval);
    ir_graph_free(step);
    elaborated_free(&m);
    program_free(&p);
    return 0;
}
