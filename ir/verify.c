/* verify.c — checks every invariant of a Graph.
 *
 * Per node: a valid op, inputs that are earlier nodes, the attribute count
 * and the stored type (by re-running ir_infer with the stored type as the
 * given one), an init on every param, a location inside g->files. Per
 * graph: node names unique, outputs named and pointing at nodes.
 * Messages name the node: "node %7 (matmul): ...".
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "util.h"

/* Writes "node %<id> (<op>): <message>"; returns -1. */
__attribute__((format(printf, 5, 6))) static int node_fail(const Graph *g, int id, char *err,
                                                           size_t errlen, const char *fmt, ...) {
    Op op = g->nodes[id].op;
    const char *name = (unsigned)op < OP_COUNT ? ir_op_info[op].name : "?";
    int k = snprintf(err, errlen, "node %%%d (%s): ", id, name);
    if (k >= 0 && (size_t)k < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Checks that the inputs of node id exist and come before it. */
static int check_input_ids(const Graph *g, int id, char *err, size_t errlen) {
    const Node *n = &g->nodes[id];
    if (n->nin < 0) return node_fail(g, id, err, errlen, "negative input count %d", n->nin);
    if (n->nin > 0 && !n->in) return node_fail(g, id, err, errlen, "input list is missing");
    for (int j = 0; j < n->nin; j++)
        if (n->in[j] < 0 || n->in[j] >= id)
            return node_fail(g, id, err, errlen, "input %d is %%%d, which is not an earlier node", j,
                             n->in[j]);
    return 0;
}

/* Re-infers the type of node id and compares it with the stored one. */
static int check_type(const Graph *g, int id, char *err, size_t errlen) {
    const Node *n = &g->nodes[id];
    char msg[512], a[160], b[160];
    TType t;
    if (ir_infer(g, n->op, n->in, n->nin, n->attr, n->nattr, &n->type, &t, msg, sizeof msg)) {
        /* drop the "<op>: " prefix; the node prefix names the op already */
        size_t len = strlen(ir_op_info[n->op].name);
        const char *m = msg;
        if (strncmp(m, ir_op_info[n->op].name, len) == 0 && strncmp(m + len, ": ", 2) == 0)
            m += len + 2;
        return node_fail(g, id, err, errlen, "%s", m);
    }
    if (t.dtype != n->type.dtype || !ir_shape_eq(&t.shape, &n->type.shape))
        return node_fail(g, id, err, errlen, "stored type %s differs from the inferred %s",
                         ir_type_str(&n->type, a, sizeof a), ir_type_str(&t, b, sizeof b));
    return 0;
}

/* Checks the init (params need one) and the source location. */
static int check_init_loc(const Graph *g, int id, char *err, size_t errlen) {
    const Node *n = &g->nodes[id];
    if ((unsigned)n->init.kind > INIT_NORMAL)
        return node_fail(g, id, err, errlen, "invalid init kind %d", (int)n->init.kind);
    if (n->op == OP_PARAM && n->init.kind == INIT_NONE)
        return node_fail(g, id, err, errlen, "param has no init");
    if (n->op == OP_DROPOUT_MASK && !(n->value >= 0 && n->value < 1))
        return node_fail(g, id, err, errlen, "dropout probability %g is not in [0, 1)", n->value);
    if (n->loc.line == 0) return 0;
    if (n->loc.line < 0 || n->loc.col < 0)
        return node_fail(g, id, err, errlen, "invalid location %d:%d", n->loc.line, n->loc.col);
    if (n->loc.file < 0 || n->loc.file >= g->nfiles)
        return node_fail(g, id, err, errlen, "location file %d is not in the file table (size %d)",
                         n->loc.file, g->nfiles);
    return 0;
}

/* Every per-node invariant of node id. */
int ir_verify_node(const Graph *g, int id, char *err, size_t errlen) {
    if (id < 0 || id >= g->nnodes) {
        snprintf(err, errlen, "no node %%%d", id);
        return -1;
    }
    if ((unsigned)g->nodes[id].op >= OP_COUNT)
        return node_fail(g, id, err, errlen, "invalid op %d", (int)g->nodes[id].op);
    if (check_input_ids(g, id, err, errlen) || check_type(g, id, err, errlen) ||
        check_init_loc(g, id, err, errlen))
        return -1;
    return 0;
}

typedef struct {
    const char *name;
    int id;
} NameId;

/* qsort order: by name, then by id. */
static int cmp_name_id(const void *pa, const void *pb) {
    const NameId *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->id > b->id) - (a->id < b->id);
}

/* Checks that no two nodes share a name (sorting the names, O(n log n)). */
static int check_names(const Graph *g, char *err, size_t errlen) {
    NameId *v = xmalloc((size_t)g->nnodes * sizeof *v);
    int n = 0, rc = 0;
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i].name) v[n++] = (NameId){g->nodes[i].name, i};
    qsort(v, (size_t)n, sizeof *v, cmp_name_id);
    for (int i = 1; i < n && rc == 0; i++)
        if (strcmp(v[i - 1].name, v[i].name) == 0)
            rc = node_fail(g, v[i].id, err, errlen, "name '%s' is also used by node %%%d",
                           v[i].name, v[i - 1].id);
    free(v);
    return rc;
}

/* Checks that every output has a unique name and refers to a node. */
static int check_outputs(const Graph *g, char *err, size_t errlen) {
    for (int i = 0; i < g->nouts; i++) {
        const Output *o = &g->outs[i];
        if (!o->name) return snprintf(err, errlen, "output %d has no name", i), -1;
        if (o->node < 0 || o->node >= g->nnodes)
            return snprintf(err, errlen, "output '%s' refers to node %%%d, which does not exist",
                            o->name, o->node),
                   -1;
        for (int j = 0; j < i; j++)
            if (strcmp(g->outs[j].name, o->name) == 0)
                return snprintf(err, errlen, "output '%s' is declared twice", o->name), -1;
    }
    return 0;
}

/* Every invariant of the graph; see the top of this file. */
int ir_verify(const Graph *g, char *err, size_t errlen) {
    for (int i = 0; i < g->nnodes; i++)
        if (ir_verify_node(g, i, err, errlen)) return -1;
    for (int i = 0; i < g->nfiles; i++)
        if (!g->files[i]) return snprintf(err, errlen, "file %d has no path", i), -1;
    if (check_names(g, err, errlen) || check_outputs(g, err, errlen)) return -1;
    return 0;
}
