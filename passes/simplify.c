/* simplify.c — common subexpression elimination over the whole step.
 *
 * Autodiff and the optimizer build their ops one rule at a time, so the
 * step computes the same value more than once: the same constant for
 * every parameter, Adam's bias corrections (pow(beta, step)) once per
 * parameter, the same broadcast of a gradient. Walking the nodes in order,
 * a node whose op, type, attributes, value and (already rewritten) inputs
 * equal an earlier node's is replaced by it: every later reader and every
 * output now reads the earlier node. External sources (inputs, labels,
 * parameters, state) are never merged. Random ops may be: their values
 * are a function of (seed, stream, step, element), so equal attributes
 * mean equal values.
 *
 * Node ids do not change (the runtime holds ids of the forward graph); a
 * replaced node stays in the graph, read by nobody, and the fusion plan
 * computes only what the outputs need.
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"
#include "util.h"

/* Do nodes a and b compute the same value from the same inputs? */
static int same_node(const Node *a, const Node *b) {
    if (a->op != b->op || a->type.dtype != b->type.dtype || !ir_shape_eq(&a->type.shape, &b->type.shape) ||
        a->nin != b->nin || a->nattr != b->nattr || memcmp(&a->value, &b->value, sizeof a->value))
        return 0;
    for (int j = 0; j < a->nin; j++)
        if (a->in[j] != b->in[j]) return 0;
    for (int j = 0; j < a->nattr; j++)
        if (a->attr[j] != b->attr[j]) return 0;
    return 1;
}

/* A hash of what same_node compares. */
static uint64_t node_hash(const Node *n) {
    uint64_t h = 1469598103934665603ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ull)
    MIX(n->op);
    MIX(n->type.dtype);
    for (int d = 0; d < n->type.shape.rank; d++) MIX(n->type.shape.dim[d]);
    for (int j = 0; j < n->nin; j++) MIX(n->in[j]);
    for (int j = 0; j < n->nattr; j++) MIX(n->attr[j]);
    uint64_t bits;
    memcpy(&bits, &n->value, sizeof bits);
    MIX(bits);
#undef MIX
    return h;
}

int pass_simplify(Graph *g, const PassConfig *cfg, PassError *err) {
    (void)cfg, (void)err;
    size_t cap = 16;
    while (cap < 2 * (size_t)g->nnodes) cap *= 2;
    int *table = xmalloc(cap * sizeof *table); /* open addressing: node ids, -1 empty */
    int *rep = xmalloc(((size_t)g->nnodes + 1) * sizeof *rep);
    for (size_t i = 0; i < cap; i++) table[i] = -1;
    for (int id = 0; id < g->nnodes; id++) {
        Node *n = &g->nodes[id];
        for (int j = 0; j < n->nin; j++) n->in[j] = rep[n->in[j]];
        rep[id] = id;
        if (ir_is_external(n->op)) continue;
        size_t at = (size_t)node_hash(n) & (cap - 1);
        while (table[at] >= 0 && !same_node(&g->nodes[table[at]], n)) at = (at + 1) & (cap - 1);
        if (table[at] >= 0) rep[id] = table[at];
        else table[at] = id;
    }
    for (int o = 0; o < g->nouts; o++) g->outs[o].node = rep[g->outs[o].node];
    free(table);
    free(rep);
    return 0;
}
