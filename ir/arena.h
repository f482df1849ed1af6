/* arena.h — bump allocation for data that lives and dies together.
 *
 * An Arena owns every block it hands out; arena_free releases them all at
 * once. Used for AST nodes, graph strings and input lists.
 */
#ifndef MMGC_ARENA_H
#define MMGC_ARENA_H

#include <stddef.h>

typedef struct ArenaChunk ArenaChunk;

typedef struct {
    ArenaChunk *head;
} Arena;

/* Zeroed, 16-byte aligned memory owned by the arena. Never returns NULL. */
void *arena_alloc(Arena *a, size_t size);
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
/* printf into arena memory. */
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(Arena *a);

#endif
