/* Differential harness: the ground truth of `diff --labels FILE`, one true
 * class per input (format in docs/diff.md). Every problem is an error naming
 * the file and the line. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/diff/diff_internal.h"
#include "runtime/error.h"

#define LINE_MAX_LEN 4096

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* A class number 0..classes-1, the whole token. */
static int parse_class(const char *tok, int64_t classes, int *out)
{
    if (!*tok) return 0;
    for (const char *p = tok; *p; p++)
        if (!isdigit((unsigned char)*p)) return 0;
    errno = 0;
    long long v = strtoll(tok, NULL, 10);
    if (errno || v >= classes) return 0;
    *out = (int)v;
    return 1;
}

/* One line's tokens: LABEL, or NAME LABEL. Returns how many (3 means more than two). */
static int split(char *line, char **tok)
{
    int n = 0;
    for (char *p = strtok(line, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
        if (n == 2) return 3;
        tok[n++] = p;
    }
    return n;
}

dk_status dk__diff_read_labels(const char *path, const char *const *names, int n, int64_t classes, int *labels)
{
    FILE *f = fopen(path, "r");
    if (!f) return dk__error(DK_ERR_IO, "diff: --labels %s: %s", path, strerror(errno));
    char line[LINE_MAX_LEN];
    int k = 0, lineno = 0;
    dk_status st = DK_OK;
    while (st == DK_OK && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            st = dk__error(DK_ERR_FORMAT, "diff: --labels %s:%d: line longer than %d characters", path, lineno,
                           LINE_MAX_LEN - 2);
            break;
        }
        char *tok[2];
        int nt = split(line, tok);
        if (nt == 0 || tok[0][0] == '#') continue; /* blank or comment */
        if (nt == 3) {
            st = dk__error(DK_ERR_FORMAT, "diff: --labels %s:%d: more than two fields (expected LABEL or NAME LABEL)",
                           path, lineno);
            break;
        }
        if (k >= n) {
            st = dk__error(DK_ERR_INVALID, "diff: --labels %s:%d: more labels than the %d input(s) given", path,
                           lineno, n);
            break;
        }
        const char *lab = tok[nt - 1];
        if (!parse_class(lab, classes, &labels[k])) {
            st = dk__error(DK_ERR_FORMAT, "diff: --labels %s:%d: '%s' is not a class number of this model (0 to %lld)",
                           path, lineno, lab, (long long)classes - 1);
            break;
        }
        if (nt == 2 && strcmp(tok[0], names[k]) && strcmp(tok[0], base_name(names[k]))) {
            st = dk__error(DK_ERR_INVALID, "diff: --labels %s:%d: names '%s', but input %d is '%s'", path, lineno,
                           tok[0], k + 1, names[k]);
            break;
        }
        k++;
    }
    if (st == DK_OK && ferror(f)) st = dk__error(DK_ERR_IO, "diff: --labels %s: %s", path, strerror(errno));
    if (st == DK_OK && k < n)
        st = dk__error(DK_ERR_INVALID, "diff: --labels %s:%d: the file ends after %d label(s), but %d inputs were given",
                       path, lineno, k, n);
    fclose(f);
    return st;
}
