/* Lists of input files: a file, or a directory's images and tensors in name
 * order (include/deltakern/input.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "deltakern/input.h"
#include "runtime/error.h"

static int is_input_name(const char *name)
{
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".npy", ".pb"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strcasecmp(name + n - e, exts[i]) == 0) return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static dk_status append(const char *path, char ***paths, int *n, int max)
{
    if (*n >= max) return dk__error(DK_ERR_INVALID, "%s: more than %d inputs", path, max);
    char **grown = realloc(*paths, sizeof **paths * (size_t)(*n + 1));
    if (!grown) return dk__error(DK_ERR_NOMEM, "%s: out of memory", path);
    *paths = grown;
    if (!((*paths)[*n] = strdup(path))) return dk__error(DK_ERR_NOMEM, "%s: out of memory", path);
    (*n)++;
    return DK_OK;
}

dk_status dk_input_list_add(const char *path, char ***paths, int *n, int max)
{
    struct stat st;
    if (stat(path, &st) != 0) return dk__error(DK_ERR_INVALID, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return append(path, paths, n, max);
    DIR *d = opendir(path);
    if (!d) return dk__error(DK_ERR_INVALID, "%s: cannot open: %s", path, strerror(errno));
    int first = *n;
    dk_status s = DK_OK;
    struct dirent *e;
    while (s == DK_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !is_input_name(e->d_name)) continue;
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        s = append(file, paths, n, max);
    }
    closedir(d);
    DK_TRY(s);
    if (*n == first)
        return dk__error(DK_ERR_INVALID, "%s: no images or tensors in the directory (.png .jpg .jpeg .npy .pb)", path);
    qsort(*paths + first, (size_t)(*n - first), sizeof **paths, cmp_str);
    return DK_OK;
}

void dk_input_list_free(char **paths, int n)
{
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
}
