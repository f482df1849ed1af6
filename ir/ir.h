/* ir.h — the dataflow graph IR.
 *
 * A Graph is a list of nodes in topological order (SSA): every node is one
 * tensor value with a dtype and a static shape, made by one op from nodes
 * with smaller ids. Sources (inputs, labels, params, constants, random
 * numbers) have no inputs. Every node keeps the source location it came
 * from, so a pass can point back into the .mmg file.
 *
 * The ops are declared once, in ops.def. The shape rule of every op is
 * ir_infer(); ir_verify() re-runs it on every node.
 */
#ifndef MMGC_IR_H
#define MMGC_IR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"

#define IR_MAX_RANK 6
#define IR_MAX_ATTR 8

typedef enum { DT_F32, DT_I64 } DType;

typedef enum {
#define X(e, name, arity, cls, attrs, grad) OP_##e,
#include "ops.def"
#undef X
    OP_COUNT
} Op;

typedef enum { OC_SOURCE, OC_EW, OC_REDUCE, OC_SHAPE, OC_CONTRACT, OC_INDEX } OpClass;

typedef struct {
    const char *name;  /* printed name, e.g. "conv2d"                    */
    int arity;         /* tensor inputs; -1 = one or more                 */
    OpClass cls;
    const char *attrs; /* space-separated attribute names (see ops.def)   */
} OpInfo;

extern const OpInfo ir_op_info[OP_COUNT];

/* Sources whose values come from outside the graph (the runtime feeds or
 * keeps them): input, label, param, state. Other sources (const, random)
 * are computed by the step. */
static inline int ir_is_external(Op op) {
    return op == OP_INPUT || op == OP_LABEL || op == OP_PARAM || op == OP_STATE;
}

/* An op's attribute schema, read from its ops.def string. An INT entry is
 * attr[slot]; a LIST entry takes attr[slot..nattr); VALUE is Node.value.  */
typedef enum { ATTR_INT, ATTR_LIST, ATTR_VALUE } AttrKind;

typedef struct {
    char name[16]; /* without the "[]" of a list */
    AttrKind kind;
    int slot; /* index into Node.attr; -1 for VALUE */
} AttrSpec;

typedef struct {
    int n;      /* entries in at[]                                  */
    int nfixed; /* integer attributes before the list (if any)      */
    int has_list, has_value;
    AttrSpec at[IR_MAX_ATTR + 1];
} AttrSchema;

/* Source location. file indexes Graph.files; line 0 means "unknown". */
typedef struct {
    int file, line, col;
} Loc;

typedef struct {
    int rank;
    int64_t dim[IR_MAX_RANK];
} Shape;

typedef struct {
    DType dtype;
    Shape shape;
} TType;

/* How a PARAM is initialized. uniform: U[a, b); normal: N(a, b^2). */
typedef enum { INIT_NONE, INIT_ZEROS, INIT_ONES, INIT_UNIFORM, INIT_NORMAL } InitKind;

typedef struct {
    InitKind kind;
    double a, b;
} Init;

typedef struct {
    Op op;
    TType type;
    int nin;
    int *in;                   /* ids of input nodes, each < this node's id   */
    int nattr;
    int64_t attr[IR_MAX_ATTR]; /* meaning per ops.def                         */
    double value;              /* the one float attribute ("value")           */
    Init init;                 /* PARAM; STATE of the model (none: optimizer's) */
    const char *name;          /* source path ("multimodal.fusion.wa"), or NULL */
    Loc loc;
} Node;

/* Names that mean something to every layer, each spelled once here. */
#define IR_LOSS "loss"                   /* output: the scalar the step minimizes         */
#define IR_LOGITS "logits"               /* output: class scores, for metrics             */
#define IR_SAMPLE_LOSS "sample_loss"     /* output: a per-sample loss [B] before its mean */
#define IR_SAMPLE_WEIGHT "sample_weight" /* input [B]: 1 per real sample, 0 for padding   */
#define IR_TRAINING "training"           /* input []: 1 in a training step, 0 evaluating  */
#define IR_LR "optimizer.lr"             /* input []: the scheduled learning rate         */
#define IR_GRAD "grad:"                  /* output grad:NAME: d loss / d NAME             */
#define IR_UPDATE "update:"              /* output update:NAME: NAME after the step       */

typedef struct {
    const char *name; /* IR_LOSS, IR_LOGITS, ... */
    int node;
} Output;

typedef struct Graph {
    Arena arena; /* owns every string and input array of the graph */
    const char *name;
    Node *nodes;
    int nnodes, cap;
    Output *outs;
    int nouts, outcap;
    const char **files;
    int nfiles, filecap;
} Graph;

/* ---- fingerprint.c ------------------------------------------------------ */
/* A 64-bit hash of everything compiled code depends on (ops, types, inputs,
 * attributes, values, inits, names, outputs), not of source locations. */
uint64_t ir_fingerprint(const Graph *g);
/* The bytes that fingerprint hashes, fed in order to feed(ctx, bytes, n),
 * for a stronger hash of the same things (the JIT's code cache). */
typedef void (*IrFeed)(void *ctx, const void *p, size_t n);
void ir_fingerprint_walk(const Graph *g, IrFeed feed, void *ctx);

/* ---- graph.c ------------------------------------------------------------ */
Graph *ir_graph_new(const char *name);
void ir_graph_free(Graph *g);
/* A deep copy with the same node ids, e.g. to build a training step while
 * keeping the forward graph for evaluation. */
Graph *ir_clone(const Graph *g);
/* Interns a file name; returns its index in g->files. */
int ir_file(Graph *g, const char *path);
/* Appends a node without checking it; returns its id. in is copied (names
 * are set with ir_set_name, which copies too). */
int ir_add(Graph *g, Op op, TType type, const int *in, int nin, const int64_t *attr, int nattr,
           double value, Loc loc);
/* ir_infer, then ir_add. Returns the id, or -1 with a message in err. */
int ir_build(Graph *g, Op op, const int *in, int nin, const int64_t *attr, int nattr, double value,
             const TType *given, Loc loc, char *err, size_t errlen);
void ir_set_name(Graph *g, int node, const char *name);
/* A copy of s owned by the graph. */
const char *ir_intern(Graph *g, const char *s);
void ir_add_output(Graph *g, const char *name, int node);
/* Returns the node id of the named output, or -1. */
int ir_output(const Graph *g, const char *name);
/* Returns the node id of the INPUT named name, or -1. */
int ir_input(const Graph *g, const char *name);
/* The training step's updates (passes/optimizer.c): pairs each output
 * "update:X" (node src[i]) with the PARAM or STATE X (node dst[i]) of the
 * same type. src and dst hold g->nouts entries. Returns the number of
 * pairs, or -1 with a message (no such X, or another type). */
int ir_update_pairs(const Graph *g, int *src, int *dst, char *err, size_t errlen);
/* The node whose value decides whether a step's updates apply: the IR_LOSS
 * output when it is one f32 number, else -1. A step whose loss is NaN or
 * infinite changes no PARAM or STATE, in every engine (a diverged step is
 * not taken). */
int ir_update_guard(const Graph *g);
/* Looks an op up by printed name; returns OP_COUNT if there is none. */
Op ir_op_by_name(const char *name);
/* Fills *s with the attribute schema of op (a valid op). */
void ir_attr_schema(Op op, AttrSchema *s);
/* Sets the init of a PARAM node. */
void ir_set_init(Graph *g, int node, Init init);

/* ---- shape.c ------------------------------------------------------------ */
int64_t ir_numel(const Shape *s);
int ir_shape_eq(const Shape *a, const Shape *b);
/* Numpy broadcasting; returns 0, or -1 if the shapes do not broadcast. */
int ir_broadcast(const Shape *a, const Shape *b, Shape *out);
/* red[d] = 1 for each axis d of a rank-`rank` input that reduction node n
 * (verified: attr[1..] sorted axes, none meaning all) reduces, else 0. */
void ir_reduced_axes(const Node *n, int rank, int red[IR_MAX_RANK]);
/* reduce_sum's order, which every backend follows to the bit: the inputs
 * of an output element are added, in row-major order, in double. When the
 * trailing reduced run (the innermost axes of x, all reduced: T elements
 * in all) is a multiple of IR_SUM_LANES long and x has fewer than
 * IR_MAX_RANK axes, they go into IR_SUM_LANES partial sums, the input at
 * index t of that run into partial t % IR_SUM_LANES, and the partial sums
 * are added in order (((p0 + p1) + p2) + p3); otherwise into one sum.
 * Either way the result is rounded to float once. (Independent partial
 * sums are what let a long reduction, such as a convolution's bias
 * gradient, run at the memory's speed instead of one add's latency per
 * element.) red[d] says whether axis d is reduced. Returns the partial
 * sums, IR_SUM_LANES or 1, with T in *trailing. */
#define IR_SUM_LANES 4
int ir_sum_lanes(const Shape *x, const int red[IR_MAX_RANK], int64_t *trailing);
/* ... and the chunks of x's first axis that sum apart: when that axis is
 * reduced, another axis is kept, x has at most IR_MAX_RANK - 2 axes and
 * its first is a multiple of IR_SUM_CHUNKS long, the elements of chunk q
 * (first-axis indices [q * n / IR_SUM_CHUNKS, (q + 1) * n / IR_SUM_CHUNKS))
 * go into partial sums of their own (as above, IR_SUM_LANES or one), and
 * an output element is the sum of its chunks' partial sums in the order
 * (chunk, lane): ((c0p0 + c0p1) + ...) + c1p0 ... Returns IR_SUM_CHUNKS
 * or 1. (A batch's samples then sum on the core that computed them: the
 * bias gradients of a convolution read each sample where it was written,
 * instead of half of them from the other core's cache.) */
#define IR_SUM_CHUNKS 16
int ir_sum_chunks(const Shape *x, const int red[IR_MAX_RANK]);
/* Writes "[64, 1, 28, 28]"; returns buf. */
char *ir_shape_str(const Shape *s, char *buf, size_t n);
/* Writes "f32[64, 1, 28, 28]"; returns buf. */
char *ir_type_str(const TType *t, char *buf, size_t n);
const char *ir_dtype_name(DType d);

/* ---- infer.c ------------------------------------------------------------
 * The shape rule of every op. For ops whose result type is not a function
 * of their inputs (sources, reshape, broadcast, cast, scatter, the conv
 * input/weight gradients) the type comes in `given` and is checked.
 * Returns 0 and fills *out, or -1 with a message (no location) in err.   */
int ir_infer(const Graph *g, Op op, const int *in, int nin, const int64_t *attr, int nattr,
             const TType *given, TType *out, char *err, size_t errlen);

/* ---- verify.c ----------------------------------------------------------- */
/* Checks every invariant of the graph; returns 0 or -1 with a message. */
int ir_verify(const Graph *g, char *err, size_t errlen);
/* The per-node part of ir_verify (everything but name and output checks). */
int ir_verify_node(const Graph *g, int id, char *err, size_t errlen);

/* ---- print.c / parse.c / dot.c ------------------------------------------ */
/* The text form; ir_parse reads back exactly what ir_print writes. */
void ir_print(const Graph *g, FILE *out);
Graph *ir_parse(const char *text, const char *filename, char *err, size_t errlen);
void ir_print_dot(const Graph *g, FILE *out);
/* The name ir_print uses for a node: "%<path>" if the path is an identifier
 * no other node has, else "%<id>". */
const char *ir_node_label(const Graph *g, int id, char *buf, size_t n);

/* ---- stats.c ------------------------------------------------------------ */
/* Floating-point operations of one node (multiply-add = 2). */
double ir_node_flops(const Graph *g, int id);

#endif
