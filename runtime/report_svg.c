/* report_svg.c — the report's XML escaping and its SVG charts:
 * line charts over epochs, the confusion heat map and logit bar charts.
 * (Pictures and waveforms are in report_image.c.)
 *
 * Every chart sets its own fonts and colours as attributes, so an <svg>
 * cut out of the page renders the same on its own. Coordinates are pixels.
 */
#include "report_svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVG_OPEN "<svg xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"11\" fill=\"#222\""

/* ---- escaping ------------------------------------------------------------------ */

/* The length of the UTF-8 character at s (1 to 4), or 0 if the bytes there
 * are not a well-formed character that XML allows. */
static size_t xml_char(const unsigned char *s) {
    unsigned c = s[0], cp;
    if (c < 0x80) return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' ? 1 : 0;
    size_t len = io_utf8_char(s, strnlen((const char *)s, 4), &cp);
    return len && cp != 0xFFFE && cp != 0xFFFF ? len : 0;
}

/* rb_text of the first n bytes of s. */
static void text_n(RBuf *b, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        size_t len = xml_char(p);
        if (len == 0 || p + len > end) {
            rb_str(b, "\xEF\xBF\xBD"); /* U+FFFD */
            p++;
            continue;
        }
        switch (*p) {
        case '&': rb_str(b, "&amp;"); break;
        case '<': rb_str(b, "&lt;"); break;
        case '>': rb_str(b, "&gt;"); break;
        case '"': rb_str(b, "&quot;"); break;
        case '\'': rb_str(b, "&#39;"); break;
        default: rb_add(b, (const char *)p, len); break;
        }
        p += len;
    }
}

/* Escaped text; see report_svg.h. */
void rb_text(RBuf *b, const char *s) {
    if (s) text_n(b, s, strlen(s));
}

/* The byte length of the first k characters of s (an invalid byte counts as one). */
static size_t char_prefix(const char *s, int k) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    for (int c = 0; c < k && p[i]; c++) {
        size_t len = xml_char(p + i);
        i += len ? len : 1;
    }
    return i;
}

/* Characters in s, counted as char_prefix counts them. */
int rb_utf8_chars(const char *s) {
    int n = 0;
    for (size_t i = 0; s[i]; n++) i += char_prefix(s + i, 1);
    return n;
}

/* At most max characters of escaped text, the last an ellipsis if s is longer. */
void rb_text_fit(RBuf *b, const char *s, int max) {
    if (!s) return;
    if (max < 1) max = 1;
    if (rb_utf8_chars(s) <= max) {
        rb_text(b, s);
        return;
    }
    text_n(b, s, char_prefix(s, max - 1));
    rb_str(b, "&#8230;");
}

/* ---- axes ------------------------------------------------------------------------ */

/* A value axis: [lo, hi] rounded out to whole steps of 1, 2, 2.5 or 5 x 10^k,
 * the smallest such step that needs at most target + 1 intervals. */
typedef struct {
    double lo, hi, step;
    int decimals; /* enough to print every tick exactly */
} Axis;

/* The axis for data in [lo, hi] (an empty range is widened by 10%, or by 1 around 0). */
static Axis nice_axis(double lo, double hi, int target) {
    if (!(hi > lo)) {
        double d = fabs(lo) > 1e-12 ? fabs(lo) * 0.1 : 1;
        lo -= d, hi += d;
    }
    static const double mant[] = {1, 2, 2.5, 5};
    double mag = pow(10, floor(log10((hi - lo) / target)) - 1);
    Axis a = {0, 0, 0, 0};
    for (int k = 0; k < 40; k++) {
        a.step = mant[k % 4] * mag * pow(10, k / 4);
        a.lo = floor(lo / a.step + 1e-9) * a.step;
        a.hi = ceil(hi / a.step - 1e-9) * a.step;
        if ((a.hi - a.lo) / a.step <= target + 1 + 1e-9) break;
    }
    while (a.decimals < 8) {
        double scaled = a.step * pow(10, a.decimals);
        if (fabs(scaled - round(scaled)) < 1e-6 * scaled) break;
        a.decimals++;
    }
    return a;
}

/* The y pixel of v on axis a drawn from top (hi) to top + h (lo). */
static double ypix(const Axis *a, double v, double top, double h) { return top + h - (v - a->lo) / (a->hi - a->lo) * h; }

/* Horizontal grid lines and labels of axis a at the left of a plot [x, x + w] x [top, top + h]. */
static void y_ticks(RBuf *b, const Axis *a, double x, double w, double top, double h, const char *suffix) {
    int n = (int)floor((a->hi - a->lo) / a->step + 0.5);
    for (int k = 0; k <= n; k++) {
        double v = a->lo + k * a->step, y = ypix(a, v, top, h);
        if (fabs(v) < a->step * 1e-9) v = 0; /* no "-0" */
        rb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>", x, y, x + w, y);
        rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f%s</text>\n", x - 6, y + 4, a->decimals, v, suffix);
    }
}

/* ---- line charts over epochs ----------------------------------------------------- */

#define LC_W 480
#define LC_H 300
#define LC_L 64
#define LC_R 16
#define LC_T 44
#define LC_B 46

/* The x pixel of epoch e. */
static double xpix(double e, double lo, double hi) { return LC_L + (e - lo) / (hi - lo) * (LC_W - LC_L - LC_R); }

/* The legend, right-aligned on the title line. */
static void legend(RBuf *b, const Series *s, int ns) {
    double x = LC_W - LC_R;
    for (int i = ns - 1; i >= 0; i--) {
        x -= 6.2 * rb_utf8_chars(s[i].name) + 28;
        rb_printf(b, "<line x1=\"%.1f\" y1=\"16\" x2=\"%.1f\" y2=\"16\" stroke=\"%s\" stroke-width=\"2.5\"/>", x, x + 18, s[i].color);
        rb_printf(b, "<text x=\"%.1f\" y=\"20\">", x + 22);
        rb_text(b, s[i].name);
        rb_str(b, "</text>\n");
    }
}

/* One series: a polyline per run of finite points, and dots (with tooltips). */
static void series(RBuf *b, const Series *s, int n, double xlo, double xhi, const Axis *a, int percent) {
    double top = LC_T, h = LC_H - LC_T - LC_B, scale = percent ? 100 : 1;
    for (int i = 0; i < n;) {
        if (!isfinite(s->y[i])) {
            i++;
            continue;
        }
        int j = i;
        while (j < n && isfinite(s->y[j])) j++;
        if (j - i > 1) {
            rb_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"", s->color);
            for (int k = i; k < j; k++)
                rb_printf(b, "%s%.1f,%.1f", k > i ? " " : "", xpix(k + 1, xlo, xhi), ypix(a, s->y[k] * scale, top, h));
            rb_str(b, "\"/>\n");
        }
        for (int k = i; k < j; k++) {
            if (n > 60 && j - i > 1) break; /* dense curves: no dots, except isolated points */
            rb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>", xpix(k + 1, xlo, xhi),
                      ypix(a, s->y[k] * scale, top, h), s->color);
            rb_text(b, s->name);
            if (percent) rb_printf(b, ", epoch %d: %.2f%%</title></circle>\n", k + 1, s->y[k] * 100);
            else rb_printf(b, ", epoch %d: %.4g</title></circle>\n", k + 1, s->y[k]);
        }
        i = j;
    }
}

/* Ticks on the epoch axis: 1 and the multiples of a step of 1, 2 or 5 x 10^k (at most about 10). */
static void x_ticks(RBuf *b, int nepochs, double lo, double hi) {
    int step = 1;
    for (int m = 1;; m *= 10) {
        if (nepochs <= 10 * m) { step = m; break; }
        if (nepochs <= 20 * m) { step = 2 * m; break; }
        if (nepochs <= 50 * m) { step = 5 * m; break; }
    }
    double y = LC_H - LC_B;
    for (int e = 1; e <= nepochs; e = e == 1 && step > 1 ? step : e + step) {
        double x = xpix(e, lo, hi);
        rb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>", x, y, x, y + 5);
        rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n", x, y + 18, e);
    }
}

void svg_line_chart(RBuf *b, const char *title, const char *ylabel, const Series *s, int ns, int nepochs, int best,
                    int percent) {
    double top = LC_T, w = LC_W - LC_L - LC_R, h = LC_H - LC_T - LC_B, scale = percent ? 100 : 1;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < nepochs; k++)
            if (isfinite(s[i].y[k])) lo = fmin(lo, s[i].y[k] * scale), hi = fmax(hi, s[i].y[k] * scale);
    double xlo = nepochs > 1 ? 1 : 0, xhi = nepochs > 1 ? nepochs : 2;

    rb_printf(b, SVG_OPEN " class=\"chart line-chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"><title>", LC_W,
              LC_H, LC_W, LC_H);
    rb_text(b, title);
    rb_printf(b, "</title>\n<text x=\"%d\" y=\"20\" font-size=\"13\" font-weight=\"bold\">", LC_L);
    rb_text(b, title);
    rb_str(b, "</text>\n");
    legend(b, s, ns);
    if (lo <= hi) {
        Axis a = nice_axis(lo, hi, 5);
        y_ticks(b, &a, LC_L, w, top, h, percent ? "%" : "");
        for (int i = 0; i < ns; i++) series(b, &s[i], nepochs, xlo, xhi, &a, percent);
    } else {
        rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">no finite values</text>\n",
                  LC_L + w / 2, top + h / 2);
    }
    x_ticks(b, nepochs, xlo, xhi);
    rb_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#888\"/>\n", LC_L, LC_T, w, h);
    rb_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">epoch</text>\n", LC_L + w / 2, LC_H - 8);
    rb_printf(b, "<text transform=\"rotate(-90)\" x=\"%.1f\" y=\"16\" text-anchor=\"middle\">", -(top + h / 2));
    rb_text(b, ylabel);
    rb_str(b, "</text>\n");
    if (best >= 1 && best <= nepochs) {
        double x = xpix(best, xlo, xhi);
        int right = x > LC_L + w * 0.7;
        rb_printf(b, "<line class=\"best-epoch\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" "
                     "stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>", x, top, x, top + h);
        rb_printf(b, "<text class=\"best-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"#d62728\">best epoch %d</text>\n",
                  right ? x + 4 : x - 4, top - 6, right ? "end" : "start", best);
    }
    rb_str(b, "</svg>\n");
}

/* ---- the confusion matrix ----------------------------------------------------------- */

/* The heat map's colour for a share t in [0, 1]: white to dark blue. */
static void shade(double t, char out[8]) {
    static const int from[3] = {247, 251, 255}, to[3] = {8, 48, 107};
    int c[3];
    for (int k = 0; k < 3; k++) c[k] = (int)lround(from[k] + (to[k] - from[k]) * t);
    snprintf(out, 8, "#%02x%02x%02x", c[0] & 255, c[1] & 255, c[2] & 255);
}

/* Cells of about 40 px (10 to 56), row labels at the left, column labels below
 * (slanted when they do not fit a cell), the colour scale at the right. */
void svg_confusion(RBuf *b, int n, const char *const *names, const int64_t *cm) {
    double cs = fmin(56, fmax(10, 400.0 / n));
    int maxc = 1;
    for (int i = 0; i < n; i++) maxc = rb_utf8_chars(names[i]) > maxc ? rb_utf8_chars(names[i]) : maxc;
    if (maxc > 16) maxc = 16;
    int rotate = maxc * 6.6 + 4 > cs;
    double left = 30 + 8 + 6.6 * maxc, top = 34, side = n * cs;
    double bottom = (rotate ? 0.71 * 6.6 * maxc + 12 : 18) + 28, right = 90;
    double W = left + side + right, H = top + side + bottom;
    rb_printf(b, SVG_OPEN " class=\"chart confusion\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">"
                 "<title>Confusion matrix on the test set</title>\n", W, H, W, H);
    rb_printf(b, "<text x=\"%.1f\" y=\"20\" font-size=\"13\" font-weight=\"bold\">Confusion matrix (test set)</text>\n", left);
    for (int t = 0; t < n; t++) {
        int64_t row = 0;
        for (int p = 0; p < n; p++) row += cm[(size_t)t * n + p];
        for (int p = 0; p < n; p++) {
            int64_t c = cm[(size_t)t * n + p];
            double share = row > 0 ? (double)c / (double)row : 0, x = left + p * cs, y = top + t * cs;
            char fill[8];
            shade(share, fill);
            rb_printf(b, "<rect class=\"cm-cell\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                         "stroke=\"#fff\" stroke-width=\"0.5\"><title>true ", x, y, cs, cs, fill);
            rb_text(b, names[t]);
            rb_str(b, ", predicted ");
            rb_text(b, names[p]);
            rb_printf(b, ": %lld (%.1f%% of true ", (long long)c, 100 * share);
            rb_text(b, names[t]);
            rb_str(b, ")</title></rect>");
            char num[24];
            int digits = snprintf(num, sizeof num, "%lld", (long long)c);
            double fs = fmin(fmin(12, cs * 0.45), cs * 0.85 / (0.6 * digits));
            if (fs >= 6)
                rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%.1f\" fill=\"%s\">%s</text>",
                          x + cs / 2, y + cs / 2 + fs * 0.35, fs, share > 0.45 ? "#fff" : "#222", num);
            rb_str(b, "\n");
        }
    }
    /* class names: rows at the left, columns below */
    for (int i = 0; i < n; i++) {
        double fs = fmin(11, cs * 0.8);
        rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"%.1f\">", left - 6, top + i * cs + cs / 2 + fs * 0.35, fs);
        rb_text_fit(b, names[i], 16);
        double x = left + i * cs + cs / 2, y = top + side + 14;
        if (rotate)
            rb_printf(b, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"%.1f\" transform=\"rotate(-45 %.1f %.1f)\">",
                      x + 3, y - 4, fs, x + 3, y - 4);
        else
            rb_printf(b, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y);
        rb_text_fit(b, names[i], 16);
        rb_str(b, "</text>\n");
    }
    rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"bold\">predicted</text>\n", left + side / 2, H - 8);
    rb_printf(b, "<text transform=\"rotate(-90)\" x=\"%.1f\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\">true</text>\n",
              -(top + side / 2));
    rb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888\"/>\n", left, top, side, side);
    /* the colour scale */
    double gx = left + side + 16;
    rb_str(b, "<defs><linearGradient id=\"cm-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
              "<stop offset=\"0\" stop-color=\"#f7fbff\"/><stop offset=\"1\" stop-color=\"#08306b\"/></linearGradient></defs>\n");
    rb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"%.1f\" fill=\"url(#cm-scale)\" stroke=\"#888\"/>", gx, top, side);
    rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\">100%%</text><text x=\"%.1f\" y=\"%.1f\">0%%</text>\n", gx + 16, top + 10, gx + 16, top + side);
    rb_printf(b, "<text transform=\"rotate(-90)\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" fill=\"#666\">"
                 "share of the true class</text>\n", -(top + side / 2), gx + 64);
    rb_str(b, "</svg>\n");
}

/* ---- logits ------------------------------------------------------------------------ */

/* One bar per class from zero (22 px each; narrower past 40 classes), a legend,
 * class names below (slanted when long); non-finite logits get no bar. */
void svg_logits(RBuf *b, const float *logits, int n, const char *const *names, int label, int pred) {
    double bw = n > 40 ? fmax(3, 880.0 / n) : 22, L = 44, T = 26, R = 8, h = 100;
    int fit = (int)(bw / 6), maxc = 1;
    for (int i = 0; i < n; i++) maxc = rb_utf8_chars(names[i]) > maxc ? rb_utf8_chars(names[i]) : maxc;
    int rotate = bw >= 10 && maxc > fit; /* long names: slanted labels of up to 12 characters */
    double B = rotate ? 18 + 0.71 * 6 * (maxc < 12 ? maxc : 12) : 30, H = T + h + B, W = fmax(250, L + n * bw + R);
    double lo = 0, hi = 0;
    int finite = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(logits[i])) lo = fmin(lo, logits[i]), hi = fmax(hi, logits[i]), finite++;
    rb_printf(b, SVG_OPEN " class=\"chart logits\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\"><title>logits</title>\n",
              W, H, W, H);
    rb_str(b, "<text x=\"0\" y=\"14\" font-weight=\"bold\">logits</text>");
    rb_str(b, "<rect x=\"60\" y=\"5\" width=\"10\" height=\"10\" fill=\"#2ca02c\"/>"
              "<rect x=\"71\" y=\"5\" width=\"10\" height=\"10\" fill=\"#d62728\"/><text x=\"85\" y=\"14\">predicted</text>"
              "<rect x=\"152\" y=\"5\" width=\"10\" height=\"10\" fill=\"#c6dbef\" stroke=\"#000\" stroke-width=\"2\"/>"
              "<text x=\"166\" y=\"14\">true class</text>\n");
    Axis a = nice_axis(lo, hi, 4);
    y_ticks(b, &a, L, n * bw, T, h, "");
    for (int i = 0; i < n; i++) {
        double x = L + i * bw + (bw > 8 ? 3 : 0.5), w = bw > 8 ? bw - 6 : bw - 1;
        if (isfinite(logits[i])) {
            double y0 = ypix(&a, 0, T, h), y1 = ypix(&a, logits[i], T, h);
            const char *fill = i != pred ? "#c6dbef" : label < 0 ? "#1f77b4" : pred == label ? "#2ca02c" : "#d62728";
            rb_printf(b, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"%s><title>",
                      i == pred ? "bar predicted" : i == label ? "bar true" : "bar", x, fmin(y0, y1), w,
                      fmax(fabs(y1 - y0), 0.5), fill, i == label ? " stroke=\"#000\" stroke-width=\"2\"" : "");
            rb_text(b, names[i]);
            rb_printf(b, ": %.4g</title></rect>", logits[i]);
        }
        const char *bold = i == label || i == pred ? " font-weight=\"bold\"" : "";
        double lx = x + w / 2, ly = T + h + 13;
        if (rotate)
            rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\" transform=\"rotate(-45 %.1f %.1f)\"%s>",
                      lx + 3, ly - 3, lx + 3, ly - 3, bold);
        else if (bw >= 10)
            rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\"%s>", lx, ly, bold);
        if (bw >= 10) {
            rb_text_fit(b, names[i], rotate ? 12 : fit);
            rb_str(b, "</text>");
        }
        rb_str(b, "\n");
    }
    rb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\"/>\n", L, ypix(&a, 0, T, h), L + n * bw,
              ypix(&a, 0, T, h));
    if (!finite)
        rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">no finite logits</text>\n", L + n * bw / 2, T + h / 2);
    rb_str(b, "</svg>\n");
}
