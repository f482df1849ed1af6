/* cli.c — option parsing for mmgc; see cli.h and cli_usage. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "opt.h"
#include "opt_hint.h"
#include "util.h"

/* Every option cli_parse takes, as --help lists them. */
static const char *const options[] = {
    "--train",  "--eval",     "--predict", "--input", "--data",       "--save",   "--resume",     "--checkpoint",
    "--log",    "--metrics-json", "--report", "--backend", "--time",  "--summary", "--emit",      "--stage",
    "--dump-after", "--set",  "--model",   "-I",      "-o",           "--version", "--aot",       "--cpu",
    "--weights", "--study",   "--jobs",    "--no-train", "--progress-label", "--no-cache", "--profile", "--help", "-h",
};
#define NOPTIONS (int)(sizeof options / sizeof options[0])

void cli_usage(FILE *out) {
    fputs("usage: mmgc FILE.mmg [options]\n"
          "\n"
          "Compiles a multimodal model written in .mmg, and trains, evaluates or runs it.\n"
          "Without --train, --eval, --predict or --emit it prints the model's summary.\n"
          "\n"
          "training and evaluation:\n"
          "  --train              train on the model's data set (its `data` directory):\n"
          "                       validation split, early stopping, best weights restored,\n"
          "                       then test loss, accuracy, confusion matrix\n"
          "  --eval               evaluate the weights of --checkpoint on the test split\n"
          "  --predict            run the weights of --checkpoint on the samples of --input:\n"
          "                       one line per sample (index, predicted class, its\n"
          "                       probability); with -o FILE.npy also the logits [N, classes]\n"
          "  --input NAME=FILE.npy  the samples of model input NAME for --predict ([N, ...],\n"
          "                       any numeric dtype); one per input\n"
          "  --data DIR           read the data set from DIR instead\n"
          "  --save FILE          write a checkpoint (safetensors) after every epoch and on\n"
          "                       Ctrl-C: the best weights so far under the parameters'\n"
          "                       names, the last ones and the optimizer state as resume:NAME\n"
          "  --resume FILE        continue training from a checkpoint written by --save\n"
          "  --checkpoint FILE    the checkpoint --eval and --predict read (the weights under\n"
          "                       the parameters' names)\n"
          "  --log FILE.csv       per-epoch losses and accuracy as CSV, and as JSON lines\n"
          "                       in FILE.jsonl\n"
          "  --metrics-json FILE  the final test metrics, best epoch and confusion matrix\n"
          "  --report DIR         DIR/index.html: loss and accuracy curves, confusion matrix,\n"
          "                       sample inputs with their logits\n"
          "  --backend=llvm|interp  the engine that runs the graph: JIT-compiled by LLVM\n"
          "                       for this CPU (default), or the reference interpreter\n"
          "  --time               print the time of each phase\n"
          "  --no-cache           compile the llvm backend's code anew, without reading or\n"
          "                       writing the compiled-code cache ($MMGC_CACHE_DIR, else\n"
          "                       $XDG_CACHE_HOME/mmgc or ~/.cache/mmgc; at most\n"
          "                       $MMGC_CACHE_SIZE, default 1G, least recently used go first)\n"
          "  --progress-label TEXT  put TEXT before the progress line (--study says which run)\n"
          "  --profile            --train: time every kernel of the training step and print,\n"
          "                       after training, the step's time by .mmg source line (ms per\n"
          "                       step, share, FLOPs and bytes per step, GFLOP/s and GB/s and\n"
          "                       their shares of the machine's FMA peak and memory bandwidth,\n"
          "                       measured after the steps, the line's kernels); with --report\n"
          "                       DIR also DIR/profile.json and a Profile section in\n"
          "                       DIR/index.html; llvm backend only\n"
          "  --profile=FILE.json  --profile, and its JSON in FILE.json\n"
          "                       (--profile with --emit=llvm or --emit=asm: the profiled step's code)\n"
          "\n"
          "compiling:\n"
          "  --summary            one row per parameter (path, shape, count), the total,\n"
          "                       and forward FLOPs per sample\n"
          "  --emit=ast           print the syntax tree of FILE\n"
          "  --emit=ir            print the forward graph in mmgc's text IR\n"
          "  --emit=dot           print the forward graph for Graphviz (dot -Tsvg)\n"
          "  --emit=kernels       print the fusion plan: the kernels the llvm backend compiles\n"
          "  --emit=memplan       print the memory plan: each value's offset and live range,\n"
          "                       the planned peak and the sum without reuse\n"
          "  --emit=llvm          print the LLVM IR the llvm backend compiles (optimized)\n"
          "  --emit=asm           print the host assembly the llvm backend compiles\n"
          "  --emit=obj           compile the model into an object file (-o model.o) that a C\n"
          "                       program links to predict and train (takes --cpu, --weights)\n"
          "  --emit=header        print the C header of that object: the model's constants\n"
          "                       and its API (create, predict, train_step, load, save)\n"
          "  --stage=forward|train|eval  the graph to emit: the forward pass (default), the\n"
          "                       whole training step (forward, loss, backward, update), or\n"
          "                       the forward pass as evaluation compiles it (dropout off)\n"
          "  --dump-after=PASS    print the graph after a pass of the training pipeline\n"
          "                       (autodiff, optimizer, simplify)\n"
          "  --set KEY=VALUE      override a model binding (--set fusion=gated), a train\n"
          "                       setting (--set batch=128, --set early_stopping.patience=3)\n"
          "                       or a block argument by path (--set multimodal.fusion=add);\n"
          "                       VALUE is a .mmg expression; may be repeated\n"
          "  --model NAME         the model to use when FILE defines several\n"
          "  -I DIR               also look for imports in DIR (searched before the\n"
          "                       built-in models/lib and models/; so is $MMGC_PATH)\n"
          "  -o FILE              write output to FILE instead of standard output (with\n"
          "                       --predict: the logits, as .npy)\n"
          "  --version            print the version\n"
          "\n"
          "studies:\n"
          "  --study              train every run of the file's study (a 'study NAME { ... }'\n"
          "                       section: baselines, a model whose bindings vary, seeds) under\n"
          "                       the model's protocol, and compare them: -o DIR (default\n"
          "                       out/STUDY) gets study.md, results.csv, results.json, index.html\n"
          "                       and each run's folder; running it again skips what is done and\n"
          "                       resumes what is not; --set applies to every run, --data sets\n"
          "                       every run's data set, --model picks the study\n"
          "  --jobs N             --study: train N runs at once, each with its share of the cores\n"
          "  --no-train           --study: write the study's files from the runs finished so far\n"
          "                       and train nothing (look at a long study while it runs)\n"
          "\n"
          "ahead of time:\n"
          "  --aot                compile the model into a standalone program (-o PROGRAM) that trains,\n"
          "                       evaluates and predicts without LLVM, mmgc or .mmg files (PROGRAM --help)\n"
          "  --cpu=CPU            --aot, --emit=obj: native (default) or x86-64, x86-64-v2, x86-64-v3,\n"
          "                       x86-64-v4\n"
          "  --weights FILE       --aot, --emit=obj: bake a checkpoint's weights into the program\n"
          "  (--aot and --emit=obj run the C compiler: $CC, or cc)\n"
          "  -h, --help           print this help\n"
          "\n"
          "train settings (in the model's train { ... }, or --set KEY=VALUE):\n",
          out);
    for (int i = 0; train_setting_key(i); i++) fprintf(out, "  %-26s %s\n", train_setting_key(i), train_setting_help(i));
    fputs("\n"
          "environment:\n"
          "  MMGC_THREADS         threads of the compiled step (default: one per core, at most 8; a value\n"
          "                       that is not a count gets a warning and the default); with two or more,\n"
          "                       each step is also compiled as two modules at once\n"
          "  MMGC_CACHE_DIR       the compiled-code cache's folder; MMGC_NO_CACHE=1 turns it off,\n"
          "                       MMGC_CACHE_SIZE bounds it (see --no-cache)\n"
          "  MMGC_PATH            more folders to search for imports (see -I)\n"
          "\n"
          "exit status: 0 success, 1 an error in the program (or in the data, or an output that cannot be\n"
          "written), 2 bad command-line use, 3 training diverged (a loss that is not a number: training stops,\n"
          "the best epoch before it is tested and kept), 130 interrupted (Ctrl-C; the state saved with --save)\n",
          out);
}

int cli_parse(int argc, char **argv, Options *o, char *err, size_t n) {
    memset(o, 0, sizeof *o);
    o->sets = xcalloc((size_t)argc, sizeof *o->sets);
    o->libdirs = xcalloc((size_t)argc, sizeof *o->libdirs);
    o->inputs = xcalloc((size_t)argc, sizeof *o->inputs);
    o->command_line = opt_command_line(argc, argv);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) o->help = 1;
        else if (!strcmp(a, "--version")) o->version = 1;
        else if (!strcmp(a, "--summary")) o->summary = 1;
        else if (!strcmp(a, "--train")) o->train = 1;
        else if (!strcmp(a, "--eval")) o->eval = 1;
        else if (!strcmp(a, "--predict")) o->predict = 1;
        else if (!strcmp(a, "--time")) o->time = 1;
        else if (!strcmp(a, "--aot")) o->aot = 1;
        else if (!strcmp(a, "--study")) o->study = 1;
        else if (!strcmp(a, "--no-train")) o->no_train = 1;
        else if (!strcmp(a, "--no-cache")) o->no_cache = 1;
        else if (!strcmp(a, "--profile")) o->profile = 1;
        else if (!strncmp(a, "--profile=", 10)) {
            if (!a[10]) return snprintf(err, n, "--profile=FILE.json needs a file name"), -1;
            o->profile = 1;
            free(o->profile_json);
            o->profile_json = xstrdup(a + 10);
        }
        else if (opt_is(a, "--progress-label")) {
            if (!(o->progress_label = opt_value(argc, argv, &i, "--progress-label", err, n))) return -1;
        } else if (opt_is(a, "--jobs")) {
            if (!(v = opt_value(argc, argv, &i, "--jobs", err, n))) return -1;
            char *end;
            long j = strtol(v, &end, 10);
            if (*end || j < 1 || j > 64) return snprintf(err, n, "--jobs takes a number of runs from 1 to 64, not '%s'", v), -1;
            o->jobs = (int)j;
        }
        else if (opt_is(a, "--cpu")) {
            if (!(o->cpu = opt_value(argc, argv, &i, "--cpu", err, n))) return -1;
        } else if (opt_is(a, "--weights")) {
            if (!(o->weights = opt_value(argc, argv, &i, "--weights", err, n))) return -1;
        }
        else if (opt_is(a, "--data")) {
            if (!(o->data_dir = opt_value(argc, argv, &i, "--data", err, n))) return -1;
        } else if (opt_is(a, "--log")) {
            if (!(o->log_path = opt_value(argc, argv, &i, "--log", err, n))) return -1;
        } else if (opt_is(a, "--metrics-json")) {
            if (!(o->metrics_json = opt_value(argc, argv, &i, "--metrics-json", err, n))) return -1;
        } else if (opt_is(a, "--report")) {
            if (!(o->report_dir = opt_value(argc, argv, &i, "--report", err, n))) return -1;
        } else if (opt_is(a, "--save")) {
            if (!(o->save_path = opt_value(argc, argv, &i, "--save", err, n))) return -1;
        } else if (opt_is(a, "--resume")) {
            if (!(o->resume_path = opt_value(argc, argv, &i, "--resume", err, n))) return -1;
        } else if (opt_is(a, "--checkpoint")) {
            if (!(o->checkpoint = opt_value(argc, argv, &i, "--checkpoint", err, n))) return -1;
        } else if (opt_is(a, "--input")) {
            if (!(v = opt_value(argc, argv, &i, "--input", err, n))) return -1;
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1]) {
                snprintf(err, n, "--input needs NAME=FILE.npy (a model input and its samples), not '%s'", v);
                return -1;
            }
            char *name = xmalloc((size_t)(eq - v) + 1);
            memcpy(name, v, (size_t)(eq - v));
            name[eq - v] = 0;
            o->inputs[o->ninputs++] = (PredictInput){name, eq + 1};
        } else if (opt_is(a, "--backend")) {
            if (!(o->backend = opt_value(argc, argv, &i, "--backend", err, n))) return -1;
            if (!engine_find(o->backend)) {
                snprintf(err, n, "unknown backend '%s' (available: %s)", o->backend, engine_names());
                return -1;
            }
        }
        else if (opt_is(a, "--emit")) {
            if (!(v = opt_value(argc, argv, &i, "--emit", err, n))) return -1;
            if (!strcmp(v, "ast")) o->emit = EMIT_AST;
            else if (!strcmp(v, "ir")) o->emit = EMIT_IR;
            else if (!strcmp(v, "dot")) o->emit = EMIT_DOT;
            else if (!strcmp(v, "kernels")) o->emit = EMIT_KERNELS;
            else if (!strcmp(v, "memplan")) o->emit = EMIT_MEMPLAN;
            else if (!strcmp(v, "llvm")) o->emit = EMIT_LLVM;
            else if (!strcmp(v, "asm")) o->emit = EMIT_ASM;
            else if (!strcmp(v, "obj")) o->emit = EMIT_OBJ;
            else if (!strcmp(v, "header")) o->emit = EMIT_HEADER;
            else {
                snprintf(err, n, "unknown --emit kind '%s' (expected ast, ir, dot, kernels, memplan, llvm, asm, obj or header)", v);
                return -1;
            }
        } else if (opt_is(a, "--stage")) {
            if (!(v = opt_value(argc, argv, &i, "--stage", err, n))) return -1;
            o->stage_given = 1;
            o->eval_stage = !strcmp(v, "eval");
            if (!strcmp(v, "forward") || o->eval_stage) o->stage = STAGE_FORWARD;
            else if (!strcmp(v, "train")) o->stage = STAGE_TRAIN;
            else {
                snprintf(err, n, "unknown --stage '%s' (expected forward, train or eval)", v);
                return -1;
            }
        } else if (opt_is(a, "--dump-after")) {
            if (!(v = opt_value(argc, argv, &i, "--dump-after", err, n))) return -1;
            if (!pipeline_has_pass(v)) {
                snprintf(err, n, "unknown pass '%s' for --dump-after (passes: %s)", v, pipeline_pass_names());
                return -1;
            }
            o->dump_after = v;
        } else if (opt_is(a, "--set")) {
            if (!(v = opt_value(argc, argv, &i, "--set", err, n))) return -1;
            o->sets[o->nsets++].text = v;
        } else if (opt_is(a, "--model")) {
            if (!(v = opt_value(argc, argv, &i, "--model", err, n))) return -1;
            o->model = v;
        } else if (!strcmp(a, "-o")) {
            if (!(v = opt_value(argc, argv, &i, "-o", err, n))) return -1;
            o->output = v;
        } else if (!strncmp(a, "-I", 2)) {
            if (a[2]) o->libdirs[o->nlib++] = a + 2;
            else if (i + 1 < argc) o->libdirs[o->nlib++] = argv[++i];
            else {
                snprintf(err, n, "option -I needs a directory");
                return -1;
            }
        } else if (a[0] == '-' && a[1]) {
            opt_unknown(a, options, NOPTIONS, err, n);
            return -1;
        } else if (o->file) {
            snprintf(err, n, "more than one input file ('%s' and '%s')", o->file, a);
            return -1;
        } else
            o->file = a;
    }
    if (!o->file && !o->help && !o->version) {
        snprintf(err, n, "no input file");
        return -1;
    }
    if (o->study && (o->train || o->eval || o->predict || o->aot || o->emit != EMIT_NONE)) {
        snprintf(err, n, "--study trains the study's runs; it does not go with --train, --eval, --predict, --aot or --emit");
        return -1;
    }
    if ((o->jobs || o->no_train) && !o->study) {
        snprintf(err, n, "%s only makes sense with --study", o->jobs ? "--jobs" : "--no-train");
        return -1;
    }
    if (!o->jobs) o->jobs = 1;
    if (o->aot && (o->train || o->eval || o->predict || o->emit != EMIT_NONE)) {
        snprintf(err, n, "--aot builds a program; it does not go with --train, --eval, --predict or --emit");
        return -1;
    }
    if (o->aot && !o->output) {
        snprintf(err, n, "--aot needs -o PROGRAM (where to write the program)");
        return -1;
    }
    if (o->emit == EMIT_OBJ && !o->output) {
        snprintf(err, n, "--emit=obj needs -o FILE.o (where to write the object)");
        return -1;
    }
    if ((o->emit == EMIT_OBJ || o->emit == EMIT_HEADER) && (o->train || o->eval || o->predict)) {
        snprintf(err, n, "--emit=%s does not go with --train, --eval or --predict", o->emit == EMIT_OBJ ? "obj" : "header");
        return -1;
    }
    if ((o->cpu || o->weights) && !o->aot && o->emit != EMIT_OBJ) {
        snprintf(err, n, "%s only makes sense with --aot or --emit=obj", o->cpu ? "--cpu" : "--weights");
        return -1;
    }
    if ((o->stage_given || o->dump_after) && (o->train || o->eval || o->predict || o->aot || o->study)) {
        snprintf(err, n, "%s chooses the graph that --emit prints; it does not go with --train, --eval, --predict, "
                         "--aot or --study", o->dump_after ? "--dump-after" : "--stage");
        return -1;
    }
    if (o->eval_stage && (o->emit == EMIT_OBJ || o->emit == EMIT_HEADER)) {
        snprintf(err, n, "--stage=eval does not go with --emit=%s (the object holds every step)",
                 o->emit == EMIT_OBJ ? "obj" : "header");
        return -1;
    }
    if (o->train + o->eval + o->predict > 1) {
        snprintf(err, n, "%s exclude each other", o->predict ? (o->train ? "--train and --predict" : "--eval and --predict")
                                                             : "--train and --eval");
        return -1;
    }
    if (o->predict && !o->checkpoint) {
        snprintf(err, n, "--predict needs --checkpoint FILE (the weights to predict with)");
        return -1;
    }
    if (o->ninputs && !o->predict) {
        snprintf(err, n, "--input only makes sense with --predict");
        return -1;
    }
    if (o->eval && !o->checkpoint) {
        snprintf(err, n, "--eval needs --checkpoint FILE (the weights to evaluate)");
        return -1;
    }
    if (o->resume_path && !o->train) {
        snprintf(err, n, "--resume only makes sense with --train");
        return -1;
    }
    if (o->profile && !o->train && o->emit != EMIT_LLVM && o->emit != EMIT_ASM) {
        snprintf(err, n, "--profile only makes sense with --train (it times the training step), or with --emit=llvm "
                         "or --emit=asm (the profiled step's code)");
        return -1;
    }
    if (o->profile && o->backend && strcmp(o->backend, "llvm")) {
        snprintf(err, n, "--profile needs the llvm backend (the %s backend does not time its kernels)", o->backend);
        return -1;
    }
    if (o->profile && !o->profile_json && o->report_dir) { /* beside the report's index.html */
        size_t len = strlen(o->report_dir) + sizeof "/profile.json";
        o->profile_json = xmalloc(len);
        snprintf(o->profile_json, len, "%s/profile.json", o->report_dir);
    }
    return 0;
}

void cli_free(Options *o) {
    for (int i = 0; i < o->ninputs; i++) free((char *)o->inputs[i].name);
    free(o->inputs);
    free(o->sets);
    free(o->libdirs);
    free(o->command_line);
    free(o->profile_json);
}
