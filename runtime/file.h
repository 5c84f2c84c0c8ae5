/* Internal: whole-file reading and multi-part atomic writing, with errors
 * that name the file. */
#ifndef DK_RUNTIME_FILE_H
#define DK_RUNTIME_FILE_H

#include <stddef.h>
#include "deltakern/status.h"

/* Reads the whole file into a malloc'ed buffer (*data, *size). Refuses
 * directories and files larger than max_bytes. */
dk_status dk__read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *size);

/* dk_file_write_atomic (deltakern/file.h) of several buffers one after the
 * other, without joining them first (a header, then a tensor's data). */
dk_status dk__file_write_parts(const char *path, const void *const *parts, const size_t *sizes, int n_parts);

#endif
