/* contrastive_svg.c — temperature.svg: the negative sample's weight f
 * against the temperature tau (log scale) for one pair of similarities,
 * with the study's limits as dashed lines. The report's helpers do the
 * escaping (rb_text); their line chart is over epochs, so the log-scale
 * axis is drawn here. Coordinates are pixels.
 */
#include <math.h>
#include <stdio.h>

#include "contrastive_svg.h"
#include "report_svg.h"

#define W 640
#define H 400
#define PL 70  /* plot left   */
#define PR 610 /* plot right  */
#define PT 56  /* plot top    */
#define PB 340 /* plot bottom */
#define YLO (-1.1)
#define YHI 0.1

/* The x pixel of tau (log scale over [tau_lo, tau_hi]). */
static double xpx(const TemperatureChart *c, double tau) {
    return PL + (log10(tau) - log10(c->tau[0])) / (log10(c->tau[c->n - 1]) - log10(c->tau[0])) * (PR - PL);
}

/* The y pixel of f on the fixed axis [YLO, YHI]. */
static double ypx(double f) { return PB - (f - YLO) / (YHI - YLO) * (PB - PT); }

/* A label at (x, y); anchor "start", "middle" or "end". */
static void label(RBuf *b, double x, double y, const char *anchor, const char *color, const char *text) {
    rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\">", x, y, anchor, color);
    rb_text(b, text);
    rb_str(b, "</text>\n");
}

/* Grid, ticks and axis titles: tau at each power of ten, f every 0.25. */
static void axes(RBuf *b, const TemperatureChart *c) {
    for (int k = 0; k <= 4; k++) {
        double f = -1 + 0.25 * k, y = ypx(f);
        rb_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>", PL, y, PR, y);
        rb_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", PL - 6, y + 4, f);
    }
    for (int e = (int)ceil(log10(c->tau[0]) - 1e-9); e <= (int)floor(log10(c->tau[c->n - 1]) + 1e-9); e++) {
        double x = xpx(c, pow(10, e));
        rb_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e4e4\"/>", x, PT, x, PB);
        rb_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", x, PB + 18, pow(10, e));
    }
    rb_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", PL, PT, PR - PL,
              PB - PT);
    label(b, (PL + PR) / 2.0, PB + 40, "middle", "#222", "temperature \xCF\x84 (log scale)");
    rb_printf(b, "<text transform=\"rotate(-90)\" x=\"%.1f\" y=\"18\" text-anchor=\"middle\">", -(PT + PB) / 2.0);
    rb_text(b, "weight of v\xE2\x81\xBB: f = \xCF\x84 \xC2\xB7 coefficient of v\xE2\x81\xBB in \xE2\x88\x82NT/\xE2\x88\x82u");
    rb_str(b, "</text>\n");
}

/* A dashed horizontal line at f from tau lo to hi, in color. */
static void dashed(RBuf *b, const TemperatureChart *c, double f, double lo, double hi, const char *color) {
    rb_printf(b,
              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\" "
              "stroke-dasharray=\"6 4\"/>\n",
              xpx(c, lo), ypx(f), xpx(c, hi), ypx(f), color);
}

/* Curve k (0: NT-Xent, 1: NT-Log) as a polyline with a legend entry. */
static void curve(RBuf *b, const TemperatureChart *c, int k, const char *color, const char *name) {
    const double *f = k ? c->f_log : c->f_xent;
    rb_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.2\" stroke-linejoin=\"round\" points=\"", color);
    for (int i = 0; i < c->n; i++) rb_printf(b, "%s%.1f,%.1f", i ? " " : "", xpx(c, c->tau[i]), ypx(f[i]));
    rb_str(b, "\"/>\n");
    double lx = PR - 250 + 130 * k;
    rb_printf(b, "<line x1=\"%.1f\" y1=\"34\" x2=\"%.1f\" y2=\"34\" stroke=\"%s\" stroke-width=\"2.5\"/>", lx, lx + 18, color);
    label(b, lx + 22, 38, "start", "#222", name);
}

/* The values at tau = 1 (Table 2's row), as dots with tooltips. */
static void at_one(RBuf *b, const TemperatureChart *c, const char *const color[2]) {
    double x = xpx(c, 1);
    rb_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\" stroke-dasharray=\"2 3\"/>\n", x, PT, x,
              PB);
    for (int k = 0; k < 2; k++) {
        double f = k ? c->f_log_at_one : c->f_xent_at_one;
        char tip[96];
        snprintf(tip, sizeof tip, "%s at \xCF\x84 = 1: %.3f", k ? "f_Log" : "f_Xent", f);
        rb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>", x, ypx(f), color[k]);
        rb_text(b, tip);
        rb_str(b, "</title></circle>\n");
    }
    label(b, x + 4, PT + 14, "start", "#666", "\xCF\x84 = 1 (Table 2)");
}

void svg_temperature_chart(RBuf *b, const TemperatureChart *c) {
    static const char *const color[2] = {"#1f77b4", "#d62728"};
    char title[160];
    snprintf(title, sizeof title, "Weight f of the negative sample against \xCF\x84 (s\xE2\x81\xBA = %g, s\xE2\x81\xBB = %g)",
             c->sim_pos, c->sim_neg);
    rb_printf(b,
              "<svg xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"11\" fill=\"#222\" "
              "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"><title>",
              W, H, W, H);
    rb_text(b, title);
    rb_str(b, "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n");
    rb_printf(b, "<text x=\"%d\" y=\"18\" font-size=\"13\" font-weight=\"bold\">", PL);
    rb_text(b, title);
    rb_str(b, "</text>\n");
    axes(b, c);

    curve(b, c, 0, color[0], "f_Xent (NT-Xent)");
    curve(b, c, 1, color[1], "f_Log (NT-Logistic)");

    /* the study's limits, dashed over the curves: tau -> infinity on the
     * right half (labelled below the line, where the curves have met it),
     * tau -> 0 on the left third */
    double lo = c->tau[0], hi = c->tau[c->n - 1], mid = sqrt(lo * hi);
    char text[160];
    dashed(b, c, c->large_xent, mid, hi, "#333");
    if (c->large_log != c->large_xent) dashed(b, c, c->large_log, mid, hi, "#333");
    snprintf(text, sizeof text, "\xCF\x84 \xE2\x86\x92 \xE2\x88\x9E: f \xE2\x86\x92 %g for both", c->large_xent);
    double ly = ypx(fmin(c->large_xent, c->large_log));
    label(b, PR - 6, ly + 22, "end", "#333", text);
    label(b, PR - 6, ly + 36, "end", "#333", "(gradient f/\xCF\x84 \xE2\x86\x92 0, like 1/\xCF\x84)");
    double left_hi = lo * pow(hi / lo, 0.3);
    for (int k = 0; k < 2; k++) {
        double f = k ? c->small_log : c->small_xent;
        dashed(b, c, f, lo, left_hi, "#333");
        snprintf(text, sizeof text, "\xCF\x84 \xE2\x86\x92 0: %s \xE2\x86\x92 %g", k ? "f_Log" : "f_Xent", f);
        double y = ypx(f) + (f > -0.5 ? 18 : -10);
        if (k && c->small_log == c->small_xent) y += f > -0.5 ? 14 : -14;
        label(b, xpx(c, lo) + 6, y, "start", color[k], text);
    }
    at_one(b, c, color);
    rb_str(b, "</svg>\n");
}
