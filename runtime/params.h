/* params.h — every parameter and optimizer state of a model in one block.
 *
 * The store is laid out from the training-step graph: each PARAM and STATE
 * node gets a 64-byte aligned slice of one allocation. Engines bind their
 * source nodes to these slices, so the training step and the evaluation
 * read the same weights, a snapshot is one memcpy, and a checkpoint is a
 * walk over the slots.
 */
#ifndef MMGC_PARAMS_H
#define MMGC_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "ir.h"

typedef struct {
    const char *name;  /* the node's path, e.g. "multimodal.fusion.wa" or its ".m" moment */
    int node;          /* id in the training-step graph (same id in the forward graph for params) */
    int is_state;      /* optimizer state (zeroed at the start, not kept with the
                          weights), rather than a parameter or a model's own
                          state such as running statistics (initialized,
                          restored with the best weights, saved with them) */
    Shape shape;
    size_t offset;     /* in floats from the block's start */
} ParamSlot;

typedef struct {
    ParamSlot *slots;
    int n;
    float *block;
    size_t nfloats;    /* parameters and state together */
    size_t nparams;    /* trainable scalars */
} ParamStore;

/* Lays out every PARAM and STATE of g; returns 0 or -1 (out of memory). */
int params_init(ParamStore *s, const Graph *g, char *err, size_t errlen);
/* First values: every parameter by its Init (seeded, keyed by name, as the
 * interpreter's interp_init), every state zero. */
void params_reset(ParamStore *s, const Graph *g, uint64_t seed);
/* Binds every slot whose node exists in e's graph (same id, same name). */
int params_bind(ParamStore *s, Engine *e, char *err, size_t errlen);
/* The slot of a name, or NULL. */
const ParamSlot *params_find(const ParamStore *s, const char *name);
/* Copies the trainable parameters (not the state) out of / into a buffer of nfloats. */
void params_save(const ParamStore *s, float *to);
void params_restore(ParamStore *s, const float *from);
void params_free(ParamStore *s);

#endif
