/* rt_desc.h — the RtDesc of a graph node (rt.h), for whoever builds one
 * from a Graph: the tests, the kernel benchmark, the code generator. */
#ifndef MMGC_RT_DESC_H
#define MMGC_RT_DESC_H

#include "ir.h"
#include "rt.h"

/* Fills *d with node id's op, attributes, value and the shapes of its
 * inputs and itself. Returns 0, or -1 if the node has more than RT_MAX_IN
 * inputs (concat) and so no desc. */
int rt_desc_of(const Graph *g, int id, RtDesc *d);
/* Adds a convolution's epilogue to its desc (fusion_epilogue): the bias,
 * of shape b, as one more input, and attr[RT_ATTR_EPILOGUE]. Returns 0,
 * or -1 if the desc has no room. */
int rt_desc_add_epilogue(RtDesc *d, const Shape *b, int relu);

#endif
