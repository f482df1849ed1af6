/* test_errors.c — the diagnostics suite, kept as data.
 *
 * Every .mmg file in tests/frontend/errors/CLASS/ is compiled. A comment
 * "// error: MESSAGE" on a line expects exactly that error on that line,
 * "// warning: MESSAGE" that warning; "// note: MESSAGE" expects that note
 * anywhere (other notes are not checked);
 * "// expect-error: MESSAGE" expects it anywhere (command-line errors);
 * "// args: --set K=V ..." passes options; "// status: N" expects that exit
 * status (default 1). Files in subdirectories are only imported. Every
 * error and warning must be expected and every expectation met.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "harness.h"
#include "util.h"

#define ROOT "tests/frontend/errors"

static const char *classes[] = {
    "syntax", "unknown_name", "unknown_keyword", "missing_argument", "shape_mismatch", "import_not_found",
    "import_cycle", "duplicate_definition", "block_as_tensor", "tensor_as_block", "invalid_set", "invalid_train",
    "recursion", "literal", "model_binding", "control", "warning", "hint", "state",
};

typedef struct {
    DiagLevel level;
    char path[512];
    int line;   /* 0: anywhere */
    char msg[512];
    int met;
} Expect;

typedef struct {
    Expect items[64];
    int n;
    const char *sets[8];
    int nsets;
    int status;
    char args[512];
} Spec;

/* Collects the expectations written in one source file. */
static void scan_file(Spec *s, const char *path, const char *text) {
    int line = 1;
    for (const char *p = text; *p; line++) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", (int)len, p);
        const char *e;
        const char *w = strstr(buf, "// warning: "), *note = strstr(buf, "// note: ");
        if (((e = strstr(buf, "// error: ")) || w || note) && s->n < 64) {
            Expect *x = &s->items[s->n++];
            x->level = e ? DIAG_ERROR : w ? DIAG_WARNING : DIAG_NOTE;
            snprintf(x->path, sizeof x->path, "%s", path);
            x->line = x->level == DIAG_NOTE ? 0 : line;
            snprintf(x->msg, sizeof x->msg, "%s", e ? e + 10 : w ? w + 12 : note + 9);
        } else if ((e = strstr(buf, "// expect-error: ")) && s->n < 64) {
            Expect *x = &s->items[s->n++];
            x->line = 0;
            snprintf(x->msg, sizeof x->msg, "%s", e + 17);
        } else if ((e = strstr(buf, "// status: ")))
            s->status = atoi(e + 11);
        else if ((e = strstr(buf, "// args: "))) {
            snprintf(s->args, sizeof s->args, "%s", e + 9);
            for (char *save = NULL, *tok = strtok_r(s->args, " ", &save); tok && s->nsets < 8;
                 tok = strtok_r(NULL, " ", &save))
                if (strcmp(tok, "--set")) s->sets[s->nsets++] = tok;
        }
        p += len + (end != NULL);
    }
}

/* Matches the diagnostics of one compilation against the spec; prints misses. */
static int check(const char *file, Compiled *c, Spec *s) {
    int ok = 1;
    const Diag *d = &c->prog.diag;
    for (int i = 0; i < d->n; i++) {
        const Diagnostic *g = &d->items[i];
        const char *gpath = g->loc.file >= 0 ? d->src->files[g->loc.file].path : "";
        int found = 0;
        for (int k = 0; k < s->n && !found; k++) {
            Expect *x = &s->items[k];
            if (x->met || x->level != g->level || strcmp(x->msg, g->msg)) continue;
            if (x->line && (x->line != g->loc.line || strcmp(x->path, gpath))) continue;
            x->met = found = 1;
        }
        if (!found && g->level != DIAG_NOTE) {
            fprintf(stderr, "%s: unexpected %s at %s:%d: %s\n", file, g->level == DIAG_ERROR ? "error" : "warning",
                    gpath, g->loc.line, g->msg);
            ok = 0;
        }
    }
    for (int k = 0; k < s->n; k++)
        if (!s->items[k].met) {
            fprintf(stderr, "%s: expected %s not reported (line %d): %s\n", file,
                    s->items[k].level == DIAG_ERROR ? "error" : s->items[k].level == DIAG_NOTE ? "note" : "warning", s->items[k].line, s->items[k].msg);
            ok = 0;
        }
    if (c->status != s->status) {
        fprintf(stderr, "%s: exit status %d, expected %d\n", file, c->status, s->status);
        ok = 0;
    }
    return ok;
}

/* Compiles one test file and checks it. */
static int run_one(const char *path) {
    Spec s = {.status = 1};
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return 0;
    scan_file(&s, path, text);
    free(text);
    Compiled c;
    compile_file(&c, path, s.sets, s.nsets);
    /* expectations may also stand in the files it imported */
    for (int i = 0; i < c.prog.src.n; i++) {
        const SourceFile *f = &c.prog.src.files[i];
        if (strcmp(f->path, path) && c.prog.modules[i] && strstr(f->path, ROOT)) scan_file(&s, f->path, f->text);
    }
    int ok = check(path, &c, &s);
    compile_free(&c);
    return ok;
}

static int has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static void test_error_classes(void) {
    for (size_t k = 0; k < sizeof classes / sizeof classes[0]; k++) {
        char dir[256];
        snprintf(dir, sizeof dir, ROOT "/%s", classes[k]);
        DIR *d = opendir(dir);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        int files = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!has_suffix(e->d_name, ".mmg")) continue;
            char path[600];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            files++;
            int ok = run_one(path);
            if (!ok) fprintf(stderr, "FAILED: %s\n", path);
            CU_ASSERT_TRUE(ok);
        }
        closedir(d);
        if (!files) fprintf(stderr, "no test files for class %s\n", classes[k]);
        CU_ASSERT_TRUE(files > 0);
    }
}

static CU_TestInfo tests[] = {
    {"every error class, messages as written in the test files", test_error_classes},
    CU_TEST_INFO_NULL,
};

int main(void) { return harness_run("diagnostics", tests); }
