/* dot.c — the graph as Graphviz input, for looking at it.
 *
 *   digraph "mnist" {
 *     n0 [label="%image\ninput\nf32[64, 784]", shape=box, style=filled, fillcolor="#cfe2ff"];
 *     n2 [label="%2\nmatmul\nf32[64, 10]"];
 *     n0 -> n2;
 *     out0 [label="output logits", shape=doubleoctagon];
 *     n2 -> out0;
 *   }
 *
 * Inputs, labels and params are filled boxes of their own colour; a node
 * that is a graph output gets a double border and an edge to its output.
 */
#include "ir.h"

/* Writes s for inside a DOT "string": escapes '"' and '\', newline as \n. */
static void put_escaped(FILE *out, const char *s) {
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', out);
        if (*s == '\n') fputs("\\n", out);
        else fputc(*s, out);
    }
}

/* The fill colour of a boxed source node, or NULL for a plain node. */
static const char *box_color(Op op) {
    if (op == OP_INPUT) return "#cfe2ff";
    if (op == OP_LABEL) return "#fff3cd";
    if (op == OP_PARAM) return "#d1e7dd";
    return NULL;
}

/* 1 if node id is the node of some graph output. */
static int is_output(const Graph *g, int id) {
    for (int i = 0; i < g->nouts; i++)
        if (g->outs[i].node == id) return 1;
    return 0;
}

/* One node line and the edges from its inputs. */
static void put_node(FILE *out, const Graph *g, int id) {
    const Node *n = &g->nodes[id];
    char label[160], type[160];
    const char *op = (unsigned)n->op < OP_COUNT ? ir_op_info[n->op].name : "?";
    fprintf(out, "  n%d [label=\"", id);
    put_escaped(out, ir_node_label(g, id, label, sizeof label));
    fprintf(out, "\\n%s\\n%s\"", op, ir_type_str(&n->type, type, sizeof type));
    const char *color = (unsigned)n->op < OP_COUNT ? box_color(n->op) : NULL;
    if (color) fprintf(out, ", shape=box, style=filled, fillcolor=\"%s\"", color);
    if (is_output(g, id)) fputs(", peripheries=2", out);
    fputs("];\n", out);
    for (int i = 0; i < n->nin && n->in; i++) fprintf(out, "  n%d -> n%d;\n", n->in[i], id);
}

/* Writes the whole graph as a DOT digraph. */
void ir_print_dot(const Graph *g, FILE *out) {
    fputs("digraph \"", out);
    put_escaped(out, g->name);
    fputs("\" {\n  node [fontname=\"monospace\"];\n", out);
    for (int i = 0; i < g->nnodes; i++) put_node(out, g, i);
    for (int i = 0; i < g->nouts; i++) {
        fprintf(out, "  out%d [label=\"output ", i);
        put_escaped(out, g->outs[i].name);
        fputs("\", shape=doubleoctagon];\n", out);
        fprintf(out, "  n%d -> out%d;\n", g->outs[i].node, i);
    }
    fputs("}\n", out);
}
