/* test_train.c — the runtime: early stopping, metrics, data checks, and
 * end-to-end training of a tiny model on a data set written here (it must
 * learn; runs are reproducible; resuming equals not stopping). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.h"
#include "dataset.h"
#include "early_stop.h"
#include "frontend/compile.h"
#include "harness.h"
#include "lr_schedule.h"
#include "metrics.h"
#include "npy.h"
#include "tiny_data.h"
#include "train.h"
#include "util.h"

/* ---- early stopping and metrics ----------------------------------------------------- */

static void test_early_stopping(void) {
    EarlyStop s;
    early_stop_init(&s, 0, 2, 0.01);
    const double loss[] = {1.0, 0.8, 0.795, 0.7, 0.71, 0.705, 0.6};
    int best[] = {1, 1, 0, 1, 0, 0};
    for (int e = 0; e < 6; e++) CU_ASSERT_EQUAL(early_stop_update(&s, e + 1, loss[e]), best[e]);
    CU_ASSERT_EQUAL(s.best_epoch, 4);
    CU_ASSERT_DOUBLE_EQUAL(s.best, 0.7, 1e-12);
    CU_ASSERT_TRUE(early_stop_done(&s)); /* epochs 5 and 6 did not improve by 0.01 */
    early_stop_init(&s, 1, 0, 0);        /* accuracy, patience 0: stop at the first non-improvement */
    CU_ASSERT_EQUAL(early_stop_update(&s, 1, 0.5), 1);
    CU_ASSERT_FALSE(early_stop_done(&s));
    CU_ASSERT_EQUAL(early_stop_update(&s, 2, 0.6), 1);
    CU_ASSERT_EQUAL(early_stop_update(&s, 3, 0.6), 0);
    CU_ASSERT_TRUE(early_stop_done(&s));
}

static void test_metrics(void) {
    Metrics m;
    metrics_init(&m, 3);
    /* 4 samples in a batch of 5 (the fifth is padding and must not count) */
    const float logits[] = {2, 1, 0, 0, 3, 1, 0, 1, 2, 5, 0, 0, 9, 9, 9};
    const int64_t labels[] = {0, 1, 1, 2, 0};
    const float loss[] = {0.5f, 1.0f, 1.5f, 2.0f, 100.0f};
    metrics_add(&m, loss, 0, logits, labels, 4);
    CU_ASSERT_EQUAL(m.samples, 4);
    CU_ASSERT_DOUBLE_EQUAL(metrics_loss(&m), 1.25, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(metrics_accuracy(&m), 0.5, 1e-12); /* predictions 0, 1, 2, 0 */
    CU_ASSERT_EQUAL(m.confusion[0 * 3 + 0], 1);
    CU_ASSERT_EQUAL(m.confusion[1 * 3 + 1], 1);
    CU_ASSERT_EQUAL(m.confusion[1 * 3 + 2], 1);
    CU_ASSERT_EQUAL(m.confusion[2 * 3 + 0], 1);
    CU_ASSERT_DOUBLE_EQUAL(metrics_precision(&m, 0), 0.5, 1e-12); /* predicted 0 twice, right once */
    CU_ASSERT_DOUBLE_EQUAL(metrics_recall(&m, 1), 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(metrics_precision(&m, 2), 0.0, 1e-12);
    metrics_free(&m);
}

static void test_permutation(void) {
    int64_t p[1000], q[1000];
    char seen[1000] = {0};
    dataset_permutation(p, 1000, 7, 1);
    dataset_permutation(q, 1000, 7, 1);
    int moved = 0;
    for (int i = 0; i < 1000; i++) {
        CU_ASSERT_TRUE(p[i] >= 0 && p[i] < 1000 && !seen[p[i]]);
        seen[p[i]] = 1;
        moved += p[i] != i;
        CU_ASSERT_EQUAL(p[i], q[i]);
    }
    CU_ASSERT_TRUE(moved > 900);
}

/* ---- a tiny data set -------------------------------------------------------------------- */

/* Trains a model file with the given --set values; returns the exit code. */
static int train_file(const char *path, const char *const *sets, int nsets, RunOptions *ro, char *err) {
    Compiled c;
    compile_file(&c, path, sets, nsets);
    CU_ASSERT_EQUAL_FATAL(c.status, 0);
    int rc = train_model(&c.model, ro, err, 512);
    compile_free(&c);
    return rc;
}

/* Trains tiny.mmg with the given --set values; returns the exit code. */
static int train(const char *const *sets, int nsets, RunOptions *ro, char *err) {
    return train_file("tests/runtime/tiny.mmg", sets, nsets, ro, err);
}

/* A file's text (a test failure if it cannot be read). */
static char *slurp(const char *path) { return (char *)harness_slurp(path, NULL); }

/* Trains tiny.mmg on generated data with engine ops: it learns, logs,
 * reports, reproduces itself and evaluates its checkpoint. */
static void end_to_end(const EngineOps *ops) {
    char data[300], log[300], json[300], report[300], save[300], err[512] = "";
    snprintf(data, sizeof data, "%s/data", harness_tmpdir());
    make_data(data);
    snprintf(log, sizeof log, "%s/run.csv", harness_tmpdir());
    snprintf(json, sizeof json, "%s/metrics.json", harness_tmpdir());
    snprintf(report, sizeof report, "%s/report", harness_tmpdir());
    snprintf(save, sizeof save, "%s/tiny.safetensors", harness_tmpdir());
    FILE *out = fopen("/dev/null", "w");
    RunOptions ro = {data, log, json, report, save, NULL, NULL, ops, 0, out, NULL, "mmgc tests/runtime/tiny.mmg --train", 0, NULL, NULL};
    int rc = train(NULL, 0, &ro, err);
    if (rc) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char *metrics = slurp(json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(metrics);
    const char *acc = strstr(metrics, "\"test_accuracy\": ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(acc);
    double accuracy = atof(acc + 17);
    if (accuracy < 0.8) fprintf(stderr, "\ntest accuracy %.3f\n%s", accuracy, metrics);
    CU_ASSERT_TRUE(accuracy >= 0.8); /* chance is 1/3 */
    CU_ASSERT_PTR_NOT_NULL(strstr(metrics, "\"test_samples\": 100,")); /* each test sample once */
    char *csv = slurp(log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    static const char header[] = "epoch,train_loss,val_loss,val_accuracy,seconds,train_accuracy,samples_per_second\n";
    CU_ASSERT_EQUAL_FATAL(strncmp(csv, header, sizeof header - 1), 0);
    /* epoch 1: the training accuracy of its steps (a fraction) and its training samples/s (150 samples) */
    double e1[7];
    CU_ASSERT_EQUAL_FATAL(sscanf(csv + sizeof header - 1, "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &e1[0], &e1[1], &e1[2], &e1[3],
                                 &e1[4], &e1[5], &e1[6]), 7);
    /* k / 150 for a whole k, printed to 6 digits: within 150 * 5e-7 of k */
    CU_ASSERT_TRUE(e1[0] == 1 && e1[5] > 0 && e1[5] <= 1 && fabs(e1[5] * 150 - floor(e1[5] * 150 + 0.5)) < 1e-4);
    CU_ASSERT_TRUE(e1[6] > 0);
    char *jsonl_path = xmalloc(strlen(log) + 8), *jsonl;
    snprintf(jsonl_path, strlen(log) + 8, "%.*sjsonl", (int)strlen(log) - 3, log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(jsonl = slurp(jsonl_path));
    char want_acc[64];
    snprintf(want_acc, sizeof want_acc, "\"train_accuracy\": %.6g, \"samples_per_second\": ", e1[5]);
    CU_ASSERT_PTR_NOT_NULL(strstr(jsonl, want_acc));
    free(jsonl);
    free(jsonl_path);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s/index.html'", report);
    CU_ASSERT_EQUAL(system(cmd), 0);
    /* the report says what the run was: command, settings, data, parameters, every epoch */
    snprintf(cmd, sizeof cmd, "%s/index.html", report);
    char *html = slurp(cmd), want[700];
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr><th>command</th><td>mmgc tests/runtime/tiny.mmg --train</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr><th>mmgc</th><td>0."));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr><th>started</th><td>20"));
    snprintf(want, sizeof want, "<tr><th>data manifest</th><td>none: %s has no manifest.json</td></tr>", data);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr><th>samples</th><td>150 train, 50 validation, 100 test</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr><th>parameters</th><td>195 trainable</td></tr>"));
    CU_ASSERT_PTR_NULL(strstr(html, "<tr><th>audio</th>")); /* features, not sound */
    CU_ASSERT_PTR_NULL(strstr(html, "<audio"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr><th>seed</th><td>0</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr><th>optimizer</th><td>adam(lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-08)</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr><th>early_stopping.patience</th><td>3</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<th>epoch</th><th>train loss</th><th>train accuracy</th><th>val loss</th>"
                                        "<th>val accuracy</th><th>seconds</th><th>samples/s</th></tr>"));
    CU_ASSERT_PTR_NULL(strstr(html, "Still training"));
    /* training accuracy per epoch, from the training steps' logits, also in the checkpoint */
    Checkpoint *ck = ckpt_read(save, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
    double first = atof(ckpt_meta(ck, "train_accuracy")), last = atof(strrchr(ckpt_meta(ck, "train_accuracy"), ',') + 1);
    CU_ASSERT_TRUE(first > 0 && first <= 1 && last > first && last <= 1);
    ckpt_free(ck);
    snprintf(want, sizeof want, "<td>%.2f%%</td>", 100 * first);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, want));
    free(html);
    /* the same seed gives the same run */
    char json2[300];
    snprintf(json2, sizeof json2, "%s/metrics2.json", harness_tmpdir());
    RunOptions again = ro;
    again.metrics_json = json2;
    again.log_path = NULL;
    again.report_dir = NULL;
    again.save_path = NULL;
    CU_ASSERT_EQUAL(train(NULL, 0, &again, err), 0);
    char *metrics2 = slurp(json2);
    CU_ASSERT_STRING_EQUAL(metrics, metrics2);
    /* evaluating the saved best weights gives the same test metrics */
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    char json3[300];
    snprintf(json3, sizeof json3, "%s/metrics3.json", harness_tmpdir());
    RunOptions ev = {data, NULL, json3, NULL, NULL, NULL, save, ops, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(eval_model(&c.model, &ev, err, sizeof err), 0);
    compile_free(&c);
    char *metrics3 = slurp(json3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(metrics3);
    CU_ASSERT_STRING_EQUAL(strstr(metrics3, "\"test_loss\""), strstr(metrics, "\"test_loss\""));
    free(metrics);
    free(metrics2);
    free(metrics3);
    free(csv);
    fclose(out);
}

static void test_end_to_end_interp(void) { end_to_end(&engine_interp); }
static void test_end_to_end_llvm(void) { end_to_end(&engine_llvm); }

/* Training 3 epochs, then resuming to 6, ends where 6 epochs straight do. */
static void resume_model(const EngineOps *ops, const char *model) {
    char data[300], a[300], b[300], err[512] = "";
    snprintf(data, sizeof data, "%s/data", harness_tmpdir());
    snprintf(a, sizeof a, "%s/straight.safetensors", harness_tmpdir());
    snprintf(b, sizeof b, "%s/resumed.safetensors", harness_tmpdir());
    FILE *out = fopen("/dev/null", "w");
    const char *six[] = {"max_epochs=6", "early_stopping.patience=100"};
    const char *three[] = {"max_epochs=3", "early_stopping.patience=100"};
    RunOptions ro = {data, NULL, NULL, NULL, a, NULL, NULL, ops, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(train_file(model, six, 2, &ro, err), 0);
    ro.save_path = b;
    CU_ASSERT_EQUAL(train_file(model, three, 2, &ro, err), 0);
    ro.resume_path = b;
    CU_ASSERT_EQUAL(train_file(model, six, 2, &ro, err), 0);
    Checkpoint *x = ckpt_read(a, err, sizeof err), *y = ckpt_read(b, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    CU_ASSERT_EQUAL(ckpt_count(x), ckpt_count(y));
    CU_ASSERT_STRING_EQUAL(ckpt_meta(x, "epoch"), "6");
    CU_ASSERT_STRING_EQUAL(ckpt_meta(y, "epoch"), "6");
    for (int i = 0; i < ckpt_count(x); i++) {
        const CkptTensor *t = ckpt_get(x, i), *u = ckpt_find(y, t->name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(u);
        size_t bytes = (size_t)ir_numel(&t->shape) * sizeof(float);
        if (memcmp(t->data, u->data, bytes)) fprintf(stderr, "\n%s differs after resuming\n", t->name);
        CU_ASSERT_EQUAL(memcmp(t->data, u->data, bytes), 0);
    }
    ckpt_free(x);
    ckpt_free(y);
    fclose(out);
}

static void resume(const EngineOps *ops) { resume_model(ops, "tests/runtime/tiny.mmg"); }
static void test_resume_interp(void) { resume(&engine_interp); }
static void test_resume_llvm(void) { resume(&engine_llvm); }
/* with a warm-up, a cosine schedule, clipping and no_decay (the lr follows the step count) */
static void test_resume_tuned(void) { resume_model(&engine_llvm, "tests/runtime/tiny_tuned.mmg"); }

/* A model with state: batch norm's running statistics start at 0 and 1,
 * move during training, are kept as best weights, and evaluation of the
 * checkpoint (running statistics, training = 0) gives the run's test
 * metrics; resuming equals not stopping. */
static void with_state(const EngineOps *ops) {
    char data[300], json[300], save[300], err[512] = "";
    snprintf(data, sizeof data, "%s/data", harness_tmpdir());
    make_data(data);
    snprintf(json, sizeof json, "%s/bn.json", harness_tmpdir());
    snprintf(save, sizeof save, "%s/bn.safetensors", harness_tmpdir());
    FILE *out = fopen("/dev/null", "w");
    RunOptions ro = {data, NULL, json, NULL, save, NULL, NULL, ops, 0, out, NULL, NULL, 0, NULL, NULL};
    int rc = train_file("tests/runtime/tiny_bn.mmg", NULL, 0, &ro, err);
    if (rc) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char *metrics = slurp(json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(metrics);
    double accuracy = atof(strstr(metrics, "\"test_accuracy\": ") + 17);
    if (accuracy < 0.8) fprintf(stderr, "\ntest accuracy %.3f\n", accuracy);
    CU_ASSERT_TRUE(accuracy >= 0.8);
    Checkpoint *c = ckpt_read(save, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* the running statistics are kept with the weights (plain names: the
     * best epoch's) and for resuming (the last ones); both moved */
    const CkptTensor *best = ckpt_find(c, "batch_norm.running_var"), *last = ckpt_find(c, "resume:batch_norm.running_var");
    CU_ASSERT_PTR_NOT_NULL_FATAL(best);
    CU_ASSERT_PTR_NOT_NULL_FATAL(last);
    int moved = 0;
    for (int i = 0; i < 16; i++) moved += (((const float *)best->data)[i] != 1.0f) + (((const float *)last->data)[i] != 1.0f);
    CU_ASSERT_EQUAL(moved, 32);
    ckpt_free(c);
    Compiled m;
    compile_file(&m, "tests/runtime/tiny_bn.mmg", NULL, 0);
    char json2[300];
    snprintf(json2, sizeof json2, "%s/bn_eval.json", harness_tmpdir());
    RunOptions ev = {data, NULL, json2, NULL, NULL, NULL, save, ops, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(eval_model(&m.model, &ev, err, sizeof err), 0);
    compile_free(&m);
    char *metrics2 = slurp(json2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(metrics2);
    CU_ASSERT_STRING_EQUAL(strstr(metrics2, "\"test_loss\""), strstr(metrics, "\"test_loss\""));
    /* evaluation reads the running statistics: shifting the saved ones
     * changes the test loss (a step in training mode would not notice) */
    c = ckpt_read(save, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int n = ckpt_count(c);
    CkptTensor *t = xcalloc((size_t)n, sizeof *t);
    float shifted[16];
    for (int i = 0; i < n; i++) {
        t[i] = *ckpt_get(c, i);
        if (strcmp(t[i].name, "batch_norm.running_mean")) continue;
        for (int k = 0; k < 16; k++) shifted[k] = ((const float *)t[i].data)[k] + 3.0f;
        t[i].data = shifted;
    }
    const char *key[64], *val[64];
    int nmeta = ckpt_meta_count(c) < 64 ? ckpt_meta_count(c) : 64;
    for (int i = 0; i < nmeta; i++) ckpt_meta_get(c, i, &key[i], &val[i]);
    CU_ASSERT_EQUAL(ckpt_write(save, t, n, key, val, nmeta, err, sizeof err), 0);
    free(t);
    ckpt_free(c);
    compile_file(&m, "tests/runtime/tiny_bn.mmg", NULL, 0);
    CU_ASSERT_EQUAL(eval_model(&m.model, &ev, err, sizeof err), 0);
    compile_free(&m);
    char *metrics3 = slurp(json2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(metrics3);
    CU_ASSERT_STRING_NOT_EQUAL(strstr(metrics3, "\"test_loss\""), strstr(metrics, "\"test_loss\""));
    free(metrics);
    free(metrics2);
    free(metrics3);
    fclose(out);
    resume_model(ops, "tests/runtime/tiny_bn.mmg");
}

static void test_state_interp(void) { with_state(&engine_interp); }
static void test_state_llvm(void) { with_state(&engine_llvm); }

/* ---- learning-rate schedules ---------------------------------------------------------- */

/* Each schedule's learning rate against values worked out by hand. */
static void test_lr_schedule(void) {
    OptimizerSpec o = {.kind = OPT_SGD, .lr = 0.1};
    for (int e = 0; e < 5; e++) CU_ASSERT_DOUBLE_EQUAL(lr_schedule_at(&o, e, (uint64_t)e * 7), 0.1, 1e-15);
    o.schedule = (LrSchedule){.kind = LR_STEP, .every = 2, .gamma = 0.5};
    const double step[6] = {0.1, 0.1, 0.05, 0.05, 0.025, 0.025};
    for (int e = 0; e < 6; e++) CU_ASSERT_DOUBLE_EQUAL(lr_schedule_at(&o, e, 1000), step[e], 1e-15);
    o.schedule = (LrSchedule){.kind = LR_COSINE, .t_max = 4, .min_lr = 0.01};
    /* 0.01 + 0.09 (1 + cos(pi e / 4)) / 2 */
    const double cosine[5] = {0.1, 0.0868198052, 0.055, 0.0231801948, 0.01};
    for (int e = 0; e < 5; e++) CU_ASSERT_DOUBLE_EQUAL(lr_schedule_at(&o, e, 1000), cosine[e], 1e-10);
    o.schedule = (LrSchedule){.kind = LR_CONSTANT, .warmup = 4};
    const double warm[6] = {0.025, 0.05, 0.075, 0.1, 0.1, 0.1};
    for (int k = 0; k < 6; k++) CU_ASSERT_DOUBLE_EQUAL(lr_schedule_at(&o, 0, (uint64_t)k), warm[k], 1e-15);
    /* the warm-up scales the epoch's scheduled rate */
    o.schedule = (LrSchedule){.kind = LR_STEP, .every = 1, .gamma = 0.5, .warmup = 10};
    CU_ASSERT_DOUBLE_EQUAL(lr_schedule_at(&o, 2, 4), 0.025 * 0.5, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(lr_schedule_at(&o, 2, 10), 0.025, 1e-15);
}

/* How many times needle occurs in s. */
static int count_of(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++) n++;
    return n;
}

/* The val_loss column of a training log (at most n epochs); the count. */
static int val_losses(const char *log, double *v, int n) {
    char *csv = slurp(log), *line = csv ? strchr(csv, '\n') : NULL;
    int k = 0;
    for (; line && line[1] && k < n; line = strchr(line + 1, '\n')) {
        int epoch;
        double train_loss;
        if (sscanf(line + 1, "%d,%lf,%lf", &epoch, &train_loss, &v[k]) == 3) k++;
    }
    free(csv);
    return k;
}

/* The step reads the scheduled lr: a step schedule that never decays gives
 * the constant-lr run's bits, and an lr of 0 from epoch 2 on freezes the
 * weights (the validation loss stays that of epoch 1). */
static void scheduled(const EngineOps *ops) {
    char data[300], json[2][300], log[300], err[512] = "";
    snprintf(data, sizeof data, "%s/data", harness_tmpdir());
    make_data(data);
    snprintf(json[0], sizeof json[0], "%s/constant.json", harness_tmpdir());
    snprintf(json[1], sizeof json[1], "%s/scheduled.json", harness_tmpdir());
    snprintf(log, sizeof log, "%s/frozen.csv", harness_tmpdir());
    FILE *out = fopen("/dev/null", "w");
    const char *sets[] = {"max_epochs=4", "early_stopping.patience=100", "schedule=step(every: 1000, gamma: 0.5)"};
    for (int k = 0; k < 2; k++) {
        RunOptions ro = {data, NULL, json[k], NULL, NULL, NULL, NULL, ops, 0, out, NULL, NULL, 0, NULL, NULL};
        CU_ASSERT_EQUAL(train(sets, 2 + k, &ro, err), 0);
    }
    char *a = slurp(json[0]), *b = slurp(json[1]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(a, b);
    free(a);
    free(b);
    const char *frozen[] = {"max_epochs=4", "early_stopping.patience=100", "schedule=step(every: 1, gamma: 0)"};
    RunOptions ro = {data, log, NULL, NULL, NULL, NULL, NULL, ops, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(train(frozen, 3, &ro, err), 0);
    double v[4];
    CU_ASSERT_EQUAL_FATAL(val_losses(log, v, 4), 4);
    for (int e = 1; e < 4; e++) CU_ASSERT_EQUAL(v[e], v[0]);
    char jsonl[300];
    snprintf(jsonl, sizeof jsonl, "%s/frozen.jsonl", harness_tmpdir());
    char *lines = slurp(jsonl); /* each epoch's scheduled rate: 1e-2, then 0 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(lines);
    CU_ASSERT_EQUAL(count_of(lines, "\"lr\": 0.01, "), 1);
    CU_ASSERT_EQUAL(count_of(lines, "\"lr\": 0, "), 3);
    free(lines);
    CU_ASSERT_EQUAL(train(sets, 2, &ro, err), 0); /* without the schedule it keeps learning */
    CU_ASSERT_EQUAL_FATAL(val_losses(log, v, 4), 4);
    CU_ASSERT_NOT_EQUAL(v[1], v[0]);
    lines = slurp(jsonl); /* and logs no rate */
    CU_ASSERT_PTR_NOT_NULL_FATAL(lines);
    CU_ASSERT_EQUAL(count_of(lines, "\"lr\""), 0);
    free(lines);
    fclose(out);
}

static void test_scheduled_interp(void) { scheduled(&engine_interp); }
static void test_scheduled_llvm(void) { scheduled(&engine_llvm); }

/* Ctrl-C: the batch finishes, the checkpoint is saved, the run stops with
 * status 130, and --resume goes on from there. */
static void test_interrupt(void) {
    char data[300], save[300], report[300], page[400], err[512] = "";
    snprintf(data, sizeof data, "%s/data", harness_tmpdir());
    snprintf(save, sizeof save, "%s/interrupted.safetensors", harness_tmpdir());
    snprintf(report, sizeof report, "%s/interrupted-report", harness_tmpdir());
    snprintf(page, sizeof page, "%s/index.html", report);
    const char *forever[] = {"max_epochs=100000", "early_stopping.patience=100000"};
    fflush(NULL);
    pid_t child = fork();
    CU_ASSERT_TRUE_FATAL(child >= 0);
    if (child == 0) {
        FILE *out = fopen("/dev/null", "w");
        RunOptions ro = {data, NULL, NULL, report, save, NULL, NULL, &engine_interp, 0, out, NULL, NULL, 0, NULL, NULL};
        _exit(train(forever, 2, &ro, err));
    }
    nanosleep(&(struct timespec){0, 700 * 1000 * 1000}, NULL);
    kill(child, SIGINT);
    int status = 0;
    waitpid(child, &status, 0);
    CU_ASSERT_TRUE(WIFEXITED(status));
    CU_ASSERT_EQUAL(WEXITSTATUS(status), 130);
    Checkpoint *c = ckpt_read(save, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    int epoch = atoi(ckpt_meta(c, "epoch"));
    CU_ASSERT_TRUE(epoch >= 0); /* finished epochs; the batch within the next one is saved too */
    ckpt_free(c);
    /* the report was rewritten after every epoch: it shows the run still training */
    char *html = slurp(page), want[200];
    if (epoch > 0) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(html);
        snprintf(want, sizeof want, "Still training: %d epoch%s done of at most 100000", epoch, epoch == 1 ? "" : "s");
        CU_ASSERT_PTR_NOT_NULL(strstr(html, want));
        CU_ASSERT_PTR_NOT_NULL(strstr(html, "Still training: the test set is evaluated when training ends."));
    }
    free(html);
    char more[64];
    snprintf(more, sizeof more, "max_epochs=%d", epoch + 2);
    const char *sets[] = {more, "early_stopping.patience=100000"};
    FILE *out = fopen("/dev/null", "w");
    RunOptions ro = {data, NULL, NULL, report, save, save, NULL, &engine_interp, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(train(sets, 2, &ro, err), 0);
    fclose(out);
    /* the final page: epochs from before the resume keep their accuracy; their times are not known */
    html = slurp(page);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NULL(strstr(html, "Still training"));
    const char *p = html;
    int unknown_times = 0;
    while ((p = strstr(p, "<td>n/a</td><td>n/a</td></tr>"))) unknown_times++, p++;
    CU_ASSERT_EQUAL(unknown_times, epoch);
    CU_ASSERT_PTR_NULL(strstr(html, "<td>n/a</td><td>n/a</td><td>")); /* accuracies are all there */
    free(html);
    c = ckpt_read(save, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(atoi(ckpt_meta(c, "epoch")), epoch + 2);
    ckpt_free(c);
}

/* ---- failures: nothing lost, nothing silent ------------------------------------------- */

/* Whether path exists. */
static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Ctrl-C while the checkpoint cannot be written: the run says the state was
 * not saved (exit 1 and the reason), not that it was. The save folder is
 * replaced by a file while the first (long: batch 1, 40000 samples) epoch
 * runs, after the outputs were checked. */
static void test_interrupt_unsaved(void) {
    char data[300], dir[300], save[400], outp[300], errp[300], err[512] = "";
    snprintf(data, sizeof data, "%s/long", harness_tmpdir());
    mkdir(data, 0755);
    int64_t n = 40000, shape[2] = {n, 8};
    float *x = xmalloc((size_t)n * 8 * sizeof *x);
    int64_t *y = xmalloc((size_t)n * sizeof *y);
    unsigned r = 1;
    for (int64_t i = 0; i < n * 8; i++) r = r * 1664525u + 1013904223u, x[i] = (float)((r >> 8) / 16777216.0 - 0.5);
    for (int64_t i = 0; i < n; i++) y[i] = i % 3;
    write_npy(data, "x_train.npy", 'f', 2, shape, x);
    write_npy(data, "y_train.npy", 'l', 1, shape, y);
    write_npy(data, "x_test.npy", 'f', 2, shape, x);
    write_npy(data, "y_test.npy", 'l', 1, shape, y);
    free(x);
    free(y);
    snprintf(dir, sizeof dir, "%s/gone", harness_tmpdir());
    snprintf(save, sizeof save, "%s/run.safetensors", dir);
    snprintf(outp, sizeof outp, "%s/unsaved.out", harness_tmpdir());
    snprintf(errp, sizeof errp, "%s/unsaved.err", harness_tmpdir());
    const char *sets[] = {"batch=1", "max_epochs=3"};
    fflush(NULL);
    pid_t child = fork();
    CU_ASSERT_TRUE_FATAL(child >= 0);
    if (child == 0) {
        FILE *out = fopen(outp, "w");
        RunOptions ro = {data, NULL, NULL, NULL, save, NULL, NULL, &engine_interp, 0, out, NULL, NULL, 0, NULL, NULL};
        int rc = train(sets, 2, &ro, err);
        FILE *e = fopen(errp, "w");
        fputs(err, e);
        fclose(e);
        fclose(out);
        _exit(rc == TRAIN_ERROR ? 1 : rc);
    }
    char *text = NULL; /* wait for the loop to start: the outputs were checked */
    for (int i = 0; i < 6000 && !(text && strstr(text, "training tiny: ")); i++) {
        free(text);
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
        text = exists(outp) ? slurp(outp) : NULL;
    }
    free(text);
    CU_ASSERT_EQUAL(rmdir(dir), 0); /* the check left nothing in it */
    FILE *f = fopen(dir, "w");      /* a file where the folder was: nothing can be saved in it */
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    kill(child, SIGINT);
    int status = 0;
    waitpid(child, &status, 0);
    CU_ASSERT_TRUE(WIFEXITED(status));
    CU_ASSERT_EQUAL(WEXITSTATUS(status), 1);
    char *msg = slurp(errp), *out = slurp(outp), want[1000];
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL(strncmp(msg, "interrupted in epoch 1 after batch ", 35), 0);
    snprintf(want, sizeof want, ", and the state was not saved: %s: cannot write %s.tmp: Not a directory", save, save);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
    if (!strstr(msg, want)) fprintf(stderr, "\n%s\n", msg);
    CU_ASSERT_PTR_NULL(strstr(out, "saved"));
    free(msg);
    free(out);
}

/* Every tensor of a checkpoint is made of finite numbers. */
static int all_finite(const Checkpoint *c) {
    for (int i = 0; i < ckpt_count(c); i++) {
        const CkptTensor *t = ckpt_get(c, i);
        for (int64_t k = 0; t->dtype == DT_F32 && k < ir_numel(&t->shape); k++)
            if (!isfinite(((const float *)t->data)[k])) return 0;
    }
    return 1;
}

/* A loss that turns to NaN mid-run (the rate jumps 1e8-fold after two
 * epochs): training stops with TRAIN_DIVERGED; the checkpoint is the one of
 * epoch 2, byte for byte what a two-epoch run leaves; the best epoch
 * before it is tested, and the metrics file and report say what happened. */
static void test_diverged_mid_run(void) {
    char data[300], two[300], save[300], json[300], report[300], page[400], err[512] = "";
    snprintf(data, sizeof data, "%s/data", harness_tmpdir());
    make_data(data);
    snprintf(two, sizeof two, "%s/two-epochs.safetensors", harness_tmpdir());
    snprintf(save, sizeof save, "%s/diverged.safetensors", harness_tmpdir());
    snprintf(json, sizeof json, "%s/diverged.json", harness_tmpdir());
    snprintf(report, sizeof report, "%s/diverged-report", harness_tmpdir());
    snprintf(page, sizeof page, "%s/index.html", report);
    FILE *out = fopen("/dev/null", "w");
    const char *sets[] = {"optimizer=sgd(lr: 0.05)", "schedule=step(every: 2, gamma: 1e8)", "early_stopping.patience=100",
                          "max_epochs=2"};
    RunOptions ro = {data, NULL, NULL, NULL, two, NULL, NULL, &engine_llvm, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL_FATAL(train(sets, 4, &ro, err), 0);
    RunOptions ro2 = {data, NULL, json, report, save, NULL, NULL, &engine_llvm, 0, out, NULL, NULL, 0, NULL, NULL};
    int rc = train(sets, 3, &ro2, err);
    fclose(out);
    CU_ASSERT_EQUAL(rc, TRAIN_DIVERGED);
    if (rc != TRAIN_DIVERGED) fprintf(stderr, "\n%d %s\n", rc, err);
    CU_ASSERT_EQUAL(strncmp(err, "training diverged: the ", 23), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, " epoch 3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ", the best before it"));
    char *a = (char *)harness_slurp(two, NULL), *b = (char *)harness_slurp(save, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    Checkpoint *c = ckpt_read(save, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(ckpt_meta(c, "epoch"), "2");
    CU_ASSERT_TRUE(all_finite(c));
    Checkpoint *d = ckpt_read(two, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(ckpt_count(c), ckpt_count(d));
    for (int i = 0; i < ckpt_count(d); i++) {
        const CkptTensor *t = ckpt_get(d, i), *u = ckpt_find(c, t->name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(u);
        CU_ASSERT_EQUAL(memcmp(t->data, u->data, (size_t)ir_numel(&t->shape) * (t->dtype == DT_I64 ? 8 : 4)), 0);
    }
    ckpt_free(c);
    ckpt_free(d);
    free(a);
    free(b);
    char *metrics = slurp(json), *html = slurp(page);
    CU_ASSERT_PTR_NOT_NULL_FATAL(metrics);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NOT_NULL(strstr(metrics, "\"epochs\": 2,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(metrics, "\"diverged\": \"the "));
    CU_ASSERT_PTR_NOT_NULL(strstr(metrics, "\"test_accuracy\": "));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "Training diverged: the "));
    CU_ASSERT_PTR_NULL(strstr(html, "Still training"));
    free(metrics);
    free(html);
}

/* sgd(lr: 1e6): NaN before any epoch finishes. No epoch is best: the run
 * says so and returns TRAIN_DIVERGED; nothing is saved or tested, and the
 * metrics file and the report say why. */
static void test_diverged_at_once(void) {
    char data[300], save[300], json[300], report[300], page[400], outp[300], err[512] = "";
    snprintf(data, sizeof data, "%s/data", harness_tmpdir());
    make_data(data);
    snprintf(save, sizeof save, "%s/at-once.safetensors", harness_tmpdir());
    snprintf(json, sizeof json, "%s/at-once.json", harness_tmpdir());
    snprintf(report, sizeof report, "%s/at-once-report", harness_tmpdir());
    snprintf(page, sizeof page, "%s/index.html", report);
    snprintf(outp, sizeof outp, "%s/at-once.out", harness_tmpdir());
    FILE *out = fopen(outp, "w");
    const char *sets[] = {"optimizer=sgd(lr: 1e6)"};
    RunOptions ro = {data, NULL, json, report, save, NULL, NULL, &engine_llvm, 0, out, NULL, NULL, 0, NULL, NULL};
    int rc = train(sets, 1, &ro, err);
    fclose(out);
    CU_ASSERT_EQUAL(rc, TRAIN_DIVERGED);
    if (rc != TRAIN_DIVERGED) fprintf(stderr, "\n%d %s\n", rc, err);
    CU_ASSERT_EQUAL(strncmp(err, "training diverged: the training loss is nan in epoch 1, batch ", 62), 0);
    const char *tail = ", before any epoch was best; nothing was tested or saved";
    CU_ASSERT_TRUE(strlen(err) > strlen(tail) && !strcmp(err + strlen(err) - strlen(tail), tail));
    CU_ASSERT_FALSE(exists(save));
    char *text = slurp(outp), *metrics = slurp(json), *html = slurp(page);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(metrics);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\ntraining diverged: the training loss is nan in epoch 1, batch "));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nno epoch was best: there are no weights to test\n"));
    CU_ASSERT_PTR_NULL(strstr(text, "test:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(metrics, "\"best_epoch\": 0,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(metrics, "\"diverged\": \"the training loss is nan in epoch 1, batch "));
    CU_ASSERT_PTR_NULL(strstr(metrics, "test_"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "No epoch was best, so there were no weights to test."));
    free(text);
    free(metrics);
    free(html);
}

/* Temporaries a killed run left (PATH.tmp) are gone after the next run, and
 * its outputs are whole. */
static void test_stale_temporaries(void) {
    char data[300], base[300], path[5][400], tmp[420], err[512] = "";
    snprintf(data, sizeof data, "%s/data", harness_tmpdir());
    make_data(data);
    snprintf(base, sizeof base, "%s/stale", harness_tmpdir());
    mkdir(base, 0755);
    const char *names[5] = {"run.safetensors", "metrics.json", "run.csv", "run.jsonl", "report/index.html"};
    snprintf(tmp, sizeof tmp, "%.300s/report", base);
    mkdir(tmp, 0755);
    for (int i = 0; i < 5; i++) {
        snprintf(path[i], sizeof path[i], "%.300s/%s", base, names[i]);
        snprintf(tmp, sizeof tmp, "%.400s.tmp", path[i]);
        FILE *f = fopen(tmp, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs("half a file", f);
        fclose(f);
    }
    snprintf(tmp, sizeof tmp, "%.300s/report", base);
    FILE *out = fopen("/dev/null", "w");
    const char *sets[] = {"max_epochs=2"};
    RunOptions ro = {data, path[2], path[1], tmp, path[0], NULL, NULL, &engine_llvm, 0, out, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(train(sets, 1, &ro, err), 0);
    fclose(out);
    for (int i = 0; i < 5; i++) {
        snprintf(tmp, sizeof tmp, "%.400s.tmp", path[i]);
        CU_ASSERT_TRUE(exists(path[i]));
        CU_ASSERT_FALSE(exists(tmp));
        if (exists(tmp)) fprintf(stderr, "\n%s is left\n", tmp);
    }
}

/* Every malformed data set is an error naming the file and the problem. */
static void test_bad_data(void) {
    char dir[300], err[512] = "";
    snprintf(dir, sizeof dir, "%s/bad", harness_tmpdir());
    mkdir(dir, 0755);
    Compiled c;
    compile_file(&c, "tests/runtime/tiny.mmg", NULL, 0);
    Dataset d;
    char want[700];
    CU_ASSERT_EQUAL(dataset_load(&d, dir, &c.model, 1, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s/x_train.npy: cannot open: No such file or directory", dir);
    CU_ASSERT_STRING_EQUAL(err, want);
    dataset_free(&d);
    float x[2 * 7] = {0};
    int64_t s27[2] = {2, 7}, s28[2] = {2, 8}, s2[1] = {2}, y[2] = {0, 3};
    write_npy(dir, "x_train.npy", 'f', 2, s27, x);
    CU_ASSERT_EQUAL(dataset_load(&d, dir, &c.model, 1, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "%s/x_train.npy: shape [2, 7] does not match the model's input 'x' ([-1, 8], any sample count)", dir);
    CU_ASSERT_STRING_EQUAL(err, want);
    dataset_free(&d);
    float y_float[2] = {0.0f, 1.5f};
    float x8[16] = {0};
    write_npy(dir, "x_train.npy", 'f', 2, s28, x8);
    write_npy(dir, "x_test.npy", 'f', 2, s28, x8);
    write_npy(dir, "y_train.npy", 'f', 1, s2, y_float);
    write_npy(dir, "y_test.npy", 'f', 1, s2, y_float);
    CU_ASSERT_EQUAL(dataset_load(&d, dir, &c.model, 1, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/y_train.npy: as labels (int64): "));
    dataset_free(&d);
    write_npy(dir, "x_train.npy", 'f', 2, s28, x8);
    write_npy(dir, "x_test.npy", 'f', 2, s28, x8);
    write_npy(dir, "y_train.npy", 'l', 1, s2, y);
    write_npy(dir, "y_test.npy", 'l', 1, s2, y);
    CU_ASSERT_EQUAL(dataset_load(&d, dir, &c.model, 1, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s/y_train.npy: label 3 of sample 1 is out of range for 3 classes", dir);
    CU_ASSERT_STRING_EQUAL(err, want);
    dataset_free(&d);
    compile_free(&c);
}

/* ---- a loss-only model ---------------------------------------------------------------- */

/* pair.mmg's data: two noisy views a, b of 200 + 100 random points z (b
 * reversed), no labels. */
static void make_pair_data(const char *dir) {
    mkdir(dir, 0755);
    const char *split[2] = {"train", "test"};
    int64_t count[2] = {200, 100};
    unsigned s = 7;
    for (int k = 0; k < 2; k++) {
        float *a = xmalloc((size_t)count[k] * 8 * sizeof *a), *b = xmalloc((size_t)count[k] * 8 * sizeof *b);
        for (int64_t i = 0; i < count[k]; i++)
            for (int j = 0; j < 8; j++) {
                double r[3];
                for (int t = 0; t < 3; t++) s = s * 1664525u + 1013904223u, r[t] = (s >> 8) / 16777216.0 - 0.5;
                a[i * 8 + j] = (float)(2 * r[0] + 0.3 * r[1]);
                b[i * 8 + 7 - j] = (float)(2 * r[0] + 0.3 * r[2]);
            }
        char name[64];
        int64_t shape[2] = {count[k], 8};
        snprintf(name, sizeof name, "a_%s.npy", split[k]);
        write_npy(dir, name, 'f', 2, shape, a);
        snprintf(name, sizeof name, "b_%s.npy", split[k]);
        write_npy(dir, name, 'f', 2, shape, b);
        free(a);
        free(b);
    }
}

/* A model that binds only a loss trains and early-stops on val_loss,
 * reports losses only (no accuracy, no confusion matrix) on the terminal,
 * in the log, the metrics file and the report, and refuses to monitor
 * val_accuracy. */
static void loss_only(const EngineOps *ops) {
    char data[300], log[300], json[300], report[300], outp[300], err[512] = "";
    snprintf(data, sizeof data, "%s/pair", harness_tmpdir());
    make_pair_data(data);
    snprintf(log, sizeof log, "%s/pair.csv", harness_tmpdir());
    snprintf(json, sizeof json, "%s/pair.json", harness_tmpdir());
    snprintf(report, sizeof report, "%s/pair-report", harness_tmpdir());
    snprintf(outp, sizeof outp, "%s/pair.out", harness_tmpdir());
    FILE *out = fopen(outp, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    RunOptions ro = {data, log, json, report, NULL, NULL, NULL, ops, 0, out, NULL, NULL, 0, NULL, NULL};
    int rc = train_file("tests/runtime/pair.mmg", NULL, 0, &ro, err);
    fclose(out);
    if (rc) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char *text = slurp(outp), *metrics = slurp(json), *csv = slurp(log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(metrics);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "epoch   1  train_loss "));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\ntest: loss "));
    CU_ASSERT_PTR_NULL(strstr(text, "accuracy"));
    CU_ASSERT_PTR_NULL(strstr(text, "confusion"));
    CU_ASSERT_PTR_NOT_NULL(strstr(metrics, "\"monitor\": \"val_loss\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(metrics, "\"test_samples\": 100,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(metrics, "\"test_loss\": "));
    CU_ASSERT_PTR_NULL(strstr(metrics, "accuracy"));
    CU_ASSERT_PTR_NULL(strstr(metrics, "confusion"));
    /* no classes: no accuracy of either kind */
    CU_ASSERT_EQUAL(strncmp(csv, "epoch,train_loss,val_loss,val_accuracy,seconds,train_accuracy,samples_per_second\n1,",
                            83), 0);
    const char *line1 = strchr(csv, '\n') + 1;
    int commas = 0;
    const char *field6 = NULL;
    for (const char *c = line1; *c && *c != '\n'; c++)
        if (*c == ',' && ++commas == 5) field6 = c + 1;
    CU_ASSERT_EQUAL(commas, 6);
    CU_ASSERT_TRUE(field6 && !strncmp(field6, "nan,", 4));
    /* it learns: the best validation loss is below the first epoch's */
    double v[64];
    int n = val_losses(log, v, 64), best = 0;
    CU_ASSERT_TRUE_FATAL(n >= 2);
    for (int e = 1; e < n; e++)
        if (v[e] < v[best]) best = e;
    CU_ASSERT_TRUE(v[best] < 0.8 * v[0]);
    char cmd[700], page[400];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s/index.html'", report);
    CU_ASSERT_EQUAL(system(cmd), 0);
    snprintf(page, sizeof page, "%s/index.html", report);
    char *html = slurp(page);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NULL(strstr(html, "accuracy"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<th>test loss</th>"));
    free(html);
    free(text);
    free(metrics);
    free(csv);
    /* accuracy cannot be monitored */
    const char *acc[] = {"early_stopping.monitor=val_accuracy"};
    RunOptions quiet = {data, NULL, NULL, NULL, NULL, NULL, NULL, ops, 0, stdout, NULL, NULL, 0, NULL, NULL};
    CU_ASSERT_EQUAL(train_file("tests/runtime/pair.mmg", acc, 1, &quiet, err), TRAIN_ERROR);
    CU_ASSERT_STRING_EQUAL(err, "early_stopping.monitor is val_accuracy, but model 'pair' has no logits (it binds only a "
                                "loss), so there is no accuracy; monitor val_loss");
}

static void test_loss_only_interp(void) { loss_only(&engine_interp); }
static void test_loss_only_llvm(void) { loss_only(&engine_llvm); }

static CU_TestInfo tests[] = {
    {"model state (batch norm) trains, is kept and evaluated (interpreter)", test_state_interp},
    {"model state (batch norm) trains, is kept and evaluated (LLVM backend)", test_state_llvm},
    {"early stopping on a scripted loss sequence", test_early_stopping},
    {"metrics against hand-computed values, padding excluded", test_metrics},
    {"seeded permutations", test_permutation},
    {"end to end (interpreter): learns, logs, reports, reproduces, evaluates a checkpoint", test_end_to_end_interp},
    {"end to end (llvm): learns, logs, reports, reproduces, evaluates a checkpoint", test_end_to_end_llvm},
    {"resuming from a checkpoint equals training straight through (interpreter)", test_resume_interp},
    {"resuming from a checkpoint equals training straight through (llvm)", test_resume_llvm},
    {"resuming with a warm-up, a cosine schedule, clipping and no_decay (llvm)", test_resume_tuned},
    {"learning-rate schedules against hand-computed values", test_lr_schedule},
    {"the step reads the scheduled learning rate (interpreter)", test_scheduled_interp},
    {"the step reads the scheduled learning rate (llvm)", test_scheduled_llvm},
    {"a loss-only model trains and reports losses only (interpreter)", test_loss_only_interp},
    {"a loss-only model trains and reports losses only (llvm)", test_loss_only_llvm},
    {"Ctrl-C saves and stops; --resume goes on", test_interrupt},
    {"malformed data sets", test_bad_data},
    {"Ctrl-C with a checkpoint that cannot be written says so", test_interrupt_unsaved},
    {"a loss turning NaN mid-run keeps the last good checkpoint and tests the best epoch", test_diverged_mid_run},
    {"a loss NaN from the first epoch: no best epoch, nothing saved or tested, said so", test_diverged_at_once},
    {"stale temporaries of a killed run are cleaned up", test_stale_temporaries},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run_in_tmpdir("train", tests); }
