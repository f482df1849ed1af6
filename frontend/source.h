/* source.h — the source files of one compilation.
 *
 * Every file read (and every --set value, under a "<command line>" name)
 * gets an id; a Loc's file field is that id. The table keeps the text so
 * diagnostics can quote the line.
 */
#ifndef MMGC_SOURCE_H
#define MMGC_SOURCE_H

#include <stddef.h>

typedef struct {
    char *path;        /* as given or resolved, e.g. "models/lib/nn.mmg" */
    char *text;        /* NUL-terminated contents                        */
    size_t len;
    int *line_start;   /* byte offset of each line                       */
    int nlines;
} SourceFile;

typedef struct {
    SourceFile *files;
    int n, cap;
} Sources;

/* Adds a file with the given text (copied); returns its id. */
int sources_add(Sources *s, const char *path, const char *text, size_t len);
/* The text of line `line` (1-based) without its newline; *len gets its length. */
const char *sources_line(const Sources *s, int file, int line, int *len);
void sources_free(Sources *s);

#endif
