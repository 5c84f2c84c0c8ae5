/* Internal: whole-file reading with errors that name the file. */
#ifndef DK_RUNTIME_FILE_H
#define DK_RUNTIME_FILE_H

#include <stddef.h>
#include "deltakern/status.h"

/* Reads the whole file into a malloc'ed buffer (*data, *size). Refuses
 * directories and files larger than max_bytes. */
dk_status dk__read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *size);

#endif
