/* test_study_spec.c — `study NAME { ... }` sections read into runs: the
 * study's own file (models/fusion_study.mmg) and each mistake a study file
 * can hold, with its message. */
#include <stdio.h>
#include <string.h>

#include "compile.h"
#include "harness.h"
#include "study_spec.h"

/* Loads text (imports resolve in models/lib and models/) and reads its study. */
static int read_text(Program *p, const char *text, StudySpec *s) {
    char path[256];
    snprintf(path, sizeof path, "%s", compile_temp_file(text, strlen(text)));
    program_init(p);
    program_default_libdirs(p);
    int rc = program_load(p, path) || study_spec_read(p, NULL, s) ? -1 : 0;
    remove(path);
    return rc;
}

/* The run named name, or NULL. */
static const StudyRun *run_named(const StudySpec *s, const char *name) {
    for (int i = 0; i < s->nruns; i++)
        if (!strcmp(s->runs[i].name, name)) return &s->runs[i];
    return NULL;
}

static void test_fusion_study(void) {
    Program p;
    program_init(&p);
    program_default_libdirs(&p);
    StudySpec s;
    int rc = program_load(&p, "models/fusion_study.mmg") || study_spec_read(&p, NULL, &s);
    if (rc) diag_print(&p.diag, stderr);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(s.name, "fusion_study");
    /* 2 baselines, 8 fusions, 2 fusions with modality dropout */
    CU_ASSERT_EQUAL(s.nruns, 12);
    static const char *const names[] = {"image_conv2net", "audio_conv1net", "concat", "add", "mul", "max", "attention",
                                        "gated", "bilinear", "factorized_bilinear", "concat+modality_dropout",
                                        "gated+modality_dropout"};
    for (int i = 0; i < 12 && i < s.nruns; i++) CU_ASSERT_STRING_EQUAL(s.runs[i].name, names[i]);
    const StudyRun *r = run_named(&s, "image_conv2net");
    CU_ASSERT(r && r->baseline && r->nsets == 0 && !strcmp(r->model, "image_conv2net"));
    r = run_named(&s, "gated");
    CU_ASSERT(r && !r->baseline && r->nsets == 1 && !strcmp(r->model, "multimodal") && !strcmp(r->sets[0], "fusion=gated"));
    r = run_named(&s, "gated+modality_dropout");
    CU_ASSERT(r && r->nsets == 2 && !strcmp(r->sets[0], "fusion=gated") && !strcmp(r->sets[1], "drop_modality=0.3"));
    CU_ASSERT_EQUAL(s.nseeds, 3);
    CU_ASSERT(s.nseeds == 3 && s.seeds[0] == 0 && s.seeds[2] == 2);
    /* the study's baselines and Table 1 */
    CU_ASSERT_EQUAL(s.nrefs, 10);
    CU_ASSERT(s.nrefs == 10 && !strcmp(s.refs[0].method, "image_conv2net") && s.refs[0].test_loss == 0.437 &&
              s.refs[0].test_accuracy == 0.882);
    CU_ASSERT(s.nrefs == 10 && !strcmp(s.refs[3].method, "add") && s.refs[3].test_loss == 0.276 &&
              s.refs[3].test_accuracy == 0.949);
    CU_ASSERT_TRUE(s.contrastive_table);
    CU_ASSERT_PTR_NULL(s.data);
    study_spec_free(&s);
    program_free(&p);
}

#define DUO "import \"nn.mmg\"\nimport \"losses.mmg\"\n" \
            "model duo {\n    input a: [B, 4]\n    label y: [B] i64\n    h = 4\n" \
            "    logits = linear(linear(a, h), 3)\n    loss = cross_entropy(logits, y)\n}\n"

static void test_values_and_seeds(void) {
    Program p;
    StudySpec s;
    CU_ASSERT_EQUAL_FATAL(read_text(&p,
                                    DUO "study s {\n    model: duo,\n    vary: { h: [2, 8], act: [relu, -1.5] },\n"
                                        "    variants: { v: { h: 2, note: \"x\", flag: true } },\n"
                                        "    seeds: [7, 1], data: \"d\"\n}\n",
                                    &s),
                          0);
    CU_ASSERT_EQUAL(s.nruns, 6); /* 2 x 2 combinations, and the variant narrowed to h = 2 */
    static const char *const names[] = {"2/relu", "2/-1.5", "8/relu", "8/-1.5", "2/relu+v", "2/-1.5+v"};
    for (int i = 0; i < 6 && i < s.nruns; i++) CU_ASSERT_STRING_EQUAL(s.runs[i].name, names[i]);
    const StudyRun *r = run_named(&s, "2/-1.5+v");
    CU_ASSERT(r && r->nsets == 4 && !strcmp(r->sets[0], "h=2") && !strcmp(r->sets[1], "act=-1.5") &&
              !strcmp(r->sets[2], "note=\"x\"") && !strcmp(r->sets[3], "flag=true"));
    CU_ASSERT(s.nseeds == 2 && s.seeds[0] == 7 && s.seeds[1] == 1);
    /* relative to the study's file, in the temporary directory */
    const char *slash = strrchr(p.src.files[p.main_file].path, '/');
    char want[300];
    snprintf(want, sizeof want, "%.*s/d", slash ? (int)(slash - p.src.files[p.main_file].path) : 0,
             p.src.files[p.main_file].path);
    CU_ASSERT_STRING_EQUAL(s.data, slash ? want : "d");
    study_spec_free(&s);
    program_free(&p);
}

/* A study text that fails with exactly one error, this one. */
static void expect_error(const char *study, const char *msg) {
    char text[4096];
    snprintf(text, sizeof text, DUO "%s", study);
    Program p;
    StudySpec s;
    CU_ASSERT_EQUAL(read_text(&p, text, &s), -1);
    CU_ASSERT_EQUAL(p.diag.nerrors, 1);
    int found = 0;
    for (int i = 0; i < p.diag.n; i++) found |= strstr(p.diag.items[i].msg, msg) != NULL;
    if (!found || p.diag.nerrors != 1) {
        fprintf(stderr, "\nexpected: %s\n", msg);
        diag_print(&p.diag, stderr);
    }
    CU_ASSERT_TRUE(found);
    study_spec_free(&s);
    program_free(&p);
}

static void test_errors(void) {
    expect_error("study s { modle: duo }", "unknown study field 'modle' (expected baselines, model, vary, variants, "
                                           "seeds, data, reference, contrastive_table)");
    expect_error("study s { model: nope }", "unknown model 'nope'");
    expect_error("study s { baselines: [duo, nope] }", "unknown model 'nope'");
    expect_error("study s { vary: { h: [2] } }", "'vary' needs 'model: NAME' (the model it varies)");
    expect_error("study s { model: duo, vary: { h: 2 } }", "'h' in vary takes a non-empty list of values ([a, b, ...])");
    expect_error("study s { model: duo, vary: { h: [1 + 1] } }", "a study value is a name, a number, a string or true/false");
    expect_error("study s { model: duo, seeds: 0 }", "seeds takes a count from 1 to 1000 or a list of seeds, got 0");
    expect_error("study s { model: duo, seeds: [1, 1] }", "seed 1 is given twice");
    expect_error("study s { model: duo, model: duo }", "'model' is given twice");
    expect_error("study s { baselines: [duo], model: duo }", "two runs of the study are both named 'duo'");
    expect_error("study s { model: duo, reference: { other: { test_loss: 1 } } }",
                 "reference names 'other', which is not a run of this study");
    expect_error("study s { model: duo, reference: { duo: { loss: 1 } } }",
                 "unknown reference field 'loss' (expected test_loss, test_accuracy)");
    expect_error("study s { }", "study 's' has no runs (give 'baselines: [...]' or 'model: NAME')");
    expect_error("", "no study in this file");
}

int main(void) {
    CU_TestInfo tests[] = {
        {"models/fusion_study.mmg: 12 methods, 3 seeds, the study's baselines and Table 1", test_fusion_study},
        {"values, combinations, variants, seeds", test_values_and_seeds},
        {"every mistake, with its message", test_errors},
        CU_TEST_INFO_NULL,
    };
    return harness_run("study_spec", tests);
}
