/* fingerprint.c — a graph's identity for compiled code: 64-bit FNV-1a over
 * what the code depends on (every node's op, type, inputs, attributes,
 * value, init and name; the outputs), and nothing it does not (source
 * locations, file names). A program compiled ahead of time finds the step
 * it was compiled for by it. */
#include <string.h>

#include "ir.h"

static uint64_t mix(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3u;
    }
    return h;
}

static uint64_t mix_i64(uint64_t h, int64_t v) { return mix(h, &v, sizeof v); }

static uint64_t mix_str(uint64_t h, const char *s) { return s ? mix(h, s, strlen(s) + 1) : mix_i64(h, -1); }

uint64_t ir_fingerprint(const Graph *g) {
    uint64_t h = 0xcbf29ce484222325u;
    h = mix_i64(h, g->nnodes);
    for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        h = mix_i64(h, n->op);
        h = mix_i64(h, n->type.dtype);
        h = mix_i64(h, n->type.shape.rank);
        for (int d = 0; d < n->type.shape.rank; d++) h = mix_i64(h, n->type.shape.dim[d]);
        h = mix_i64(h, n->nin);
        for (int k = 0; k < n->nin; k++) h = mix_i64(h, n->in[k]);
        h = mix_i64(h, n->nattr);
        for (int k = 0; k < n->nattr; k++) h = mix_i64(h, n->attr[k]);
        h = mix(h, &n->value, sizeof n->value);
        h = mix_i64(h, n->init.kind);
        h = mix(h, &n->init.a, sizeof n->init.a);
        h = mix(h, &n->init.b, sizeof n->init.b);
        h = mix_str(h, n->name);
    }
    h = mix_i64(h, g->nouts);
    for (int o = 0; o < g->nouts; o++) {
        h = mix_str(h, g->outs[o].name);
        h = mix_i64(h, g->outs[o].node);
    }
    return h;
}
