/* report_image.c — the report's pictures of sample inputs: an image as an
 * 8-bit greyscale BMP in a data: URI (encoded here, no library), a
 * waveform as a polyline of its min/max envelope, and the waveform as
 * sound: an <audio> player of a WAV file in a data: URI.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_svg.h"
#include "wav.h"

/* The display size of the longer side of an image, in pixels. */
#define IMAGE_SIDE 112
#define WAVE_W 240
#define WAVE_H 90
/* Waveforms longer than this many points are drawn as min/max pairs of buckets. */
#define WAVE_POINTS 800

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Appends the base64 encoding of p[0, n). */
static void base64(RBuf *b, const unsigned char *p, size_t n) {
    char quad[4];
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        quad[0] = B64[v >> 18 & 63];
        quad[1] = B64[v >> 12 & 63];
        quad[2] = i + 1 < n ? B64[v >> 6 & 63] : '=';
        quad[3] = i + 2 < n ? B64[v & 63] : '=';
        rb_add(b, quad, 4);
    }
}

/* Little-endian integers for the BMP headers. */
static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* An 8-bit BMP with a grey palette of the h x w bytes grey (top row first);
 * returns a malloc'd file of *size bytes, or NULL. */
static unsigned char *bmp_grey(const unsigned char *grey, int h, int w, size_t *size) {
    size_t stride = ((size_t)w + 3) & ~(size_t)3, offset = 14 + 40 + 1024;
    *size = offset + stride * (size_t)h;
    unsigned char *f = calloc(1, *size);
    if (!f) return NULL;
    f[0] = 'B', f[1] = 'M';
    put32(f + 2, (uint32_t)*size);
    put32(f + 10, (uint32_t)offset);
    put32(f + 14, 40);             /* BITMAPINFOHEADER */
    put32(f + 18, (uint32_t)w);
    put32(f + 22, (uint32_t)h);    /* positive: rows bottom-up */
    put16(f + 26, 1);              /* planes */
    put16(f + 28, 8);              /* bits per pixel */
    put32(f + 34, (uint32_t)(stride * (size_t)h));
    put32(f + 38, 2835), put32(f + 42, 2835); /* 72 dpi */
    put32(f + 46, 256);            /* colours in the palette */
    for (int i = 0; i < 256; i++) memset(f + 54 + 4 * i, i, 3);
    for (int y = 0; y < h; y++) memcpy(f + offset + stride * (size_t)(h - 1 - y), grey + (size_t)y * w, (size_t)w);
    return f;
}

/* The picture at IMAGE_SIDE px on its longer side, drawn with crisp pixels;
 * non-finite pixels are black. */
void svg_image(RBuf *b, const char *name, const float *px, int64_t h, int64_t w) {
    size_t n = (size_t)(h * w);
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(px[i])) lo = fminf(lo, px[i]), hi = fmaxf(hi, px[i]);
    unsigned char *grey = malloc(n ? n : 1);
    if (!grey) {
        b->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double t = !isfinite(px[i]) ? 0 : hi > lo ? (px[i] - lo) / ((double)hi - lo) : 0.5;
        grey[i] = (unsigned char)lround(255 * t);
    }
    size_t size;
    unsigned char *bmp = bmp_grey(grey, (int)h, (int)w, &size);
    free(grey);
    if (!bmp) {
        b->oom = 1;
        return;
    }
    double s = (double)IMAGE_SIDE / (double)(h > w ? h : w), dw = (double)w * s, dh = (double)h * s;
    rb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"view-image\" width=\"%.0f\" height=\"%.0f\" "
                 "viewBox=\"0 0 %.0f %.0f\"><title>", dw + 2, dh + 2, dw + 2, dh + 2);
    rb_text(b, name);
    if (lo <= hi) rb_printf(b, " [1, %lld, %lld], values %.4g to %.4g</title>", (long long)h, (long long)w, lo, hi);
    else rb_printf(b, " [1, %lld, %lld], no finite values</title>", (long long)h, (long long)w);
    rb_printf(b, "<image x=\"1\" y=\"1\" width=\"%.1f\" height=\"%.1f\" preserveAspectRatio=\"none\" "
                 "style=\"image-rendering:pixelated\" href=\"data:image/bmp;base64,", dw, dh);
    base64(b, bmp, size);
    rb_printf(b, "\"/><rect x=\"0.5\" y=\"0.5\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888\"/></svg>\n", dw + 1, dh + 1);
    free(bmp);
}

/* The y pixel of sample value v with amplitude amp. */
static double wave_y(double v, double amp) { return WAVE_H / 2.0 - v / amp * (WAVE_H / 2.0 - 6); }

/* Scaled to its peak (shown at the top left), a zero line, the samples or
 * their min/max envelope; non-finite samples are skipped. */
void svg_waveform(RBuf *b, const char *name, const float *x, int64_t len) {
    double amp = 0;
    for (int64_t i = 0; i < len; i++)
        if (isfinite(x[i])) amp = fmax(amp, fabs(x[i]));
    double shown = amp > 0 ? amp : 1;
    rb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"view-waveform\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"9\"><title>", WAVE_W, WAVE_H, WAVE_W, WAVE_H);
    rb_text(b, name);
    rb_printf(b, " [1, %lld], peak %.4g</title>", (long long)len, amp);
    rb_printf(b, "<rect x=\"0.5\" y=\"0.5\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#888\"/>", WAVE_W - 1, WAVE_H - 1);
    rb_printf(b, "<line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ccc\"/>", WAVE_H / 2, WAVE_W, WAVE_H / 2);
    rb_str(b, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1\" points=\"");
    double span = WAVE_W - 8;
    int first = 1;
    if (len <= WAVE_POINTS) {
        for (int64_t i = 0; i < len; i++) {
            if (!isfinite(x[i])) continue;
            double y = wave_y(x[i], shown);
            if (len == 1) rb_printf(b, "4,%.1f %.1f,%.1f", y, 4 + span, y); /* one sample: a flat line */
            else rb_printf(b, "%s%.1f,%.1f", first ? "" : " ", 4 + span * (double)i / (double)(len - 1), y);
            first = 0;
        }
    } else {
        int buckets = WAVE_POINTS / 2;
        for (int j = 0; j < buckets; j++) {
            int64_t from = len * j / buckets, to = len * (j + 1) / buckets;
            double lo = INFINITY, hi = -INFINITY;
            for (int64_t i = from; i < to; i++)
                if (isfinite(x[i])) lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
            if (lo > hi) continue;
            double px = 4 + span * (j + 0.5) / buckets, a = j % 2 ? hi : lo, c = j % 2 ? lo : hi;
            rb_printf(b, "%s%.1f,%.1f %.1f,%.1f", first ? "" : " ", px, wave_y(a, shown), px, wave_y(c, shown));
            first = 0;
        }
    }
    rb_str(b, "\"/>");
    rb_printf(b, "<rect x=\"3\" y=\"3\" width=\"38\" height=\"11\" fill=\"#fff\" fill-opacity=\"0.85\"/>"
                 "<text x=\"5\" y=\"11\" fill=\"#666\">&#177;%.3g</text></svg>\n", shown);
}

/* A player of x[0..len) at rate Hz: <audio controls> with the samples as a
 * 16-bit WAV file in a data: URI (nothing fetched); nothing if out of memory. */
void html_audio(RBuf *b, const char *name, const float *x, int64_t len, int rate) {
    size_t size;
    unsigned char *wav = wav_encode(x, len, rate, &size);
    if (!wav) return;
    rb_str(b, "<audio class=\"view-audio\" controls=\"controls\" preload=\"none\" title=\"");
    rb_text(b, name);
    rb_printf(b, ", %lld samples at %d Hz\" src=\"data:audio/wav;base64,", (long long)len, rate);
    base64(b, wav, size);
    rb_str(b, "\"></audio>");
    free(wav);
}
