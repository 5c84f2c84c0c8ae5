/* Loading class-name files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/input.h"
#include "runtime/error.h"

dk_status dk_labels_load(const char *path, dk_labels *out)
{
    char def[4096];
    out->n = 0;
    out->names = NULL;
    if (!path) {
        const char *dir = getenv("DELTAKERN_DATA");
        snprintf(def, sizeof def, "%s/labels/imagenet_classes.txt", dir && dir[0] ? dir : DK_DATA_DIR);
        path = def;
    }
    FILE *f = fopen(path, "r");
    if (!f) return dk__error(DK_ERR_IO, "labels %s: %s", path, strerror(errno));
    char line[1024];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (out->n == cap) {
            cap = cap ? cap * 2 : 1024;
            char **p = realloc(out->names, sizeof(char *) * (size_t)cap);
            if (!p) {
                fclose(f);
                dk_labels_free(out);
                return dk__error(DK_ERR_NOMEM, "labels %s: out of memory", path);
            }
            out->names = p;
        }
        if (!(out->names[out->n] = strdup(line))) {
            fclose(f);
            dk_labels_free(out);
            return dk__error(DK_ERR_NOMEM, "labels %s: out of memory", path);
        }
        out->n++;
    }
    fclose(f);
    return DK_OK;
}

void dk_labels_free(dk_labels *l)
{
    for (int i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    l->n = 0;
    l->names = NULL;
}

const char *dk_labels_name(const dk_labels *l, int i) { return i >= 0 && i < l->n ? l->names[i] : NULL; }
