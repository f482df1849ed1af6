/* mmgc_model.h — a model compiled by mmgc, as a C library.
 *
 *   mmgc MODEL.mmg --emit=obj -o model.o [--weights F.safetensors] [--cpu=CPU]
 *   mmgc MODEL.mmg --emit=header -o model.h
 *   cc app.c model.o -lopenblas -lm -lpthread
 *
 * model.o holds the model's compiled training step and evaluation, its
 * sources and mmgc's runtime; only the functions below are global in it.
 * model.h is this file after the model's own constants (MMGC_MODEL_*).
 *
 *   char err[512];
 *   MmgcModel *m = mmgc_model_create(NULL, err, sizeof err);  // baked weights
 *   if (!m) { fprintf(stderr, "%s\n", err); return 1; }
 *   const float *inputs[] = {images, sounds};   // one per input, in order
 *   if (mmgc_model_predict(m, inputs, n, logits))  // logits: n * classes
 *       fprintf(stderr, "%s\n", mmgc_model_error(m));
 *   mmgc_model_destroy(m);
 *
 * Data. Inputs are f32, one array per model input in the order of
 * mmgc_model_input_name, each [n, per-sample shape...] in C order; labels
 * are int64, [n] each. Logits are written as [n, classes].
 *
 * Errors. A function that can fail returns 0, or -1 and keeps a message
 * (the file, the name, what was expected and what was given) that
 * mmgc_model_error returns until the next call on the same handle. Nothing
 * exits the process or prints.
 *
 * Threads. Every function may be called from any thread: calls into mmgc
 * take one process-wide lock, so they run one at a time (the kernels
 * already use the machine's cores and share one thread pool). For
 * predictions in parallel, use processes.
 *
 * Linking. One model per program: a second model.o would define the same
 * functions. The object needs OpenBLAS, libm and pthreads.
 */
#ifndef MMGC_MODEL_API_H
#define MMGC_MODEL_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct MmgcModel MmgcModel;

/* A model with the weights of the safetensors checkpoint at `weights` (one
 * written by mmgc, a program or mmgc_model_save, or plain tensors named as
 * the model's parameters); with NULL, the weights baked in at build time
 * (--weights), or without those the model's initial weights (its `init`s
 * and seed), ready to train. NULL with a message in err on failure (a CPU
 * that lacks what the code was compiled for, a checkpoint of another
 * model, ...). */
MmgcModel *mmgc_model_create(const char *weights, char *err, size_t errlen);

/* Frees everything the model holds. Safe on NULL. */
void mmgc_model_destroy(MmgcModel *m);

/* The message of the last failing call on m ("" if none). */
const char *mmgc_model_error(const MmgcModel *m);

/* What the model is: its inputs (f32) and their elements per sample, its
 * labels, the number of classes of its logits, its compiled batch size. */
int mmgc_model_ninputs(const MmgcModel *m);
const char *mmgc_model_input_name(const MmgcModel *m, int i);
int64_t mmgc_model_input_size(const MmgcModel *m, int i);
int mmgc_model_nlabels(const MmgcModel *m);
const char *mmgc_model_label_name(const MmgcModel *m, int i);
int mmgc_model_classes(const MmgcModel *m);
int mmgc_model_batch(const MmgcModel *m);

/* Runs the evaluation (training off) on n >= 1 samples, any number, in
 * batches of the compiled size; writes their logits [n, classes]. The same
 * numbers as `mmgc --predict` and the program's `predict`. */
int mmgc_model_predict(MmgcModel *m, const float *const *inputs, int64_t n, float *logits);

/* One step of the model's optimizer on 1 <= n <= batch samples (fewer than
 * a batch are padded and weigh nothing, as in training); the batch's mean
 * loss in *loss (may be NULL). The learning rate follows the model's
 * schedule by step (epoch-based schedules stay at their first epoch's
 * rate); dropout draws from the model's seed and the step number. A step
 * whose loss is NaN or infinite changes no weight or state (it still
 * counts as a step); *loss then says so. */
int mmgc_model_train_step(MmgcModel *m, const float *const *inputs, const int64_t *const *labels, int n,
                          float *loss);

/* Steps taken by mmgc_model_train_step since the weights were set. */
int64_t mmgc_model_steps(const MmgcModel *m);

/* Replaces the weights (and the model's state, such as running
 * statistics) with a checkpoint's; the optimizer starts afresh. */
int mmgc_model_load(MmgcModel *m, const char *path);

/* Writes the current weights to path as an mmgc checkpoint (safetensors,
 * atomically), readable by mmgc, the program, mmgc_model_load and PyTorch
 * (matrices are [in, out]). */
int mmgc_model_save(MmgcModel *m, const char *path);

#ifdef __cplusplus
}
#endif

#endif
