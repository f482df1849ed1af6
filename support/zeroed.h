/* zeroed.h — large zeroed blocks that cost nothing until used. A block of
 * a megabyte or more is mapped from the kernel, whose pages read as zero
 * and are backed only when first touched; a smaller one comes from malloc
 * and is cleared. A step's buffers (parameters, moments, gradients,
 * activations: a hundred megabytes for a study model) are ready at once,
 * and pages a run never touches (an evaluation that uses part of the
 * batch) are never backed. */
#ifndef MMGC_ZEROED_H
#define MMGC_ZEROED_H

#include <stddef.h>

/* `bytes` zero bytes (at least one), 64-byte aligned; NULL if out of memory. */
void *zeroed_alloc(size_t bytes);
/* Frees a block of zeroed_alloc(bytes), with the same `bytes`; NULL is fine. */
void zeroed_free(void *p, size_t bytes);

#endif
