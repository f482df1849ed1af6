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

/* A share as "NN%", or an en dash for NaN. */
static void percent(RBuf *b, double share) {
    if (isfinite(share)) rb_printf(b, "%.0f%%", 100 * share);
    else rb_str(b, "&#8211;");
}

/* A text cell; `code` sets it in monospace (source text, kernel names). */
static void cell(RBuf *b, const char *s, int code) {
    rb_str(b, code ? "<td class=\"src\"><code>" : "<td class=\"src\">");
    rb_text(b, s);
    rb_str(b, code ? "</code></td>" : "</td>");
}

void report_profile_section(RBuf *b, const ReportProfile *p) {
    int limits = p->peak_gflops > 0;
    rb_str(b, "<h2 id=\"profile\">Profile</h2>\n<figure id=\"profile-lines\">\n<table>\n"
              "<tr><th>line</th><th>source</th><th>block</th><th>ms/step</th><th>share</th><th>MFLOP/step</th>"
              "<th>MB/step</th><th>GFLOP/s</th>");
    if (limits) rb_str(b, "<th>of peak</th>");
    rb_str(b, "<th>GB/s</th>");
    if (limits) rb_str(b, "<th>of memory</th>");
    rb_str(b, "<th>kernels</th></tr>\n");
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
        fixed(b, report_rate(l->flops, l->ms), 2);
        if (limits) {
            rb_str(b, "</td><td>");
            percent(b, report_share(report_rate(l->flops, l->ms), p->peak_gflops));
        }
        rb_str(b, "</td><td>");
        fixed(b, report_rate(l->bytes, l->ms), 2);
        if (limits) {
            rb_str(b, "</td><td>");
            percent(b, report_share(report_rate(l->bytes, l->ms), p->peak_gbytes));
        }
        rb_str(b, "</td>");
        cell(b, l->kernels, 1);
        rb_str(b, "</tr>\n");
    }
    rb_printf(b, "</table>\n<figcaption>Table 6. The training step's time by .mmg source line: %.3f ms per step over "
                 "%llu steps, %d kernels. A kernel counts on the line of its most expensive node (the most FLOPs); "
                 "backward work counts on the line of the forward expression, optimizer updates on the parameter's "
                 "declaration; the last row is the step's time outside its kernels.",
              p->step_ms, (unsigned long long)p->steps, p->nkernels);
    if (limits)
        rb_printf(b, " Measured after the steps on %d thread%s: an FMA peak of %.1f GFLOP/s and a memory bandwidth of "
                     "%.1f GB/s; the share columns set each line's rates against them (a line whose buffers fit in "
                     "the caches can move more than the memory's share).",
                  p->threads, p->threads == 1 ? "" : "s", p->peak_gflops, p->peak_gbytes);
    rb_str(b, "</figcaption>\n</figure>\n");
}
