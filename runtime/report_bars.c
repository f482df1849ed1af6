/* report_bars.c — bar charts of accuracies for the study's page
 * (study_report.c): one bar per method with whiskers and a marker, and
 * groups of bars. The value axis is 0 to 100%. Declared in report_svg.h. */
#include <math.h>

#include "report_svg.h"

#define SVG_OPEN "<svg xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"11\" fill=\"#222\""

static const char *const palette[] = {"#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b",
                                      "#9d755d", "#bab0ac", "#ff9da6"};

enum { LEFT = 52, TOP = 30, PLOT_H = 220, BOTTOM = 96 };

/* The y pixel of a fraction in [0, 1]. */
static double ypix(double v) { return TOP + PLOT_H * (1 - (v < 0 ? 0 : v > 1 ? 1 : v)); }

/* The frame: title, grid lines and labels every 20%, the y label. */
static void frame(RBuf *b, const char *title, int width, int right) {
    rb_printf(b, SVG_OPEN " width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", width, TOP + PLOT_H + BOTTOM, width,
              TOP + PLOT_H + BOTTOM);
    rb_printf(b, "<text x=\"%d\" y=\"16\" font-size=\"13\" font-weight=\"bold\">", LEFT);
    rb_text(b, title);
    rb_str(b, "</text>\n");
    for (int k = 0; k <= 5; k++) {
        double y = ypix(k / 5.0);
        rb_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>", LEFT, y, right, y);
        rb_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>\n", LEFT - 6, y + 4, k * 20);
    }
    rb_printf(b, "<text transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\">test accuracy</text>\n",
              TOP + PLOT_H / 2);
}

/* A label under a bar (or group), turned so long names fit. */
static void label(RBuf *b, double x, const char *name) {
    rb_printf(b, "<text transform=\"translate(%.1f %d) rotate(-35)\" text-anchor=\"end\">", x, TOP + PLOT_H + 14);
    rb_text_fit(b, name, 24);
    rb_str(b, "</text>\n");
}

void svg_bar_chart(RBuf *b, const char *title, const char *const *names, const double *mean, const double *err,
                   const double *mark, int n) {
    int slot = 44, width = LEFT + 16 + slot * (n > 0 ? n : 1);
    frame(b, title, width, width - 8);
    for (int i = 0; i < n; i++) {
        double x = LEFT + 8 + slot * i, mid = x + slot / 2.0;
        if (isfinite(mean[i])) {
            rb_printf(b, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>",
                      x + 6, ypix(mean[i]), slot - 12, ypix(0) - ypix(mean[i]), palette[0]);
            rb_text(b, names[i]);
            rb_printf(b, ": %.2f%%</title></rect>\n", 100 * mean[i]);
        }
        if (isfinite(mean[i]) && err && isfinite(err[i]) && err[i] > 0) {
            double y0 = ypix(mean[i] - err[i]), y1 = ypix(mean[i] + err[i]);
            rb_printf(b, "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f\" stroke=\"#222\" fill=\"none\"/>\n",
                      mid, y0, y1, mid - 5, y0, mid + 5, mid - 5, y1, mid + 5);
        }
        if (mark && isfinite(mark[i])) {
            double y = ypix(mark[i]);
            rb_printf(b, "<path class=\"mark\" d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" fill=\"%s\" stroke=\"#fff\"><title>",
                      mid, y - 5, palette[1]);
            rb_text(b, names[i]);
            rb_printf(b, " (the study): %.2f%%</title></path>\n", 100 * mark[i]);
        }
        label(b, mid, names[i]);
    }
    rb_str(b, "</svg>\n");
}

void svg_grouped_bars(RBuf *b, const char *title, const char *const *groups, int ngroups, const char *const *series,
                      int nseries, const double *v) {
    int bar = 9, slot = bar * nseries + 14, right = LEFT + 8 + slot * (ngroups > 0 ? ngroups : 1);
    int width = right + 140;
    frame(b, title, width, right);
    for (int g = 0; g < ngroups; g++) {
        double x = LEFT + 8 + slot * g + 7;
        for (int k = 0; k < nseries; k++) {
            double y = v[g * nseries + k];
            if (!isfinite(y)) continue;
            rb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>", x + bar * k,
                      ypix(y), bar - 1, ypix(0) - ypix(y), palette[k % 10]);
            rb_text(b, groups[g]);
            rb_str(b, ", ");
            rb_text(b, series[k]);
            rb_printf(b, ": %.2f%%</title></rect>\n", 100 * y);
        }
        label(b, x + bar * nseries / 2.0, groups[g]);
    }
    for (int k = 0; k < nseries; k++) { /* the legend, right of the plot */
        int lx = right + 14, ly = TOP + 10 + k * 14;
        rb_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"9\" height=\"9\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">", lx, ly - 8,
                  palette[k % 10], lx + 13, ly);
        rb_text_fit(b, series[k], 20);
        rb_str(b, "</text>\n");
    }
    rb_str(b, "</svg>\n");
}
