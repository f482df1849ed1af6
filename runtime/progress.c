/* progress.c — see progress.h. */
#include "progress.h"

#include <math.h>
#include <time.h>

double progress_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

const char *progress_time(char *buf, size_t n, double t) {
    if (!isfinite(t) || t < 0 || t > 1e9) {
        snprintf(buf, n, "?");
        return buf;
    }
    long long s = (long long)t;
    if (s >= 3600) snprintf(buf, n, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(buf, n, "%lld:%02lld", s / 60, s % 60);
    return buf;
}

void progress_format(char *buf, size_t n, const char *prefix, const char *label, int64_t done, int64_t total,
                     double elapsed, double eta, double rate, double loss) {
    char bar[PROGRESS_BAR + 1], t0[24], t1[24];
    int cells = total > 0 && done > 0 ? (int)((done < total ? done : total) * PROGRESS_BAR / total) : 0;
    for (int i = 0; i < PROGRESS_BAR; i++) bar[i] = i < cells ? '=' : ' ';
    if (cells > 0 && cells < PROGRESS_BAR) bar[cells - 1] = '>';
    bar[PROGRESS_BAR] = 0;
    progress_time(t0, sizeof t0, elapsed);
    progress_time(t1, sizeof t1, eta);
    size_t len = 0;
    if (n == 0) return;
    buf[0] = 0;
#define PUT(...)                                                                                                 \
    do {                                                                                                         \
        if (len < n) {                                                                                           \
            int w_ = snprintf(buf + len, n - len, __VA_ARGS__);                                                  \
            len = w_ < 0 ? n : len + (size_t)w_;                                                                 \
        }                                                                                                        \
    } while (0)
    PUT("%s%s [%s] %lld/%lld  %s<%s", prefix ? prefix : "", label, bar, (long long)done, (long long)total, t0, t1);
    if (isfinite(rate) && rate >= 0) PUT("  %.0f samples/s", rate);
    if (isfinite(loss)) PUT("  loss %.4f", loss);
#undef PUT
}

void progress_start(Progress *p, FILE *out, const char *prefix, double now, int64_t done) {
    *p = (Progress){out, prefix, now, -1, done, 0};
}

void progress_update(Progress *p, double now, const char *label, int64_t done, int64_t total, double rate, double loss) {
    if (!p->out || (p->last >= 0 && now - p->last < PROGRESS_INTERVAL && done < total)) return;
    double elapsed = now - p->start;
    int64_t steps = done - p->first;
    double eta = steps > 0 ? elapsed / (double)steps * (double)(total - done) : NAN;
    char line[1024];
    progress_format(line, sizeof line, p->prefix, label, done, total, elapsed, eta, rate, loss);
    fprintf(p->out, "\r\033[K%s", line);
    fflush(p->out);
    p->last = now;
    p->shown = 1;
}

void progress_clear(Progress *p) {
    if (!p->out || !p->shown) return;
    fputs("\r\033[K", p->out);
    fflush(p->out);
    p->shown = 0;
}
