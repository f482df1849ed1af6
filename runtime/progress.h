/* progress.h — the live progress line of a run, as a terminal shows it:
 *
 *   [PREFIX]epoch 3/100 [=========>          ] 412/750  0:21<0:17  1930 samples/s  loss 0.4312
 *   [PREFIX]validating [=====>              ] 80/188  0:03<0:04  2210 samples/s
 *
 * progress_format makes one line (no I/O: callers and tests use it alone).
 * A Progress prints it to a stream over the previous one ("\r\033[K"), at
 * most every PROGRESS_INTERVAL seconds and always at the last step, so a
 * fast loop costs a clock read per step. The prefix lets a caller that runs
 * many trainings say which one this is ("run 3/30 gated seed 2 | ").
 */
#ifndef MMGC_PROGRESS_H
#define MMGC_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROGRESS_INTERVAL 0.1 /* seconds between two lines */
#define PROGRESS_BAR 20       /* cells of the bar */

typedef struct {
    FILE *out;          /* NULL: prints nothing */
    const char *prefix; /* printed before the label, or NULL */
    double start;       /* the clock when progress_start was called */
    double last;        /* when a line was last printed; negative: never */
    int64_t first;      /* steps already done at the start (a resumed epoch) */
    int shown;          /* a line is on the screen */
} Progress;

/* The monotonic clock in seconds: what `now` means below. */
double progress_now(void);

/* t seconds as "0:21", "12:05", "1:02:09" ("?" when negative or not
 * finite) into buf; returns buf. */
const char *progress_time(char *buf, size_t n, double t);

/* Writes "PREFIXLABEL [bar] DONE/TOTAL  M:SS<M:SS  R samples/s  loss L" into
 * buf (always NUL-terminated, cut to n - 1 bytes). The ETA is "?" when
 * negative or not finite; the rate is left out when negative or not
 * finite, the loss when not finite (NaN: none). A total of 0 draws an
 * empty bar. */
void progress_format(char *buf, size_t n, const char *prefix, const char *label, int64_t done, int64_t total,
                     double elapsed, double eta, double rate, double loss);

/* Starts a bar at clock `now` with `done` steps already behind it. */
void progress_start(Progress *p, FILE *out, const char *prefix, double now, int64_t done);

/* Shows the line for `done` of `total` steps at clock `now` if the last one
 * is PROGRESS_INTERVAL old or done == total. The ETA comes from the steps
 * taken since progress_start; rate and loss as for progress_format. */
void progress_update(Progress *p, double now, const char *label, int64_t done, int64_t total, double rate, double loss);

/* Erases the line, if one is shown. */
void progress_clear(Progress *p);

#endif
