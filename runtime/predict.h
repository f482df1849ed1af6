/* predict.h — run a trained model on samples given as .npy files.
 *
 * predict_model loads the weights of a checkpoint (its plain names,
 * ckpt_layout.h), reads every model input from its own .npy file ([N, ...]
 * of any numeric dtype, the same N for all), runs the evaluation graph
 * (training = 0) in batches of the compiled size (the last one padded),
 * prints one line per sample to o->out,
 *
 *   INDEX  CLASS  PROBABILITY        e.g. "0  7  0.9731"
 *
 * (the predicted class, the argmax of the logits, and its softmax
 * probability), and, with logits_path, writes the logits [N, classes] as
 * f32 .npy (atomically). No data directory, no labels. Independent of the
 * command line: the mmgc command and a compiled program call it alike.
 */
#ifndef MMGC_PREDICT_H
#define MMGC_PREDICT_H

#include <stddef.h>
#include <stdio.h>

#include "dataset.h"
#include "dataset.h"
#include "dataset.h"
#include "elaborate.h"
#include "engine.h"

typedef struct {
    const char *name; /* a model input */
    const char *path; /* its samples, .npy */
} PredictInput;

typedef struct {
    const char *checkpoint;       /* the weights */
    const PredictInput *inputs;   /* one per model input */
    int ninputs;
    const char *logits_path;      /* NULL: no logits file */
    const EngineOps *engine;
    FILE *out;                    /* the per-sample lines */
} PredictOptions;

/* 0, or -1 with a message naming the file and what is wrong (then nothing
 * is printed or written). */
int predict_model(const Elaborated *m, const PredictOptions *o, char *err, size_t errlen);

/* The number of classes of m's logits [B, classes]; -1 with a message for
 * a model without logits of that shape (nothing to predict). */
int predict_classes(const Elaborated *m, char *err, size_t errlen);

/* The loop beneath predict_model and the embedding library: runs e (an
 * engine on m's evaluation graph, weights bound) over the d->count[0]
 * samples of d's split 0, in batches of the compiled size (the last one
 * padded), their logits [N, classes] into out (predict_classes >= 0).
 * 0, or -1 with a message. */
int predict_logits(const Dataset *d, const Elaborated *m, Engine *e, float *out, char *err, size_t errlen);

#endif
