/* Class names for printing labels: one name per line, line i is class i. */
#ifndef DK_TOOLS_LABELS_H
#define DK_TOOLS_LABELS_H

#include "deltakern/status.h"

typedef struct dk_labels {
    int n;
    char **names;
} dk_labels;

/* path NULL: the ImageNet labels shipped in data/ ($DELTAKERN_DATA overrides
 * the data directory). */
dk_status dk_labels_load(const char *path, dk_labels *out);
void dk_labels_free(dk_labels *l);
/* Why the last dk_labels_load failed. */
const char *dk_labels_error(void);
/* Name of class i, or NULL when unknown. */
const char *dk_labels_name(const dk_labels *l, int i);

#endif
