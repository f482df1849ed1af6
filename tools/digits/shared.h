/* shared.h — zero-filled memory shared with child processes (fork). */
#ifndef MMGC_DIGITS_SHARED_H
#define MMGC_DIGITS_SHARED_H

#include <stddef.h>

/* NULL (errno set) if the memory cannot be had. */
void *shared_alloc(size_t bytes);
void shared_free(void *p, size_t bytes);

#endif
