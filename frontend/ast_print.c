/* ast_print.c — the syntax tree as text (--emit=ast): one node per line,
 * indented by depth, expressions in .mmg syntax. */
#include <string.h>

#include "ast.h"

static const char *kind_names[] = {"def", "fusion", "loss"};

const char *ast_block_kind_name(BlockKind k) { return kind_names[k]; }

const char *ast_type_name(TypeKind t) {
    static const char *names[] = {"tensor", "int", "float", "bool", "block", "str"};
    return names[t];
}

static void print_expr(const Expr *e, FILE *out, int outer);

static void print_args(const List *l, FILE *out) {
    for (int i = 0; i < l->n; i++) {
        const Arg *a = l->items[i];
        if (i) fputs(", ", out);
        if (a->name) fprintf(out, "%s: ", a->name);
        print_expr(a->value, out, 0);
    }
}

static void print_expr(const Expr *e, FILE *out, int outer) {
    switch (e->kind) {
    case EX_NAME: fputs(e->name, out); break;
    case EX_INT: fprintf(out, "%lld", (long long)e->i); break;
    case EX_FLOAT: fprintf(out, "%g", e->f); break;
    case EX_STRING: fprintf(out, "\"%s\"", e->name); break;
    case EX_BOOL: fputs(e->i ? "true" : "false", out); break;
    case EX_ELLIPSIS: fputs("...", out); break;
    case EX_UNARY:
        fputc('-', out);
        print_expr(e->a, out, 4);
        break;
    case EX_BINARY: {
        int p = ast_op_prec(e->op), right = e->op == AST_POW; /* ** groups to the right */
        if (p < outer) fputc('(', out);
        print_expr(e->a, out, p + right);
        fprintf(out, " %s ", ast_op_text(e->op));
        print_expr(e->b, out, p + !right);
        if (p < outer) fputc(')', out);
        break;
    }
    case EX_CALL:
        print_expr(e->a, out, 3);
        fputc('(', out);
        print_args(&e->items, out);
        fputc(')', out);
        break;
    case EX_LIST:
        fputc('[', out);
        for (int i = 0; i < e->items.n; i++) {
            if (i) fputs(", ", out);
            print_expr(e->items.items[i], out, 0);
        }
        fputc(']', out);
        break;
    case EX_RECORD:
        fputs("{ ", out);
        print_args(&e->items, out);
        fputs(" }", out);
        break;
    }
}

void ast_print_expr(const Expr *e, FILE *out) { print_expr(e, out, 0); }

void ast_print_pattern(const Pattern *p, FILE *out) {
    fputc('[', out);
    for (int i = 0; i < p->dims.n; i++) {
        if (i) fputs(", ", out);
        ast_print_expr(p->dims.items[i], out);
    }
    fputc(']', out);
    if (p->dtype) fprintf(out, " %s", p->dtype);
}

/* "let a = " or "let a, b = " */
static void print_names(const char *name, const List *names, FILE *out) {
    fputs("let ", out);
    if (!names->n) fputs(name, out);
    for (int i = 0; i < names->n; i++) fprintf(out, "%s%s", i ? ", " : "", (const char *)names->items[i]);
    fputs(" = ", out);
}

/* Prints a statement list indented by `indent` spaces. */
static void print_stmts(const List *l, int indent, FILE *out) {
    for (int i = 0; i < l->n; i++) {
        const Stmt *s = l->items[i];
        fprintf(out, "%*s", indent, "");
        switch (s->kind) {
        case ST_PARAM:
        case ST_STATE:
            fprintf(out, "%s %s: ", s->kind == ST_PARAM ? "param" : "state", s->name);
            ast_print_pattern(s->pattern, out);
            fputs(" = ", out);
            break;
        case ST_UPDATE: fprintf(out, "update %s = ", s->name); break;
        case ST_ASSIGN:
            print_names(s->name, &s->names, out);
            break;
        case ST_RETURN: fputs("return ", out); break;
        case ST_IF: fputs("if ", out); break;
        case ST_FOR: fprintf(out, "for %s in ", s->name); break;
        }
        ast_print_expr(s->value, out);
        fputc('\n', out);
        if (s->kind == ST_IF || s->kind == ST_FOR) print_stmts(&s->body, indent + 2, out);
        if (s->kind == ST_IF && s->orelse.n) {
            fprintf(out, "%*selse\n", indent, "");
            print_stmts(&s->orelse, indent + 2, out);
        }
    }
}

static void print_block(const BlockDef *b, FILE *out) {
    fprintf(out, "  %s %s  @%d:%d\n", kind_names[b->kind], b->name, b->loc.line, b->loc.col);
    for (int i = 0; i < b->params.n; i++) {
        const ParamDecl *p = b->params.items[i];
        fprintf(out, "    arg %s: ", p->name);
        if (p->type == TY_TENSOR) ast_print_pattern(p->pattern, out);
        else fputs(ast_type_name(p->type), out);
        if (p->dflt) {
            fputs(" = ", out);
            ast_print_expr(p->dflt, out);
        }
        fputc('\n', out);
    }
    if (b->results.n) {
        fputs("    result ", out);
        for (int i = 0; i < b->results.n; i++) {
            if (i) fputs(", ", out);
            ast_print_pattern(b->results.items[i], out);
        }
        fputc('\n', out);
    }
    print_stmts(&b->body, 4, out);
}

static void print_decls(const char *what, const List *l, FILE *out) {
    for (int i = 0; i < l->n; i++) {
        const Decl *d = l->items[i];
        fprintf(out, "    %s %s: ", what, d->name);
        ast_print_pattern(d->pattern, out);
        fputc('\n', out);
    }
}

static void print_model(const ModelDef *m, FILE *out) {
    fprintf(out, "  model %s", m->name);
    if (m->parent) fprintf(out, " extends %s", m->parent);
    fprintf(out, "  @%d:%d\n", m->loc.line, m->loc.col);
    for (int i = 0; i < m->stmts.n; i++) {
        const ModelStmt *s = m->stmts.items[i];
        switch (s->kind) {
        case MS_DATA: fprintf(out, "    data \"%s\"\n", s->name); break;
        case MS_INPUT: print_decls("input", &s->decls, out); break;
        case MS_LABEL: print_decls("label", &s->decls, out); break;
        case MS_ASSIGN:
            fputs("    ", out);
            print_names(s->name, &s->names, out);
            ast_print_expr(s->value, out);
            fputc('\n', out);
            break;
        case MS_TRAIN:
            fputs("    train ", out);
            ast_print_expr(s->value, out);
            fputc('\n', out);
            break;
        }
    }
}

void ast_print_module(const Module *m, const char *path, FILE *out) {
    fprintf(out, "module \"%s\"\n", path);
    for (int i = 0; i < m->imports.n; i++) {
        const Import *imp = m->imports.items[i];
        fprintf(out, "  import \"%s\"\n", imp->path);
    }
    for (int i = 0; i < m->blocks.n; i++) print_block(m->blocks.items[i], out);
    for (int i = 0; i < m->models.n; i++) print_model(m->models.items[i], out);
    for (int i = 0; i < m->studies.n; i++) {
        const StudyDef *st = m->studies.items[i];
        fprintf(out, "  study %s  @%d:%d\n    ", st->name, st->loc.line, st->loc.col);
        ast_print_expr(st->record, out);
        fputc('\n', out);
    }
}
