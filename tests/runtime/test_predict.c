/* test_predict.c — predict_model: its logits equal the model computed by
 * hand from the checkpoint's weights and agree with the evaluation's
 * metrics, for any sample count, on both backends; every bad input is an
 * error naming it, with nothing printed or written. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "ckpt_layout.h"
#include "frontend/compile.h"
#include "harness.h"
#include "npy.h"
#include "predict.h"
#include "tiny_data.h"
#include "train.h"
#include "util.h"

static const char *data, *ckpt, *metrics;

/* The trained tiny.mmg (tiny_data.h): its data set, checkpoint and metrics. */
static void setup(void) {
    const TinyRun *run = tiny_run();
    data = run->data;
    ckpt = run->ckpt;
    metrics = run->metrics;
}

/* ---- predictions -------------------------------------------------------------------- */

/* tiny.mmg by hand from the checkpoint's plain weights ([in, out] matrices;
 * dropout is off when evaluating): the logits [n, 3] of x [n, 8]. */
static float *reference(const float *x, int64_t n) {
    char err[512] = "";
    Checkpoint *c = ckpt_read(ckpt, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const float *w1 = ckpt_tensor(c, "linear.w"), *b1 = ckpt_tensor(c, "linear.b");
    const float *w2 = ckpt_tensor(c, "linear_2.w"), *b2 = ckpt_tensor(c, "linear_2.b");
    float *out = xmalloc((size_t)n * 3 * sizeof *out);
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            double sum = b2[k];
            for (int j = 0; j < 16; j++) {
                double h = b1[j];
                for (int f = 0; f < 8; f++) h += (double)x[i * 8 + f] * w1[f * 16 + j];
                sum += (h > 0 ? h : 0) * w2[j * 3 + k];
            }
            out[i * 3 + k] = (float)sum;
        }
    ckpt_free(c);
    return out;
}

/* The test split's inputs and labels. */
static void test_split(NpyArray *x, NpyArray *y) {
    char path[400], err[512] = "";
    snprintf(path, sizeof path, "%s/x_test.npy", data);
    CU_ASSERT_EQUAL_FATAL(npy_read(path, x, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/y_test.npy", data);
    CU_ASSERT_EQUAL_FATAL(npy_read(path, y, err, sizeof err), 0);
}

/* Runs predict_model on model with the inputs; its lines go to `lines`
 * (a file). Returns its status; the message in err. */
static int predict(const char *model, const PredictInput *in, int nin, const char *checkpoint, const char *logits,
                   const EngineOps *ops, const char *lines, char *err) {
    Compiled c;
    compile_file(&c, model, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(c.status, 0);
    FILE *out = fopen(lines, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    PredictOptions o = {checkpoint, in, nin, logits, ops, out};
    int rc = predict_model(&c.model, &o, err, 512);
    fclose(out);
    compile_free(&c);
    return rc;
}

/* A file for predict's lines. */
static const char *tmp_lines(void) {
    static char path[400];
    snprintf(path, sizeof path, "%s/lines.txt", harness_tmpdir());
    return path;
}

/* Predicts the first n test samples (written as dtype) with ops; checks
 * the logits file and the printed lines against the hand-computed model. */
static void predict_first(int64_t n, char dtype, const EngineOps *ops) {
    setup();
    NpyArray x, y;
    test_split(&x, &y);
    char file[64], path[400], logits[400], lines[400], err[512] = "";
    snprintf(file, sizeof file, "x%lld%c.npy", (long long)n, dtype);
    snprintf(path, sizeof path, "%s/%s", harness_tmpdir(), file);
    snprintf(logits, sizeof logits, "%s/logits_%s_%lld.npy", harness_tmpdir(), ops->name, (long long)n);
    snprintf(lines, sizeof lines, "%s/lines_%s_%lld.txt", harness_tmpdir(), ops->name, (long long)n);
    NpyArray head = x, conv;
    head.shape[0] = n;
    head.nbytes = (size_t)n * 8 * sizeof(float);
    CU_ASSERT_EQUAL_FATAL(npy_convert(&head, dtype, &conv, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(npy_write(path, &conv, err, sizeof err), 0);
    npy_free(&conv);
    PredictInput in = {"x", path};
    int rc = predict("tests/runtime/tiny.mmg", &in, 1, ckpt, logits, ops, lines, err);
    if (rc) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    float *want = reference(x.data, n);
    NpyArray got;
    CU_ASSERT_EQUAL_FATAL(npy_read(logits, &got, err, sizeof err), 0);
    CU_ASSERT_EQUAL(got.dtype, 'f');
    CU_ASSERT_EQUAL(got.rank, 2);
    CU_ASSERT_EQUAL(got.shape[0], n);
    CU_ASSERT_EQUAL_FATAL(got.shape[1], 3);
    const float *g = got.data;
    double worst = 0;
    for (int64_t i = 0; i < n * 3; i++) worst = fmax(worst, fabs((double)g[i] - want[i]));
    if (worst > 1e-4) fprintf(stderr, "\nlogits differ from the hand-computed ones by %g\n", worst);
    CU_ASSERT_TRUE(worst <= 1e-4);
    /* one line per sample: index, the argmax, its softmax probability */
    FILE *f = fopen(lines, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    int64_t count = 0;
    long long index;
    int cls;
    double prob;
    while (fscanf(f, "%lld %d %lf", &index, &cls, &prob) == 3) {
        const float *l = g + count * 3;
        int k = l[1] > l[0] ? 1 : 0;
        if (l[2] > l[k]) k = 2;
        double p = 1 / (exp(l[0] - l[k]) + exp(l[1] - l[k]) + exp(l[2] - l[k]));
        CU_ASSERT_EQUAL(index, count);
        CU_ASSERT_EQUAL(cls, k);
        CU_ASSERT_DOUBLE_EQUAL(prob, p, 0.5e-4 + 1e-9);
        count++;
    }
    fclose(f);
    CU_ASSERT_EQUAL(count, n);
    npy_free(&got);
    free(want);
    npy_free(&x);
    npy_free(&y);
}

/* Predicts the test split with model's checkpoint; the accuracy and the
 * loss of the logits are the evaluation's (the run's test metrics, of the
 * same weights). */
static void agrees_with_evaluation(const char *model, const char *checkpoint, const char *metrics_json,
                                   const EngineOps *ops) {
    char xpath[400], logits[400], err[512] = "";
    snprintf(xpath, sizeof xpath, "%s/x_test.npy", data);
    snprintf(logits, sizeof logits, "%s/eval_logits.npy", harness_tmpdir());
    PredictInput in = {"x", xpath};
    int rc = predict(model, &in, 1, checkpoint, logits, ops, tmp_lines(), err);
    if (rc) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    NpyArray got, x, y;
    CU_ASSERT_EQUAL_FATAL(npy_read(logits, &got, err, sizeof err), 0);
    test_split(&x, &y);
    const float *l = got.data;
    const int64_t *labels = y.data;
    double loss = 0;
    int correct = 0;
    for (int i = 0; i < 100; i++) {
        const float *r = l + i * 3;
        int k = r[1] > r[0] ? 1 : 0;
        if (r[2] > r[k]) k = 2;
        correct += k == labels[i];
        double lse = r[k] + log(exp(r[0] - r[k]) + exp(r[1] - r[k]) + exp(r[2] - r[k]));
        loss += lse - r[labels[i]];
    }
    char *json = (char *)harness_slurp(metrics_json, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    double acc = atof(strstr(json, "\"test_accuracy\": ") + 17), tl = atof(strstr(json, "\"test_loss\": ") + 13);
    CU_ASSERT_DOUBLE_EQUAL(correct / 100.0, acc, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(loss / 100, tl, 1e-4 * tl);
    free(json);
    npy_free(&got);
    npy_free(&x);
    npy_free(&y);
}

/* The whole test split: the hand-computed logits, the evaluation's metrics. */
static void whole_test_split(const EngineOps *ops) {
    predict_first(100, 'f', ops);
    agrees_with_evaluation("tests/runtime/tiny.mmg", ckpt, metrics, ops);
}

static void test_llvm(void) { whole_test_split(&engine_llvm); }
static void test_interp(void) { whole_test_split(&engine_interp); }

/* A model with state: tiny_bn.mmg predicts with batch norm's running
 * statistics (training = 0), as the evaluation does. */
static void test_state(void) {
    setup();
    char save[400], json[400], err[512] = "";
    snprintf(save, sizeof save, "%s/bn.safetensors", harness_tmpdir());
    snprintf(json, sizeof json, "%s/bn.json", harness_tmpdir());
    FILE *out = fopen("/dev/null", "w");
    RunOptions ro = {data, NULL, json, NULL, save, NULL, NULL, &engine_llvm, 0, out, NULL, NULL, 0, NULL, NULL};
    Compiled c;
    compile_file(&c, "tests/runtime/tiny_bn.mmg", NULL, 0);
    CU_ASSERT_EQUAL_FATAL(train_model(&c.model, &ro, err, sizeof err), 0);
    compile_free(&c);
    fclose(out);
    agrees_with_evaluation("tests/runtime/tiny_bn.mmg", save, json, &engine_llvm);
    agrees_with_evaluation("tests/runtime/tiny_bn.mmg", save, json, &engine_interp);
}

/* Sample counts that are not a multiple of the batch (16), one sample, and
 * an input of another dtype (float64), on both backends. */
static void test_sample_counts(void) {
    const EngineOps *ops[2] = {&engine_llvm, &engine_interp};
    for (int b = 0; b < 2; b++) {
        predict_first(7, 'd', ops[b]);
        predict_first(33, 'f', ops[b]);
        predict_first(1, 'f', ops[b]);
    }
}

/* ---- errors ------------------------------------------------------------------------- */

/* A file's size, or -1 if it does not exist. */
static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) ? -1 : (long)st.st_size;
}

/* Predicts and expects failure with exactly `want`, nothing printed and no
 * logits file. */
static void fails(const char *model, const PredictInput *in, int nin, const char *checkpoint, const char *want) {
    char lines[400], logits[400], err[512] = "";
    snprintf(lines, sizeof lines, "%s/bad_lines.txt", harness_tmpdir());
    snprintf(logits, sizeof logits, "%s/bad_logits.npy", harness_tmpdir());
    CU_ASSERT_EQUAL(predict(model, in, nin, checkpoint, logits, &engine_interp, lines, err), -1);
    if (strcmp(err, want)) fprintf(stderr, "\n got: %s\nwant: %s\n", err, want);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_EQUAL(file_size(lines), 0);
    CU_ASSERT_EQUAL(file_size(logits), -1);
}

/* dir/name as a path in the test directory. */
static const char *tmp(const char *name) {
    static char paths[8][400];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 400, "%s/%s", harness_tmpdir(), name);
    return p;
}

static void test_bad_inputs(void) {
    setup();
    char want[1200];
    float zeros[7 * 8] = {0};
    int64_t s47[2] = {4, 7}, s78[2] = {7, 8}, s54[2] = {5, 4};
    write_npy(harness_tmpdir(), "x47.npy", 'f', 2, s47, zeros);
    write_npy(harness_tmpdir(), "a7.npy", 'f', 2, s78, zeros);
    write_npy(harness_tmpdir(), "b5.npy", 'f', 2, s54, zeros);
    const char *x47 = tmp("x47.npy"), *a7 = tmp("a7.npy"), *b5 = tmp("b5.npy");
    /* the wrong per-sample shape */
    PredictInput in = {"x", x47};
    snprintf(want, sizeof want, "%s: shape [4, 7] does not match the model's input 'x' ([-1, 8], any sample count)", x47);
    fails("tests/runtime/tiny.mmg", &in, 1, ckpt, want);
    /* a dtype the reader does not know (complex64) */
    write_npy(harness_tmpdir(), "half.npy", 'f', 2, s78, zeros);
    const char *half = tmp("half.npy");
    unsigned char *bytes = harness_slurp(half, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    char *descr = strstr((char *)bytes + 10, "<f4");
    CU_ASSERT_PTR_NOT_NULL_FATAL(descr);
    descr[1] = 'c', descr[2] = '8';
    FILE *f = fopen(half, "r+b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(bytes, 1, (size_t)(descr - (char *)bytes) + 3, f);
    fclose(f);
    free(bytes);
    in.path = half;
    snprintf(want, sizeof want, "%s: unsupported dtype '<c8' (supported: '<f2', '<f4', '<f8', '<i4', '<i8', '|u1')", half);
    fails("tests/runtime/tiny.mmg", &in, 1, ckpt, want);
    /* a missing file */
    in.path = tmp("none.npy");
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", in.path);
    fails("tests/runtime/tiny.mmg", &in, 1, ckpt, want);
    /* different sample counts */
    PredictInput two[3] = {{"a", a7}, {"b", b5}, {"a", b5}};
    snprintf(want, sizeof want, "%s has 5 samples but %s has 7 (every input needs one row per sample)", b5, a7);
    fails("tests/runtime/two.mmg", two, 2, ckpt, want);
    /* a model input without --input, an unknown one, one given twice */
    fails("tests/runtime/two.mmg", two, 1, ckpt,
          "model 'two' needs --input b=FILE.npy (input 'b' is [-1, 4], any sample count)");
    fails("tests/runtime/tiny.mmg", NULL, 0, ckpt,
          "model 'tiny' needs --input x=FILE.npy (input 'x' is [-1, 8], any sample count)");
    PredictInput z = {"z", a7};
    snprintf(want, sizeof want, "--input z=%s: model 'tiny' has no input 'z' (its inputs: x)", a7);
    fails("tests/runtime/tiny.mmg", &z, 1, ckpt, want);
    snprintf(want, sizeof want, "--input a is given twice ('%s' and '%s')", a7, b5);
    fails("tests/runtime/two.mmg", two, 3, ckpt, want);
    /* a model without logits */
    PredictInput ab[2] = {{"a", a7}, {"b", a7}};
    fails("tests/runtime/pair.mmg", ab, 2, ckpt, "model 'pair' has no logits (it binds only a loss), so there is nothing to predict");
}

static void test_bad_checkpoints(void) {
    setup();
    char want[1200], err[512] = "";
    float zeros[8 * 8] = {0};
    int64_t s88[2] = {8, 8};
    write_npy(harness_tmpdir(), "x8.npy", 'f', 2, s88, zeros);
    PredictInput in = {"x", tmp("x8.npy")};
    /* a tensor missing, a tensor of another shape: from another model */
    const char *other = tmp("other.safetensors");
    ckpt_rewrite(ckpt, other, "linear_2.b", NULL, NULL, NULL);
    snprintf(want, sizeof want, "%s: no tensor 'linear_2.b' (was it saved from another model?)", other);
    fails("tests/runtime/tiny.mmg", &in, 1, other, want);
    Shape narrow = {2, {4, 16}};
    ckpt_rewrite(ckpt, other, "linear.w", &narrow, NULL, NULL);
    snprintf(want, sizeof want, "%s: 'linear.w' is f32 [4, 16] but the model's is f32 [8, 16]", other);
    fails("tests/runtime/tiny.mmg", &in, 1, other, want);
    /* a weight that is not a number */
    const char *nan = tmp("nan.safetensors");
    ckpt_rewrite_value(ckpt, nan, "linear_2.w", 5, NAN);
    snprintf(want, sizeof want, "%s: tensor 'linear_2.w' holds NaN at index 5; a checkpoint's values must be finite numbers", nan);
    fails("tests/runtime/tiny.mmg", &in, 1, nan, want);
    /* the older layout is refused by name */
    const char *old = tmp("old.safetensors");
    ckpt_rewrite(ckpt, old, NULL, NULL, "format", "mmgc-checkpoint-1");
    snprintf(want, sizeof want,
             "%s: checkpoint format 'mmgc-checkpoint-1' is an older layout (plain names hold the last epoch's "
             "weights, best:NAME the best ones); this mmgc reads 'mmgc-checkpoint-2' (see README, Training)",
             old);
    fails("tests/runtime/tiny.mmg", &in, 1, old, want);
    /* an unwritable logits file: an error, nothing printed */
    char lines[400], logits[400];
    snprintf(lines, sizeof lines, "%s/unwritable.txt", harness_tmpdir());
    snprintf(logits, sizeof logits, "%s/no/such/dir/logits.npy", harness_tmpdir());
    CU_ASSERT_EQUAL(predict("tests/runtime/tiny.mmg", &in, 1, ckpt, logits, &engine_interp, lines, err), -1);
    snprintf(want, sizeof want, "%s: cannot write %s.tmp: No such file or directory", logits, logits);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_EQUAL(file_size(lines), 0);
}

/* A file of weights only (no metadata, as written from PyTorch) predicts
 * what the run's checkpoint does. */
static void test_weights_only(void) {
    setup();
    char plain[400], err[512] = "";
    snprintf(plain, sizeof plain, "%s/plain.safetensors", harness_tmpdir());
    Checkpoint *ck = ckpt_read(ckpt, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
    const char *names[4] = {"linear.w", "linear.b", "linear_2.w", "linear_2.b"};
    CkptTensor t[4];
    for (int i = 0; i < 4; i++) t[i] = *ckpt_find(ck, names[i]);
    CU_ASSERT_EQUAL(ckpt_write(plain, t, 4, NULL, NULL, 0, err, sizeof err), 0);
    ckpt_free(ck);
    PredictInput in = {"x", tmp("x8.npy")};
    float x[8 * 8];
    for (int i = 0; i < 64; i++) x[i] = (float)(i % 5) - 2;
    int64_t s88[2] = {8, 8};
    write_npy(harness_tmpdir(), "x8.npy", 'f', 2, s88, x);
    CU_ASSERT_EQUAL(predict("tests/runtime/tiny.mmg", &in, 1, plain, NULL, &engine_interp, tmp("plain.txt"), err), 0);
    CU_ASSERT_EQUAL(predict("tests/runtime/tiny.mmg", &in, 1, ckpt, NULL, &engine_interp, tmp("full.txt"), err), 0);
    char *a = (char *)harness_slurp(tmp("plain.txt"), NULL), *b = (char *)harness_slurp(tmp("full.txt"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\n7  "));
    free(a);
    free(b);
}

static CU_TestInfo tests[] = {
    {"predict on the test split (llvm): the hand-computed logits, the evaluation's metrics", test_llvm},
    {"predict on the test split (interpreter): the hand-computed logits, the evaluation's metrics", test_interp},
    {"a model with state (batch norm): the evaluation's metrics, both backends", test_state},
    {"predict 7, 33 and 1 samples, float64 input, both backends", test_sample_counts},
    {"bad --input files: shape, dtype, counts, names, a model without logits", test_bad_inputs},
    {"bad checkpoints, the older layout, an unwritable logits file", test_bad_checkpoints},
    {"weights only (no metadata)", test_weights_only},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run_in_tmpdir("predict", tests); }
