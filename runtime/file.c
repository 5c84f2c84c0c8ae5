/* Whole-file reading. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/error.h"
#include "runtime/file.h"

dk_status dk__read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    struct stat st;
    if (stat(path, &st) != 0) return dk__error(DK_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return dk__error(DK_ERR_IO, "%s: is a directory", path);
    if ((unsigned long long)st.st_size > max_bytes)
        return dk__error(DK_ERR_FORMAT, "%s: file of %lld bytes exceeds the limit of %zu", path,
                         (long long)st.st_size, max_bytes);
    FILE *f = fopen(path, "rb");
    if (!f) return dk__error(DK_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = (size_t)st.st_size + 1;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return dk__error(DK_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, cap);
    }
    size_t got = fread(buf, 1, cap, f);
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return dk__error(DK_ERR_IO, "%s: read error", path);
    }
    *data = buf;
    *size = got;
    return DK_OK;
}
