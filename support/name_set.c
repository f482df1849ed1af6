/* name_set.c — see name_set.h. */
#include "name_set.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int index;
} Named;

/* By name, then by position: equal names end up adjacent, first one first. */
static int by_name(const void *a, const void *b) {
    const Named *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

int names_first_repeat(const char *const *names, int n) {
    if (n < 2) return -1;
    Named *v = malloc((size_t)n * sizeof *v);
    if (!v) return -2;
    for (int i = 0; i < n; i++) v[i] = (Named){names[i], i};
    qsort(v, (size_t)n, sizeof *v, by_name);
    int first = -1;
    for (int i = 1; i < n; i++)
        if (!strcmp(v[i - 1].name, v[i].name) && (first < 0 || v[i].index < first)) first = v[i].index;
    free(v);
    return first;
}
