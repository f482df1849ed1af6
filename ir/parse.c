/* parse.c — reads the text form written by print.c back into a Graph.
 *
 * A hand-written recursive-descent reader straight over the characters.
 * Whitespace (and '#' comments to the end of a line) separates tokens.
 * The first error stops the parse: "<file>:<line>:<col>: <message>" goes
 * into err, everything allocated so far is freed, and NULL is returned.
 * Every node is verified as soon as it is read (so a type error points at
 * its line), and the whole graph once more at the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "util.h"

/* Node names -> ids: open addressing, keys owned by the graph's arena. */
typedef struct {
    const char **key;
    int *id;
    int cap, n;
} Names;

typedef struct {
    const char *src, *p; /* the whole text; the cursor */
    const char *file;    /* for messages */
    char *err;
    size_t errlen;
    Graph *g;
    Names names;
    Arena scratch; /* unescaped strings; freed when the parse ends */
    int *args;     /* the inputs of the node being read */
    int argcap;
} P;

/* ---- errors and tokens ---------------------------------------------------- */

/* Writes "<file>:<line>:<col>: <message>" for position `at`; returns -1. */
__attribute__((format(printf, 3, 4))) static int perr_at(P *p, const char *at, const char *fmt,
                                                         ...) {
    int line = 1;
    const char *bol = p->src;
    for (const char *s = p->src; s < at; s++)
        if (*s == '\n') line++, bol = s + 1;
    int k = snprintf(p->err, p->errlen, "%s:%d:%d: ", p->file, line, (int)(at - bol) + 1);
    if (k >= 0 && (size_t)k < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Skips blanks, newlines and '#' comments. */
static void skip_ws(P *p) {
    for (;;) {
        p->p += strspn(p->p, " \t\r\n");
        if (*p->p != '#') return;
        p->p += strcspn(p->p, "\n");
    }
}

/* Consumes c if it is the next character. */
static int accept(P *p, char c) {
    skip_ws(p);
    if (*p->p != c) return 0;
    p->p++;
    return 1;
}

/* Consumes c or fails with "expected 'c'". */
static int expect(P *p, char c) {
    if (accept(p, c)) return 0;
    return perr_at(p, p->p, "expected '%c'", c);
}

/* 1 if c may start an identifier. */
static int ident_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* Reads an identifier [A-Za-z_][A-Za-z0-9_.]*; returns its length, 0 if none. */
static size_t ident(P *p, const char **s) {
    skip_ws(p);
    *s = p->p;
    if (!ident_start(*p->p)) return 0;
    size_t n = 1 + strspn(p->p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.");
    p->p += n;
    return n;
}

/* 1 if the n bytes at s spell the word w. */
static int is_word(const char *s, size_t n, const char *w) { return strlen(w) == n && !strncmp(s, w, n); }

/* Consumes the word w if it comes next. */
static int accept_word(P *p, const char *w) {
    const char *save = p->p, *s;
    size_t n = ident(p, &s);
    if (n && is_word(s, n, w)) return 1;
    p->p = save;
    return 0;
}

/* Reads an integer (optionally negative) into *v. */
static int int64(P *p, int64_t *v) {
    skip_ws(p);
    const char *s = p->p;
    if (!((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
        return perr_at(p, s, "expected an integer");
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno == ERANGE) return perr_at(p, s, "integer out of range");
    *v = (int64_t)x;
    p->p = end;
    return 0;
}

/* Reads an integer in [lo, hi] into *v. */
static int int_in(P *p, int64_t lo, int64_t hi, int64_t *v) {
    skip_ws(p);
    const char *s = p->p;
    if (int64(p, v)) return -1;
    if (*v < lo || *v > hi)
        return perr_at(p, s, "%" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", *v, lo, hi);
    return 0;
}

/* Reads a floating-point number (anything strtod takes, e.g. 0.5, -inf). */
static int number(P *p, double *v) {
    skip_ws(p);
    char *end;
    *v = strtod(p->p, &end);
    if (end == p->p) return perr_at(p, p->p, "expected a number");
    p->p = end;
    return 0;
}

/* Reads one escape after '\' at *s into *c; returns -1 for a bad one. */
static int unescape(P *p, const char **s, char *c) {
    const char *e = *s;
    static const char hex[] = "0123456789abcdef";
    switch (*e) {
    case '"': case '\\': *c = *e; *s = e + 1; return 0;
    case 'n': *c = '\n'; *s = e + 1; return 0;
    case 't': *c = '\t'; *s = e + 1; return 0;
    case 'x':
        if (e[1] && e[2] && strchr(hex, e[1]) && strchr(hex, e[2])) {
            *c = (char)((strchr(hex, e[1]) - hex) * 16 + (strchr(hex, e[2]) - hex));
            *s = e + 3;
            if (*c) return 0;
        }
        break;
    default: break;
    }
    return perr_at(p, e - 1, "invalid escape in string");
}

/* Reads a "quoted string" with \" \\ \n \t \xHH escapes into scratch memory. */
static int string(P *p, const char **out) {
    skip_ws(p);
    const char *s = p->p;
    if (*s != '"') return perr_at(p, s, "expected a string");
    size_t raw = 0; /* the unescaped text is at most as long as the raw one */
    for (const char *q = s + 1; *q && *q != '"' && *q != '\n'; q++, raw++)
        if (*q == '\\' && q[1]) q++, raw++;
    char *buf = arena_alloc(&p->scratch, raw + 1), *o = buf;
    for (s++; *s != '"'; o++) {
        if (*s == 0 || *s == '\n') return perr_at(p, p->p, "unterminated string");
        if (*s != '\\') *o = *s++;
        else if (s++, unescape(p, &s, o)) return -1;
    }
    *o = 0;
    p->p = s + 1;
    *out = buf;
    return 0;
}

/* An identifier or a quoted string (graph and output names). */
static int name_or_string(P *p, const char **out) {
    const char *s;
    size_t n = ident(p, &s);
    if (!n) return string(p, out);
    *out = arena_strndup(&p->scratch, s, n);
    return 0;
}

/* ---- the name table ------------------------------------------------------- */

/* FNV-1a of n bytes. */
static unsigned hash(const char *s, size_t n) {
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* The slot of name (s, n): where it is, or the empty slot where it goes. */
static int names_slot(const Names *t, const char *s, size_t n) {
    int i = (int)(hash(s, n) & (unsigned)(t->cap - 1));
    while (t->key[i] && !(strncmp(t->key[i], s, n) == 0 && t->key[i][n] == 0))
        i = (i + 1) & (t->cap - 1);
    return i;
}

/* The id of the node named (s, n), or -1. */
static int names_find(const Names *t, const char *s, size_t n) {
    if (t->cap == 0) return -1;
    int i = names_slot(t, s, n);
    return t->key[i] ? t->id[i] : -1;
}

/* Adds key -> id (key absent); keeps the table at most half full. */
static void names_put(Names *t, const char *key, int id) {
    if (2 * (t->n + 1) > t->cap) {
        Names big = {xcalloc((size_t)(t->cap ? 2 * t->cap : 64), sizeof *big.key),
                     xcalloc((size_t)(t->cap ? 2 * t->cap : 64), sizeof *big.id),
                     t->cap ? 2 * t->cap : 64, 0};
        for (int i = 0; i < t->cap; i++)
            if (t->key[i]) names_put(&big, t->key[i], t->id[i]);
        free(t->key);
        free(t->id);
        *t = big;
    }
    int i = names_slot(t, key, strlen(key));
    t->key[i] = key;
    t->id[i] = id;
    t->n++;
}

/* ---- grammar -------------------------------------------------------------- */

/* ref := '%' NAME | '%' INT   (an existing node) */
static int ref(P *p, int *id) {
    skip_ws(p);
    const char *at = p->p, *s;
    if (*p->p != '%') return perr_at(p, at, "expected '%%'");
    p->p++;
    if (*p->p >= '0' && *p->p <= '9') {
        int64_t v;
        if (int64(p, &v)) return -1;
        if (v >= p->g->nnodes) return perr_at(p, at, "unknown node %%%" PRId64, v);
        *id = (int)v;
        return 0;
    }
    size_t n = ident(p, &s);
    if (!n || s != at + 1) return perr_at(p, at + 1, "expected a node name or number");
    *id = names_find(&p->names, s, n);
    if (*id < 0) return perr_at(p, at, "unknown node %%%.*s", (int)n, s);
    return 0;
}

/* label := '%' NAME | '%' INT, defining node number g->nnodes; *name gets
 * the name (NULL for a number). */
static int label(P *p, const char **name) {
    skip_ws(p);
    const char *at = p->p, *s;
    p->p++; /* the caller saw '%' */
    *name = NULL;
    if (*p->p >= '0' && *p->p <= '9') {
        int64_t v;
        if (int64(p, &v)) return -1;
        if (v != p->g->nnodes) return perr_at(p, at, "expected %%%d, the index of this node", p->g->nnodes);
        return 0;
    }
    size_t n = ident(p, &s);
    if (!n || s != at + 1) return perr_at(p, at + 1, "expected a node name or number");
    if (names_find(&p->names, s, n) >= 0) return perr_at(p, at, "%%%.*s is already defined", (int)n, s);
    *name = arena_strndup(&p->scratch, s, n);
    return 0;
}

/* args := '(' [ref {',' ref}] ')'   (absent for sources) */
static int args(P *p, int *nin) {
    *nin = 0;
    if (!accept(p, '(')) return 0;
    if (accept(p, ')')) return 0;
    do {
        xgrow((void **)&p->args, &p->argcap, *nin + 1, sizeof *p->args);
        if (ref(p, &p->args[*nin])) return -1;
        (*nin)++;
    } while (accept(p, ','));
    return expect(p, ')');
}

/* list := '[' [INT {',' INT}] ']', stored from attr[slot]; *n counts. */
static int int_list(P *p, int64_t attr[IR_MAX_ATTR], int slot, int *n) {
    *n = 0;
    if (expect(p, '[')) return -1;
    if (accept(p, ']')) return 0;
    do {
        skip_ws(p);
        if (slot + *n >= IR_MAX_ATTR) return perr_at(p, p->p, "too many attributes (at most %d)", IR_MAX_ATTR);
        if (int64(p, &attr[slot + (*n)++])) return -1;
    } while (accept(p, ','));
    return expect(p, ']');
}

/* Node attributes being read, per the op's schema. */
typedef struct {
    AttrSchema s;
    int seen[IR_MAX_ATTR + 1];
    int64_t attr[IR_MAX_ATTR];
    int nlist;
    double value;
} Attrs;

/* attr := NAME '=' (INT | NUMBER | list) */
static int one_attr(P *p, Op op, Attrs *a) {
    const char *s;
    size_t n = ident(p, &s);
    if (!n) return perr_at(p, s, "expected an attribute name");
    int k = 0;
    while (k < a->s.n && !is_word(s, n, a->s.at[k].name)) k++;
    if (k == a->s.n) return perr_at(p, s, "%s has no attribute '%.*s'", ir_op_info[op].name, (int)n, s);
    if (a->seen[k]++) return perr_at(p, s, "duplicate attribute '%.*s'", (int)n, s);
    if (expect(p, '=')) return -1;
    const AttrSpec *at = &a->s.at[k];
    if (at->kind == ATTR_VALUE) return number(p, &a->value);
    if (at->kind == ATTR_LIST) return int_list(p, a->attr, at->slot, &a->nlist);
    return int64(p, &a->attr[at->slot]);
}

/* attrs := '{' [attr {',' attr}] '}', every schema entry exactly once;
 * absent when the schema is empty. */
static int attrs(P *p, Op op, Attrs *a) {
    memset(a, 0, sizeof *a);
    ir_attr_schema(op, &a->s);
    skip_ws(p);
    if (a->s.n == 0) {
        if (*p->p == '{') return perr_at(p, p->p, "%s takes no attributes", ir_op_info[op].name);
        return 0;
    }
    if (expect(p, '{')) return -1;
    if (!accept(p, '}')) {
        do {
            if (one_attr(p, op, a)) return -1;
        } while (accept(p, ','));
        if (expect(p, '}')) return -1;
    }
    for (int k = 0; k < a->s.n; k++)
        if (!a->seen[k]) return perr_at(p, p->p - 1, "missing attribute '%s'", a->s.at[k].name);
    return 0;
}

/* type := ('f32' | 'i64') '[' [INT {',' INT}] ']' */
static int type(P *p, TType *t) {
    const char *s;
    size_t n = ident(p, &s);
    memset(t, 0, sizeof *t);
    if (!n) return perr_at(p, s, "expected a type");
    if (is_word(s, n, "f32")) t->dtype = DT_F32;
    else if (is_word(s, n, "i64")) t->dtype = DT_I64;
    else return perr_at(p, s, "unknown dtype '%.*s'", (int)n, s);
    if (expect(p, '[')) return -1;
    if (accept(p, ']')) return 0;
    do {
        skip_ws(p);
        if (t->shape.rank == IR_MAX_RANK)
            return perr_at(p, p->p, "too many dimensions (at most %d)", IR_MAX_RANK);
        if (int_in(p, 0, INT64_MAX, &t->shape.dim[t->shape.rank++])) return -1;
    } while (accept(p, ','));
    return expect(p, ']');
}

/* init := 'init' '=' ('zeros' | 'ones' | ('uniform' | 'normal') '(' NUM ',' NUM ')') */
static int init(P *p, Init *in) {
    static const char *const kinds[] = {"", "zeros", "ones", "uniform", "normal"};
    const char *s;
    if (expect(p, '=')) return -1;
    size_t n = ident(p, &s);
    int k = INIT_ZEROS;
    while (k <= INIT_NORMAL && !(n && is_word(s, n, kinds[k]))) k++;
    if (k > INIT_NORMAL) return perr_at(p, s, "expected zeros, ones, uniform or normal");
    in->kind = (InitKind)k;
    if (k != INIT_UNIFORM && k != INIT_NORMAL) return 0;
    if (expect(p, '(') || number(p, &in->a) || expect(p, ',') || number(p, &in->b)) return -1;
    return expect(p, ')');
}

/* loc := '@' INT ':' INT ':' INT   (file:line:col) */
static int loc(P *p, Loc *l) {
    int64_t f, ln, c;
    if (int_in(p, 0, INT_MAX, &f) || expect(p, ':') || int_in(p, 0, INT_MAX, &ln) ||
        expect(p, ':') || int_in(p, 0, INT_MAX, &c))
        return -1;
    *l = (Loc){(int)f, (int)ln, (int)c};
    return 0;
}

/* The part of a node after its op: args attrs type [init] [loc]. */
typedef struct {
    int nin;
    Attrs a;
    TType t;
    Init init;
    Loc loc;
} NodeText;

/* node := label '=' OP args attrs type ['init' init] ['@' loc] */
static int node(P *p) {
    const char *start = p->p, *name, *s;
    NodeText nt;
    memset(&nt, 0, sizeof nt);
    if (label(p, &name) || expect(p, '=')) return -1;
    size_t n = ident(p, &s);
    Op op = n ? ir_op_by_name(arena_strndup(&p->scratch, s, n)) : OP_COUNT;
    if (!n) return perr_at(p, s, "expected an op");
    if (op == OP_COUNT) return perr_at(p, s, "unknown op '%.*s'", (int)n, s);
    if (args(p, &nt.nin) || attrs(p, op, &nt.a) || type(p, &nt.t)) return -1;
    skip_ws(p);
    const char *init_at = p->p;
    if (accept_word(p, "init")) {
        /* a model's state (batch norm's running statistics) has one too */
        if (op != OP_PARAM && op != OP_STATE) return perr_at(p, init_at, "only a param or a state has an init");
        if (init(p, &nt.init)) return -1;
    }
    if (accept(p, '@') && loc(p, &nt.loc)) return -1;
    int id = ir_add(p->g, op, nt.t, p->args, nt.nin, nt.a.attr, nt.a.s.nfixed + nt.a.nlist,
                    nt.a.value, nt.loc);
    ir_set_init(p->g, id, nt.init);
    if (name) {
        ir_set_name(p->g, id, name);
        names_put(&p->names, p->g->nodes[id].name, id);
    }
    char msg[512];
    if (ir_verify_node(p->g, id, msg, sizeof msg)) return perr_at(p, start, "%s", msg);
    return 0;
}

/* file := 'file' INT STRING   (numbered 0, 1, ... in order) */
static int file(P *p) {
    int64_t idx;
    const char *at, *path;
    skip_ws(p);
    at = p->p;
    if (int64(p, &idx)) return -1;
    if (idx != p->g->nfiles) return perr_at(p, at, "expected file %d", p->g->nfiles);
    skip_ws(p);
    at = p->p;
    if (string(p, &path)) return -1;
    for (int i = 0; i < p->g->nfiles; i++)
        if (strcmp(p->g->files[i], path) == 0) return perr_at(p, at, "file %d has the same path", i);
    ir_file(p->g, path);
    return 0;
}

/* output := 'output' (NAME | STRING) '=' ref */
static int output(P *p) {
    const char *name, *at;
    int id;
    skip_ws(p);
    at = p->p;
    if (name_or_string(p, &name)) return -1;
    if (ir_output(p->g, name) >= 0) return perr_at(p, at, "output '%s' is declared twice", name);
    if (expect(p, '=') || ref(p, &id)) return -1;
    ir_add_output(p->g, name, id);
    return 0;
}

/* graph := 'graph' (NAME | STRING) '{' {node | file | output} '}' EOF */
static int graph(P *p) {
    const char *name;
    skip_ws(p);
    if (!accept_word(p, "graph")) return perr_at(p, p->p, "expected 'graph'");
    if (name_or_string(p, &name)) return -1;
    p->g = ir_graph_new(name);
    if (expect(p, '{')) return -1;
    for (;;) {
        skip_ws(p);
        int rc;
        if (*p->p == '%') rc = node(p);
        else if (accept_word(p, "file")) rc = file(p);
        else if (accept_word(p, "output")) rc = output(p);
        else if (accept(p, '}')) break;
        else rc = perr_at(p, p->p, "expected a node, 'file', 'output' or '}'");
        if (rc) return -1;
    }
    skip_ws(p);
    if (*p->p) return perr_at(p, p->p, "expected end of input");
    return 0;
}

/* Parses the text form; see the top of this file. */
Graph *ir_parse(const char *text, const char *filename, char *err, size_t errlen) {
    P p = {.src = text, .p = text, .file = filename ? filename : "<ir>", .err = err, .errlen = errlen};
    int rc = graph(&p);
    if (rc == 0 && ir_verify(p.g, err, errlen)) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", err);
        snprintf(err, errlen, "%s: %s", p.file, msg);
        rc = -1;
    }
    free(p.names.key);
    free(p.names.id);
    free(p.args);
    arena_free(&p.scratch);
    if (rc == 0) return p.g;
    ir_graph_free(p.g);
    return NULL;
}
