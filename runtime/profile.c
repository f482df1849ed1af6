/* profile.c — the profile's rows: kernels attributed to source lines (see
 * profile.h); profile_out.c prints them. */
#include "profile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io_util.h"
#include "machine.h"
#include "util.h"

/* ---- where a node comes from -------------------------------------------------------- */

/* Each node's location, where a node without a line takes the line of a
 * node reading it that has one (going down the ids, so a reader's own
 * stand-in is settled before its inputs'; the last reader wins), else of
 * an input's, else of the loss's (see profile.h). */
static Loc *effective_locs(const Graph *g) {
    Loc *loc = xcalloc((size_t)g->nnodes + 1, sizeof *loc);
    for (int i = 0; i < g->nnodes; i++) loc[i] = g->nodes[i].loc;
    for (int i = g->nnodes - 1; i >= 0; i--) {
        if (loc[i].line <= 0) continue;
        for (int j = 0; j < g->nodes[i].nin; j++) {
            int in = g->nodes[i].in[j];
            if (loc[in].line <= 0 && g->nodes[in].loc.line <= 0) loc[in] = loc[i];
        }
    }
    int loss = ir_output(g, IR_LOSS);
    for (int i = 0; i < g->nnodes; i++) {
        for (int j = 0; j < g->nodes[i].nin && loc[i].line <= 0; j++)
            if (loc[g->nodes[i].in[j]].line > 0) loc[i] = loc[g->nodes[i].in[j]];
        if (loc[i].line <= 0 && loss >= 0) loc[i] = g->nodes[loss].loc;
    }
    return loc;
}

/* Bytes of node id's elements. */
static double bytes_of(const Graph *g, int id) {
    const TType *t = &g->nodes[id].type;
    return (double)ir_numel(&t->shape) * (t->dtype == DT_I64 ? 8 : 4);
}

/* Line `line` of file path, trimmed, into buf ("" if it cannot be read). */
static void line_text(const char *path, int line, char *buf, size_t n) {
    buf[0] = 0;
    FILE *f = path && path[0] != '<' && line > 0 ? fopen(path, "r") : NULL;
    if (!f) return;
    char *l = NULL;
    size_t cap = 0;
    for (int i = 1; getline(&l, &cap, f) >= 0; i++)
        if (i == line) {
            char *s = l + strspn(l, " \t");
            size_t len = strcspn(s, "\r\n");
            while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
            snprintf(buf, n, "%.*s", (int)len, s);
            break;
        }
    free(l);
    fclose(f);
}

/* ---- building the rows ---------------------------------------------------------------- */

/* A row being built: its file and line, and the text that grows. */
typedef struct {
    int file, line;
    double ms, flops, bytes;
    RBuf kernels;
    RBuf paths; /* the block instances of its forward nodes, "a, b" */
    int npaths;
} Row;

/* Adds block path p to r's list unless it is there. */
static void add_path(Row *r, const char *p) {
    const char *at = r->paths.s;
    size_t plen = strlen(p);
    for (int i = 0; at && i < r->npaths; i++) { /* the list is "a, b, c" */
        size_t len = strcspn(at, ",");
        if (len == plen && !strncmp(at, p, len)) return;
        at += len + (at[len] ? 2 : 0);
    }
    rb_printf(&r->paths, "%s%s", r->npaths++ ? ", " : "", p);
}

/* The row of (file, line), added if new. */
static int row_of(Row **rows, int *n, int file, int line) {
    for (int i = 0; i < *n; i++)
        if ((*rows)[i].file == file && (*rows)[i].line == line) return i;
    *rows = xrealloc(*rows, (size_t)(*n + 1) * sizeof **rows);
    memset(&(*rows)[*n], 0, sizeof **rows);
    (*rows)[*n].file = file, (*rows)[*n].line = line;
    return (*n)++;
}

static _Thread_local const Row *sort_rows; /* qsort's context, per thread */
static int by_time(const void *a, const void *b) {
    const Row *x = &sort_rows[*(const int *)a], *y = &sort_rows[*(const int *)b];
    if (x->ms != y->ms) return x->ms < y->ms ? 1 : -1;
    return *(const int *)a - *(const int *)b;
}

/* The nodes of each kernel: node ids grouped by kernel (start[k] .. start[k + 1]). */
static int *kernel_nodes(const Graph *g, const EngineProfile *ep, int **start) {
    int *st = xcalloc((size_t)ep->nk + 2, sizeof *st), *ids = xmalloc(((size_t)g->nnodes + 1) * sizeof *ids);
    for (int i = 0; i < g->nnodes; i++)
        if (ep->kernel_of[i] >= 0) st[ep->kernel_of[i] + 1]++;
    for (int k = 0; k < ep->nk; k++) st[k + 1] += st[k];
    int *fill = xmalloc(((size_t)ep->nk + 1) * sizeof *fill);
    memcpy(fill, st, (size_t)ep->nk * sizeof *fill);
    for (int i = 0; i < g->nnodes; i++)
        if (ep->kernel_of[i] >= 0) ids[fill[ep->kernel_of[i]]++] = i;
    free(fill);
    *start = st;
    return ids;
}

int profile_build(const Graph *g, const EngineProfile *ep, const char *const *block, int nforward, Profile *p, char *err,
                  size_t errlen) {
    memset(p, 0, sizeof *p);
    if (!ep || ep->runs == 0) return snprintf(err, errlen, "the profile has no measured step"), -1;
    double runs = (double)ep->runs;
    Loc *loc = effective_locs(g);
    int *start, *ids = kernel_nodes(g, ep, &start);
    int *stamp = xmalloc(((size_t)g->nnodes + 1) * sizeof *stamp);
    for (int i = 0; i < g->nnodes; i++) stamp[i] = -1;
    Row *rows = NULL;
    int nrows = 0;
    double kernels_ms = 0;
    p->kernel = xcalloc((size_t)ep->nk + 1, sizeof *p->kernel);
    for (int k = 0; k < ep->nk; k++) {
        ProfileKernel *pk = &p->kernel[k];
        int best = -1;
        double best_flops = -1;
        for (int m = start[k]; m < start[k + 1]; m++) {
            int id = ids[m];
            const Node *n = &g->nodes[id];
            double f = ir_node_flops(g, id);
            pk->flops += f;
            if (f > best_flops) best = id, best_flops = f;
            if (ep->view_of && ep->view_of[id] >= 0) continue; /* a view: no bytes move */
            for (int j = -1; j < n->nin; j++) { /* the buffers the kernel touches, each once */
                int b = j < 0 ? id : n->in[j];
                if (ep->kept[b] && stamp[b] != k) stamp[b] = k, pk->bytes += bytes_of(g, b);
            }
        }
        pk->ms = (double)ep->kernel_ns[k] / 1e6 / runs;
        kernels_ms += pk->ms;
        if (best < 0) { /* a kernel without nodes cannot happen; counted outside if it did */
            pk->line = -1;
            continue;
        }
        Op first = g->nodes[ids[start[k]]].op;
        int loop = ir_op_info[first].cls == OC_EW || first == OP_CONST;
        snprintf(pk->name, sizeof pk->name, "k%d %s", k, loop ? "loop" : ir_op_info[first].name);
        Loc l = loc[best];
        int r = row_of(&rows, &nrows, l.line > 0 ? l.file : -1, l.line > 0 ? l.line : 0);
        pk->line = r;
        rows[r].ms += pk->ms, rows[r].flops += pk->flops, rows[r].bytes += pk->bytes;
        rb_printf(&rows[r].kernels, "%s%s", rows[r].kernels.n ? ", " : "", pk->name);
    }
    /* a line's block paths: the instances that made the forward nodes on
     * it (its backward and update nodes are on it because of them) */
    const char *model = g->name ? g->name : "model";
    for (int i = 0; i < nforward && i < g->nnodes; i++) {
        if (g->nodes[i].loc.line <= 0) continue;
        for (int r = 0; r < nrows; r++)
            if (rows[r].file == g->nodes[i].loc.file && rows[r].line == g->nodes[i].loc.line)
                add_path(&rows[r], block && block[i] ? block[i] : model);
    }
    /* rows by time; the step outside its kernels last */
    int *order = xmalloc(((size_t)nrows + 1) * sizeof *order), *rank = xmalloc(((size_t)nrows + 1) * sizeof *rank);
    for (int i = 0; i < nrows; i++) order[i] = i;
    sort_rows = rows;
    qsort(order, (size_t)nrows, sizeof *order, by_time);
    for (int i = 0; i < nrows; i++) rank[order[i]] = i;
    for (int k = 0; k < ep->nk; k++) p->kernel[k].line = p->kernel[k].line >= 0 ? rank[p->kernel[k].line] : nrows;
    double step_ms = (double)ep->step_ns / 1e6 / runs;
    p->lines = xcalloc((size_t)nrows + 1, sizeof *p->lines);
    p->files = xcalloc((size_t)nrows + 1, sizeof *p->files);
    p->lineno = xcalloc((size_t)nrows + 1, sizeof *p->lineno);
    for (int i = 0; i < nrows; i++) {
        Row *r = &rows[order[i]];
        ReportProfileLine *o = &p->lines[i];
        const char *file = r->file >= 0 && r->file < g->nfiles ? g->files[r->file] : NULL;
        char buf[512], text[512];
        const char *base = file ? strrchr(file, '/') : NULL;
        if (file) snprintf(buf, sizeof buf, "%s:%d", base ? base + 1 : file, r->line);
        else snprintf(buf, sizeof buf, "(no source line)");
        line_text(file, r->line, text, sizeof text);
        o->where = xstrdup(buf);
        o->text = xstrdup(text);
        o->paths = xstrdup(r->paths.s ? r->paths.s : "");
        o->kernels = xstrdup(r->kernels.s ? r->kernels.s : "");
        o->ms = r->ms, o->flops = r->flops, o->bytes = r->bytes;
        o->share = step_ms > 0 ? r->ms / step_ms : NAN;
        p->files[i] = file ? xstrdup(file) : NULL;
        p->lineno[i] = file ? r->line : 0;
        free(r->paths.s);
        free(r->kernels.s);
    }
    /* the measured step minus its kernels: what the step does around them */
    double outside = step_ms - kernels_ms > 0 ? step_ms - kernels_ms : 0;
    p->lines[nrows] = (ReportProfileLine){xstrdup("(outside kernels)"), xstrdup(""), xstrdup(""), xstrdup(""), outside,
                                          step_ms > 0 ? outside / step_ms : NAN, 0, 0};
    p->rep = (ReportProfile){p->lines, nrows + 1, ep->nk, ep->runs, step_ms, ep->threads > 0 ? ep->threads : 1, 0, 0};
    free(rows), free(order), free(rank), free(loc), free(ids), free(start), free(stamp);
    return 0;
}

void profile_free(Profile *p) {
    for (int i = 0; p->lines && i < p->rep.nlines; i++) {
        free((char *)p->lines[i].where), free((char *)p->lines[i].text);
        free((char *)p->lines[i].paths), free((char *)p->lines[i].kernels);
        if (p->files) free(p->files[i]);
    }
    free(p->lines), free(p->files), free(p->lineno), free(p->kernel);
    memset(p, 0, sizeof *p);
}

void profile_measure_limits(Profile *p, double seconds) {
    MachineLimits m;
    machine_limits_apart(p->rep.threads, seconds, &m);
    p->rep.peak_gflops = m.gflops, p->rep.peak_gbytes = m.gbytes;
}
