/* train.h — the study's protocol: train with early stopping, evaluate, report.
 *
 * train_model: a validation split cut from train (val_split), seeded
 * shuffling each epoch, batches of the compiled size (a short last batch
 * padded and masked), early stopping on the monitored metric with the best
 * weights restored, then test metrics, confusion matrix, per-class
 * precision and recall, logs, a checkpoint and a report.
 */
#ifndef MMGC_TRAIN_H
#define MMGC_TRAIN_H

#include <stdio.h>

#include "elaborate.h"
#include "engine.h"

typedef struct {
    const char *data_dir;      /* NULL: the model's `data` */
    const char *log_path;      /* CSV per epoch; JSON lines beside it (.jsonl) */
    const char *metrics_json;  /* final metrics */
    const char *report_dir;    /* HTML report */
    const char *save_path;     /* checkpoint, rewritten every epoch; NULL: none */
    const char *resume_path;   /* continue from this checkpoint */
    const char *checkpoint;    /* --eval: the weights to evaluate */
    const EngineOps *engine;   /* the backend */
    int time;                  /* print timings */
    FILE *out;                 /* results */
    /* Optional; NULL leaves them out. */
    const char *progress_prefix; /* printed before the progress line ("run 3/30 gated seed 2 | ") */
    const char *command_line;    /* the command that started the run, shown in the report */
    /* --profile: time every kernel of the training step and print the step's
     * time by source line (profile.h) after training; with profile_json
     * (or NULL) also as JSON there, and in the report when there is one. */
    int profile;
    const char *profile_json;
    /* Data-parallel training (train_dist.h, under mpirun with N > 1
     * processes): the model elaborated with batch ceil(B/N), the rows each
     * process computes; NULL: one process, one compiled step. */
    const Elaborated *shard;
} RunOptions;

/* What train_model returns; TRAIN_DIVERGED and TRAIN_INTERRUPTED are also
 * the exit statuses of mmgc and of programs built with mmgc --aot. */
enum { TRAIN_OK = 0, TRAIN_ERROR = -1, TRAIN_DIVERGED = 3, TRAIN_INTERRUPTED = 130 };

/* The graph a run executes each step: with training, m's forward graph
 * through the training pipeline (autodiff, optimizer, simplify) with m's
 * optimizer; else the forward graph's copy as evaluation runs it
 * (pass_for_evaluation: no dropout masks). The one definition the JIT
 * run, the C library and ahead-of-time compilation share. NULL with a
 * message. */
Graph *train_step_graph(const Elaborated *m, int training, char *err, size_t errlen);
/* m's forward graph copied and run through the pipeline up to `stage`
 * (passes.h: STAGE_GRAD stops before the optimizer) with m's optimizer;
 * what train_step_graph and the data-parallel gradient step share. */
Graph *stage_graph(const Elaborated *m, int stage, char *err, size_t errlen);

/* Trains m on its data set; TRAIN_OK, TRAIN_ERROR (message in err; also
 * when no epoch was ever best, or Ctrl-C came and the checkpoint could not
 * be saved), TRAIN_DIVERGED (a loss was not a finite number: training
 * stopped there, the checkpoint kept its last finished epoch, the best
 * epoch before it was tested and reported if there was one; message in
 * err) or TRAIN_INTERRUPTED (Ctrl-C: the batch finished, the checkpoint
 * saved). Every output path is checked before anything is loaded. */
int train_model(const Elaborated *m, const RunOptions *o, char *err, size_t errlen);
/* Evaluates the weights of o->checkpoint on the test split. */
int eval_model(const Elaborated *m, const RunOptions *o, char *err, size_t errlen);

#endif
