/* embed_check.c — the C API of a model object (mmgc_model.h) on the tiny
 * classifier (tests/runtime/tiny.mmg, compiled without baked weights):
 *
 *   embed_check OUT_DIR OTHER.safetensors
 *
 * checks what the header promises (constants, errors as messages, training
 * steps that learn, determinism, save/create/load round trips to the same
 * bits, a failed load changing nothing, the caller's floating-point mode
 * left as it was) and leaves OUT_DIR/trained.st for
 * the test script to predict with through mmgc. OTHER is a checkpoint of
 * another model. Prints "N passed, N failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

enum { N = 48, D = 8, C = 3 };

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) passed++;
    else {
        failed++;
        printf("FAIL: %s\n", what);
    }
}

/* A call that fails with a message containing text. */
static void fails(int rc, const MmgcModel *m, const char *text, const char *what) {
    int ok = rc == -1 && strstr(mmgc_model_error(m), text);
    if (!ok) printf("  got %d, '%s'; expected a message with '%s'\n", rc, mmgc_model_error(m), text);
    check(ok, what);
}

static float x[N * D];
static int64_t y[N];

/* Each class a prototype plus noise (a fixed sequence). */
static void make_data(void) {
    unsigned s = 12345;
    for (int i = 0; i < N; i++) {
        y[i] = i % C;
        for (int j = 0; j < D; j++) {
            s = s * 1103515245u + 12345u;
            float noise = (float)((s >> 16) & 0x7fff) / 32768.0f - 0.5f;
            x[i * D + j] = (j % C == y[i] ? 1.0f : -0.5f) + 0.5f * noise;
        }
    }
}

/* Three epochs in batches of MMGC_MODEL_BATCH (the last one short); the
 * first step's loss and the last epoch's mean. */
static int train(MmgcModel *m, float *first, float *last) {
    double sum = 0;
    for (int epoch = 0; epoch < 3; epoch++) {
        sum = 0;
        for (int at = 0; at < N; at += MMGC_MODEL_BATCH) {
            int n = N - at < MMGC_MODEL_BATCH ? N - at : MMGC_MODEL_BATCH;
            if (epoch == 0 && at == 0) n = 5; /* a short batch */
            const float *in[] = {x + at * D};
            const int64_t *lab[] = {y + at};
            float loss;
            if (mmgc_model_train_step(m, in, lab, n, &loss)) return -1;
            if (epoch == 0 && at == 0) *first = loss;
            sum += loss;
        }
    }
    *last = (float)(sum / ((N + MMGC_MODEL_BATCH - 1) / MMGC_MODEL_BATCH));
    return 0;
}

static int predict(MmgcModel *m, float *logits) {
    const float *in[] = {x};
    return mmgc_model_predict(m, in, N, logits);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: embed_check OUT_DIR OTHER.safetensors\n");
        return 2;
    }
    make_data();
    char err[1024], path[1024];
    MmgcModel *a = mmgc_model_create(NULL, err, sizeof err), *b = mmgc_model_create(NULL, err, sizeof err);
    if (!a || !b) {
        printf("FAIL: create: %s\n", err);
        return 1;
    }

    /* what the model is, as the header says */
    check(mmgc_model_ninputs(a) == MMGC_MODEL_NINPUTS && MMGC_MODEL_NINPUTS == 1, "one input");
    check(!strcmp(mmgc_model_input_name(a, MMGC_MODEL_INPUT_X), "x"), "the input's name");
    check(mmgc_model_input_size(a, 0) == MMGC_MODEL_INPUT_X_SIZE && MMGC_MODEL_INPUT_X_SIZE == D, "its size");
    check(mmgc_model_input_name(a, 1) == NULL && mmgc_model_input_size(a, -1) == -1, "no input 1");
    check(mmgc_model_nlabels(a) == 1 && !strcmp(mmgc_model_label_name(a, MMGC_MODEL_LABEL_Y), "y"), "the label");
    check(mmgc_model_classes(a) == MMGC_MODEL_CLASSES && MMGC_MODEL_CLASSES == C, "classes");
    check(mmgc_model_batch(a) == MMGC_MODEL_BATCH && MMGC_MODEL_BATCH == 16, "batch");
    check(!strcmp(MMGC_MODEL_NAME, "tiny"), "name");

    /* errors are messages, and change nothing */
    float logits[N * C], again[N * C];
    const float *in[] = {x}, *none[] = {NULL};
    const int64_t *lab[] = {y};
    int64_t bad_y[] = {0, 1, 3};
    const int64_t *bad_lab[] = {bad_y};
    fails(mmgc_model_predict(a, in, 0, logits), a, "predict needs at least one sample (n = 0)", "predict n = 0");
    fails(mmgc_model_predict(a, none, 4, logits), a, "input 0 ('x') is NULL", "a NULL input");
    fails(mmgc_model_train_step(a, in, lab, 17, NULL), a,
          "a training step takes 1 to 16 samples (the compiled batch), got 17", "a step of 17");
    fails(mmgc_model_train_step(a, in, bad_lab, 3, NULL), a, "label 'y' of sample 2 is 3; the model has classes 0 to 2",
          "a label out of range");
    fails(mmgc_model_train_step(a, in, NULL, 3, NULL), a, "labels is NULL", "no labels");
    fails(mmgc_model_load(a, "no-such.st"), a, "no-such.st", "load of a missing file");
    fails(mmgc_model_load(a, argv[2]), a, "no tensor 'linear.w'", "load of another model's checkpoint");
    check(mmgc_model_steps(a) == 0, "a failed step is not a step");
    check(mmgc_model_create("no-such.st", err, sizeof err) == NULL && strstr(err, "no-such.st"), "create: a missing file");

    /* training learns, and is deterministic */
    float first, last, first_b, last_b;
    check(predict(a, logits) == 0 && predict(b, again) == 0 && !memcmp(logits, again, sizeof logits),
          "two new models predict the same");
    check(train(a, &first, &last) == 0, "train");
    printf("loss: first step %.4f, last epoch %.4f\n", first, last);
    check(isfinite(first) && last < 0.7f * first, "the loss falls");
    check(mmgc_model_steps(a) == 9, "steps counted");
    volatile float tiny = 1e-40f; /* a step flushes denormals, then gives the caller its own mode back */
    check(tiny * 2.0f > 0.0f, "the caller keeps its denormals after training steps");
    check(train(b, &first_b, &last_b) == 0 && first_b == first && last_b == last, "the same steps, the same losses");
    check(predict(a, logits) == 0 && predict(b, again) == 0 && !memcmp(logits, again, sizeof logits),
          "the same steps, the same weights");
    int right = 0;
    for (int i = 0; i < N; i++) {
        int k = 0;
        for (int j = 1; j < C; j++)
            if (logits[i * C + j] > logits[i * C + k]) k = j;
        right += k == y[i];
    }
    check(right >= N * 9 / 10, "the trained model classifies its data");

    /* save, create from the file, load: the same bits */
    snprintf(path, sizeof path, "%s/trained.st", argv[1]);
    check(mmgc_model_save(a, path) == 0, "save");
    MmgcModel *c = mmgc_model_create(path, err, sizeof err);
    check(c && predict(c, again) == 0 && !memcmp(logits, again, sizeof logits), "create from a saved file");
    MmgcModel *d = mmgc_model_create(NULL, err, sizeof err);
    check(d && mmgc_model_load(d, path) == 0 && predict(d, again) == 0 && !memcmp(logits, again, sizeof logits),
          "load a saved file");
    check(d && mmgc_model_steps(d) == 0, "load starts the optimizer afresh");
    check(d && mmgc_model_load(d, argv[2]) == -1 && predict(d, again) == 0 && !memcmp(logits, again, sizeof logits),
          "a failed load keeps the weights");
    fails(mmgc_model_save(a, "no-such-dir/x.st"), a, "no-such-dir/x.st", "save into a missing directory");
    check(mmgc_model_error(NULL) != NULL, "error of NULL");
    mmgc_model_destroy(a);
    mmgc_model_destroy(b);
    mmgc_model_destroy(c);
    mmgc_model_destroy(d);
    mmgc_model_destroy(NULL);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
