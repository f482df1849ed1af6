/* test_ckpt_layout.c — what a training checkpoint holds: the chosen (best)
 * weights under the plain names, what resuming needs under resume:NAME,
 * metadata that says which is which; the older layout and a file of
 * weights only are refused by name where they cannot serve. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    RunOptions ro = {run->data, NULL, NULL, NULL, again, NULL, NULL, &engine_llvm, 0, out, NULL, NULL};
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
    RunOptions ev = {run->data, NULL, json, NULL, NULL, NULL, old, &engine_interp, 0, out, NULL, NULL};
    CU_ASSERT_EQUAL(eval_model(&c.model, &ev, err, sizeof err), TRAIN_ERROR);
    CU_ASSERT_STRING_EQUAL(err, want);
    RunOptions re = {run->data, NULL, NULL, NULL, NULL, old, NULL, &engine_interp, 0, out, NULL, NULL};
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

static CU_TestInfo tests[] = {
    {"names and metadata: weights, resume:NAME, the optimizer's state", test_names_and_metadata},
    {"the plain names hold the best epoch's weights", test_plain_is_best},
    {"the older layout and weights-only files", test_other_files},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run_in_tmpdir("ckpt_layout", tests); }
