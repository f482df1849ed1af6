/* program.h — one compilation: its sources, diagnostics, and parsed modules.
 *
 * program_load reads the main file and, depth first, every file it imports.
 * An import is looked up relative to the importing file, then in each
 * library directory (models/lib and models/ by default, then MMGC_PATH and
 * -I directories). Cycles and missing files are diagnostics.
 */
#ifndef MMGC_PROGRAM_H
#define MMGC_PROGRAM_H

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "source.h"

/* The largest .mmg source mmgc reads, in bytes. */
#define MMG_MAX_SOURCE (16 << 20)

typedef struct {
    int *ids;
    int n, cap;
} IdList;

typedef struct {
    Arena arena;         /* AST and strings            */
    Sources src;
    Diag diag;
    Module **modules;    /* by source id; NULL for non-module sources */
    int nmodules, modcap;
    char **real;         /* canonical path by source id, for identity */
    int realcap;
    IdList *deps;        /* direct imports by source id */
    int depcap;
    const char **libdirs;
    int nlib, libcap;
    int main_file;       /* source id of the main file, or -1 */
} Program;

void program_init(Program *p);
void program_add_libdir(Program *p, const char *dir);
/* Adds $MMGC_PATH's directories, then the installed models/lib and models/. */
void program_default_libdirs(Program *p);
/* Registers a source that is not a module (a --set value); returns its id. */
int program_add_text(Program *p, const char *name, const char *text);
/* Loads path and its imports; returns 0, or -1 after recording errors. */
int program_load(Program *p, const char *path);

/* Loads a main module given in memory, named `name` in messages, and its
 * imports from disk. It has no directory of its own: its imports are found
 * in the library directories only. 0, or -1 after recording errors. */
int program_load_text(Program *p, const char *name, const char *text);

/* A source given in memory (a program compiled ahead of time carries its
 * model's): the path it had, its text, and the ids its imports resolved to,
 * in the order of its import lines. */
typedef struct {
    const char *path, *text;
    const int *deps;
    int ndeps;
} ProgramFile;

/* Loads files (0 is the main file) from memory into a fresh p, parsing
 * each and taking the import edges as given; 0, or -1 after recording
 * errors. */
int program_load_files(Program *p, const ProgramFile *files, int n);
/* Is module `to` visible from module `from` (itself or imported, transitively)? */
int program_sees(const Program *p, int from, int to);
/* How many imports away each module is from `from` (0: itself, 1: imported
 * by it, ...; -1: not visible). dist has one slot per module. */
void program_distances(const Program *p, int from, int *dist);
void program_free(Program *p);

/* A path written in source `file` (a model's `data "DIR"`), resolved as an
 * import is: relative to the directory of that file. An absolute path, and
 * one written in a source without a directory (program_load_text, a --set
 * value), stay as they are. The result lives in p's arena. */
const char *program_relative_path(Program *p, int file, const char *name);

/* The model section named name in any loaded file, or NULL. */
ModelDef *program_find_model(const Program *p, const char *name);

#endif
