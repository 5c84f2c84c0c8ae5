/* Loading class-name files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/labels.h"

/* Set on the error path only: the CLI formats errors itself. */
static char labels_error[4200];

const char *dk_labels_error(void) { return labels_error; }

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
    if (!f) {
        snprintf(labels_error, sizeof labels_error, "%s: %s", path, strerror(errno));
        return DK_ERR_IO;
    }
    char line[1024];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (out->n == cap) {
            cap = cap ? cap * 2 : 1024;
            char **p = realloc(out->names, sizeof(char *) * (size_t)cap);
            if (!p) break;
            out->names = p;
        }
        if (!(out->names[out->n] = strdup(line))) break;
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
