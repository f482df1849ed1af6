/* parse.h — the parser's entry points and the state it shares with the lexer. */
#ifndef MMGC_PARSE_H
#define MMGC_PARSE_H

#include "arena.h"
#include "ast.h"
#include "diag.h"

typedef struct ParseCtx {
    Arena *arena;   /* where the AST goes               */
    Diag *diag;     /* where syntax errors go           */
    int file;       /* source id for locations          */
    Module *module; /* result of a file parse           */
    Expr *expr;     /* result of an expression parse    */
    /* lexer state */
    int start;      /* first token to hand out (selects file or expression) */
    int line, col;  /* position of the next character   */
    int depth;      /* open ( and [: newlines inside are spaces */
    int last;       /* previous token, for ending lines */
    int at_eof;
    int lex_error_line; /* line of the last lexical error: no syntax error there too */
    int last_line;  /* line of the previous token */
    int too_deep;   /* "nested too deeply" was reported */
} ParseCtx;

/* Parses source `file` into a Module. Returns NULL after recording errors. */
Module *parse_module(Arena *arena, Diag *diag, int file);
/* Parses source `file`, from byte `offset` on, as one expression (a --set
 * value). NULL on error. */
Expr *parse_expr(Arena *arena, Diag *diag, int file, int offset);

#endif
