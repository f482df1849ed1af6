/* cli.h — the command line of mmgc. */
#ifndef MMGC_CLI_H
#define MMGC_CLI_H

#include <stdio.h>

#include "elaborate.h"
#include "predict.h"

typedef enum { EMIT_NONE, EMIT_AST, EMIT_IR, EMIT_DOT, EMIT_KERNELS, EMIT_MEMPLAN, EMIT_LLVM, EMIT_ASM, EMIT_OBJ, EMIT_HEADER } EmitKind;

typedef struct {
    const char *file;     /* the .mmg file                    */
    EmitKind emit;
    int summary;
    Stage stage;          /* --stage: forward (default) or train */
    int eval_stage;       /* --stage=eval: the forward graph as evaluation compiles it */
    int stage_given;      /* --stage was on the command line */
    const char *dump_after; /* --dump-after=PASS              */
    const char *model;    /* --model NAME                     */
    const char *output;   /* -o FILE, or NULL for stdout      */
    SetOption *sets;      /* --set KEY=VALUE, in order        */
    int nsets;
    const char **libdirs; /* -I DIR                           */
    int nlib;
    int train, eval, predict; /* --train / --eval / --predict */
    PredictInput *inputs; /* --input NAME=FILE, in order */
    int ninputs;
    const char *data_dir, *log_path, *metrics_json, *report_dir, *save_path, *resume_path, *checkpoint;
    const char *backend;  /* "interp" (the default) or "llvm" */
    int time;
    int no_cache;         /* --no-cache: the llvm backend neither reads nor writes its code cache */
    int aot;              /* --aot: build a program (-o PROGRAM) */
    const char *cpu;      /* --cpu: what it is compiled for ("native") */
    const char *weights;  /* --weights: a checkpoint baked into the program */
    int study;            /* --study: train and compare the runs of a study */
    int jobs;             /* --jobs N: runs of a study at once (1) */
    int no_train;         /* --no-train: a study's report of its finished runs */
    const char *progress_label; /* --progress-label: before the progress line */
    int profile;          /* --profile[=FILE.json]: the step's time by source line */
    char *profile_json;   /* where its JSON goes: FILE.json, else DIR/profile.json with --report DIR, else NULL */
    int help, version;
    char *command_line;   /* argv as one shell line, for the run's report */
} Options;

/* Parses argv. Returns 0, or -1 with a message in err (bad usage). */
int cli_parse(int argc, char **argv, Options *o, char *err, size_t errlen);
void cli_usage(FILE *out);
void cli_free(Options *o);

#endif
