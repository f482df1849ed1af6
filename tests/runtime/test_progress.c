/* test_progress.c — the progress line: its exact text (bar, counts,
 * elapsed and ETA, rate, loss, prefix), its edge cases (nothing done,
 * all done, hours, unknown values, a short buffer), and how often it is
 * printed (at most every PROGRESS_INTERVAL seconds, always at the end). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "progress.h"

/* The line progress_format makes of these values. */
static const char *line(const char *prefix, const char *label, int64_t done, int64_t total, double elapsed, double eta,
                        double rate, double loss) {
    static char buf[512];
    progress_format(buf, sizeof buf, prefix, label, done, total, elapsed, eta, rate, loss);
    return buf;
}

static void test_format(void) {
    ASSERT_STR(line(NULL, "epoch 3/100", 412, 750, 21.4, 17.6, 1930.4, 0.43124),
               "epoch 3/100 [=========>          ] 412/750  0:21<0:17  1930 samples/s  loss 0.4312");
    ASSERT_STR(line("run 3/30 gated seed 2 | ", "validating", 80, 188, 3.2, 4.3, 2210, NAN),
               "run 3/30 gated seed 2 | validating [=======>            ] 80/188  0:03<0:04  2210 samples/s");
    ASSERT_STR(line(NULL, "testing", 32, 32, 12.9, 0, 2480, NAN), "testing [====================] 32/32  0:12<0:00  2480 samples/s");
    ASSERT_STR(line(NULL, "epoch 1/5", 0, 10, 0, NAN, NAN, NAN), "epoch 1/5 [                    ] 0/10  0:00<?");
    ASSERT_STR(line(NULL, "epoch 1/5", 1, 10, 3725.2, 61 * 60 + 0.5, -1, -0.25),
               "epoch 1/5 [=>                  ] 1/10  1:02:05<1:01:00  loss -0.2500");
    ASSERT_STR(line(NULL, "x", 0, 0, INFINITY, -3, INFINITY, INFINITY), "x [                    ] 0/0  ?<?");
    char small[12];
    progress_format(small, sizeof small, NULL, "epoch 1/5", 1, 10, 0, 0, 0, 0);
    ASSERT_STR(small, "epoch 1/5 [");
}

/* Prints at the first step, not again within PROGRESS_INTERVAL, always at the last. */
static void test_throttle(void) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    Progress p;
    progress_start(&p, f, "A | ", 100.0, 2);
    progress_update(&p, 100.5, "epoch 1/2", 3, 6, 64, 1.5);   /* shown: the first */
    progress_update(&p, 100.55, "epoch 1/2", 4, 6, 64, 1.25); /* too soon */
    progress_update(&p, 100.6, "epoch 1/2", 6, 6, 64, 1.0);   /* the last: shown */
    progress_clear(&p);
    progress_clear(&p); /* nothing on the screen any more */
    fclose(f);
    ASSERT_STR(text, "\r\033[KA | epoch 1/2 [=========>          ] 3/6  0:00<0:01  64 samples/s  loss 1.5000"
                     "\r\033[KA | epoch 1/2 [====================] 6/6  0:00<0:00  64 samples/s  loss 1.0000"
                     "\r\033[K");
    free(text);
    /* without a stream nothing happens */
    progress_start(&p, NULL, NULL, 0, 0);
    progress_update(&p, 1, "epoch 1/1", 1, 1, 1, 1);
    progress_clear(&p);
    CU_ASSERT_EQUAL(p.shown, 0);
}

int main(void) {
    static CU_TestInfo tests[] = {
        {"the line: bar, counts, times, rate, loss, prefix", test_format},
        {"printed at most every interval, always at the end", test_throttle},
        CU_TEST_INFO_NULL,
    };
    return harness_run_in_tmpdir("progress", tests);
}
