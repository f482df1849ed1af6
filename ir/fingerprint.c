/* fingerprint.c — a graph's identity for compiled code: 64-bit FNV-1a over
 * what the code depends on (every node's op, type, inputs, attributes,
 * value, init and name; the outputs), and nothing it does not (source
 * locations, file names). A program compiled ahead of time finds the step
 * it was compiled for by it. */
#include <string.h>

#include "ir.h"

/* The walk feeds every field through one callback, so the fingerprint and
 * the JIT's code-cache key (SHA-256, backend/llvm/code_cache_key.c) cannot
 * disagree about what a graph's code depends on. */
typedef struct {
    IrFeed feed;
    void *ctx;
} Walk;

static void put(Walk *w, const void *p, size_t n) { w->feed(w->ctx, p, n); }
static void put_i64(Walk *w, int64_t v) { put(w, &v, sizeof v); }
static void put_str(Walk *w, const char *s) {
    if (s) put(w, s, strlen(s) + 1);
    else put_i64(w, -1);
}

void ir_fingerprint_walk(const Graph *g, IrFeed feed, void *ctx) {
    Walk w = {feed, ctx}, *h = &w;
    put_i64(h, g->nnodes);
    for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        put_i64(h, n->op);
        put_i64(h, n->type.dtype);
        put_i64(h, n->type.shape.rank);
        for (int d = 0; d < n->type.shape.rank; d++) put_i64(h, n->type.shape.dim[d]);
        put_i64(h, n->nin);
        for (int k = 0; k < n->nin; k++) put_i64(h, n->in[k]);
        put_i64(h, n->nattr);
        for (int k = 0; k < n->nattr; k++) put_i64(h, n->attr[k]);
        put(h, &n->value, sizeof n->value);
        put_i64(h, n->init.kind);
        put(h, &n->init.a, sizeof n->init.a);
        put(h, &n->init.b, sizeof n->init.b);
        put_str(h, n->name);
    }
    put_i64(h, g->nouts);
    for (int o = 0; o < g->nouts; o++) {
        put_str(h, g->outs[o].name);
        put_i64(h, g->outs[o].node);
    }
}

/* 64-bit FNV-1a, byte by byte. */
static void fnv(void *ctx, const void *p, size_t n) {
    uint64_t *h = ctx;
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        *h ^= b[i];
        *h *= 0x100000001b3u;
    }
}

uint64_t ir_fingerprint(const Graph *g) {
    uint64_t h = 0xcbf29ce484222325u;
    ir_fingerprint_walk(g, fnv, &h);
    return h;
}
