/* test_ckpt_layout.c — what a training checkpoint holds: the chosen (best)
 * weights under the plain names, what resuming needs under resume:NAME,
 * metadata that says which is which; the older layout and a file of
 * weights only are refused by name where they cannot serve. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "ckpt_layout.h"
#include "frontend/compile.h"
#include "harness.h"
#include "tiny_data.h"
#include "train.h"

static const char *const params[] = {"linear.w", "linear.b", "linear_2.w", "linear_2.b"};
static const int sizes[] = {128, 16, 48, 3};

static void test_names_and_metadata(void) {
    const TinyRun *run = tiny_run();
    char err[512] = "";
    Checkpoint *c = ckpt_read(run->ckpt, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(ckpt_meta(c, "format"), CKPT_FORMAT);
    CU_ASSERT_STRING_EQUAL(ckpt_meta(c, "model"), "tiny");
    CU_ASSERT_STRING_EQUAL(ckpt_meta(c, "weights"), "best");
    CU_ASSERT_STRING_EQUAL(ckpt_meta(c, "weights_epoch"), ckpt_meta(c, "best_epoch"));
    /* the parameters under their names and resume:NAME; the optimizer's
     * state (Adam's moments, the step count) under resume: only */
    for (int i = 0; i < 4; i++) {
        char name[64];
        ckpt_tensor(c, params[i]);
        snprintf(name, sizeof name, "resume:%s", params[i]);
        ckpt_tensor(c, name);
        snprintf(name, sizeof name, "resume:%s.m", params[i]);
        ckpt_tensor(c, name);
        snprintf(name, sizeof name, "resume:%s.v", params[i]);
        ckpt_tensor(c, name);
        snprintf(name, sizeof name, "%s.m", params[i]);
        CU_ASSERT_PTR_NULL(ckpt_find(c, name));
        snprintf(name, sizeof name, "best:%s", params[i]);
        CU_ASSERT_PTR_NULL(ckpt_find(c, name));
    }
    ckpt_tensor(c, "resume:optimizer.step");
    CU_ASSERT_PTR_NULL(ckpt_find(c, "optimizer.step"));
    CU_ASSERT_EQUAL(ckpt_count(c), 4 + 4 + 8 + 1);
    ckpt_free(c);
}

/* The plain names hold the best epoch's weights, not the last: a run that
 * stops at the best epoch ends with them as its last ones (resume:NAME). */
static void test_plain_is_best(void) {
    const TinyRun *run = tiny_run();
    char err[512] = "";
    Checkpoint *c = ckpt_read(run->ckpt, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int best = atoi(ckpt_meta(c, "best_epoch")), last = atoi(ckpt_meta(c, "epoch"));
    CU_ASSERT_TRUE_FATAL(best >= 1 && last == best + 3); /* stopped early: the last weights are not the best */
    char again[300], epochs[64];
    snprintf(again, sizeof again, "%s/until_best.safetensors", harness_tmpdir());
    snprintf(epochs, sizeof epochs, "max_epochs=%d", best);
    const char *sets[] = {epochs};
    FILE *out = fopen("/dev/null", "w");
    RunOptions ro = {run->data, NULL, NULL, NULL, again, NULL, NULL, &engine_llvm, 0, out, NULL, NULL, 0, NULL, NULL};
    Compiled m;
    compile_file(&m, "tests/runtime/tiny.mmg", sets, 1);
    CU_ASSERT_EQUAL_FATAL(train_model(&m.model, &ro, err, sizeof err), 0);
    compile_free(&m);
    fclose(out);
    Checkpoint *d = ckpt_read(again, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int differ = 0;
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "resume:%s", params[i]);
        size_t bytes = (size_t)sizes[i] * sizeof(float);
        CU_ASSERT_EQUAL(memcmp(ckpt_tensor(c, params[i]), ckpt_tensor(d, name), bytes), 0);
        differ += memcmp(ckpt_tensor(c, params[i]), ckpt_tensor(c, name), bytes) != 0;
    }
    CU_ASSERT_TRUE(differ > 0);
    CU_ASSERT_STRING_EQUAL(ckpt_meta(d, "weights"), "best");
    ckpt_free(d);
    ckpt_free(c);
}

/* The older layout is refused by name by --eval and --resume; a file of
 * weights only (no metadata, as written from PyTorch) is evaluated but not
 * resumed from. */
static void test_other_files(void) {
    const TinyRun *run = tiny_run();
    char old[300], plain[300], json[300], want[1200], err[512] = "";
    snprintf(old, sizeof old, "%s/old.safetensors", harness_tmpdir());
    snprintf(plain, sizeof plain, "%s/plain.safetensors", harness_tmpdir());
    snprintf(json, sizeof json, "%s/plain.json", harness_tmpdir());
    ckpt_rewrite(run->ckpt, old, NULL, NULL, "format", "mmgc-checkpoint-1");
    snprintf(want, sizeof want,
             "%s: checkpoint format 'mmgc-checkpoint-1' is an older layout (plain names hold the last epoch's "
             "weights, best:NAME the best ones); this mmgc reads 'mmgc-checkpoint-2' (see README, Training)",
             old);
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    FILE *out = fopen("/dev/null", "w");
    RunOptions ev = {run->data, NULL, json, NULL, NULL, NULL, old, &engine_interp, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(eval_model(&c.model, &ev, err, sizeof err), TRAIN_ERROR);
    CU_ASSERT_STRING_EQUAL(err, want);
    RunOptions re = {run->data, NULL, NULL, NULL, NULL, old, NULL, &engine_interp, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(train_model(&c.model, &re, err, sizeof err), TRAIN_ERROR);
    CU_ASSERT_STRING_EQUAL(err, want);
    Checkpoint *ck = ckpt_read(run->ckpt, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
    CkptTensor t[4];
    for (int i = 0; i < 4; i++) t[i] = *ckpt_find(ck, params[i]);
    CU_ASSERT_EQUAL(ckpt_write(plain, t, 4, NULL, NULL, 0, err, sizeof err), 0);
    ckpt_free(ck);
    ev.checkpoint = plain;
    CU_ASSERT_EQUAL(eval_model(&c.model, &ev, err, sizeof err), 0);
    char *a = (char *)harness_slurp(json, NULL), *b = (char *)harness_slurp(run->metrics, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(strstr(a, "\"test_loss\""), strstr(b, "\"test_loss\"")); /* the run's chosen weights */
    free(a);
    free(b);
    re.resume_path = plain;
    CU_ASSERT_EQUAL(train_model(&c.model, &re, err, sizeof err), TRAIN_ERROR);
    snprintf(want, sizeof want,
             "%s: holds weights only (no format 'mmgc-checkpoint-2' in its metadata), nothing to resume from", plain);
    CU_ASSERT_STRING_EQUAL(err, want);
    compile_free(&c);
    fclose(out);
}

/* Resuming from `ckpt` with model file `model` (and sets) fails with
 * "CKPT: message", and writes nothing: no checkpoint, no log. */
static void expect_resume_error(const char *model, const char *const *sets, int nsets, const char *ckpt,
                                const char *message) {
    const TinyRun *run = tiny_run();
    char save[300], log[300], want[1200], err[1024] = "";
    snprintf(save, sizeof save, "%s/never.safetensors", harness_tmpdir());
    snprintf(log, sizeof log, "%s/never.csv", harness_tmpdir());
    snprintf(want, sizeof want, "%s: %s", ckpt, message);
    Compiled c;
    compile_file(&c, model, sets, nsets);
    FILE *out = fopen("/dev/null", "w");
    RunOptions re = {run->data, log, NULL, NULL, save, ckpt, NULL, &engine_interp, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(train_model(&c.model, &re, err, sizeof err), TRAIN_ERROR);
    if (strcmp(err, want)) fprintf(stderr, "\n  got:      %s\n  expected: %s\n", err, want);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_EQUAL(access(save, F_OK), -1);
    CU_ASSERT_EQUAL(access(log, F_OK), -1);
    compile_free(&c);
    fclose(out);
}

/* The run's checkpoint with metadata key set to value (dropped: NULL), as tmpdir/name. */
static const char *with_meta(const char *name, const char *key, const char *value) {
    static char path[8][300];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 300, "%s/%s", harness_tmpdir(), name);
    ckpt_rewrite(tiny_run()->ckpt, p, NULL, NULL, key, value);
    return p;
}

/* Every field of where training stood is checked against the run that
 * resumes: missing, not a number, out of range, inconsistent. Each was
 * trusted: batch -3 crashed, epoch x restarted at epoch 1, batch 999
 * trained nothing, a missing val_loss left the history uninitialised. */
static void test_resume_fields(void) {
    const TinyRun *run = tiny_run();
    char err[512] = "", msg[600], lists[3][200];
    Checkpoint *c = ckpt_read(run->ckpt, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int epoch = atoi(ckpt_meta(c, "epoch")), best = atoi(ckpt_meta(c, "best_epoch"));
    CU_ASSERT_STRING_EQUAL(ckpt_meta(c, "optimizer"), "adam");
    CU_ASSERT_STRING_EQUAL(ckpt_meta(c, "batch"), "0");
    snprintf(msg, sizeof msg, "%d", epoch * 10);
    CU_ASSERT_STRING_EQUAL(ckpt_meta(c, "step"), msg); /* 150 samples to fit, 16 a batch: 10 batches an epoch */
    snprintf(lists[0], sizeof lists[0], "%s", ckpt_meta(c, "val_loss"));
    ckpt_free(c);
    const char *tiny = "tests/runtime/tiny.mmg";

    expect_resume_error(tiny, NULL, 0, with_meta("b1.safetensors", "batch", "-3"),
                        "metadata 'batch' is -3; it must be 0 to 9 (an epoch has 10 batches)");
    expect_resume_error(tiny, NULL, 0, with_meta("b2.safetensors", "batch", "999"),
                        "metadata 'batch' is 999; it must be 0 to 9 (an epoch has 10 batches)");
    expect_resume_error(tiny, NULL, 0, with_meta("b3.safetensors", "batch", "2x"), "metadata 'batch' is '2x', not an integer");
    expect_resume_error(tiny, NULL, 0, with_meta("e1.safetensors", "epoch", "x"), "metadata 'epoch' is 'x', not an integer");
    expect_resume_error(tiny, NULL, 0, with_meta("e2.safetensors", "epoch", NULL),
                        "no 'epoch' in the metadata (where training stood), so it cannot be resumed from");
    expect_resume_error(tiny, NULL, 0, with_meta("e3.safetensors", "epoch", "-5"),
                        "metadata 'epoch' is -5; it must be 0 to 40 (the model's max_epochs)");
    expect_resume_error(tiny, NULL, 0, with_meta("e4.safetensors", "epoch", ""), "metadata 'epoch' is '', not an integer");
    const char *fewer[] = {"max_epochs=5"};
    if (epoch > 5) {
        snprintf(msg, sizeof msg, "metadata 'epoch' is %d; it must be 0 to 5 (the model's max_epochs)", epoch);
        expect_resume_error(tiny, fewer, 1, run->ckpt, msg);
    }
    snprintf(msg, sizeof msg,
             "metadata 'step' is 7, but epoch %d and batch 0 at 10 batches an epoch make %d steps (was it trained on "
             "other data or with another batch size?)", epoch, epoch * 10);
    expect_resume_error(tiny, NULL, 0, with_meta("s1.safetensors", "step", "7"), msg);
    const char *batch8[] = {"batch=8"}; /* 19 batches an epoch */
    snprintf(msg, sizeof msg,
             "metadata 'step' is %d, but epoch %d and batch 0 at 19 batches an epoch make %d steps (was it trained on "
             "other data or with another batch size?)", epoch * 10, epoch, epoch * 19);
    expect_resume_error(tiny, batch8, 1, run->ckpt, msg);
    expect_resume_error(tiny, NULL, 0, with_meta("s2.safetensors", "step", "-1"), "metadata 'step' is '-1', not a non-negative integer");
    const char *seed[] = {"seed=7"};
    expect_resume_error(tiny, seed, 1, run->ckpt,
                        "metadata 'seed' is 0, but the model's seed is 7 (the validation split and the order of the "
                        "batches follow it)");
    snprintf(msg, sizeof msg, "metadata 'best_epoch' is %d; it must be 0 to %d (0: no best epoch yet)", epoch + 1, epoch);
    char num[32];
    snprintf(num, sizeof num, "%d", epoch + 1);
    expect_resume_error(tiny, NULL, 0, with_meta("be.safetensors", "best_epoch", num), msg);
    expect_resume_error(tiny, NULL, 0, with_meta("bv.safetensors", "best", "abc"), "metadata 'best' is 'abc', not a number");
    snprintf(msg, sizeof msg, "metadata 'best' is 'nan', but best_epoch is %d", best);
    expect_resume_error(tiny, NULL, 0, with_meta("bn.safetensors", "best", "nan"), msg);
    snprintf(msg, sizeof msg, "metadata 'wait' is -1; it must be 0 to %d (the epochs since best_epoch %d, of %d)",
             epoch - best, best, epoch);
    expect_resume_error(tiny, NULL, 0, with_meta("w.safetensors", "wait", "-1"), msg);
    expect_resume_error(tiny, NULL, 0, with_meta("ls.safetensors", "epoch_loss_sum", "1.5.2"),
                        "metadata 'epoch_loss_sum' is '1.5.2', not a number");
    expect_resume_error(tiny, NULL, 0, with_meta("ec.safetensors", "epoch_correct", "1000"),
                        "metadata 'epoch_correct' is 1000; it must be 0 (right predictions among the 0 samples of the "
                        "epoch's first 0 batches)");
    expect_resume_error(tiny, NULL, 0, with_meta("v1.safetensors", "val_loss", NULL),
                        "no 'val_loss' in the metadata (where training stood), so it cannot be resumed from");
    snprintf(msg, sizeof msg, "metadata 'val_loss' holds 2 values, but 'epoch' is %d (one per finished epoch)", epoch);
    expect_resume_error(tiny, NULL, 0, with_meta("v2.safetensors", "val_loss", "0.5,0.25"), msg);
    snprintf(msg, sizeof msg, "metadata 'train_accuracy' holds 0 values, but 'epoch' is %d (one per finished epoch)", epoch);
    expect_resume_error(tiny, NULL, 0, with_meta("v3.safetensors", "train_accuracy", ""), msg);
    /* the second value not a number */
    char *comma = strchr(lists[0], ',');
    CU_ASSERT_PTR_NOT_NULL_FATAL(comma);
    snprintf(lists[1], sizeof lists[1], "%.*s,oops%s", (int)(comma - lists[0]), lists[0], strchr(comma + 1, ','));
    expect_resume_error(tiny, NULL, 0, with_meta("v4.safetensors", "val_loss", lists[1]),
                        "metadata 'val_loss' value 2 is 'oops', not a number");
    /* nan and inf are numbers (a diverged epoch) */
    snprintf(lists[2], sizeof lists[2], "nan,-inf%s", strchr(comma + 1, ','));
    const char *ok = with_meta("v5.safetensors", "val_loss", lists[2]);
    Compiled m;
    compile_file(&m, tiny, NULL, 0);
    FILE *out = fopen("/dev/null", "w");
    RunOptions re = {run->data, NULL, NULL, NULL, NULL, ok, NULL, &engine_interp, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(train_model(&m.model, &re, err, sizeof err), 0);
    compile_free(&m);
    fclose(out);
}

/* The run's checkpoint with one more tensor, `extra` (4 floats), as tmpdir/name. */
static const char *with_extra(const char *name, const char *extra) {
    static char path[300];
    char err[512] = "";
    snprintf(path, sizeof path, "%s/%s", harness_tmpdir(), name);
    Checkpoint *c = ckpt_read(tiny_run()->ckpt, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int n = ckpt_count(c), nmeta = ckpt_meta_count(c);
    CkptTensor *t = calloc((size_t)n + 1, sizeof *t);
    const char **k = calloc((size_t)nmeta, sizeof *k), **v = calloc((size_t)nmeta, sizeof *v);
    for (int i = 0; i < n; i++) t[i] = *ckpt_get(c, i);
    static const float four[4] = {1, 2, 3, 4};
    t[n] = (CkptTensor){extra, DT_F32, {1, {4}}, four};
    for (int i = 0; i < nmeta; i++) ckpt_meta_get(c, i, &k[i], &v[i]);
    CU_ASSERT_EQUAL(ckpt_write(path, t, n + 1, k, v, nmeta, err, sizeof err), 0);
    free(t), free(k), free(v);
    ckpt_free(c);
    return path;
}

/* A checkpoint of another model or optimizer is refused, saying what
 * differs: the optimizer, or the first tensor missing, extra or of
 * another shape. */
static void test_resume_other_model(void) {
    const TinyRun *run = tiny_run();
    const char *tiny = "tests/runtime/tiny.mmg";
    const char *sgd[] = {"optimizer=sgd(lr: 0.1)"}, *momentum[] = {"optimizer=momentum(lr: 0.1)"};
    expect_resume_error(tiny, sgd, 1, run->ckpt,
                        "was trained with optimizer adam, but the model's optimizer is sgd (resuming needs the same one)");
    const char *anon = with_meta("anon.safetensors", "optimizer", NULL); /* as the C API's save writes it */
    expect_resume_error(tiny, sgd, 1, anon,
                        "holds 'resume:optimizer.step', optimizer state that the model's optimizer (sgd) does not have: was "
                        "it trained with another optimizer?");
    expect_resume_error(tiny, momentum, 1, anon,
                        "no tensor 'resume:linear.w.buf', state of the model's optimizer (momentum): was it trained with "
                        "another optimizer?");
    expect_resume_error("tests/runtime/tiny_bn.mmg", NULL, 0, run->ckpt,
                        "no tensor 'resume:batch_norm.gamma' (was it saved from another model?)");
    char path[300];
    snprintf(path, sizeof path, "%s/reshaped.safetensors", harness_tmpdir());
    Shape t = {2, {16, 8}};
    ckpt_rewrite(run->ckpt, path, "resume:linear.w", &t, NULL, NULL);
    expect_resume_error(tiny, NULL, 0, path, "'resume:linear.w' is f32 [16, 8] but the model's is f32 [8, 16]");
    snprintf(path, sizeof path, "%s/missing.safetensors", harness_tmpdir());
    ckpt_rewrite(run->ckpt, path, "resume:linear_2.b", NULL, NULL, NULL);
    expect_resume_error(tiny, NULL, 0, path, "no tensor 'resume:linear_2.b' (was it saved from another model?)");
    expect_resume_error(tiny, NULL, 0, with_extra("extra1.safetensors", "resume:head.w"),
                        "holds 'resume:head.w', which the model does not have (was it saved from another model?)");
    expect_resume_error(tiny, NULL, 0, with_extra("extra2.safetensors", "resume:linear.w.buf"),
                        "holds 'resume:linear.w.buf', optimizer state that the model's optimizer (adam) does not have: "
                        "was it trained with another optimizer?");
}

/* Weights that are not numbers are refused by --eval and --resume, naming
 * the tensor and the index; a flipped bit by the checksum. */
static void test_not_finite(void) {
    const TinyRun *run = tiny_run();
    char path[300], want[800], err[1024] = "";
    snprintf(path, sizeof path, "%s/nan.safetensors", harness_tmpdir());
    ckpt_rewrite_value(run->ckpt, path, "resume:linear.b", 3, NAN);
    expect_resume_error("tests/runtime/tiny.mmg", NULL, 0, path,
                        "tensor 'resume:linear.b' holds NaN at index 3; a checkpoint's values must be finite numbers");
    snprintf(path, sizeof path, "%s/inf.safetensors", harness_tmpdir());
    ckpt_rewrite_value(run->ckpt, path, "linear_2.w", 5, -INFINITY);
    expect_resume_error("tests/runtime/tiny.mmg", NULL, 0, path,
                        "tensor 'linear_2.w' holds -inf at index 5; a checkpoint's values must be finite numbers");
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    FILE *out = fopen("/dev/null", "w");
    RunOptions ev = {run->data, NULL, NULL, NULL, NULL, NULL, path, &engine_interp, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(eval_model(&c.model, &ev, err, sizeof err), TRAIN_ERROR);
    snprintf(want, sizeof want, "%s: tensor 'linear_2.w' holds -inf at index 5; a checkpoint's values must be finite numbers", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    /* a bit flipped in the file's last byte: the checksum no longer matches */
    size_t n;
    unsigned char *bytes = harness_slurp(run->ckpt, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    bytes[n - 1] ^= 0x40;
    snprintf(path, sizeof path, "%s/flipped.safetensors", harness_tmpdir());
    harness_put_bytes(path, bytes, n);
    free(bytes);
    ev.checkpoint = path;
    CU_ASSERT_EQUAL(eval_model(&c.model, &ev, err, sizeof err), TRAIN_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ": the file is corrupt"));
    CU_ASSERT_EQUAL(strncmp(err, path, strlen(path)), 0);
    compile_free(&c);
    fclose(out);
}

static CU_TestInfo tests[] = {
    {"names and metadata: weights, resume:NAME, the optimizer's state", test_names_and_metadata},
    {"the plain names hold the best epoch's weights", test_plain_is_best},
    {"the older layout and weights-only files", test_other_files},
    {"resume: every field of where training stood is checked", test_resume_fields},
    {"resume: a checkpoint of another model or optimizer is refused", test_resume_other_model},
    {"weights that are not numbers, a flipped bit", test_not_finite},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run_in_tmpdir("ckpt_layout", tests); }
