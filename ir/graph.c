/* graph.c — the op table and building a Graph.
 *
 * A Graph owns an Arena for its strings and input lists; the nodes, outputs
 * and file arrays are grown with xgrow and freed by ir_graph_free.
 */
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "util.h"

const OpInfo ir_op_info[OP_COUNT] = {
#define X(e, name, arity, cls, attrs, grad) [OP_##e] = {name, arity, OC_##cls, attrs},
#include "ops.def"
#undef X
};

/* Makes an empty graph. name is copied; NULL means "". */
Graph *ir_graph_new(const char *name) {
    Graph *g = xcalloc(1, sizeof *g);
    g->name = arena_strdup(&g->arena, name ? name : "");
    return g;
}

/* Frees the graph, its arrays and every string it owns. NULL is fine. */
void ir_graph_free(Graph *g) {
    if (!g) return;
    free(g->nodes);
    free(g->outs);
    free(g->files);
    arena_free(&g->arena);
    free(g);
}

/* Interns a file path: returns the index of an equal path, or appends it. */
int ir_file(Graph *g, const char *path) {
    if (!path) die("ir_file: NULL path");
    for (int i = 0; i < g->nfiles; i++)
        if (strcmp(g->files[i], path) == 0) return i;
    xgrow((void **)&g->files, &g->filecap, g->nfiles + 1, sizeof *g->files);
    g->files[g->nfiles] = arena_strdup(&g->arena, path);
    return g->nfiles++;
}

/* Appends a node as given, without checks; in[] is copied into the arena.
 * Counts that do not fit the Node are internal errors. */
int ir_add(Graph *g, Op op, TType type, const int *in, int nin, const int64_t *attr, int nattr,
           double value, Loc loc) {
    if (nin < 0 || nattr < 0 || nattr > IR_MAX_ATTR)
        die("ir_add: bad counts nin=%d nattr=%d", nin, nattr);
    xgrow((void **)&g->nodes, &g->cap, g->nnodes + 1, sizeof *g->nodes);
    Node *n = &g->nodes[g->nnodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->type = type;
    n->nin = nin;
    if (nin > 0) {
        n->in = arena_alloc(&g->arena, (size_t)nin * sizeof *n->in);
        memcpy(n->in, in, (size_t)nin * sizeof *n->in);
    }
    n->nattr = nattr;
    if (nattr > 0) memcpy(n->attr, attr, (size_t)nattr * sizeof *attr);
    n->value = value;
    n->loc = loc;
    return g->nnodes++;
}

/* Infers the result type (given: see ir_infer), then appends the node.
 * Returns its id, or -1 with a message in err and the graph unchanged. */
int ir_build(Graph *g, Op op, const int *in, int nin, const int64_t *attr, int nattr, double value,
             const TType *given, Loc loc, char *err, size_t errlen) {
    TType t;
    if (ir_infer(g, op, in, nin, attr, nattr, given, &t, err, errlen) != 0) return -1;
    return ir_add(g, op, t, in, nin, attr, nattr, value, loc);
}

/* Names a node (copied into the arena); NULL removes the name. */
void ir_set_name(Graph *g, int node, const char *name) {
    if (node < 0 || node >= g->nnodes) die("ir_set_name: no node %d", node);
    g->nodes[node].name = name ? arena_strdup(&g->arena, name) : NULL;
}

/* A copy of s in the graph's arena (NULL stays NULL). */
const char *ir_intern(Graph *g, const char *s) { return s ? arena_strdup(&g->arena, s) : NULL; }

/* Sets how a PARAM node is initialized. */
void ir_set_init(Graph *g, int node, Init init) {
    if (node < 0 || node >= g->nnodes) die("ir_set_init: no node %d", node);
    g->nodes[node].init = init;
}

/* Declares node as the graph output `name` (copied). */
void ir_add_output(Graph *g, const char *name, int node) {
    if (!name) die("ir_add_output: output without a name");
    xgrow((void **)&g->outs, &g->outcap, g->nouts + 1, sizeof *g->outs);
    g->outs[g->nouts].name = arena_strdup(&g->arena, name);
    g->outs[g->nouts].node = node;
    g->nouts++;
}

/* The node of the first output called name, or -1. */
int ir_output(const Graph *g, const char *name) {
    for (int i = 0; name && i < g->nouts; i++)
        if (g->outs[i].name && strcmp(g->outs[i].name, name) == 0) return g->outs[i].node;
    return -1;
}

int ir_input(const Graph *g, const char *name) {
    for (int i = 0; name && i < g->nnodes; i++)
        if (g->nodes[i].op == OP_INPUT && g->nodes[i].name && !strcmp(g->nodes[i].name, name)) return i;
    return -1;
}

/* The op printed as name, or OP_COUNT. */
Op ir_op_by_name(const char *name) {
    for (int i = 0; name && i < OP_COUNT; i++)
        if (strcmp(ir_op_info[i].name, name) == 0) return (Op)i;
    return OP_COUNT;
}

/* Adds one schema word (len bytes at w) to s, numbering the attr slots. */
static void schema_add(AttrSchema *s, const char *w, size_t len, int *slot) {
    if (s->n > IR_MAX_ATTR || s->has_list) die("ops.def: bad attribute list near '%s'", w);
    AttrSpec *a = &s->at[s->n++];
    int list = len > 2 && w[len - 2] == '[' && w[len - 1] == ']';
    size_t nlen = list ? len - 2 : len;
    if (nlen >= sizeof a->name) die("ops.def: attribute name too long near '%s'", w);
    memcpy(a->name, w, nlen);
    a->name[nlen] = 0;
    if (strcmp(a->name, "value") == 0) {
        a->kind = ATTR_VALUE;
        a->slot = -1;
        s->has_value = 1;
        return;
    }
    a->kind = list ? ATTR_LIST : ATTR_INT;
    a->slot = (*slot)++;
    s->has_list = list;
    if (!list) s->nfixed++;
}

/* Splits op's space-separated ops.def attribute string into *s. */
void ir_attr_schema(Op op, AttrSchema *s) {
    if ((unsigned)op >= OP_COUNT) die("ir_attr_schema: bad op %d", (int)op);
    memset(s, 0, sizeof *s);
    int slot = 0;
    const char *p = ir_op_info[op].attrs;
    for (;;) {
        p += strspn(p, " ");
        if (!*p) return;
        size_t len = strcspn(p, " ");
        schema_add(s, p, len, &slot);
        p += len;
    }
}

/* A deep copy: same files, nodes (ids, names, inits, locations) and outputs. */
Graph *ir_clone(const Graph *g) {
    Graph *c = ir_graph_new(g->name);
    for (int i = 0; i < g->nfiles; i++) {
        xgrow((void **)&c->files, &c->filecap, c->nfiles + 1, sizeof *c->files);
        c->files[c->nfiles++] = arena_strdup(&c->arena, g->files[i]);
    }
    for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        int id = ir_add(c, n->op, n->type, n->in, n->nin, n->attr, n->nattr, n->value, n->loc);
        c->nodes[id].init = n->init;
        if (n->name) ir_set_name(c, id, n->name);
    }
    for (int i = 0; i < g->nouts; i++) ir_add_output(c, g->outs[i].name, g->outs[i].node);
    return c;
}

/* The node named name, or -1. */
static int node_named(const Graph *g, const char *name) {
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].name && strcmp(g->nodes[i].name, name) == 0) return i;
    return -1;
}

int ir_update_guard(const Graph *g) {
    int id = ir_output(g, IR_LOSS);
    if (id < 0) return -1;
    const TType *t = &g->nodes[id].type;
    return t->dtype == DT_F32 && ir_numel(&t->shape) == 1 ? id : -1;
}

int ir_update_pairs(const Graph *g, int *src, int *dst, char *err, size_t errlen) {
    static const char prefix[] = IR_UPDATE;
    size_t plen = sizeof prefix - 1;
    int n = 0;
    for (int i = 0; i < g->nouts; i++) {
        const Output *o = &g->outs[i];
        if (strncmp(o->name, prefix, plen) != 0) continue;
        int d = node_named(g, o->name + plen);
        if (d < 0 || (g->nodes[d].op != OP_PARAM && g->nodes[d].op != OP_STATE)) {
            snprintf(err, errlen, "output '%s': there is no param or state named '%s'", o->name, o->name + plen);
            return -1;
        }
        const TType *a = &g->nodes[o->node].type, *b = &g->nodes[d].type;
        if (a->dtype != b->dtype || !ir_shape_eq(&a->shape, &b->shape)) {
            char sa[160], sb[160];
            snprintf(err, errlen, "output '%s' is %s but '%s' is %s", o->name, ir_type_str(a, sa, sizeof sa),
                     o->name + plen, ir_type_str(b, sb, sizeof sb));
            return -1;
        }
        src[n] = o->node;
        dst[n++] = d;
    }
    return n;
}
