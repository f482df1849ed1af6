/* report_profile.c — the Profile section of a run's report (report.h):
 * Table 6, the training step's time by .mmg source line, as
 * runtime/profile.c computed it. Declared in report_svg.h. */
#include <math.h>

#include "report_svg.h"

/* "%.*f", or an en dash for NaN and values not measured. */
static void fixed(RBuf *b, double v, int decimals) {
    if (isfinite(v)) rb_printf(b, "%.*f", decimals, v);
    else rb_str(b, "&#8211;");
}

/* value / (ms * 1e6): GFLOP/s from FLOPs, GB/s from bytes; NaN for none. */
static double rate(double value, double ms) { return ms > 0 && value > 0 ? value / (ms * 1e6) : NAN; }

/* A text cell; `code` sets it in monospace (source text, kernel names). */
static void cell(RBuf *b, const char *s, int code) {
    rb_str(b, code ? "<td class=\"src\"><code>" : "<td class=\"src\">");
    rb_text(b, s);
    rb_str(b, code ? "</code></td>" : "</td>");
}

void report_profile_section(RBuf *b, const ReportProfile *p) {
    rb_str(b, "<h2 id=\"profile\">Profile</h2>\n<figure id=\"profile-lines\">\n<table>\n"
              "<tr><th>line</th><th>source</th><th>block</th><th>ms/step</th><th>share</th><th>MFLOP/step</th>"
              "<th>MB/step</th><th>GFLOP/s</th><th>GB/s</th><th>kernels</th></tr>\n");
    for (int i = 0; i < p->nlines; i++) {
        const ReportProfileLine *l = &p->lines[i];
        rb_str(b, "<tr><td>");
        rb_text(b, l->where);
        rb_str(b, "</td>");
        cell(b, l->text, 1);
        cell(b, l->paths, 0);
        rb_str(b, "<td>");
        fixed(b, l->ms, 3);
        rb_str(b, "</td><td>");
        fixed(b, 100 * l->share, 1);
        rb_str(b, "%</td><td>");
        fixed(b, l->flops > 0 ? l->flops / 1e6 : NAN, 3);
        rb_str(b, "</td><td>");
        fixed(b, l->bytes > 0 ? l->bytes / 1e6 : NAN, 3);
        rb_str(b, "</td><td>");
        fixed(b, rate(l->flops, l->ms), 2);
        rb_str(b, "</td><td>");
        fixed(b, rate(l->bytes, l->ms), 2);
        rb_str(b, "</td>");
        cell(b, l->kernels, 1);
        rb_str(b, "</tr>\n");
    }
    rb_printf(b, "</table>\n<figcaption>Table 6. The training step's time by .mmg source line: %.3f ms per step over "
                 "%llu steps, %d kernels. A kernel counts on the line of its most expensive node (the most FLOPs); "
                 "backward work counts on the line of the forward expression, optimizer updates on the parameter's "
                 "declaration; the last row is the step's time outside its kernels.</figcaption>\n</figure>\n",
              p->step_ms, (unsigned long long)p->steps, p->nkernels);
}
