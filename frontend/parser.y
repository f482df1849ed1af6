/* parser.y — the grammar of .mmg.
 *
 * Actions only call the ast_* builders (ast.h). Errors are recovered at
 * statement level, so one run reports every syntax error it can.
 */
%define api.pure full
%define api.prefix {mmg}
%define parse.error detailed
%locations
%expect 0

%code requires {
#include "ast.h"
typedef void *yyscan_t;
typedef struct ParseCtx ParseCtx;
}

%code provides {
int mmglex(MMGSTYPE *lval, MMGLTYPE *lloc, yyscan_t scanner);
}

%param {yyscan_t scanner}
%parse-param {ParseCtx *ctx}

%code {
#include "parse.h"
#include "lexer.h"
#include <string.h>

/* The Loc of a bison location. */
#define L(l) ((Loc){ctx->file, (l).first_line, (l).first_column})
#define A (ctx->arena)

static void mmgerror(MMGLTYPE *loc, yyscan_t scanner, ParseCtx *ctx, const char *msg);
static TypeKind type_kind(ParseCtx *ctx, Loc loc, const char *name);
static void push(ParseCtx *ctx, List *l, void *item) { list_push(ctx->arena, l, item); }
static Expr *nest(ParseCtx *ctx, Expr *e);
}

%union {
    const char *str;
    long long ival;
    double fval;
    Expr *expr;
    Arg *arg;
    List list;
    Pattern *pattern;
    ParamDecl *param;
    Stmt *stmt;
    BlockDef *block;
    ModelDef *model;
    StudyDef *study;
    ModelStmt *mstmt;
    Decl *decl;
    int kind;
}

%token <str> IDENT "identifier" STRING "string"
%token <ival> INT "integer"
%token <fval> FLOAT "number"
%token IMPORT "'import'" DEF "'def'" FUSION "'fusion'" LOSS "'loss'" MODEL "'model'" EXTENDS "'extends'"
%token PARAM "'param'" RETURN "'return'" DATA "'data'" INPUT "'input'" LABEL "'label'" TRAIN "'train'"
%token TRUE "'true'" FALSE "'false'" ARROW "'->'" ELLIPSIS "'...'" SEP "end of line"
%token STUDY "'study'"
%token IF "'if'" ELSE "'else'" FOR "'for'" IN "'in'" STATE "'state'" UPDATE "'update'"
%token LE "'<='" GE "'>='" EQ "'=='" NE "'!='" POW "'**'"
%token START_FILE START_EXPR

%type <str> name
%type <expr> expr postfix primary record dim
%type <arg> arg field
%type <list> args args_opt exprs exprs_opt fields fields_opt dims dims_opt params params_opt
%type <list> stmts mstmts decls
%type <pattern> pattern
%type <list> result_opt patterns names tuple
%type <param> param
%type <stmt> stmt stmt_opt if_stmt
%type <list> else_opt
%type <block> block
%type <model> model
%type <study> study
%type <mstmt> mstmt mstmt_opt
%type <decl> decl
%type <kind> block_kind
%type <str> dtype_opt extends_opt

%nonassoc '<' '>' LE GE EQ NE
%left '+' '-'
%left '*' '/' '@'
%precedence UMINUS
%right POW

%%

start
    : START_FILE items
    | START_EXPR expr seps              { ctx->expr = $2; }
    ;

seps: %empty | seps SEP ;

/* items: import, block, model and study definitions, in any order */
items
    : %empty
    | items item
    | items SEP
    ;

item
    : IMPORT STRING SEP                 { push(ctx, &ctx->module->imports, ast_import(A, L(@2), $2)); }
    | block                             { push(ctx, &ctx->module->blocks, $1); }
    | model                             { push(ctx, &ctx->module->models, $1); }
    | study                             { push(ctx, &ctx->module->studies, $1); }
    | error SEP
    ;

/* block: def|fusion|loss NAME(params) [-> pattern] { stmts } */
block
    : block_kind IDENT '(' params_opt ')' result_opt '{' stmts '}'
                                        { $$ = ast_block(A, L(@2), $1, $2, $4, $6, $8); }
    ;

block_kind
    : DEF                               { $$ = BK_DEF; }
    | FUSION                            { $$ = BK_FUSION; }
    | LOSS                              { $$ = BK_LOSS; }
    ;

params_opt: %empty { $$ = (List){0}; } | params { $$ = $1; } | params ',' { $$ = $1; } ;
params
    : param                             { $$ = (List){0}; push(ctx, &$$, $1); }
    | params ',' param                  { $$ = $1; push(ctx, &$$, $3); }
    ;

/* param: NAME: [pattern] [= default]  |  NAME: int|float|bool|block|str [= default] */
param
    : name ':' pattern                  { $$ = ast_param_decl(A, L(@1), $1, TY_TENSOR, $3, NULL); }
    | name ':' IDENT                     { $$ = ast_param_decl(A, L(@1), $1, type_kind(ctx, L(@3), $3), NULL, NULL); }
    | name ':' IDENT '=' expr            { $$ = ast_param_decl(A, L(@1), $1, type_kind(ctx, L(@3), $3), NULL, $5); }
    ;

result_opt: %empty { $$ = (List){0}; } | ARROW patterns { $$ = $2; } ;
patterns
    : pattern                           { $$ = (List){0}; push(ctx, &$$, $1); }
    | patterns ',' pattern              { $$ = $1; push(ctx, &$$, $3); }
    ;

/* tuple: two or more values returned by one block */
tuple
    : expr ',' expr                     { $$ = (List){0}; push(ctx, &$$, $1); push(ctx, &$$, $3); }
    | tuple ',' expr                    { $$ = $1; push(ctx, &$$, $3); }
    ;

/* names: a, b, ... on the left of an unpacking assignment */
names
    : name ',' name                     { $$ = ast_names(A, ast_names(A, (List){0}, $1), $3); }
    | names ',' name                    { $$ = ast_names(A, $1, $3); }
    ;

/* pattern: [dim, ...] [dtype] — a dim is an expression or "..." */
pattern
    : '[' dims_opt ']' dtype_opt        { $$ = ast_pattern(A, L(@1), $2, $4); }
    ;

dtype_opt: %empty { $$ = NULL; } | IDENT { $$ = $1; } ;

dims_opt: %empty { $$ = (List){0}; } | dims { $$ = $1; } ;
dims
    : dim                               { $$ = (List){0}; push(ctx, &$$, $1); }
    | dims ',' dim                      { $$ = $1; push(ctx, &$$, $3); }
    ;
dim: expr { $$ = $1; } | ELLIPSIS { $$ = ast_ellipsis(A, L(@1)); } ;

/* statements, one per line or separated by ';' */
stmts
    : stmt_opt                          { $$ = (List){0}; if ($1) push(ctx, &$$, $1); }
    | stmts SEP stmt_opt                { $$ = $1; if ($3) push(ctx, &$$, $3); }
    ;
stmt_opt: %empty { $$ = NULL; } | stmt { $$ = $1; } ;

stmt
    : PARAM name ':' pattern '=' expr   { $$ = ast_stmt(A, L(@2), ST_PARAM, $2, $4, $6); }
    | STATE name ':' pattern '=' expr   { $$ = ast_stmt(A, L(@2), ST_STATE, $2, $4, $6); }
    | UPDATE name '=' expr              { $$ = ast_stmt(A, L(@2), ST_UPDATE, $2, NULL, $4); }
    | name '=' expr                     { $$ = ast_stmt(A, L(@1), ST_ASSIGN, $1, NULL, $3); }
    | names '=' expr                    { $$ = ast_unpack(A, L(@1), $1, $3); }
    | RETURN expr                       { $$ = ast_stmt(A, L(@1), ST_RETURN, NULL, NULL, $2); }
    | RETURN tuple                      { $$ = ast_stmt(A, L(@1), ST_RETURN, NULL, NULL, nest(ctx, ast_list(A, L(@2), $2))); }
    | if_stmt                           { $$ = $1; }
    | FOR name IN expr '{' stmts '}'    { $$ = ast_for(A, L(@1), $2, $4, $6); }
    | error                             { $$ = NULL; }
    ;

/* if COND { stmts } [else { stmts } | else if ...] — decided at compile time */
if_stmt
    : IF expr '{' stmts '}' else_opt    { $$ = ast_if(A, L(@1), $2, $4, $6); }
    ;
else_opt
    : %empty                            { $$ = (List){0}; }
    | ELSE '{' stmts '}'                { $$ = $3; }
    | ELSE if_stmt                      { $$ = ast_stmt_list(A, $2); }
    ;

/* model NAME [extends NAME] { data, input, label, bindings, train } */
model
    : MODEL name extends_opt '{' mstmts '}'
                                        { $$ = ast_model(A, L(@2), $2, $3, L(@3), $5); }
    ;

/* study NAME { runs, seeds, ... } (read by frontend/study_spec.c) */
study
    : STUDY name record                 { $$ = ast_study(A, L(@2), $2, $3); }
    ;

extends_opt: %empty { $$ = NULL; } | EXTENDS name { $$ = $2; } ;

mstmts
    : mstmt_opt                         { $$ = (List){0}; if ($1) push(ctx, &$$, $1); }
    | mstmts SEP mstmt_opt              { $$ = $1; if ($3) push(ctx, &$$, $3); }
    ;
mstmt_opt: %empty { $$ = NULL; } | mstmt { $$ = $1; } ;

mstmt
    : DATA STRING                       { $$ = ast_model_stmt(A, L(@1), MS_DATA, $2, (List){0}, NULL); }
    | INPUT decls                       { $$ = ast_model_stmt(A, L(@1), MS_INPUT, NULL, $2, NULL); }
    | LABEL decls                       { $$ = ast_model_stmt(A, L(@1), MS_LABEL, NULL, $2, NULL); }
    | name '=' expr                     { $$ = ast_model_stmt(A, L(@1), MS_ASSIGN, $1, (List){0}, $3); }
    | names '=' expr                    { $$ = ast_model_unpack(A, L(@1), $1, $3); }
    | TRAIN record                      { $$ = ast_model_stmt(A, L(@1), MS_TRAIN, NULL, (List){0}, $2); }
    | error                             { $$ = NULL; }
    ;

decls
    : decl                              { $$ = (List){0}; push(ctx, &$$, $1); }
    | decls ',' decl                    { $$ = $1; push(ctx, &$$, $3); }
    ;
decl: name ':' pattern                  { $$ = ast_decl(A, L(@1), $1, $3); } ;

/* names: keywords that are also ordinary words stay usable as names */
name
    : IDENT     { $$ = $1; }
    | FUSION    { $$ = "fusion"; }
    | LOSS      { $$ = "loss"; }
    | DATA      { $$ = "data"; }
    | INPUT     { $$ = "input"; }
    | LABEL     { $$ = "label"; }
    | TRAIN     { $$ = "train"; }
    | MODEL     { $$ = "model"; }
    | STUDY     { $$ = "study"; }
    | EXTENDS   { $$ = "extends"; }
    | STATE     { $$ = "state"; }
    | UPDATE    { $$ = "update"; }
    ;

/* expressions */
expr
    : expr '+' expr                     { $$ = nest(ctx, ast_binary(A, L(@2), '+', $1, $3)); }
    | expr '-' expr                     { $$ = nest(ctx, ast_binary(A, L(@2), '-', $1, $3)); }
    | expr '*' expr                     { $$ = nest(ctx, ast_binary(A, L(@2), '*', $1, $3)); }
    | expr '/' expr                     { $$ = nest(ctx, ast_binary(A, L(@2), '/', $1, $3)); }
    | expr '@' expr                     { $$ = nest(ctx, ast_binary(A, L(@2), '@', $1, $3)); }
    | expr '<' expr                     { $$ = nest(ctx, ast_binary(A, L(@2), '<', $1, $3)); }
    | expr '>' expr                     { $$ = nest(ctx, ast_binary(A, L(@2), '>', $1, $3)); }
    | expr LE expr                      { $$ = nest(ctx, ast_binary(A, L(@2), AST_LE, $1, $3)); }
    | expr GE expr                      { $$ = nest(ctx, ast_binary(A, L(@2), AST_GE, $1, $3)); }
    | expr EQ expr                      { $$ = nest(ctx, ast_binary(A, L(@2), AST_EQ, $1, $3)); }
    | expr NE expr                      { $$ = nest(ctx, ast_binary(A, L(@2), AST_NE, $1, $3)); }
    | expr POW expr                     { $$ = nest(ctx, ast_binary(A, L(@2), AST_POW, $1, $3)); }
    | '-' expr %prec UMINUS             { $$ = nest(ctx, ast_unary(A, L(@1), '-', $2)); }
    | postfix                           { $$ = $1; }
    ;

postfix
    : primary                           { $$ = $1; }
    | postfix '(' args_opt ')'          { $$ = nest(ctx, ast_call(A, L(@1), $1, $3)); }
    ;

primary
    : name                              { $$ = ast_name(A, L(@1), $1); }
    | INT                               { $$ = ast_int(A, L(@1), $1); }
    | FLOAT                             { $$ = ast_float(A, L(@1), $1); }
    | STRING                            { $$ = ast_string(A, L(@1), $1); }
    | TRUE                              { $$ = ast_bool(A, L(@1), 1); }
    | FALSE                             { $$ = ast_bool(A, L(@1), 0); }
    | '(' expr ')'                      { $$ = $2; }
    | '[' exprs_opt ']'                 { $$ = nest(ctx, ast_list(A, L(@1), $2)); }
    | record                            { $$ = $1; }
    ;

exprs_opt: %empty { $$ = (List){0}; } | exprs { $$ = $1; } | exprs ',' { $$ = $1; } ;
exprs
    : expr                              { $$ = (List){0}; push(ctx, &$$, $1); }
    | exprs ',' expr                    { $$ = $1; push(ctx, &$$, $3); }
    ;

args_opt: %empty { $$ = (List){0}; } | args { $$ = $1; } | args ',' { $$ = $1; } ;
args
    : arg                               { $$ = (List){0}; push(ctx, &$$, $1); }
    | args ',' arg                      { $$ = $1; push(ctx, &$$, $3); }
    ;
arg
    : expr                              { $$ = ast_arg(A, L(@1), NULL, $1); }
    | name ':' expr                     { $$ = ast_arg(A, L(@1), $1, $3); }
    ;

/* record: { name: expr, ... } — fields end with ',' or a line end */
record: '{' fields_opt '}'              { $$ = nest(ctx, ast_record(A, L(@1), $2)); } ;

fields_opt
    : %empty                            { $$ = (List){0}; }
    | fields                            { $$ = $1; }
    | fields ','                        { $$ = $1; }
    | fields SEP                        { $$ = $1; }
    ;
fields
    : field                             { $$ = (List){0}; push(ctx, &$$, $1); }
    | fields ',' field                  { $$ = $1; push(ctx, &$$, $3); }
    | fields SEP field                  { $$ = $1; push(ctx, &$$, $3); }
    ;
field: name ':' expr                    { $$ = ast_arg(A, L(@1), $1, $3); } ;

%%

#define TOO_DEEP "expression nested too deeply (at most %d levels of operators, calls and brackets)"

/* Refuses an expression deeper than AST_MAX_DEPTH, once per parse: every
 * later walk over it recurses that deep. */
static Expr *nest(ParseCtx *ctx, Expr *e) {
    if (e->depth > AST_MAX_DEPTH && !ctx->too_deep) {
        diag_error(ctx->diag, e->loc, TOO_DEEP, AST_MAX_DEPTH);
        ctx->too_deep = 1;
    }
    return e;
}

/* Records a syntax error from bison at its location. Bison's own stack
 * overflows on brackets nested thousands deep: said in the same words. */
static void mmgerror(MMGLTYPE *loc, yyscan_t scanner, ParseCtx *ctx, const char *msg) {
    (void)scanner;
    if (!strcmp(msg, "memory exhausted")) {
        if (!ctx->too_deep) diag_error(ctx->diag, L(*loc), TOO_DEEP, AST_MAX_DEPTH);
        ctx->too_deep = 1;
        return;
    }
    if (loc->first_line == ctx->lex_error_line) return; /* the lexer already said why */
    diag_error(ctx->diag, L(*loc), "%s", msg);
}

/* The TypeKind of a config type name; an unknown name is an error. */
static TypeKind type_kind(ParseCtx *ctx, Loc loc, const char *name) {
    static const struct { const char *name; TypeKind kind; } kinds[] = {
        {"int", TY_INT}, {"float", TY_FLOAT}, {"bool", TY_BOOL}, {"block", TY_BLOCK}, {"str", TY_STRING},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(name, kinds[i].name)) return kinds[i].kind;
    diag_error(ctx->diag, loc, "unknown type '%s' (expected a shape like [B, n], int, float, bool, block or str)", name);
    return TY_INT;
}

/* Runs the parser over source `file`, starting with token `start`. */
static int run(ParseCtx *ctx, int start, int offset) {
    yyscan_t scanner;
    if (mmglex_init_extra(ctx, &scanner)) return 1;
    const SourceFile *f = &ctx->diag->src->files[ctx->file];
    YY_BUFFER_STATE buf = mmg_scan_bytes(f->text + offset, (int)f->len - offset, scanner);
    ctx->start = start;
    ctx->line = 1;
    ctx->col = offset + 1;
    int rc = mmgparse(scanner, ctx);
    mmg_delete_buffer(buf, scanner);
    mmglex_destroy(scanner);
    return rc;
}

Module *parse_module(Arena *arena, Diag *diag, int file) {
    ParseCtx ctx = {.arena = arena, .diag = diag, .file = file};
    ctx.module = arena_alloc(arena, sizeof *ctx.module);
    ctx.module->file = file;
    int before = diag->nerrors;
    int rc = run(&ctx, START_FILE, 0);
    return rc || diag->nerrors > before ? NULL : ctx.module;
}

Expr *parse_expr(Arena *arena, Diag *diag, int file, int offset) {
    ParseCtx ctx = {.arena = arena, .diag = diag, .file = file};
    int before = diag->nerrors;
    int rc = run(&ctx, START_EXPR, offset);
    return rc || diag->nerrors > before ? NULL : ctx.expr;
}
