/* print.c — the text form of a Graph (read back by parse.c).
 *
 *   graph NAME {
 *     file 0 "models/lib/nn.mmg"
 *     %x = input f32[64, 784] @0:5:13
 *     %w = param f32[784, 10] init=normal(0, 0.05) @0:6:3
 *     %2 = matmul(%x, %w) {ta=0, tb=0} f32[64, 10] @0:7:9
 *     output logits = %2
 *   }
 *
 * A node is %NAME when its name is an identifier no other node has, else
 * %ID. Attributes follow the op's ops.def schema; floats are printed with
 * the fewest digits (15 or 17) that read back to the same double.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "util.h"

/* 1 if s matches [A-Za-z_][A-Za-z0-9_.]*. */
static int is_ident(const char *s) {
    if (!s || !(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return 0;
    return s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")] == 0;
}

/* 1 if node id has an identifier name that no other node has. O(n). */
static int has_unique_name(const Graph *g, int id) {
    const char *name = g->nodes[id].name;
    if (!is_ident(name)) return 0;
    for (int i = 0; i < g->nnodes; i++)
        if (i != id && g->nodes[i].name && strcmp(g->nodes[i].name, name) == 0) return 0;
    return 1;
}

/* "%name" if the name is a unique identifier, else "%id". */
const char *ir_node_label(const Graph *g, int id, char *buf, size_t n) {
    if (id >= 0 && id < g->nnodes && has_unique_name(g, id))
        snprintf(buf, n, "%%%s", g->nodes[id].name);
    else
        snprintf(buf, n, "%%%d", id);
    return buf;
}

typedef struct {
    const char *name;
    int id;
} NameId;

/* qsort order by name. */
static int cmp_name(const void *a, const void *b) {
    return strcmp(((const NameId *)a)->name, ((const NameId *)b)->name);
}

/* by_name[i] = 1 if node i prints as %NAME; O(n log n) for the whole graph. */
static unsigned char *label_names(const Graph *g) {
    unsigned char *by_name = xcalloc((size_t)g->nnodes + 1, 1);
    NameId *v = xmalloc(((size_t)g->nnodes + 1) * sizeof *v);
    int n = 0;
    for (int i = 0; i < g->nnodes; i++)
        if (is_ident(g->nodes[i].name)) v[n++] = (NameId){g->nodes[i].name, i};
    qsort(v, (size_t)n, sizeof *v, cmp_name);
    for (int i = 0; i < n; i++) {
        int dup = (i > 0 && strcmp(v[i].name, v[i - 1].name) == 0) ||
                  (i + 1 < n && strcmp(v[i].name, v[i + 1].name) == 0);
        by_name[v[i].id] = !dup;
    }
    free(v);
    return by_name;
}

/* Prints the label of node id using the precomputed by_name[]. */
static void put_label(FILE *out, const Graph *g, const unsigned char *by_name, int id) {
    if (id >= 0 && id < g->nnodes && by_name[id])
        fprintf(out, "%%%s", g->nodes[id].name);
    else
        fprintf(out, "%%%d", id);
}

/* Prints v with %.15g if that reads back exactly, else with %.17g. */
static void put_num(FILE *out, double v) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v && v == v) snprintf(buf, sizeof buf, "%.17g", v);
    fputs(buf, out);
}

/* Prints s as a C-style quoted string: \" \\ \n \t, other controls as \xHH. */
static void put_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", out);
        else if (*p == '\t') fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f) fprintf(out, "\\x%02x", *p);
        else fputc(*p, out);
    }
    fputc('"', out);
}

/* An identifier as is, anything else quoted (graph and output names). */
static void put_name(FILE *out, const char *s) {
    if (is_ident(s)) fputs(s, out);
    else put_string(out, s ? s : "");
}

/* " {stride=1, pad_l=0, pad_r=0}", in schema order; nothing if empty. */
static void put_attrs(FILE *out, const Node *n) {
    AttrSchema s;
    ir_attr_schema(n->op, &s);
    int nattr = n->nattr < 0 ? 0 : n->nattr > IR_MAX_ATTR ? IR_MAX_ATTR : n->nattr;
    for (int i = 0; i < s.n; i++) {
        const AttrSpec *a = &s.at[i];
        fprintf(out, "%s%s=", i ? ", " : " {", a->name);
        if (a->kind == ATTR_VALUE) put_num(out, n->value);
        if (a->kind == ATTR_INT) fprintf(out, "%" PRId64, n->attr[a->slot]);
        if (a->kind != ATTR_LIST) continue;
        fputc('[', out);
        for (int k = a->slot; k < nattr; k++)
            fprintf(out, "%s%" PRId64, k > a->slot ? ", " : "", n->attr[k]);
        fputc(']', out);
    }
    if (s.n) fputc('}', out);
}

/* " init=uniform(a, b)" etc.; nothing for INIT_NONE. */
static void put_init(FILE *out, Init init) {
    static const char *const names[] = {"", "zeros", "ones", "uniform", "normal"};
    if (init.kind == INIT_NONE || (unsigned)init.kind > INIT_NORMAL) return;
    fprintf(out, " init=%s", names[init.kind]);
    if (init.kind != INIT_UNIFORM && init.kind != INIT_NORMAL) return;
    fputc('(', out);
    put_num(out, init.a);
    fputs(", ", out);
    put_num(out, init.b);
    fputc(')', out);
}

/* One node line: "  %3 = op(%1, %2) {attrs} f32[..] init=.. @F:L:C". */
static void put_node(FILE *out, const Graph *g, const unsigned char *by_name, int id) {
    const Node *n = &g->nodes[id];
    char t[160];
    fputs("  ", out);
    put_label(out, g, by_name, id);
    if ((unsigned)n->op >= OP_COUNT) {
        fprintf(out, " = <invalid op %d>\n", (int)n->op);
        return;
    }
    fprintf(out, " = %s", ir_op_info[n->op].name);
    for (int i = 0; i < n->nin && n->in; i++) {
        fputs(i ? ", " : "(", out);
        put_label(out, g, by_name, n->in[i]);
    }
    if (n->nin > 0 && n->in) fputc(')', out);
    put_attrs(out, n);
    fprintf(out, " %s", ir_type_str(&n->type, t, sizeof t));
    put_init(out, n->init);
    if (n->loc.line != 0) fprintf(out, " @%d:%d:%d", n->loc.file, n->loc.line, n->loc.col);
    fputc('\n', out);
}

/* Writes the whole graph in the text form. */
void ir_print(const Graph *g, FILE *out) {
    unsigned char *by_name = label_names(g);
    fputs("graph ", out);
    put_name(out, g->name);
    fputs(" {\n", out);
    for (int i = 0; i < g->nfiles; i++) {
        fprintf(out, "  file %d ", i);
        put_string(out, g->files[i] ? g->files[i] : "");
        fputc('\n', out);
    }
    for (int i = 0; i < g->nnodes; i++) put_node(out, g, by_name, i);
    for (int i = 0; i < g->nouts; i++) {
        fputs("  output ", out);
        put_name(out, g->outs[i].name);
        fputs(" = ", out);
        put_label(out, g, by_name, g->outs[i].node);
        fputc('\n', out);
    }
    fputs("}\n", out);
    free(by_name);
}
