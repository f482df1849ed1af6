/* train_impl.h — the Session that train.c and train_io.c share (not an API). */
#ifndef MMGC_TRAIN_IMPL_H
#define MMGC_TRAIN_IMPL_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "dataset.h"
#include "early_stop.h"
#include "engine.h"
#include "metrics.h"
#include "out_file.h"
#include "params.h"
#include "train.h"

typedef struct {
    double *train_loss, *val_loss, *val_accuracy; /* per finished epoch */
    double *train_accuracy; /* of the training steps' logits (dropout on), NaN without */
    double *seconds, *rate; /* the epoch's wall time and training samples/s; NaN when not known (before a resume) */
    int n;
} History;

struct Breakdown;
struct Profile;
typedef struct DistStep DistStep; /* train_dist.h */

typedef struct {
    const Elaborated *m;
    const RunOptions *o;
    Dataset data;
    const char *data_dir;  /* where data was read from */
    Graph *step_graph;     /* training step (or the evaluation graph for --eval) */
    Graph *eval_graph;     /* training: the forward graph as evaluation runs it (train_step_graph(m, 0));
                            * NULL when only evaluating (step_graph is that graph) */
    ParamStore ps;         /* every parameter and optimizer state, bound into both engines */
    Engine train, eval;
    int64_t *fit, *val, *test; /* sample indices: train and validation (of the train split), test */
    int64_t nfit, nval, ntest;
    int B;
    int logits, loss, sample_loss; /* forward-graph outputs (-1 if absent) */
    int step_logits;       /* the training step's logits output (-1 if absent or no classes) */
    int lr;                /* the step's input "optimizer.lr" (a schedule), or -1 */
    uint64_t seed;
    int tty;
    /* where training is: epochs finished, batches done in the next, steps taken */
    int epoch;
    int64_t batch;
    uint64_t step;
    double epoch_loss_sum;
    int64_t epoch_samples;
    int64_t epoch_correct; /* right predictions of the training steps so far in the epoch */
    double epoch_rate;     /* training samples/s of the last epoch */
    double epoch_start;
    time_t started;        /* wall-clock time the session opened, for the report */
    EarlyStop stop;
    float *best;           /* the best epoch's parameters (ParamStore layout) */
    History hist;
    Metrics metrics;       /* of the last evaluation */
    int *pred;             /* when set, session_evaluate writes each sample's predicted class here
                            * (pred[i] for idx[i]): the test's, for the breakdown, in one process */
    struct Breakdown *breakdown; /* of the test split (breakdown.h), or NULL */
    struct Profile *profile;     /* --profile: the training step's, after training (profile.h), or NULL */
    OutFile csv, jsonl;    /* --log: CSV and JSON lines (out_file.h); path NULL when not logging */
    int tested;            /* the test split was evaluated into metrics */
    char diverged[256];    /* why training diverged ("the training loss is nan in epoch 3, batch 2"), or "" */
    double time_load, time_compile, time_train, time_eval;
    /* memory, MiB: the data set's arrays, the peak resident set once they
     * were loaded, the resident set once the steps were compiled (the
     * run's peak is read at the end) */
    double data_mib, rss_load_mib, rss_compile_mib;
    DistStep *dist;        /* data-parallel training (train_dist.h): the step in two graphs; NULL in one process */
} Session;

double session_now(void);
int session_open(Session *s, const Elaborated *m, const RunOptions *o, int training, char *err, size_t errlen);
void session_close(Session *s);
void session_fill(Session *s, Engine *e, int split, const int64_t *idx, int count);
/* Evaluates idx[0..n) of a split into s->metrics (and s->pred); on a
 * terminal a progress line ("validating" on the train split, "testing" on
 * test) shows how far it is. */
int session_evaluate(Session *s, int split, const int64_t *idx, int64_t n, char *err, size_t errlen);

/* train_io.c */
/* Before anything is loaded or trained: creates the directories the
 * output files go in and checks that each (--save, --log and its .jsonl,
 * --metrics-json, --report's index.html) can be written, leaving nothing
 * behind (out_file_probe; a stale PATH.tmp is removed). 0, or -1 with a
 * message naming the option and the file. */
int prepare_outputs(const RunOptions *o, char *err, size_t errlen);
/* Opens the logs of --log and writes them anew (the CSV header); a
 * resumed run continues them. */
int open_logs(Session *s, char *err, size_t errlen);
/* Appends an epoch to the logs: each file rewritten whole and atomically
 * (a device written in place), every write checked. lr: the scheduled
 * learning rate of the epoch's last step, NaN without a schedule. */
int log_epoch(Session *s, int epoch, double train_loss, double val_loss, double val_accuracy, double lr, char *err,
              size_t errlen);
/* Closes the logs; -1 with a message when a device's close fails. */
int close_logs(Session *s, char *err, size_t errlen);
int save_checkpoint(Session *s, int epoch, char *err, size_t errlen);
/* Loads a checkpoint (ckpt_layout.h): for training, the whole state to
 * resume from; else the weights it holds under the plain names. */
int load_checkpoint(Session *s, const char *path, int training, char *err, size_t errlen);
/* --metrics-json: the run's outcome (and why it diverged), the test metrics
 * when the test split was evaluated; written atomically (out_file_write). */
int write_metrics_json(Session *s, char *err, size_t errlen);
/* The final report, after the test split was evaluated into s->metrics. */
int write_report(Session *s, char *err, size_t errlen);
/* The report of a run still training: after every epoch, without test metrics. */
int write_report_epoch(Session *s, char *err, size_t errlen);

#endif
