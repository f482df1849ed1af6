/* params.c — see params.h. */
#include "params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

#define ALIGN 16 /* floats: 64 bytes */

/* The graph's initializers and the random-number library's, one for one. */
_Static_assert((int)INIT_NONE == RNG_NONE && (int)INIT_ZEROS == RNG_ZEROS && (int)INIT_ONES == RNG_ONES &&
                   (int)INIT_UNIFORM == RNG_UNIFORM && (int)INIT_NORMAL == RNG_NORMAL,
               "InitKind and RngInit must agree");

int params_init(ParamStore *s, const Graph *g, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    int cap = 0;
    size_t at = 0;
    for (int i = 0; i < g->nnodes; i++) {
        const Node *n = &g->nodes[i];
        if (n->op != OP_PARAM && n->op != OP_STATE) continue;
        xgrow((void **)&s->slots, &cap, s->n + 1, sizeof *s->slots);
        size_t count = (size_t)ir_numel(&n->type.shape);
        /* optimizer state has no init; a model's own state (running
         * statistics) has one and is kept with the weights */
        int optimizer_state = n->op == OP_STATE && n->init.kind == INIT_NONE;
        s->slots[s->n++] = (ParamSlot){n->name, i, optimizer_state, n->type.shape, at};
        if (n->op == OP_PARAM) s->nparams += count;
        at += (count + ALIGN - 1) / ALIGN * ALIGN;
    }
    s->nfloats = at;
    s->block = aligned_alloc(64, (at ? at : ALIGN) * sizeof(float));
    if (!s->block) {
        snprintf(err, errlen, "out of memory for %zu parameters", at);
        return -1;
    }
    memset(s->block, 0, (at ? at : ALIGN) * sizeof(float));
    return 0;
}

void params_reset(ParamStore *s, const Graph *g, uint64_t seed) {
    memset(s->block, 0, s->nfloats * sizeof(float));
    for (int i = 0; i < s->n; i++) {
        const ParamSlot *p = &s->slots[i];
        if (!p->is_state)
            rng_init_tensor(s->block + p->offset, ir_numel(&p->shape), (RngInit)g->nodes[p->node].init.kind,
                            g->nodes[p->node].init.a, g->nodes[p->node].init.b, seed,
                            rng_hash(p->name));
    }
}

int params_bind(ParamStore *s, Engine *e, char *err, size_t errlen) {
    for (int i = 0; i < s->n; i++) {
        const ParamSlot *p = &s->slots[i];
        if (p->node >= e->g->nnodes) continue;
        const Node *n = &e->g->nodes[p->node];
        if (n->op != OP_PARAM && n->op != OP_STATE) continue;
        if (!n->name || strcmp(n->name, p->name)) continue;
        if (e->ops->bind(e->impl, p->node, s->block + p->offset)) {
            snprintf(err, errlen, "cannot bind parameter '%s'", p->name);
            return -1;
        }
    }
    return 0;
}

const ParamSlot *params_find(const ParamStore *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->slots[i].name, name)) return &s->slots[i];
    return NULL;
}

void params_save(const ParamStore *s, float *to) { memcpy(to, s->block, s->nfloats * sizeof(float)); }

void params_restore(ParamStore *s, const float *from) {
    for (int i = 0; i < s->n; i++) {
        const ParamSlot *p = &s->slots[i];
        if (!p->is_state)
            memcpy(s->block + p->offset, from + p->offset, (size_t)ir_numel(&p->shape) * sizeof(float));
    }
}

void params_free(ParamStore *s) {
    free(s->slots);
    free(s->block);
    memset(s, 0, sizeof *s);
}
