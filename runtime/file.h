/* Internal: whole-file reading and multi-part atomic writing, with errors
 * that name the file. */
#ifndef DK_RUNTIME_FILE_H
#define DK_RUNTIME_FILE_H

#include <stddef.h>
#include "deltakern/status.h"

#include <stdio.h>

/* Opens path for reading only when it is a regular file: opened with
 * O_NONBLOCK so that a FIFO or a device cannot block, checked with fstat on
 * the open file (no window for a swap), and with nofollow a symbolic link as
 * the last component is refused. */
dk_status dk__open_regular(const char *path, int nofollow, FILE **out);

/* Reads the whole file into a malloc'ed buffer (*data, *size). Refuses
 * anything but a regular file, and files larger than max_bytes. */
dk_status dk__read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *size);
/* dk__read_file, refusing a symbolic link when nofollow. */
dk_status dk__read_regular(const char *path, size_t max_bytes, int nofollow, unsigned char **data, size_t *size);

/* dk_file_write_atomic (deltakern/file.h) of several buffers one after the
 * other, without joining them first (a header, then a tensor's data). */
dk_status dk__file_write_parts(const char *path, const void *const *parts, const size_t *sizes, int n_parts);

/* The temporary files of the atomic write: "<target>.tmp.<pid>". */
#define DK__TMP_INFIX ".tmp."

/* Removes from dir the temporary files a killed atomic write left behind
 * for the given targets ("<target>.tmp.<digits>", nothing else); the caller
 * must be the directory's only writer. Returns the number removed. */
int dk__remove_stale_tmp(const char *dir, const char *const *targets, int n_targets);

#endif
