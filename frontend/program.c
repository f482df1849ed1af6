/* program.c — loading a .mmg file and its imports; see program.h. */
#include "program.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "util.h"

void program_init(Program *p) {
    memset(p, 0, sizeof *p);
    p->diag.src = &p->src;
    p->main_file = -1;
}

void program_add_libdir(Program *p, const char *dir) {
    xgrow((void **)&p->libdirs, &p->libcap, p->nlib + 1, sizeof *p->libdirs);
    p->libdirs[p->nlib++] = arena_strdup(&p->arena, dir);
}

/* Registers a source file (module slot empty) and its canonical path. */
static int add_source(Program *p, const char *path, const char *real, const char *text, size_t len) {
    int id = sources_add(&p->src, path, text, len);
    xgrow((void **)&p->modules, &p->modcap, id + 1, sizeof *p->modules);
    xgrow((void **)&p->real, &p->realcap, id + 1, sizeof *p->real);
    xgrow((void **)&p->deps, &p->depcap, id + 1, sizeof *p->deps);
    for (int i = p->nmodules; i <= id; i++) {
        p->modules[i] = NULL;
        p->real[i] = NULL;
        p->deps[i] = (IdList){0};
    }
    p->nmodules = id + 1;
    p->real[id] = real ? xstrdup(real) : NULL;
    return id;
}

/* The id of an already loaded file with this canonical path, or -1. */
static int find_loaded(const Program *p, const char *real) {
    for (int i = 0; i < p->nmodules; i++)
        if (p->real[i] && !strcmp(p->real[i], real)) return i;
    return -1;
}

/* dir/name, where dir is the directory part of `file` ("" if none). */
static char *sibling(Arena *a, const char *file, const char *name) {
    const char *slash = strrchr(file, '/');
    if (!slash) return arena_strdup(a, name);
    return arena_printf(a, "%.*s/%s", (int)(slash - file), file, name);
}

/* Finds an import on disk; returns the path to open, or NULL. */
/* from == NULL: the importing source has no directory (it was given in
 * memory), so only the library directories are searched. */
static const char *resolve(Program *p, const char *from, const char *name) {
    char real[PATH_MAX];
    if (from || name[0] == '/') {
        const char *cand = name[0] == '/' ? name : sibling(&p->arena, from, name);
        if (realpath(cand, real)) return cand;
        if (name[0] == '/') return NULL;
    }
    const char *cand;
    for (int i = 0; i < p->nlib; i++) {
        cand = arena_printf(&p->arena, "%s/%s", p->libdirs[i], name);
        if (realpath(cand, real)) return cand;
    }
    return NULL;
}

/* Files importing files importing files: more is surely a mistake. */
#define MAX_IMPORT_DEPTH 200

typedef struct {
    int *ids;   /* files being loaded, outermost first */
    int n, cap;
} Stack;

static int load(Program *p, const char *path, Loc from, Stack *stack);

/* Reports "import cycle: a -> b -> a" at the import that closes it. */
static void report_cycle(Program *p, Loc at, Stack *stack, int again) {
    size_t cap = 256, len = 0;
    char *msg = xmalloc(cap);
    msg[0] = 0;
    int start = 0;
    while (stack->ids[start] != again) start++;
    for (int i = start; i <= stack->n; i++) {
        const char *name = p->src.files[i < stack->n ? stack->ids[i] : again].path;
        size_t need = len + strlen(name) + 8;
        if (need > cap) msg = xrealloc(msg, cap = 2 * need);
        len += (size_t)sprintf(msg + len, "%s%s", i > start ? " -> " : "", name);
    }
    diag_error(&p->diag, at, "import cycle: %s", msg);
    free(msg);
}

/* Loads every import of module id, depth first. */
static void load_imports(Program *p, int id, Stack *stack) {
    Module *m = p->modules[id];
    for (int i = 0; i < m->imports.n; i++) {
        Import *imp = m->imports.items[i];
        const char *path = resolve(p, p->real[id] ? p->src.files[id].path : NULL, imp->path);
        if (!path) {
            diag_error(&p->diag, imp->loc, "import \"%s\" not found", imp->path);
            diag_note(&p->diag, imp->loc, "looked next to %s and in the library directories",
                      p->src.files[id].path);
            continue;
        }
        int dep = load(p, path, imp->loc, stack);
        if (dep >= 0) {
            IdList *d = &p->deps[id];
            xgrow((void **)&d->ids, &d->cap, d->n + 1, sizeof *d->ids);
            d->ids[d->n++] = dep;
        }
    }
}

/* Loads one file (unless loaded), then its imports. Returns its id or -1. */
static int load(Program *p, const char *path, Loc from, Stack *stack) {
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        diag_error(&p->diag, from, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    if (stack->n >= MAX_IMPORT_DEPTH) {
        diag_error(&p->diag, from, "imports nested more than %d files deep", MAX_IMPORT_DEPTH);
        return -1;
    }
    int id = find_loaded(p, real);
    if (id >= 0) {
        for (int i = 0; i < stack->n; i++)
            if (stack->ids[i] == id) {
                report_cycle(p, from, stack, id);
                return -1;
            }
        return id;
    }
    size_t len;
    char *text = read_file_max(path, MMG_MAX_SOURCE, &len);
    if (!text && errno == EFBIG) {
        diag_error(&p->diag, from, "cannot read '%s': a .mmg file may hold at most %d MiB", path,
                   MMG_MAX_SOURCE >> 20);
        return -1;
    }
    if (!text) {
        diag_error(&p->diag, from, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    id = add_source(p, path, real, text, len);
    free(text);
    Module *m = parse_module(&p->arena, &p->diag, id);
    if (!m) return -1;
    p->modules[id] = m;
    xgrow((void **)&stack->ids, &stack->cap, stack->n + 1, sizeof *stack->ids);
    stack->ids[stack->n++] = id;
    load_imports(p, id, stack);
    stack->n--;
    return id;
}

int program_load(Program *p, const char *path) {
    Stack stack = {0};
    int before = p->diag.nerrors;
    p->main_file = load(p, path, NO_LOC, &stack);
    free(stack.ids);
    return p->main_file < 0 || p->diag.nerrors > before ? -1 : 0;
}

int program_load_text(Program *p, const char *name, const char *text) {
    Stack stack = {0};
    int before = p->diag.nerrors;
    int id = add_source(p, name, NULL, text, strlen(text));
    Module *m = parse_module(&p->arena, &p->diag, id);
    p->modules[id] = m;
    if (m) {
        xgrow((void **)&stack.ids, &stack.cap, 1, sizeof *stack.ids);
        stack.ids[stack.n++] = id;
        load_imports(p, id, &stack);
    }
    free(stack.ids);
    p->main_file = m ? id : -1;
    return p->main_file < 0 || p->diag.nerrors > before ? -1 : 0;
}

void program_distances(const Program *p, int from, int *dist) {
    for (int i = 0; i < p->nmodules; i++) dist[i] = -1;
    int *queue = xmalloc((size_t)(p->nmodules + 1) * sizeof *queue);
    int head = 0, tail = 0;
    dist[from] = 0;
    queue[tail++] = from;
    while (head < tail) { /* breadth first over import edges */
        int m = queue[head++];
        for (int i = 0; i < p->deps[m].n; i++) {
            int d = p->deps[m].ids[i];
            if (dist[d] >= 0) continue;
            dist[d] = dist[m] + 1;
            queue[tail++] = d;
        }
    }
    free(queue);
}

int program_sees(const Program *p, int from, int to) {
    int *dist = xmalloc((size_t)(p->nmodules + 1) * sizeof *dist);
    program_distances(p, from, dist);
    int r = dist[to] >= 0;
    free(dist);
    return r;
}

void program_free(Program *p) {
    for (int i = 0; i < p->nmodules; i++) {
        free(p->real[i]);
        free(p->deps[i].ids);
    }
    free(p->real);
    free(p->deps);
    free(p->modules);
    free(p->libdirs);
    sources_free(&p->src);
    diag_free(&p->diag);
    arena_free(&p->arena);
}

const char *program_relative_path(Program *p, int file, const char *name) {
    if (name[0] == '/' || file < 0 || file >= p->nmodules || !p->real[file]) return name;
    return sibling(&p->arena, p->src.files[file].path, name);
}

int program_add_text(Program *p, const char *name, const char *text) {
    return add_source(p, name, NULL, text, strlen(text));
}

void program_default_libdirs(Program *p) {
    const char *env = getenv("MMGC_PATH");
    if (env && *env) {
        char *copy = arena_strdup(&p->arena, env);
        for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
            program_add_libdir(p, dir);
    }
#ifdef MMGC_MODELS_DIR
    program_add_libdir(p, MMGC_MODELS_DIR "/lib");
    program_add_libdir(p, MMGC_MODELS_DIR);
#endif
}

int program_load_files(Program *p, const ProgramFile *files, int n) {
    int before = p->diag.nerrors;
    for (int i = 0; i < n; i++) {
        int id = add_source(p, files[i].path, files[i].path, files[i].text, strlen(files[i].text));
        Module *m = parse_module(&p->arena, &p->diag, id);
        p->modules[id] = m;
        if (m && m->imports.n != files[i].ndeps) {
            diag_error(&p->diag, (Loc){id, 0, 0}, "internal error: %d imports but %d resolved", m->imports.n,
                       files[i].ndeps);
            continue;
        }
        IdList *d = &p->deps[id];
        for (int k = 0; k < files[i].ndeps; k++) {
            xgrow((void **)&d->ids, &d->cap, d->n + 1, sizeof *d->ids);
            d->ids[d->n++] = files[i].deps[k];
        }
    }
    p->main_file = n > 0 ? 0 : -1;
    return p->main_file < 0 || p->diag.nerrors > before ? -1 : 0;
}

ModelDef *program_find_model(const Program *p, const char *name) {
    for (int m = 0; m < p->nmodules; m++) {
        if (!p->modules[m]) continue;
        const List *l = &p->modules[m]->models;
        for (int i = 0; i < l->n; i++)
            if (!strcmp(((ModelDef *)l->items[i])->name, name)) return l->items[i];
    }
    return NULL;
}
