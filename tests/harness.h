/* harness.h — the few lines every CUnit test program shares.
 *
 *   static CU_TestInfo tests[] = { {"name", fn}, CU_TEST_INFO_NULL };
 *   int main(void) { return harness_run("suite", tests); }
 */
#ifndef MMGC_TEST_HARNESS_H
#define MMGC_TEST_HARNESS_H

#include <CUnit/Basic.h>

/* Registers one suite of tests, runs it verbosely, returns the exit status. */
int harness_run(const char *suite, CU_TestInfo *tests);

/* Directory of the source tree (for fixtures), set by CMake. */
#ifndef MMGC_SOURCE_DIR
#define MMGC_SOURCE_DIR "."
#endif

#endif
