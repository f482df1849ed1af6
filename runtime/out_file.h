/* out_file.h — the files a run writes (logs, metrics), written so that a
 * failure is never silent and never leaves a half-written file.
 *
 * A regular file (or one that does not exist yet) is always replaced
 * whole and atomically (io_write_atomic: PATH.tmp, fsync, rename), so a
 * reader sees the previous contents or the new ones; a file that grows
 * (a log) is rewritten whole at every append. Anything else (a device
 * such as /dev/stdout or /dev/full, a pipe) cannot be renamed over, so it
 * is written in place as the text comes. Every write, flush and close is
 * checked; a failure is "WHO: cannot write PATH: reason" (PATH.tmp for an
 * atomic write), WHO being the file the caller was asked to write.
 */
#ifndef MMGC_OUT_FILE_H
#define MMGC_OUT_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "io_util.h"

typedef struct {
    char *path;
    RBuf text;    /* everything written so far (a regular file) */
    FILE *stream; /* a device or pipe, written as the text comes; else NULL */
} OutFile;

/* Whether path is written in place (it exists and is not a regular file
 * or a directory) rather than replaced atomically. */
int out_file_in_place(const char *path);

/* Checks, before anything is computed, that path can be written the way
 * out_file_write or OutFile will write it, and leaves nothing behind: a
 * device is opened for writing (not truncated), a pipe is taken as it is
 * (its reader would see an open and close); else PATH.tmp is created
 * and removed (a stale one from a killed run goes with it). `option` names
 * where the path came from ("--save"); the message is
 * "OPTION PATH: cannot write P: reason" or "OPTION PATH: is a directory".
 * The directories above path must exist. */
int out_file_probe(const char *option, const char *path, char *err, size_t errlen);
/* The same for a file only ever replaced atomically (a checkpoint, a
 * report): a path that exists and is not a regular file is refused,
 * "OPTION PATH: not a regular file (it is replaced whole, atomically)". */
int out_file_probe_atomic(const char *option, const char *path, char *err, size_t errlen);

/* Opens f on path. With keep, a regular file's present contents are read
 * in first, so appends continue it (a resumed run's log); a device is then
 * opened for appending instead of truncated. Nothing is written yet. */
int out_file_open(OutFile *f, const char *path, int keep, char *err, size_t errlen);
/* Appends n bytes of text and writes it out: the whole file again
 * (atomically), or the text to the device, flushed. */
int out_file_append(OutFile *f, const char *text, size_t n, char *err, size_t errlen);
/* Closes f (the device's close checked) and frees it; a closed or zeroed
 * OutFile may be closed again. */
int out_file_close(OutFile *f, char *err, size_t errlen);

/* Writes n bytes as the whole of path: atomically, or in place to a device. */
int out_file_write(const char *path, const void *data, size_t n, char *err, size_t errlen);

#endif
