/* report_svg.h — internal to report.c and report_svg.c: escaping and the
 * SVG figures, appended to the buffer the page is built in (RBuf, rb_add,
 * rb_str and rb_printf, for markup as it is, are in io_util.h). Every
 * function appends well-formed XML to the buffer; all text passes through
 * rb_text. */
#ifndef MMGC_REPORT_SVG_H
#define MMGC_REPORT_SVG_H

#include <stddef.h>
#include <stdint.h>

#include "io_util.h"
#include "report.h"

/* s escaped for XML text and attribute values (& < > " '), with invalid
 * UTF-8 and control characters replaced by U+FFFD. NULL appends nothing. */
void rb_text(RBuf *b, const char *s);
/* rb_text of at most max characters of s; longer text ends with an ellipsis. */
void rb_text_fit(RBuf *b, const char *s, int max);
/* The number of characters (UTF-8 code points) in s. */
int rb_utf8_chars(const char *s);

/* One curve of a line chart: y[0..n) for epochs 1..n (non-finite values skipped). */
typedef struct {
    const double *y;
    const char *name;
    const char *color;
} Series;

/* A line chart over epochs 1..nepochs with a dashed line at best (0 = none);
 * percent: y values are fractions shown as percentages. */
void svg_line_chart(RBuf *b, const char *title, const char *ylabel, const Series *s, int ns, int nepochs, int best,
                    int percent);
/* The n x n confusion matrix cm[true * n + predicted] as a heat map. */
void svg_confusion(RBuf *b, int n, const char *const *names, const int64_t *cm);
/* Logits as bars; label (or -1) outlined, pred (or -1) filled green if it equals label, red if not. */
void svg_logits(RBuf *b, const float *logits, int n, const char *const *names, int label, int pred);
/* A greyscale picture of h x w floats scaled min..max to black..white. */
void svg_image(RBuf *b, const char *name, const float *px, int64_t h, int64_t w);
/* A waveform of len samples as a min/max envelope. */
void svg_waveform(RBuf *b, const char *name, const float *x, int64_t len);
/* An <audio controls> player of len samples at rate Hz, as an inline WAV file. */
void html_audio(RBuf *b, const char *name, const float *x, int64_t len, int rate);

/* report_bars.c: test accuracies (fractions, shown 0 to 100%) as bars.
 * One bar per name with mean[i], whiskers of +-err[i] and a diamond at
 * mark[i] (err, mark may be NULL; non-finite values are not drawn). */
void svg_bar_chart(RBuf *b, const char *title, const char *const *names, const double *mean, const double *err,
                   const double *mark, int n);
/* Groups of bars: for group g, series k's value v[g * nseries + k]. */
void svg_grouped_bars(RBuf *b, const char *title, const char *const *groups, int ngroups, const char *const *series,
                      int nseries, const double *v);

/* report_profile.c: the Profile section (Table 6) of a run's report. */
void report_profile_section(RBuf *b, const ReportProfile *p);

#endif
