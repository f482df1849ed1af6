/* main.c — the mmgc command: parse options, load, elaborate, report.
 * The only place that prints diagnostics and chooses the exit status. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "aot_build.h"
#include "aot_header.h"
#include "dist.h"
#include "study.h"
#include "cli.h"
#include "elaborate.h"
#include "fusion.h"
#include "llvm_backend.h"
#include "memplan.h"
#include "predict.h"
#include "program.h"
#include "blas.h"
#include "summary.h"
#include "train.h"
#include "util.h"

enum { EXIT_PROGRAM_ERROR = 1, EXIT_USAGE = 2 };

/* Prints the diagnostics; returns the exit status for them. */
static int fail(Program *p, int status) {
    dist_defer_error();
    if (dist_rank() != 0)
        fprintf(stderr, "mmgc: error (rank %d of %d): the program does not build on this process alone:\n", dist_rank(),
                dist_size());
    diag_print(&p->diag, stderr);
    return status;
}

/* Produces what the options ask for, into out; 0, or -1 with a message in
 * err (the LLVM backend failed). */
static int emit(const Options *o, Program *p, const Elaborated *m, FILE *out, char *err, size_t errlen) {
    switch (o->emit) {
    case EMIT_AST: ast_print_module(p->modules[p->main_file], p->src.files[p->main_file].path, out); break;
    case EMIT_IR: ir_print(m->graph, out); break;
    case EMIT_DOT: ir_print_dot(m->graph, out); break;
    case EMIT_KERNELS: case EMIT_MEMPLAN: {
        KernelPlan plan;
        MemPlan mem;
        if (pipeline_plan(m->graph, &plan, &mem, err, errlen)) return -1;
        if (o->emit == EMIT_KERNELS) fusion_print(m->graph, &plan, out);
        else memplan_print(m->graph, &mem, out);
        memplan_free(&mem);
        fusion_plan_free(&plan);
        break;
    }
    case EMIT_LLVM: case EMIT_ASM:
        if (llvm_emit(m->graph, o->emit == EMIT_ASM, o->profile, out, err, errlen)) return -1;
        break;
    case EMIT_HEADER: {
        AotBuildOptions ao = {NULL, NULL, o->model, o->sets, o->nsets, NULL, 1};
        aot_header_write(p, m, &ao, out);
        break;
    }
    case EMIT_OBJ: break; /* aot_build */
    case EMIT_NONE: summary_print(m, out); break;
    }
    if (o->summary && o->emit != EMIT_NONE && o->emit != EMIT_AST && o->emit != EMIT_HEADER) summary_print(m, out);
    return 0;
}

/* The engine --backend names (the LLVM backend by default). */
static const EngineOps *engine_of(const Options *o) {
    return o->backend ? engine_find(o->backend) : engine_default();
}

/* With --time and the llvm backend: the compile phases, summed over its modules. */
static void print_llvm_times(const Options *o, FILE *out) {
    LlvmTimes t = llvm_times();
    if (!o->time || strcmp(engine_of(o)->name, "llvm") || !t.modules) return;
    char cache[96];
    if (t.cache_hits + t.cache_misses) snprintf(cache, sizeof cache, "cache: %d hits, %d misses", t.cache_hits, t.cache_misses);
    else snprintf(cache, sizeof cache, "cache: off");
    fprintf(out,
            "time: llvm compile %.2f s summed over its threads (codegen %.2f s, optimize %.2f s, jit %.2f s, cache %.2f s; %d modules; %s); "
            "OpenBLAS kernels: %s\n",
            t.codegen + t.optimize + t.jit + t.cache, t.codegen, t.optimize, t.jit, t.cache, t.modules, cache, blas_core());
    if (t.cache_note[0]) fprintf(out, "time: llvm code cache: %s\n", t.cache_note);
    if (t.quick_modules)
        fprintf(out, "time: llvm quick code %.2f s (%d modules), ran %d times while the optimized code compiled\n", t.quick,
                t.quick_modules, t.quick_runs);
    if (t.tier_note[0]) fprintf(out, "time: llvm: %s\n", t.tier_note);
}

/* Data-parallel training (mpirun -np N): m elaborated again with batch
 * ceil(B/N), the rows this process computes of each batch of B; every
 * other setting as m's (its optimizer, schedule and epochs are m's). */
static int elaborate_shard(Program *p, const Options *o, const Elaborated *m, Elaborated *shard) {
    int n = dist_size(), rows = (m->train.batch + n - 1) / n;
    SetOption *sets = xcalloc((size_t)o->nsets + 1, sizeof *sets);
    char text[64];
    snprintf(text, sizeof text, "batch=%d", rows);
    memcpy(sets, o->sets, (size_t)o->nsets * sizeof *sets);
    sets[o->nsets].text = text;
    int rc = elaborate(p, o->model, sets, o->nsets + 1, shard);
    free(sets);
    return rc;
}

static int run(const Options *o) {
    Program p;
    program_init(&p);
    for (int i = 0; i < o->nlib; i++) program_add_libdir(&p, o->libdirs[i]);
    program_default_libdirs(&p);
    int status = 0;
    Elaborated m = {0};
    if (program_load(&p, o->file)) {
        status = fail(&p, EXIT_PROGRAM_ERROR);
        goto done;
    }
    if (o->emit != EMIT_AST && elaborate(&p, o->model, o->sets, o->nsets, &m)) {
        status = fail(&p, m.cmdline_error ? EXIT_USAGE : EXIT_PROGRAM_ERROR);
        goto done;
    }
    if (dist_rank() == 0) diag_print(&p.diag, stderr); /* warnings: every process has the same */
    if (o->predict) { /* -o is the logits file, written by predict_model */
        PredictOptions po = {o->checkpoint, o->inputs, o->ninputs, o->output, engine_of(o), stdout};
        char err[1024];
        if (predict_model(&m, &po, err, sizeof err)) {
            fprintf(stderr, "mmgc: error: %s\n", err);
            status = EXIT_PROGRAM_ERROR;
        } else
            print_llvm_times(o, stdout);
        goto done;
    }
    if (o->aot || o->emit == EMIT_OBJ) {
        AotBuildOptions ao = {o->output,   o->cpu ? o->cpu : "native", o->model, o->sets, o->nsets,
                              o->weights, o->emit == EMIT_OBJ};
        char err[1024];
        if (aot_build(&p, &m, &ao, err, sizeof err)) {
            fprintf(stderr, "mmgc: error: %s\n", err);
            status = EXIT_PROGRAM_ERROR;
        }
        goto done;
    }
    /* -o: rank 0's; the other processes of an mpirun job write nothing */
    FILE *out = !o->output ? stdout : fopen(dist_rank() == 0 ? o->output : "/dev/null", "w");
    if (!out) {
        fprintf(stderr, "mmgc: error: cannot write '%s': %s\n", o->output, strerror(errno));
        status = EXIT_PROGRAM_ERROR;
        goto done;
    }
    if (o->emit != EMIT_AST && (o->stage == STAGE_TRAIN || o->dump_after)) {
        PassConfig cfg = {STAGE_TRAIN, m.train.optimizer, 0, o->dump_after, out};
        PassError err = {{0, 0, 0}, ""};
        if (pipeline_run(m.graph, &cfg, &err)) {
            diag_error(&p.diag, err.loc, "%s", err.msg);
            status = fail(&p, EXIT_PROGRAM_ERROR);
            if (o->output) fclose(out);
            goto done;
        }
        if (o->dump_after && o->emit == EMIT_NONE && !o->summary) goto close;
    }
    if (o->eval_stage) pass_for_evaluation(m.graph); /* --emit only: cli.c refuses it with a run */
    if (o->train || o->eval) {
        Elaborated shard = {0};
        if (o->train && dist_parallel() && elaborate_shard(&p, o, &m, &shard)) {
            status = fail(&p, EXIT_PROGRAM_ERROR);
            if (shard.graph) elaborated_free(&shard);
            goto close;
        }
        /* Over several processes only rank 0 prints and writes files. */
        int quiet = dist_rank() != 0;
        FILE *sink = quiet ? fopen("/dev/null", "w") : NULL;
        RunOptions ro = {o->data_dir, quiet ? NULL : o->log_path, quiet ? NULL : o->metrics_json,
                         quiet ? NULL : o->report_dir, quiet ? NULL : o->save_path, o->resume_path, o->checkpoint,
                         engine_of(o), o->time, sink ? sink : out, o->progress_label, o->command_line,
                         o->profile, quiet ? NULL : o->profile_json, shard.graph ? &shard : NULL};
        char err[1024];
        int rc = o->train ? train_model(&m, &ro, err, sizeof err) : eval_model(&m, &ro, err, sizeof err);
        if (sink) fclose(sink);
        if (shard.graph) elaborated_free(&shard);
        if (rc == TRAIN_ERROR && quiet) { /* possibly this rank's alone (a file it could not read) */
            dist_defer_error();
            fprintf(stderr, "mmgc: error (rank %d of %d): %s\n", dist_rank(), dist_size(), err);
        } else if (rc == TRAIN_ERROR || rc == TRAIN_DIVERGED)
            fprintf(stderr, "mmgc: error: %s\n", err);
        if (rc == TRAIN_ERROR || rc == TRAIN_DIVERGED) {
            status = rc == TRAIN_DIVERGED ? TRAIN_DIVERGED : EXIT_PROGRAM_ERROR;
        } else if (rc == TRAIN_INTERRUPTED)
            status = TRAIN_INTERRUPTED;
        if (rc != TRAIN_ERROR && !quiet) print_llvm_times(o, out);
        goto close;
    }
    char err[1024];
    if (emit(o, &p, &m, out, err, sizeof err)) {
        fprintf(stderr, "mmgc: error: %s\n", err);
        status = EXIT_PROGRAM_ERROR;
    }
close:
    if (o->output && fclose(out)) {
        fprintf(stderr, "mmgc: error: cannot write '%s': %s\n", o->output, strerror(errno));
        status = EXIT_PROGRAM_ERROR;
    }
done:
    if (m.graph) elaborated_free(&m);
    program_free(&p);
    return status;
}

/* A study's run under mpirun (study.c sets MMGC_STOP_WITH_PARENT to the
 * rank's pid): when that rank dies, this run gets Ctrl-C's SIGINT, saves
 * its checkpoint at the next batch and ends, rather than train on alone. */
static void stop_with_parent(void) {
    const char *p = getenv("MMGC_STOP_WITH_PARENT");
    if (!p) return;
    prctl(PR_SET_PDEATHSIG, SIGINT);
    if (getppid() != (pid_t)atol(p)) raise(SIGINT); /* it died before prctl */
}

int main(int argc, char **argv) {
    blas_configure(argc, argv); /* may re-exec with OPENBLAS_CORETYPE set (blas.c) */
    Options o;
    char err[1024];
    if (cli_parse(argc, argv, &o, err, sizeof err)) {
        if (dist_launch_rank() == 0) /* every process of an mpirun job has this command line: one report */
            fprintf(stderr, "mmgc: error: %s\nusage: mmgc FILE.mmg [options]; try 'mmgc --help'\n", err);
        cli_free(&o);
        return EXIT_USAGE;
    }
    /* through the environment, so the runs a --study starts inherit it */
    if (o.no_cache) setenv("MMGC_NO_CACHE", "1", 1);
    stop_with_parent();
    /* under mpirun: one of N processes (dist.h); else nothing is started */
    if (dist_mpi_start(&argc, &argv, err, sizeof err)) {
        fprintf(stderr, "mmgc: error: %s\n", err);
        cli_free(&o);
        return EXIT_PROGRAM_ERROR;
    }
    int status = 0;
    if (o.help) cli_usage(stdout);
    else if (o.version) printf("mmgc %s (LLVM 19 backend; OpenBLAS kernels: %s)\n", MMGC_VERSION, blas_core());
    else if (o.study) {
        StudyOptions so = {o.file, o.model, o.output, o.data_dir, o.libdirs, o.nlib, o.sets, o.nsets,
                           o.backend, o.jobs, o.no_train, "/proc/self/exe"};
        status = study_main(&so);
    } else
        status = run(&o);
    int study = o.study;
    cli_free(&o);
    /* an error in training on one rank ends them all: the others may be
     * waiting for it in a sum (a study's ranks meet only once, at its end) */
    if (!study && (status == EXIT_PROGRAM_ERROR || status == EXIT_USAGE)) dist_abort(status);
    dist_finish();
    return status;
}
