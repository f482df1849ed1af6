/* aot_weights.h — the weights baked into a program or library compiled
 * ahead of time (--weights), as a file the checkpoint reader can open. */
#ifndef MMGC_AOT_WEIGHTS_H
#define MMGC_AOT_WEIGHTS_H

#include <stddef.h>

/* Copies mmgc_aot_model.weights into an anonymous memory file that only
 * this process sees; its path ("/proc/self/fd/N") into path. Returns the
 * file descriptor (close it when the checkpoint is read), or -1 with a
 * message. */
int aot_weights_open(char *path, size_t size, char *err, size_t n);

#endif
