/* compile.c — see compile.h. */
#include "compile.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

void compile_file(Compiled *c, const char *path, const char *const *sets, int nsets) {
    memset(c, 0, sizeof *c);
    program_init(&c->prog);
    program_add_libdir(&c->prog, MMGC_SOURCE_DIR "/models/lib");
    program_add_libdir(&c->prog, MMGC_SOURCE_DIR "/models");
    if (program_load(&c->prog, path)) {
        c->status = 1;
        return;
    }
    SetOption *opts = calloc((size_t)nsets + 1, sizeof *opts);
    for (int i = 0; i < nsets; i++) opts[i].text = sets[i];
    if (elaborate(&c->prog, NULL, opts, nsets, &c->model)) c->status = c->model.cmdline_error ? 2 : 1;
    free(opts);
}

const char *compile_temp_file(const char *text, size_t len) {
    static char path[256];
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/mmgc-test-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w");
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

void compile_text(Compiled *c, const char *text, const char *const *sets, int nsets) {
    const char *path = compile_temp_file(text, strlen(text));
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    char copy[256];
    snprintf(copy, sizeof copy, "%s", path);
    compile_file(c, copy, sets, nsets);
    remove(copy);
}

/* Asserts c compiled; prints its diagnostics and `what` if not. */
static int expect_ok(Compiled *c, const char *what) {
    if (c->status) {
        fprintf(stderr, "\n%s failed to compile:\n", what);
        diag_print(&c->prog.diag, stderr);
    }
    CU_ASSERT_EQUAL(c->status, 0);
    return c->status == 0;
}

int compile_file_ok(Compiled *c, const char *path, const char *const *sets, int nsets) {
    compile_file(c, path, sets, nsets);
    return expect_ok(c, path);
}

int compile_text_ok(Compiled *c, const char *text) {
    compile_text(c, text, NULL, 0);
    return expect_ok(c, text);
}

void compile_free(Compiled *c) {
    if (c->model.graph) elaborated_free(&c->model);
    program_free(&c->prog);
}

long long compiled_params(const Compiled *c) {
    long long total = 0;
    const Graph *g = c->model.graph;
    for (int i = 0; g && i < g->nnodes; i++)
        if (g->nodes[i].op == OP_PARAM) total += ir_numel(&g->nodes[i].type.shape);
    return total;
}

/* Runs check on every .mmg file of dir; returns how many there were. */
static int each_in(const char *dir, int (*check)(const char *path)) {
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    int models = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".mmg")) continue;
        if (len > 10 && !strcmp(e->d_name + len - 10, "_study.mmg")) continue; /* a study: test_study_spec */
        char path[300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        models++;
        int ok = check(path);
        if (!ok) fprintf(stderr, "FAILED: %s\n", path);
        CU_ASSERT_TRUE(ok);
    }
    closedir(d);
    return models;
}

void compile_each_model(int (*check)(const char *path)) {
    CU_ASSERT_TRUE(each_in("models", check) >= 11);
    CU_ASSERT_TRUE(each_in("models/examples", check) >= 2);
}

int compile_train_step(Compiled *c, const char *path) {
    const char *sets[] = {"batch=4"};
    compile_file(c, path, sets, 1);
    if (c->status) return 0;
    PassConfig cfg = {STAGE_TRAIN, c->model.train.optimizer, 0, NULL, NULL};
    PassError perr;
    if (pipeline_run(c->model.graph, &cfg, &perr) == 0) return 1;
    fprintf(stderr, "\n%s: %s\n", path, perr.msg);
    return 0;
}
