/* elaborate.h — from a loaded Program to a model's forward graph.
 *
 * Elaboration resolves names, instantiates blocks (each call site owns its
 * parameters, named by path like "multimodal.fusion.wa"), binds and checks
 * shapes, applies --set overrides, and reads the train settings.
 */
#ifndef MMGC_ELABORATE_H
#define MMGC_ELABORATE_H

#include "ir.h"
#include "passes.h"
#include "program.h"

typedef struct {
    int batch;
    int max_epochs;
    double val_split;
    long long seed;
    OptimizerSpec optimizer; /* with the lr schedule, clipping and no_decay */
    const char *monitor; /* "val_loss" or "val_accuracy" */
    Loc monitor_loc;     /* where it was set (line 0: the default) */
    int patience;
    double min_delta;
} TrainSettings;

/* One --set KEY=VALUE from the command line, as typed. */
typedef struct {
    const char *text;
} SetOption;

typedef struct {
    const char *name; /* "image"  */
    int node;         /* its INPUT or LABEL node */
} ModelIO;

typedef struct {
    Graph *graph;       /* forward graph; outputs "loss" and, if bound, "logits"
                           and "sample_loss" (see weight_node)                  */
    const char *model;  /* model name                    */
    const char *data;   /* data directory, or NULL       */
    ModelIO *inputs, *labels;
    int ninputs, nlabels;
    TrainSettings train;
    int weight_node;    /* INPUT sample_weight [B]: 1 for a sample, 0 for padding
                           (a per-sample loss or a block reads it), or -1  */
    int training_node;  /* INPUT training []: 1 in a training step, 0 when
                           evaluating (a block reads it), or -1            */
    int cmdline_error;  /* an error was in a --set (exit status 2) */
    const char **block; /* [graph->nnodes]: the block instance path each node
                           was made in ("multimodal.fusion"), NULL for the
                           model's own; for --profile */
} Elaborated;

/* Elaborates model `model` (NULL: the main file's only model). Returns 0, or
 * -1 after recording diagnostics in p->diag. out->graph is owned by the
 * caller (elaborated_free). */
int elaborate(Program *p, const char *model, const SetOption *sets, int nsets, Elaborated *out);
void elaborated_free(Elaborated *e);

/* The train settings (`train { ... }`, --set KEY=VALUE): the i-th key
 * ("batch", "early_stopping.patience") and what it means in one line, for
 * --help; NULL past the last. */
const char *train_setting_key(int i);
const char *train_setting_help(int i);

#endif
