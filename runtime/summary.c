/* summary.c — see summary.h. */
#include "summary.h"

#include <string.h>

/* Writes n with thousands separators: 4,489,770. */
static const char *grouped(long long n, char *buf, size_t size) {
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", n < 0 ? -n : n);
    size_t k = 0;
    if (n < 0 && k + 1 < size) buf[k++] = '-';
    for (int i = 0; i < len && k + 2 < size; i++) {
        if (i && (len - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = 0;
    return buf;
}

long long summary_param_count(const Graph *g) {
    long long total = 0;
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].op == OP_PARAM) total += ir_numel(&g->nodes[i].type.shape);
    return total;
}

/* Prints a FLOP count with a unit: 11.03 MFLOPs. */
static void print_flops(double f, FILE *out) {
    const char *unit[] = {"", "K", "M", "G", "T"};
    int u = 0;
    while (f >= 1000 && u < 4) f /= 1000, u++;
    fprintf(out, "%.2f %sFLOPs", f, unit[u]);
}

static void print_io(const char *what, const ModelIO *io, int n, const Graph *g, FILE *out) {
    char buf[128];
    fprintf(out, "%-8s", what);
    for (int i = 0; i < n; i++)
        fprintf(out, "%s%s %s", i ? ", " : "", io[i].name, ir_type_str(&g->nodes[io[i].node].type, buf, sizeof buf));
    fputc('\n', out);
}

void summary_print(const Elaborated *m, FILE *out) {
    const Graph *g = m->graph;
    char shape[128], num[64];
    fprintf(out, "model %s (batch %d)\n", m->model, m->train.batch);
    print_io("inputs", m->inputs, m->ninputs, g, out);
    print_io("labels", m->labels, m->nlabels, g, out);
    int width = 9;
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].op == OP_PARAM && (int)strlen(g->nodes[i].name) > width) width = (int)strlen(g->nodes[i].name);
    fprintf(out, "\n%-*s  %-18s %12s\n", width, "parameter", "shape", "count");
    for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        if (n->op != OP_PARAM) continue;
        fprintf(out, "%-*s  %-18s %12s\n", width, n->name, ir_shape_str(&n->type.shape, shape, sizeof shape),
                grouped(ir_numel(&n->type.shape), num, sizeof num));
    }
    fprintf(out, "%-*s  %-18s %12s\n", width, "total", "", grouped(summary_param_count(g), num, sizeof num));
    double flops = 0;
    for (int i = 0; i < g->nnodes; i++) flops += ir_node_flops(g, i);
    fprintf(out, "\nforward FLOPs per sample: ");
    print_flops(flops / m->train.batch, out);
    fputc('\n', out);
}
