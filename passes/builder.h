/* builder.h — appending nodes from a pass, with the shape rules checked.
 *
 * A pass builds only graphs it knows to be valid, so a shape error here is
 * an internal error (die), not a user diagnostic. New nodes take `loc`.
 */
#ifndef MMGC_BUILDER_H
#define MMGC_BUILDER_H

#include "ir.h"

typedef struct {
    Graph *g;
    Loc loc;
} Builder;

int b_op(Builder *b, Op op, const int *in, int nin, const int64_t *attr, int nattr, double value,
         const TType *given);
int b_ew1(Builder *b, Op op, int a);
int b_ew2(Builder *b, Op op, int a, int c);
/* A scalar f32 constant. */
int b_scalar(Builder *b, double v);
/* A new STATE node of this type, named. */
int b_state(Builder *b, const TType *t, const char *name);
/* Shapes are taken by value: building a node may move the node array, so a
 * pointer to a node's shape must not be held across a build. */
int b_reshape(Builder *b, int x, Shape s);
int b_broadcast(Builder *b, int x, Shape s);
/* Sums x over the dimensions broadcasting added or stretched to get shape s. */
int b_sum_to(Builder *b, int x, Shape s);

static inline const TType *b_type(Builder *b, int id) { return &b->g->nodes[id].type; }
static inline const Shape *b_shape(Builder *b, int id) { return &b->g->nodes[id].type.shape; }

#endif
