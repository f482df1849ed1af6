/* ast.h — the syntax tree of a .mmg file.
 *
 * All nodes live in one Arena (the Program's); lists are arena arrays.
 * Every node keeps its source location. The grammar (parser.y) builds the
 * tree only through the ast_* functions below.
 */
#ifndef MMGC_AST_H
#define MMGC_AST_H

#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "ir.h"

typedef struct Expr Expr;

/* A growable list of pointers in arena memory. */
typedef struct {
    void **items;
    int n, cap;
} List;

void list_push(Arena *a, List *l, void *item);

typedef enum {
    EX_NAME,     /* foo, op.conv2d                     */
    EX_INT,      /* 42                                 */
    EX_FLOAT,    /* 1e-3                               */
    EX_STRING,   /* "data/digits"                      */
    EX_BOOL,     /* true, false                        */
    EX_ELLIPSIS, /* ... (only inside a shape pattern)  */
    EX_UNARY,    /* -x                                 */
    EX_BINARY,   /* a + b, a @ b                       */
    EX_CALL,     /* f(x, out: 10)                      */
    EX_LIST,     /* [B, 2 * n]                         */
    EX_RECORD,   /* { monitor: val_loss, patience: 5 } */
} ExprKind;

/* Binary operators spelled with two characters (one-character ones are
 * their character). */
typedef enum { AST_LE = 256, AST_GE, AST_EQ, AST_NE, AST_POW } AstOp;

/* An operator as written ("<=") and its binding strength (higher binds
 * tighter; comparisons 1, + - 2, * / @ 3, ** 4). */
const char *ast_op_text(int op);
int ast_op_prec(int op);

/* A call argument or a record field; name is NULL for a positional one. */
typedef struct {
    const char *name;
    Expr *value;
    Loc loc;
} Arg;

struct Expr {
    ExprKind kind;
    Loc loc;
    const char *name; /* EX_NAME; EX_STRING's text                 */
    int64_t i;        /* EX_INT; EX_BOOL (0/1)                     */
    double f;         /* EX_FLOAT                                   */
    int op;           /* EX_UNARY: '-'; EX_BINARY: '+' '-' '*' '/' '@'
                         '<' '>' or an AstOp                        */
    Expr *a, *b;      /* operands; EX_CALL: a is the callee         */
    List items;       /* EX_CALL, EX_RECORD: Arg*; EX_LIST: Expr*   */
    int depth;        /* 1 + the deepest operand's: every walk over an
                         expression recurses this deep (the parser
                         refuses more than AST_MAX_DEPTH)              */
};

/* The deepest expression the parser accepts (a chain of 1,000 `+` or
 * 1,000 nested calls); deeper ones are an error, never a crash. */
#define AST_MAX_DEPTH 1000

/* A shape pattern: [B, n], [B, 2 * n], [..., n] with an optional dtype. */
typedef struct {
    List dims;         /* Expr*: EX_NAME binds or checks, others are checked */
    const char *dtype; /* "f32", "i64" or NULL (f32)                        */
    Loc loc;
} Pattern;

/* The type of a block parameter. */
typedef enum { TY_TENSOR, TY_INT, TY_FLOAT, TY_BOOL, TY_BLOCK, TY_STRING } TypeKind;

typedef struct {
    const char *name;
    TypeKind type;
    Pattern *pattern; /* TY_TENSOR */
    Expr *dflt;       /* default value or NULL */
    Loc loc;
} ParamDecl;

typedef enum { ST_PARAM, ST_STATE, ST_UPDATE, ST_ASSIGN, ST_RETURN, ST_IF, ST_FOR } StmtKind;

/* Statements of a block body. `state` declares a tensor the step keeps but
 * does not train (running statistics); `update NAME = value` is its value
 * after each training step. `if` and `for` run at compile time: `if`
 * picks its branch by a compile-time bool, `for` repeats its body once per
 * item of a compile-time list (unrolled); neither opens a new scope. */
typedef struct {
    StmtKind kind;
    const char *name;  /* ST_PARAM, ST_STATE, ST_UPDATE, ST_ASSIGN; ST_FOR: the loop variable */
    List names;        /* ST_ASSIGN of several values: `e, l = f(x)`     */
    Pattern *pattern;  /* ST_PARAM, ST_STATE                            */
    Expr *value;       /* init, value, result; ST_IF: the condition;
                          ST_FOR: the list iterated over                 */
    Loc loc;
    List body;         /* ST_IF: then-branch; ST_FOR: body (Stmt*)       */
    List orelse;       /* ST_IF: else-branch (Stmt*), maybe empty        */
} Stmt;

typedef enum { BK_DEF, BK_FUSION, BK_LOSS } BlockKind;

typedef struct {
    BlockKind kind;
    const char *name;
    List params;      /* ParamDecl* */
    List results;     /* Pattern*: `-> [B, n]`, or `-> [B, n], [B, 10]`
                         for a block returning several values; may be empty */
    List body;        /* Stmt*      */
    Loc loc;
} BlockDef;

typedef enum { MS_DATA, MS_INPUT, MS_LABEL, MS_ASSIGN, MS_TRAIN } ModelStmtKind;

/* One input or label declaration: image: [B, 1, 28, 28] */
typedef struct {
    const char *name;
    Pattern *pattern;
    Loc loc;
} Decl;

typedef struct {
    ModelStmtKind kind;
    const char *name; /* MS_ASSIGN (its first name); MS_DATA's path */
    List names;       /* MS_ASSIGN of several values: `e, l = f(x)` */
    List decls;       /* MS_INPUT, MS_LABEL: Decl* */
    Expr *value;      /* MS_ASSIGN; MS_TRAIN (an EX_RECORD) */
    Loc loc;
} ModelStmt;

typedef struct {
    const char *name;
    const char *parent; /* "extends NAME", or NULL */
    Loc parent_loc;
    List stmts;         /* ModelStmt* */
    Loc loc;
} ModelDef;

/* study NAME { ... }: which models to train, varied how, with which seeds
 * (frontend/study_spec.c reads the record). */
typedef struct {
    const char *name;
    Expr *record;       /* an EX_RECORD */
    Loc loc;
} StudyDef;

typedef struct {
    const char *path; /* as written */
    Loc loc;
} Import;

/* One parsed file. */
typedef struct {
    int file;         /* id in Sources */
    List imports;     /* Import*   */
    List blocks;      /* BlockDef* */
    List models;      /* ModelDef* */
    List studies;     /* StudyDef* */
} Module;

/* ---- builders, called by the grammar ------------------------------------ */
Expr *ast_name(Arena *a, Loc loc, const char *name);
Expr *ast_int(Arena *a, Loc loc, int64_t v);
Expr *ast_float(Arena *a, Loc loc, double v);
Expr *ast_string(Arena *a, Loc loc, const char *s);
Expr *ast_bool(Arena *a, Loc loc, int v);
Expr *ast_ellipsis(Arena *a, Loc loc);
Expr *ast_unary(Arena *a, Loc loc, int op, Expr *x);
Expr *ast_binary(Arena *a, Loc loc, int op, Expr *l, Expr *r);
Expr *ast_call(Arena *a, Loc loc, Expr *callee, List args);
Expr *ast_list(Arena *a, Loc loc, List items);
Expr *ast_record(Arena *a, Loc loc, List fields);
Arg *ast_arg(Arena *a, Loc loc, const char *name, Expr *value);
Pattern *ast_pattern(Arena *a, Loc loc, List dims, const char *dtype);
ParamDecl *ast_param_decl(Arena *a, Loc loc, const char *name, TypeKind type, Pattern *p, Expr *dflt);
Stmt *ast_stmt(Arena *a, Loc loc, StmtKind kind, const char *name, Pattern *p, Expr *value);
Stmt *ast_if(Arena *a, Loc loc, Expr *cond, List then, List orelse);
/* `a, b = value`: names holds const char* (two or more). */
Stmt *ast_unpack(Arena *a, Loc loc, List names, Expr *value);
ModelStmt *ast_model_unpack(Arena *a, Loc loc, List names, Expr *value);
/* A list of names, for unpacking. */
List ast_names(Arena *a, List names, const char *name);
Stmt *ast_for(Arena *a, Loc loc, const char *var, Expr *items, List body);
/* A list of one statement (an `else if`). */
List ast_stmt_list(Arena *a, Stmt *s);
BlockDef *ast_block(Arena *a, Loc loc, BlockKind kind, const char *name, List params, List results,
                    List body);
Decl *ast_decl(Arena *a, Loc loc, const char *name, Pattern *p);
ModelStmt *ast_model_stmt(Arena *a, Loc loc, ModelStmtKind kind, const char *name, List decls,
                          Expr *value);
ModelDef *ast_model(Arena *a, Loc loc, const char *name, const char *parent, Loc parent_loc,
                    List stmts);
StudyDef *ast_study(Arena *a, Loc loc, const char *name, Expr *record);
Import *ast_import(Arena *a, Loc loc, const char *path);

/* ---- ast_print.c --------------------------------------------------------- */
/* Prints a module as an indented tree (--emit=ast). */
void ast_print_module(const Module *m, const char *path, FILE *out);
/* Prints an expression in .mmg syntax. */
void ast_print_expr(const Expr *e, FILE *out);
/* Prints a shape pattern as written: "[B, 2 * n] i64". */
void ast_print_pattern(const Pattern *p, FILE *out);
const char *ast_block_kind_name(BlockKind k);
const char *ast_type_name(TypeKind t);

#endif
