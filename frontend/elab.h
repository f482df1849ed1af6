/* elab.h — what elaborate.c, builtins.c and settings.c share: values,
 * scopes and the elaborator's state. Not for use outside frontend/.
 */
#ifndef MMGC_ELAB_H
#define MMGC_ELAB_H

#include "ast.h"
#include "elaborate.h"

typedef enum {
    V_NONE,    /* the result of an error; absorbs further errors silently */
    V_TENSOR,
    V_INT,
    V_FLOAT,
    V_BOOL,
    V_STRING,
    V_SYMBOL,  /* a bare word in a setting, like val_loss */
    V_LIST,
    V_BLOCK,   /* a .mmg block, maybe bound to an instance */
    V_BUILTIN, /* a primitive */
    V_INIT,    /* a parameter initializer */
} ValueKind;

typedef struct Builtin Builtin;
typedef struct Instance Instance;
typedef struct Value Value;

/* Initializers whose bounds depend on the parameter's shape. */
typedef enum { IK_FIXED, IK_XAVIER_UNIFORM, IK_FAN_IN_UNIFORM } InitRule;

struct Value {
    ValueKind kind;
    Loc loc;                 /* where the value was made          */
    int node;                /* V_TENSOR                          */
    int64_t i;               /* V_INT, V_BOOL                     */
    double f;                /* V_FLOAT; V_INIT: gain             */
    const char *s;           /* V_STRING, V_SYMBOL                */
    const BlockDef *block;   /* V_BLOCK                           */
    int file;                /* V_BLOCK: the file defining it     */
    Instance *inst;          /* V_BLOCK bound by a partial call   */
    const Builtin *builtin;  /* V_BUILTIN                         */
    Value *items;            /* V_LIST                            */
    int n;
    Init init;               /* V_INIT (IK_FIXED)                 */
    InitRule rule;           /* V_INIT                            */
};

/* A name bound in a scope. Scopes chain to their parent. */
typedef struct Binding {
    const char *name;
    Value value;
    struct Binding *next;
} Binding;

typedef struct Scope {
    Binding *head;
    struct Scope *parent;
} Scope;

/* A block bound to a name by a call without tensors: it owns its params. */
struct Instance {
    const BlockDef *block;
    int file;
    const char *path;
    Value *args;    /* per block param; V_NONE where not bound */
    char *set;      /* per block param: bound?                 */
    int named;      /* path taken from the name it was bound to */
};

/* Counters that make call-site path segments unique within one frame. */
typedef struct Segment {
    const char *name;
    int count;
    struct Segment *next;
} Segment;

/* One activation: a block body (or the model section) being elaborated. */
typedef struct {
    Scope *scope;
    const char *path;  /* "" for the model, else "multimodal.fusion" */
    int file;          /* whose definitions are visible              */
    int shared;        /* inside a call of an instance: params are
                          found or made in Elab.shared by full path    */
    Segment *segments;
} Frame;

/* A --set value that names a block argument: "multimodal.fusion". */
typedef struct {
    const char *key;
    Expr *value;
    Loc loc;
    int used;
} Override;

typedef struct {
    Program *prog;
    Diag *diag;
    Arena *arena;      /* values, scopes, strings: freed after elaboration */
    Graph *g;
    Override *overrides;
    int noverrides;
    Frame *model_frame;
    Elaborated *out;
    ModelStmt **bindings; /* the model's `name = value` statements, after
                             overrides; evaluated in order, or earlier
                             when another binding reads them            */
    char *bstate;         /* per binding: 0 waiting, 1 running, 2 done   */
    int *running;         /* bindings being evaluated, outermost first   */
    int nbindings, nrunning;
    Scope shared;      /* full path -> param made beneath an instance:
                          every call of the instance finds them again  */
    int **dist;        /* per source, lazily: import distances (elab_distances) */
    int ndist;         /* sources when dist was made */
    const BlockDef **calls; /* the blocks being called, outermost first */
    int ncalls, callcap;
    int depth;         /* evaluations in progress (C recursion depth)  */
    int too_deep;      /* MAX_DEPTH was reported                       */
    int streams;       /* random streams handed out so far       */
    const char **block; /* block[node]: the block instance it was made in
                           (elab_claim_nodes; strings in the graph's arena),
                           NULL for the model's own; [nblock] filled */
    int nblock, blockcap;
} Elab;

/* ---- elaborate.c -------------------------------------------------------- */
/* Scopes: a name bound in s itself, or in s or its parents; (re)binding. */
Binding *elab_scope_find_here(Scope *s, const char *name);
Binding *elab_scope_find(Scope *s, const char *name);
void elab_scope_bind(Elab *E, Scope *s, const char *name, Value v);
Scope *elab_scope_new(Elab *E, Scope *parent);
/* Names: "path.name" (or "name" at the model level); a node name not taken
 * yet (base, base_2, ...); a unique path segment for a call in frame f;
 * a tensor or instance named after the binding that holds it. */
const char *elab_join(Elab *E, const char *path, const char *name);
const char *elab_unique_name(Elab *E, const char *base);
const char *elab_segment(Elab *E, Frame *f, const char *name);
void elab_name_value(Elab *E, Frame *f, const char *name, Value v);
/* Binds each name to the matching item of a list of as many values
 * (`e, l = f(x)`); anything else is an error and binds them to nothing. */
void elab_unpack(Elab *E, Frame *f, const List *names, Value v, Loc loc);
/* How many imports away each module is from module `from` (-1: not
 * visible), computed once per module and elaboration. */
const int *elab_distances(Elab *E, int from);
/* Evaluates an expression in frame f. */
Value elab_eval(Elab *E, Frame *f, const Expr *e);
/* Describes a value for messages: "a tensor f32[64, 128]", "block 'concat'". */
const char *elab_describe(Elab *E, const Value *v);
/* Makes an IR node; on a shape error reports it at loc and returns V_NONE. */
Value elab_node(Elab *E, Op op, const int *in, int nin, const int64_t *attr, int nattr, double value,
                const TType *given, Loc loc);
/* A scalar f32 constant node. */
Value elab_const(Elab *E, double v, Loc loc);
/* Converts a number to a tensor (scalar constant); a tensor passes through. */
Value elab_as_tensor(Elab *E, Value v, Loc loc);
const TType *elab_type(Elab *E, const Value *v);

/* ---- pattern.c ----------------------------------------------------------- */
/* A pattern dimension's value (an int, or an integral float); 0 or -1. */
int elab_eval_dim(Elab *E, Frame *f, const Expr *d, int64_t *out);
/* The dtype a pattern asks for (f32 unless it says i64). */
DType elab_pattern_dtype(const Pattern *p);
/* "[B, 2 * n]", as written. */
const char *elab_pattern_text(Elab *E, const Pattern *p);
/* Checks v against p, binding p's new names in f's scope; `what` names
 * the value in messages. 0 or -1. */
int elab_match(Elab *E, Frame *f, const Pattern *p, Value v, const char *what, Loc loc);

/* ---- model.c --------------------------------------------------------------- */
/* A name read at the model level before its binding ran: runs the
 * binding now. 1 if name is a binding (now bound in the model's scope),
 * 0 if it is none, -1 if its evaluation failed (a cycle). */
int elab_resolve_binding(Elab *E, const char *name);

/* The runtime's own inputs, made the first time a block reads them:
 * `training` (f32 [], 1 in a training step, 0 when evaluating) and
 * `sample_weight` (f32 [B], 1 for a sample, 0 for a short batch's
 * padding). 1 and the tensor in *v if name is one of them, else 0. */
int elab_special(Elab *E, const char *name, Loc loc, Value *v);

/* ---- builtins.c ---------------------------------------------------------- */
typedef struct {
    const char *name;
    int kind;          /* 't' tensor, 'n' number, 'i' int, 'b' bool, 'l' list of ints or int, 'a' any */
    const char *dflt;  /* default as .mmg text, or NULL if required */
} BuiltinParam;

/* A primitive: `args` holds one value per declared param (defaults filled). */
struct Builtin {
    const char *name;
    Value (*fn)(Elab *E, const Builtin *b, Value *args, int nargs, Loc loc);
    int variadic;      /* all positional arguments form args[0] as a V_LIST */
    int op;            /* the Op for simple elementwise builtins, else -1   */
    BuiltinParam params[6];
};

/* Looks up a primitive by bare name (without "op."); NULL if none. */
const Builtin *builtin_find(const char *name);
int builtin_nparams(const Builtin *b);
/* The i-th primitive, NULL past the end. */
const Builtin *builtin_prim_nth(int i);

/* ---- lint.c ------------------------------------------------------------------ */
/* Warns about block arguments nothing reads, in every loaded file. */
void lint_program(Elab *E);

/* ---- hints.c ------------------------------------------------------------------- */
/* After an error in a call of b: a note where b is a library block whose
 * name suggests a primitive (concat for cat). */
void hint_misused_block(Elab *E, const BlockDef *b, Loc loc);
/* After "unknown name": a note naming the .mmg spelling or a near miss. */
void hint_unknown_name(Elab *E, Frame *f, const char *name, Loc loc);

/* ---- builtins_ct.c --------------------------------------------------------- */
/* A compile-time function on numbers and lists (range, floordiv, len); NULL if none. */
const Builtin *builtin_ct_find(const char *name);
/* Every primitive and compile-time function, by index; NULL past the end. */
const Builtin *builtin_nth(int i);

/* ---- settings.c ----------------------------------------------------------- */
/* A flattened train setting: "early_stopping.patience" -> expression. */
typedef struct {
    const char *key;
    const Expr *value;
    Loc loc;
} Setting;

/* Flattens a train record into settings, later ones replacing earlier ones. */
void settings_collect(Elab *E, const Expr *record, const char *prefix, Setting **list, int *n, int *cap);
/* Is key a train setting mmgc knows? */
int settings_known(const char *key);
/* Notes after an unknown setting `key`: "did you mean 'K'?" with the
 * nearest train setting or name of others[0..nothers), then the list of
 * train settings when that nearest is a train setting, or when there is
 * none and list_if_none. */
void settings_hint(Elab *E, const char *key, Loc loc, const char *const *others, int nothers, int list_if_none);
/* Reads the settings into t (defaults first). Returns 0 or -1 after errors. */
int settings_read(Elab *E, const Setting *list, int n, TrainSettings *t);

/* Records that the nodes made since `first` that no inner call claimed
 * were made by the block instance `path` (--profile's block column). */
void elab_claim_nodes(Elab *E, int first, const char *path);

#endif
