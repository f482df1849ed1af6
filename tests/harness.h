/* harness.h — the few lines every CUnit test program shares.
 *
 *   static CU_TestInfo tests[] = { {"name", fn}, CU_TEST_INFO_NULL };
 *   int main(void) { return harness_run("suite", tests); }
 *
 * Suites that write files run in a fresh temporary directory instead:
 *
 *   int main(void) { return harness_run_in_tmpdir("suite", tests); }
 *   ... harness_put_bytes(harness_tmp("x.bin"), "abc", 3); ...
 */
#ifndef MMGC_TEST_HARNESS_H
#define MMGC_TEST_HARNESS_H

#include <CUnit/Basic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Registers one suite of tests, runs it verbosely, returns the exit status. */
int harness_run(const char *suite, CU_TestInfo *tests);

/* harness_run in a fresh directory $TMPDIR/mmgc_test_SUITE.XXXXXX (or under
 * /tmp), removed afterwards; set MMGC_KEEP_TMPDIR to keep it for a look.
 * Returns 2 if the directory cannot be made or removed. */
int harness_run_in_tmpdir(const char *suite, CU_TestInfo *tests);

/* The directory harness_run_in_tmpdir made. */
const char *harness_tmpdir(void);

/* tmpdir/name in a static buffer (one at a time: the next call overwrites it). */
const char *harness_tmp(const char *name);

/* Writes n raw bytes to path (a test failure if it cannot). */
void harness_put_bytes(const char *path, const void *bytes, size_t n);

/* The whole contents of a file, malloc'd, with a NUL after them; *n (if not
 * NULL) gets their length. A test failure if the file cannot be read. */
unsigned char *harness_slurp(const char *path, size_t *n);

/* Whether xmllint parses path as well-formed XML (says so when xmllint is
 * not installed: scripts/install-deps.sh installs libxml2-utils). */
int harness_xml_ok(const char *path);

/* Like CU_ASSERT_STRING_EQUAL, but shows both strings when they differ. */
#define ASSERT_STR(actual, expected)                                                               \
    do {                                                                                           \
        const char *a_ = (actual), *e_ = (expected);                                               \
        if (strcmp(a_, e_) != 0) fprintf(stderr, "\n  got:      %s\n  expected: %s\n", a_, e_);   \
        CU_ASSERT_STRING_EQUAL(a_, e_);                                                            \
    } while (0)

/* Directory of the source tree (for fixtures), set by CMake. */
#ifndef MMGC_SOURCE_DIR
#define MMGC_SOURCE_DIR "."
#endif

#endif
