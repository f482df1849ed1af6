/* passes.h — graph-to-graph passes and the pipeline that runs them.
 *
 * Every pass has the same shape: it rewrites the graph in place and returns
 * 0, or -1 with a PassError pointing into the source. The pipeline
 * (pipeline.c) lists them in order and verifies the graph after each.
 */
#ifndef MMGC_PASSES_H
#define MMGC_PASSES_H

#include <stdio.h>

#include "fusion.h"
#include "ir.h"
#include "memplan.h"

/* An error found by a pass: where, and what. */
typedef struct {
    Loc loc;
    char msg[512];
} PassError;

typedef enum { OPT_SGD, OPT_MOMENTUM, OPT_ADAM, OPT_ADAMW, OPT_COUNT } OptimizerKind;
/* Each optimizer's name as a model file writes it ("adam"), by kind. */
extern const char *const optimizer_names[OPT_COUNT];

typedef enum { LR_CONSTANT, LR_STEP, LR_COSINE } LrScheduleKind;

/* The learning rate over a run (runtime/lr_schedule.h computes it):
 * per epoch as PyTorch's StepLR or CosineAnnealingLR, times a linear
 * warm-up over the first `warmup` steps. */
typedef struct {
    LrScheduleKind kind;
    int every;       /* LR_STEP: epochs between decays          */
    double gamma;    /* LR_STEP: the factor of each decay       */
    int t_max;       /* LR_COSINE: epochs of the half period    */
    double min_lr;   /* LR_COSINE: the lowest learning rate     */
    int warmup;      /* steps (batches) of linear warm-up; 0: none */
} LrSchedule;

#define MAX_NO_DECAY 16

/* An optimizer and its hyper-parameters (as PyTorch defines them), with
 * the rules around it: the learning-rate schedule, gradient clipping by
 * global norm, and the parameters exempt from weight decay. */
typedef struct {
    OptimizerKind kind;
    double lr, momentum, beta1, beta2, eps, weight_decay;
    LrSchedule schedule;     /* a schedule makes lr the scalar input "optimizer.lr" of the step */
    double clip_grad_norm;   /* > 0: scale all gradients to this global L2 norm at most */
    int nno_decay;
    const char *no_decay[MAX_NO_DECAY]; /* glob patterns over parameter paths: no weight decay */
    Loc no_decay_loc[MAX_NO_DECAY];
} OptimizerSpec;

/* Does the step read its learning rate from the input "optimizer.lr"? */
static inline int optimizer_lr_is_input(const OptimizerSpec *o) {
    return o->schedule.kind != LR_CONSTANT || o->schedule.warmup > 0;
}

/* forward: no pass; grad: autodiff and simplify (the gradients, no update:
 * data-parallel training sums them over processes first); train: all. */
typedef enum { STAGE_FORWARD, STAGE_GRAD, STAGE_TRAIN } Stage;

typedef struct {
    Stage stage;           /* forward: no pass runs; grad: no optimizer; train: the whole step */
    OptimizerSpec optimizer;
    int input_grads;       /* autodiff also differentiates f32 inputs         */
    const char *dump_after; /* print the graph after this pass (or NULL)      */
    FILE *dump;
} PassConfig;

typedef int (*PassFn)(Graph *g, const PassConfig *cfg, PassError *err);

/* Reverse-mode differentiation of output "loss" with respect to every PARAM
 * (and f32 INPUT if cfg->input_grads): adds outputs "grad:NAME". */
int pass_autodiff(Graph *g, const PassConfig *cfg, PassError *err);
/* Does op have a vector-Jacobian product (not NOGRAD, not ZEROGRAD)? */
int autodiff_has_rule(Op op);
/* Appends the optimizer update: outputs "update:NAME" for every PARAM and
 * STATE node (new STATE nodes hold moments and the step count). */
int pass_optimizer(Graph *g, const PassConfig *cfg, PassError *err);

/* Common subexpression elimination: later readers and outputs of a node
 * equal to an earlier one read the earlier one (node ids do not change). */
int pass_simplify(Graph *g, const PassConfig *cfg, PassError *err);

/* Specializes a forward graph for evaluation (training 0): dropout masks
 * become the constant 1, and a multiply by one of a value of its own type
 * is skipped by its readers (evaluation.c). Node ids do not change. */
void pass_for_evaluation(Graph *g);

/* Runs the passes of cfg->stage in order. */
int pipeline_run(Graph *g, const PassConfig *cfg, PassError *err);
/* Is name a pass (for --dump-after)? */
int pipeline_has_pass(const char *name);
/* "autodiff, optimizer" — the pass names, for messages. */
const char *pipeline_pass_names(void);

/* Plans a verified step for a backend: fusion's kernels, then (mem may be
 * NULL) the memory plan; in debug builds plan_check runs after them. 0, or
 * -1 with a message (and nothing to free). */
int pipeline_plan(const Graph *g, KernelPlan *plan, MemPlan *mem, char *err, size_t errlen);

#endif
