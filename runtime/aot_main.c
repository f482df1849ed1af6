/* aot_main.c — main() of a program compiled ahead of time (`mmgc --aot`).
 *
 * It checks the CPU, elaborates the model from the sources it carries (as
 * mmgc does, so graphs and names are the same), and runs a command with the
 * runtime mmgc uses: the study's protocol for `train`, test metrics for
 * `eval`. The steps are the object code linked in (engine_aot); the
 * interpreter stays available. The program links no LLVM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot.h"
#include "aot_cpu.h"
#include "aot_weights.h"
#include "bench_step.h"
#include "blas.h"
#include "elaborate.h"
#include "engine.h"
#include "hints.h"
#include "opt.h"
#include "opt_hint.h"
#include "predict.h"
#include "train.h"
#include "util.h"

/* The backends of a program: its compiled steps first, the interpreter. */
const EngineOps *const engine_backends[] = {&engine_aot, &engine_interp, NULL};

enum { EXIT_PROGRAM_ERROR = 1, EXIT_USAGE = 2 };

typedef struct {
    const char *command; /* train, eval, predict, bench */
    int steps;           /* bench */
    int eval;            /* bench --eval: the evaluation step */
    PredictInput *inputs; /* predict: --input NAME=FILE */
    int ninputs;
    const char *logits;  /* predict: -o FILE */
    RunOptions run;
    SetOption *sets;     /* the build's, then the command line's */
    int nsets;
    const char *backend;
} Args;

static void usage(const char *prog, FILE *out) {
    fprintf(out, "%s", mmgc_aot_model.about);
    fprintf(out,
            "\n"
            "usage: %s COMMAND [options]\n"
            "\n"
            "commands:\n"
            "  train     train with the model's protocol (validation split, early stopping, test metrics)\n"
            "  eval      test metrics of a checkpoint (--checkpoint F)\n"
            "  predict   class and probability of each sample of --input NAME=FILE.npy (one per input);\n"
            "            -o FILE.npy writes the logits\n"
            "  bench     the median time of a training step on random data (--steps N, default 20;\n"
            "            --eval: of an evaluation step)\n"
            "\n"
            "options:\n"
            "  --data DIR           the data set (default: the model's 'data')\n"
            "  --save FILE          train: a safetensors checkpoint, rewritten every epoch\n"
            "  --resume FILE        train: continue from a checkpoint\n"
            "  --checkpoint FILE    eval, predict: the weights (default: those baked in, if any)\n"
            "  --input NAME=FILE    predict: the samples of model input NAME, [N, ...] .npy\n"
            "  -o FILE              predict: write the logits [N, classes] as .npy\n"
            "  --report DIR         an HTML report\n"
            "  --log FILE.csv       one line per epoch (and FILE.jsonl)\n"
            "  --metrics-json FILE  the test metrics\n"
            "  --set KEY=VALUE      a train setting (max_epochs=20, seed=3, early_stopping.patience=3);\n"
            "                       settings that change the step (batch, lr) need a new mmgc --aot build\n"
            "  --backend=aot|interp the compiled steps (default) or mmgc's reference interpreter\n"
            "  --time               print where the time went\n"
            "  -h, --help           print this help\n"
            "\n"
            "exit status: 0 success, 1 an error, 2 bad command-line use, 3 training diverged (a loss that is\n"
            "not a number; the best epoch before it is tested and kept), 130 interrupted\n",
            prog);
}

/* The weights baked in, as a file only this process sees; NULL with a
 * message. The file stays open while the program runs. */
static const char *baked(char *err, size_t n) {
    static char path[64];
    return aot_weights_open(path, sizeof path, err, n) < 0 ? NULL : path;
}

/* Every option parse takes, as usage lists them; and the commands. */
static const char *const options[] = {"--data",   "--save",  "--resume", "--checkpoint", "--report", "--log",
                                      "--metrics-json", "--set", "--backend", "--time", "--input", "-o",
                                      "--steps", "--eval", "--help",  "-h"};
static const char *const commands[] = {"train", "eval", "predict", "bench"};

/* Parses argv into a; 0, or -1 with a message (bad usage). */
static int parse(int argc, char **argv, Args *a, char *err, size_t n) {
    a->sets = xcalloc((size_t)(argc + mmgc_aot_model.nsets + 1), sizeof *a->sets);
    a->inputs = xcalloc((size_t)argc + 1, sizeof *a->inputs);
    for (int i = 0; i < mmgc_aot_model.nsets; i++) a->sets[a->nsets++].text = mmgc_aot_model.sets[i];
    RunOptions *r = &a->run;
    r->command_line = opt_command_line(argc, argv); /* for the report */
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v;
        if (opt_is(s, "--data")) {
            if (!(r->data_dir = opt_value(argc, argv, &i, s, err, n))) return -1;
        } else if (opt_is(s, "--save")) {
            if (!(r->save_path = opt_value(argc, argv, &i, "--save", err, n))) return -1;
        } else if (opt_is(s, "--resume")) {
            if (!(r->resume_path = opt_value(argc, argv, &i, "--resume", err, n))) return -1;
        } else if (opt_is(s, "--checkpoint")) {
            if (!(r->checkpoint = opt_value(argc, argv, &i, "--checkpoint", err, n))) return -1;
        } else if (opt_is(s, "--report")) {
            if (!(r->report_dir = opt_value(argc, argv, &i, "--report", err, n))) return -1;
        } else if (opt_is(s, "--log")) {
            if (!(r->log_path = opt_value(argc, argv, &i, "--log", err, n))) return -1;
        } else if (opt_is(s, "--metrics-json")) {
            if (!(r->metrics_json = opt_value(argc, argv, &i, "--metrics-json", err, n))) return -1;
        } else if (opt_is(s, "--set")) {
            if (!(v = opt_value(argc, argv, &i, "--set", err, n))) return -1;
            a->sets[a->nsets++].text = v;
        } else if (opt_is(s, "--backend")) {
            if (!(a->backend = opt_value(argc, argv, &i, "--backend", err, n))) return -1;
            if (!engine_find(a->backend)) {
                snprintf(err, n, "unknown backend '%s' (available: %s)", a->backend, engine_names());
                return -1;
            }
        } else if (!strcmp(s, "--time")) {
            r->time = 1;
        } else if (opt_is(s, "--input")) {
            if (!(v = opt_value(argc, argv, &i, "--input", err, n))) return -1;
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1]) return snprintf(err, n, "--input needs NAME=FILE.npy, got '%s'", v), -1;
            char *name = xstrdup(v);
            name[eq - v] = 0;
            a->inputs[a->ninputs++] = (PredictInput){name, eq + 1};
        } else if (!strcmp(s, "-o")) {
            if (!(a->logits = opt_value(argc, argv, &i, "-o", err, n))) return -1;
        } else if (!strcmp(s, "--eval")) {
            a->eval = 1;
        } else if (opt_is(s, "--steps")) {
            if (!(v = opt_value(argc, argv, &i, "--steps", err, n))) return -1;
            if ((a->steps = atoi(v)) < 1) return snprintf(err, n, "--steps needs a positive number, got '%s'", v), -1;
        } else if (s[0] == '-') {
            opt_unknown(s, options, (int)(sizeof options / sizeof *options), err, n);
            return -1;
        } else if (a->command) {
            snprintf(err, n, "more than one command ('%s' and '%s')", a->command, s);
            return -1;
        } else if (!strcmp(s, "train") || !strcmp(s, "eval") || !strcmp(s, "predict") || !strcmp(s, "bench")) {
            a->command = s;
        } else {
            const char *near = hint_nearest(s, commands, (int)(sizeof commands / sizeof *commands));
            if (near) snprintf(err, n, "unknown command '%s'; did you mean '%s'?", s, near);
            else snprintf(err, n, "unknown command '%s' (expected train, eval, predict or bench)", s);
            return -1;
        }
    }
    if (!a->command) return snprintf(err, n, "no command (train, eval, predict or bench)"), -1;
    int weighs = !strcmp(a->command, "eval") || !strcmp(a->command, "predict");
    if (weighs && !r->checkpoint && mmgc_aot_model.weights && !(r->checkpoint = baked(err, n))) return -1;
    if (weighs && !r->checkpoint)
        return snprintf(err, n, "%s needs --checkpoint FILE (the weights; none are baked in)", a->command), -1;
    if ((a->ninputs || a->logits) && strcmp(a->command, "predict"))
        return snprintf(err, n, "--input and -o go with predict"), -1;
    if (r->resume_path && strcmp(a->command, "train")) return snprintf(err, n, "--resume only makes sense with train"), -1;
    if (a->eval && strcmp(a->command, "bench")) return snprintf(err, n, "--eval only makes sense with bench"), -1;
    r->engine = a->backend ? engine_find(a->backend) : engine_default();
    r->out = stdout;
    return 0;
}

/* Elaborates the carried sources with the sets; runs the command. */
static int run(Args *a) {
    Program p;
    program_init(&p);
    Elaborated m = {0};
    int status = 0;
    if (program_load_files(&p, mmgc_aot_model.files, mmgc_aot_model.nfiles) ||
        elaborate(&p, mmgc_aot_model.model, a->sets, a->nsets, &m)) {
        diag_print(&p.diag, stderr);
        status = m.cmdline_error ? EXIT_USAGE : EXIT_PROGRAM_ERROR;
    } else {
        char err[1024];
        PredictOptions po = {a->run.checkpoint, a->inputs, a->ninputs, a->logits, a->run.engine, stdout};
        int rc = !strcmp(a->command, "train")     ? train_model(&m, &a->run, err, sizeof err)
                 : !strcmp(a->command, "eval")    ? eval_model(&m, &a->run, err, sizeof err)
                 : !strcmp(a->command, "predict") ? predict_model(&m, &po, err, sizeof err)
                                                  : bench_steps(&m, a->run.engine, a->steps ? a->steps : 20, a->eval, 0, NULL, stdout, err, sizeof err);
        if (rc == TRAIN_ERROR || rc == TRAIN_DIVERGED) {
            fprintf(stderr, "error: %s\n", err);
            status = rc == TRAIN_DIVERGED ? TRAIN_DIVERGED : EXIT_PROGRAM_ERROR;
        } else if (rc == TRAIN_INTERRUPTED)
            status = TRAIN_INTERRUPTED;
    }
    if (m.graph) elaborated_free(&m);
    program_free(&p);
    return status;
}

int main(int argc, char **argv) {
    char missing[256];
    if (aot_cpu_missing(mmgc_aot_model.cpu_features, missing, sizeof missing)) {
        fprintf(stderr,
                "%s: this program was compiled for a CPU with %s (--cpu=%s), and this CPU lacks %s; "
                "build it again with 'mmgc MODEL.mmg --aot --cpu=native' on this machine, or a portable "
                "--cpu=x86-64-v2\n",
                argv[0], mmgc_aot_model.cpu_features, mmgc_aot_model.cpu, missing);
        return EXIT_PROGRAM_ERROR;
    }
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(argv[0], stdout);
            return 0;
        }
    blas_configure(argc, argv); /* may re-exec with OPENBLAS_CORETYPE set (blas.c) */
    Args a = {0};
    char err[512];
    if (parse(argc, argv, &a, err, sizeof err)) {
        fprintf(stderr, "%s: error: %s\nusage: %s COMMAND [options]; try '%s --help'\n", argv[0], err, argv[0], argv[0]);
        for (int i = 0; i < a.ninputs; i++) free((char *)a.inputs[i].name);
        free(a.inputs);
        free(a.sets);
        free((char *)a.run.command_line);
        return EXIT_USAGE;
    }
    int status = run(&a);
    for (int i = 0; i < a.ninputs; i++) free((char *)a.inputs[i].name);
    free(a.inputs);
    free(a.sets);
    free((char *)a.run.command_line);
    return status;
}
