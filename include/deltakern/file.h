/* deltakern — writing result files atomically: a temporary file beside the
 * target, flushed to disk, then renamed over it, so a reader (or a crash)
 * never sees a half-written result. */
#ifndef DELTAKERN_FILE_H
#define DELTAKERN_FILE_H

#include <stddef.h>
#include "deltakern/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes n bytes to path atomically. Errors name the file and the reason. */
dk_status dk_file_write_atomic(const char *path, const void *data, size_t n);
/* Writes text, ending it with a newline when it lacks one. */
dk_status dk_file_write_text(const char *path, const char *text);
/* Creates directory path and any missing parents (mkdir -p); an existing
 * directory is fine, an existing file of that name is an error. */
dk_status dk_file_mkdirs(const char *path);

#ifdef __cplusplus
}
#endif
#endif
