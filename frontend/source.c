/* source.c — see source.h. */
#include "source.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

int sources_add(Sources *s, const char *path, const char *text, size_t len) {
    xgrow((void **)&s->files, &s->cap, s->n + 1, sizeof *s->files);
    SourceFile *f = &s->files[s->n];
    f->path = xstrdup(path);
    f->text = xmalloc(len + 1);
    memcpy(f->text, text, len);
    f->text[len] = 0;
    f->len = len;
    int cap = 0;
    f->line_start = NULL;
    f->nlines = 0;
    xgrow((void **)&f->line_start, &cap, 1, sizeof(int));
    f->line_start[f->nlines++] = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            xgrow((void **)&f->line_start, &cap, f->nlines + 1, sizeof(int));
            f->line_start[f->nlines++] = (int)i + 1;
        }
    }
    return s->n++;
}

const char *sources_line(const Sources *s, int file, int line, int *len) {
    if (file < 0 || file >= s->n) return NULL;
    const SourceFile *f = &s->files[file];
    if (line < 1 || line > f->nlines) return NULL;
    const char *p = f->text + f->line_start[line - 1];
    const char *e = p;
    while (*e && *e != '\n' && *e != '\r') e++;
    *len = (int)(e - p);
    return p;
}

void sources_free(Sources *s) {
    for (int i = 0; i < s->n; i++) {
        free(s->files[i].path);
        free(s->files[i].text);
        free(s->files[i].line_start);
    }
    free(s->files);
    memset(s, 0, sizeof *s);
}
