/* harness.c — see harness.h. */
#include "harness.h"

#include <ctype.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

int harness_run(const char *suite, CU_TestInfo *tests) {
    /* LLVM engines cache their code on disk: a test program started by hand
     * (not by ctest, which sets it for every test) still keeps out of the
     * user's ~/.cache, in the build's own folder */
    setenv("MMGC_CACHE_DIR", MMGC_TEST_CACHE_DIR, 0);
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    CU_SuiteInfo suites[] = {{suite, NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    if (CU_register_suites(suites) != CUE_SUCCESS) {
        fprintf(stderr, "%s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

/* ---- a temporary directory per run ------------------------------------------------ */

static char tmpdir[4096];

/* nftw callback: removes one file or (empty, post-order) directory. */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    if (remove(path) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

int harness_run_in_tmpdir(const char *suite, CU_TestInfo *tests) {
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    size_t n = (size_t)snprintf(tmpdir, sizeof tmpdir, "%s/mmgc_test_", base);
    for (const char *s = suite; *s && n < sizeof tmpdir; s++) /* "model steps" -> model_steps */
        tmpdir[n++] = isalnum((unsigned char)*s) ? *s : '_';
    if (n + sizeof ".XXXXXX" > sizeof tmpdir) {
        fprintf(stderr, "%s: TMPDIR is too long\n", suite);
        tmpdir[0] = 0;
        return 2;
    }
    memcpy(tmpdir + n, ".XXXXXX", sizeof ".XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror(tmpdir);
        return 2;
    }
    int rc = harness_run(suite, tests);
    if (getenv("MMGC_KEEP_TMPDIR")) {
        fprintf(stderr, "%s: files kept in %s\n", suite, tmpdir);
    } else if (nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0) {
        fprintf(stderr, "%s: cannot remove %s\n", suite, tmpdir);
        if (rc == 0) rc = 2;
    }
    return rc;
}

const char *harness_tmpdir(void) {
    if (!tmpdir[0]) {
        fprintf(stderr, "harness_tmpdir: no temporary directory (use harness_run_in_tmpdir)\n");
        abort();
    }
    return tmpdir;
}

const char *harness_tmp(const char *name) {
    static char buf[sizeof tmpdir + 256];
    snprintf(buf, sizeof buf, "%s/%s", harness_tmpdir(), name);
    return buf;
}

/* ---- files ------------------------------------------------------------------------ */

void harness_put_bytes(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_FATAL(n == 0 || fwrite(bytes, 1, n, f) == n);
    fclose(f);
}

unsigned char *harness_slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    CU_ASSERT_FATAL(f != NULL);
    size_t len = 0, cap = 1 << 16, got;
    unsigned char *buf = malloc(cap + 1), *more;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        if ((len += got) < cap) continue;
        if (!(more = realloc(buf, (cap *= 2) + 1))) free(buf);
        buf = more;
    }
    int ok = buf && !ferror(f);
    fclose(f);
    CU_ASSERT_FATAL(ok);
    buf[len] = 0;
    if (n) *n = len;
    return buf;
}

int harness_xml_ok(const char *path) {
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st)) return 0;
    if (WEXITSTATUS(st) == 127) fprintf(stderr, "\n  xmllint is not installed (scripts/install-deps.sh installs libxml2-utils)\n");
    return WEXITSTATUS(st) == 0;
}
