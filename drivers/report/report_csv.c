/* The CSV files deltakern diff writes (layers.csv, flips.csv): RFC 4180
 * quoting, a header row, every row as wide as the header. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/report/report_internal.h"
#include "runtime/file.h"

#define CSV_MAX_BYTES (512u << 20)

/* Splits the text in place (cells == NULL: only counts, writing nothing): cells end at a comma or line end outside quotes;
 * quotes are removed and doubled quotes become one. Returns the cell count,
 * or -1 when a quote is left open. cells == NULL only counts. */
static long split(char *s, size_t n, char **cells, int *row_ends, long *n_rows)
{
    long count = 0, rows = 0;
    size_t i = 0;
    while (i < n) {
        char *out = s + i, *start = out;
        int quoted = s[i] == '"';
        if (quoted) i++;
        for (;;) {
            if (i >= n) {
                if (quoted) return -1;
                break;
            }
            char c = s[i];
            if (quoted && c == '"') {
                if (i + 1 < n && s[i + 1] == '"') {
                    if (cells) *out = '"';
                    out++;
                    i += 2;
                    continue;
                }
                quoted = 0;
                i++;
                continue;
            }
            if (!quoted && (c == ',' || c == '\n' || c == '\r')) break;
            if (cells) *out = c; /* the counting pass leaves the text as it is */
            out++;
            i++;
        }
        char end = i < n ? s[i] : '\n';
        if (cells) {
            *out = 0;
            cells[count] = start;
        }
        count++;
        if (end == '\r' && i + 1 < n && s[i + 1] == '\n') i++;
        i++;
        if (end != ',') {
            if (row_ends) row_ends[rows] = (int)count;
            rows++;
        }
    }
    *n_rows = rows;
    return count;
}

dk_status dk__csv_read(const char *path, dk_csv *out)
{
    memset(out, 0, sizeof *out);
    unsigned char *data;
    size_t size;
    DK_TRY(dk__read_regular(path, CSV_MAX_BYTES, 1, &data, &size));
    /* room for the last cell's terminator */
    unsigned char *grown = realloc(data, size + 1);
    if (!grown) {
        free(data);
        return dk__error(DK_ERR_NOMEM, "%s: out of memory", path);
    }
    data = grown;
    data[size] = 0;
    long rows;
    long n = split((char *)data, size, NULL, NULL, &rows);
    dk_status st = DK_OK;
    if (n < 0) st = dk__error(DK_ERR_FORMAT, "report: %s: a quoted field is not closed", path);
    else if (rows < 1) st = dk__error(DK_ERR_FORMAT, "report: %s: empty, no header row", path);
    int *ends = st == DK_OK ? calloc((size_t)rows, sizeof *ends) : NULL;
    char **cells = st == DK_OK ? calloc((size_t)n + 1, sizeof *cells) : NULL;
    if (st == DK_OK && (!ends || !cells)) st = dk__error(DK_ERR_NOMEM, "%s: out of memory", path);
    if (st == DK_OK) {
        split((char *)data, size, cells, ends, &rows);
        int width = ends[0];
        for (long r = 1; r < rows && st == DK_OK; r++)
            if (ends[r] - ends[r - 1] != width)
                st = dk__error(DK_ERR_FORMAT, "report: %s: row %ld has %d fields, the header %d", path, r + 1,
                               ends[r] - ends[r - 1], width);
        out->n_cols = width;
        out->n_rows = (int)rows - 1;
    }
    free(ends);
    if (st != DK_OK) {
        free(cells);
        free(data);
        memset(out, 0, sizeof *out);
        return st;
    }
    out->cells = cells;
    out->storage = (char *)data;
    return DK_OK;
}

void dk__csv_free(dk_csv *c)
{
    free(c->cells);
    free(c->storage);
    memset(c, 0, sizeof *c);
}

int dk__csv_col(const dk_csv *c, const char *name)
{
    for (int i = 0; i < c->n_cols; i++)
        if (!strcmp(c->cells[i], name)) return i;
    return -1;
}

const char *dk__csv_get(const dk_csv *c, int row, int col)
{
    if (col < 0 || col >= c->n_cols || row < 0 || row >= c->n_rows) return "";
    return c->cells[(size_t)(row + 1) * (size_t)c->n_cols + (size_t)col];
}

double dk__csv_num(const dk_csv *c, int row, int col)
{
    const char *s = dk__csv_get(c, row, col);
    char *end;
    double v = strtod(s, &end);
    return *s && !*end ? v : NAN;
}
