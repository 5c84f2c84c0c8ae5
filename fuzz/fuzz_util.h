/* The fuzz targets' one helper. The loaders read paths, so each input is
 * written to a file in a private temporary directory (made once per process,
 * removed at exit); nothing else is kept between runs. */
#ifndef DK_FUZZ_UTIL_H
#define DK_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The directory's path. */
const char *dk_fuzz_dir(void);
/* Writes size bytes to dk_fuzz_dir()/name (replacing it) and returns the
 * path (a static buffer per name slot, valid until the next call with the
 * same name). Aborts when it cannot: a harness failure, not a finding. */
const char *dk_fuzz_file(const char *name, const uint8_t *data, size_t size);

#endif
