/* profile_out.c — the profile as a table and as JSON (profile.h); the
 * rows themselves are profile.c's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "out_file.h"
#include "profile.h"

/* "%*.*f", or a dash for NaN. */
static void num(FILE *out, int width, int decimals, double v) {
    if (isfinite(v)) fprintf(out, "%*.*f", width, decimals, v);
    else fprintf(out, "%*s", width, "-");
}

/* " NN%" (width 6), or a dash for NaN. */
static void percent(FILE *out, double share) {
    if (isfinite(share)) fprintf(out, " %4.0f%%", 100 * share);
    else fprintf(out, "%6s", "-");
}

/* At most max characters of s (an ellipsis "..." at the end when cut). */
static void cut(FILE *out, const char *s, int max) {
    if ((int)strlen(s) <= max) fputs(s, out);
    else fprintf(out, "%.*s...", max - 3, s);
}

void profile_print(const Profile *p, FILE *out) {
    const ReportProfile *r = &p->rep;
    int limits = r->peak_gflops > 0;
    fprintf(out,
            "profile: %.3f ms per training step over %llu steps, %d kernels (each kernel on the line of its most "
            "expensive node)\n",
            r->step_ms, (unsigned long long)r->steps, r->nkernels);
    if (limits)
        fprintf(out,
                "limits: FMA peak %.1f GFLOP/s, memory %.1f GB/s on %d thread%s (measured after the steps; \"peak\" "
                "and \"mem\" are each row's shares of them)\n",
                r->peak_gflops, r->peak_gbytes, r->threads, r->threads == 1 ? "" : "s");
    fprintf(out, limits ? "  ms/step   share  MFLOP/step   MB/step  GFLOP/s  peak     GB/s   mem  line\n"
                        : "  ms/step   share  MFLOP/step   MB/step  GFLOP/s     GB/s  line\n");
    for (int i = 0; i < r->nlines; i++) {
        const ReportProfileLine *l = &r->lines[i];
        num(out, 9, 3, l->ms);
        num(out, 7, 1, 100 * l->share);
        fputc('%', out);
        num(out, 12, 3, l->flops > 0 ? l->flops / 1e6 : NAN);
        num(out, 10, 3, l->bytes > 0 ? l->bytes / 1e6 : NAN);
        num(out, 9, 2, report_rate(l->flops, l->ms));
        if (limits) percent(out, report_share(report_rate(l->flops, l->ms), r->peak_gflops));
        num(out, 9, 2, report_rate(l->bytes, l->ms));
        if (limits) percent(out, report_share(report_rate(l->bytes, l->ms), r->peak_gbytes));
        fprintf(out, "  %s", l->where);
        if (l->text[0]) {
            fputs("  ", out);
            cut(out, l->text, 40);
        }
        if (l->paths[0]) fprintf(out, "  [%s]", l->paths);
        if (l->kernels[0]) {
            fputs("  ", out);
            cut(out, l->kernels, 60);
        }
        fputc('\n', out);
    }
    double ms = 0;
    for (int i = 0; i < r->nlines; i++) ms += r->lines[i].ms;
    num(out, 9, 3, ms);
    fprintf(out, " 100.0%%%*s  total\n", limits ? 53 : 41, "");
}

/* A JSON string (quotes, backslashes and control characters escaped). */
static void jstr(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(f, "\\%c", *c);
        else if (*c < 0x20) fprintf(f, "\\u%04x", *c);
        else fputc(*c, f);
    }
    fputc('"', f);
}

/* A JSON number; NaN and infinities as null. */
static void jnum(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.9g", v);
    else fputs("null", f);
}

/* ", \"key\": NUMBER" */
static void jfield(FILE *f, const char *key, double v) {
    fprintf(f, ", \"%s\": ", key);
    jnum(f, v);
}

void profile_json(const Profile *p, FILE *f) {
    const ReportProfile *r = &p->rep;
    fprintf(f, "{\n  \"steps\": %llu,\n  \"kernels\": %d,\n  \"step_ms\": ", (unsigned long long)r->steps, r->nkernels);
    jnum(f, r->step_ms);
    fprintf(f, ",\n  \"threads\": %d,\n  \"limits\": ", r->threads);
    if (r->peak_gflops > 0) {
        fputs("{\"fma_peak_gflops_per_s\": ", f);
        jnum(f, r->peak_gflops);
        jfield(f, "memory_gbytes_per_s", r->peak_gbytes);
        fputc('}', f);
    } else fputs("null", f);
    fputs(",\n  \"rule\": \"a kernel's time, FLOPs and bytes go to the source line of its most expensive node (most "
          "FLOPs, the first on ties); times, FLOPs and bytes are per step; the last row is the step's time outside "
          "its kernels\",\n  \"lines\": [",
          f);
    for (int i = 0; i < r->nlines; i++) {
        const ReportProfileLine *l = &r->lines[i];
        int outside = i == r->nlines - 1;
        fprintf(f, "%s\n    {\"where\": ", i ? "," : "");
        jstr(f, l->where);
        fputs(", \"file\": ", f);
        if (!outside && p->files[i]) jstr(f, p->files[i]);
        else fputs("null", f);
        fprintf(f, ", \"line\": %d, \"text\": ", outside ? 0 : p->lineno[i]);
        jstr(f, l->text);
        fputs(", \"paths\": ", f);
        jstr(f, l->paths);
        fputs(",\n     \"ms_per_step\": ", f);
        jnum(f, l->ms);
        jfield(f, "share", l->share);
        jfield(f, "flops_per_step", l->flops);
        jfield(f, "bytes_per_step", l->bytes);
        jfield(f, "gflops_per_s", report_rate(l->flops, l->ms));
        jfield(f, "gbytes_per_s", report_rate(l->bytes, l->ms));
        jfield(f, "peak_share", report_share(report_rate(l->flops, l->ms), r->peak_gflops));
        jfield(f, "memory_share", report_share(report_rate(l->bytes, l->ms), r->peak_gbytes));
        fputs(",\n     \"kernels\": [", f);
        int first = 1;
        for (int k = 0; k < r->nkernels; k++) {
            const ProfileKernel *pk = &p->kernel[k];
            if (pk->line != i) continue;
            fprintf(f, "%s{\"index\": %d, \"name\": ", first ? "" : ", ", k);
            jstr(f, pk->name);
            jfield(f, "ms_per_step", pk->ms);
            jfield(f, "flops_per_step", pk->flops);
            jfield(f, "bytes_per_step", pk->bytes);
            fputc('}', f);
            first = 0;
        }
        fputs("]}", f);
    }
    fputs("\n  ]\n}\n", f);
}

int profile_write_json(const Profile *p, const char *path, char *err, size_t errlen) {
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (!f) return snprintf(err, errlen, "%s: out of memory", path), -1;
    profile_json(p, f);
    fclose(f);
    int rc = out_file_write(path, text, n, err, errlen);
    free(text);
    return rc;
}
