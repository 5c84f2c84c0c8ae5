/* Internal to drivers/report: the page under construction, its SVG plots,
 * and the sections each kind of result contributes. */
#ifndef DK_REPORT_INTERNAL_H
#define DK_REPORT_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "deltakern/status.h"
#include "runtime/error.h"

/* ---- the page: a growing string; a failed allocation is remembered and
 * reported once at the end (dk__html_status), so writers need not check */
typedef struct dk_html {
    char *buf;
    size_t len, cap;
    int oom;
    int next_id; /* for unique element ids */
} dk_html;

void dk__html_free(dk_html *h);
dk_status dk__html_status(const dk_html *h);
void dk__html_raw(dk_html *h, const char *s);
void dk__html_printf(dk_html *h, const char *fmt, ...) DK_PRINTF(2, 3);
/* s with & < > " ' escaped (text and attribute values alike); NULL prints nothing */
void dk__html_text(dk_html *h, const char *s);
/* A number as text: "-" for NaN, ∞ for infinities, else %.*g. */
void dk__html_num(dk_html *h, double v, int digits);
/* An element id made from a prefix and a name: letters, digits, - and _ kept,
 * anything else hex-escaped, so that one name always gives one id. */
void dk__html_id(dk_html *h, const char *prefix, const char *name);

/* The page frame: <head> with the inline CSS and sort script, <body>. */
void dk__html_page_begin(dk_html *h, const char *title);
void dk__html_page_end(dk_html *h);

/* Sortable tables (the page's script sorts tbody rows when a th is clicked;
 * a cell's data-sort attribute is its numeric key). The table sits in a
 * wrapper that scrolls sideways on narrow screens. */
void dk__html_table_begin(dk_html *h, const char *cls, const char *const *headers, int n_headers);
void dk__html_table_end(dk_html *h);
void dk__html_row_begin(dk_html *h, const char *id_prefix, const char *id_name); /* id_prefix NULL: no id */
void dk__html_row_end(dk_html *h);
void dk__html_td_text(dk_html *h, const char *s);
void dk__html_td_num(dk_html *h, double v, int digits);
/* A cell linking to the row of a node: <a href="#prefix-name">name</a>. */
void dk__html_td_link(dk_html *h, const char *prefix, const char *name);

/* ---- SVG plots: a frame with linear or log axes; points and lines in data
 * coordinates. Non-finite values and, on a log axis, values <= 0 are left
 * out (a line is broken there). */
typedef struct dk_axis {
    double lo, hi;
    int log;
    const char *label;
} dk_axis;

typedef struct dk_plot {
    dk_html *h;
    double width, height, left, right, top, bottom;
    dk_axis x, y;
} dk_plot;

/* An axis's range from data (log: over the positive finite values only),
 * widened a little, never empty. */
dk_axis dk__axis_fit(const double *v, int n, int log, const char *label);
/* Extends an axis to hold v too. */
void dk__axis_include(dk_axis *a, double v);
void dk__plot_begin(dk_plot *p, dk_html *h, const char *title, int width, int height, dk_axis x, dk_axis y);
void dk__plot_end(dk_plot *p);
int dk__plot_in(const dk_plot *p, double x, double y); /* drawable at all */
double dk__plot_x(const dk_plot *p, double v);
double dk__plot_y(const dk_plot *p, double v);
void dk__plot_polyline(dk_plot *p, const double *xs, const double *ys, int n, const char *cls);
/* A dot with a hover title; with href it links (to a table row). */
void dk__plot_point(dk_plot *p, double x, double y, double r, const char *cls, const char *title,
                    const char *href_prefix, const char *href_name);
void dk__plot_hline(dk_plot *p, double y, const char *cls, const char *label);
/* A rectangle from (x0, y0) to (x1, y1) in data coordinates. */
void dk__plot_rect(dk_plot *p, double x0, double y0, double x1, double y1, const char *cls, const char *title);
void dk__plot_vsegment(dk_plot *p, double x, double y0, double y1, const char *cls);
void dk__plot_text(dk_plot *p, double x, double y, const char *cls, const char *s);
/* A legend entry in the row under the title (slot 0, 1, ...: 290 units
 * apart): a swatch of class cls and its text. */
void dk__plot_legend(dk_plot *p, int slot, const char *cls, const char *s);

/* ---- CSV files as deltakern writes them (RFC 4180 quoting) */
typedef struct dk_csv {
    int n_cols, n_rows;
    char **cells; /* row-major, header row first: (n_rows + 1) * n_cols */
    char *storage;
} dk_csv;

dk_status dk__csv_read(const char *path, dk_csv *out);
void dk__csv_free(dk_csv *c);
int dk__csv_col(const dk_csv *c, const char *name); /* -1 when absent */
const char *dk__csv_get(const dk_csv *c, int row, int col); /* "" when col < 0 */
double dk__csv_num(const dk_csv *c, int row, int col);      /* NaN when empty or not a number */

/* ---- what each kind of result contributes */
typedef struct dk_report_ctx {
    const char *command; /* the command line given to the report, or NULL */
} dk_report_ctx;

dk_status dk__report_diff(dk_html *h, const char *dir, const dk_report_ctx *ctx);
/* the diff section's flips table (report_diff_flips.c) */
dk_status dk__report_diff_flips(dk_html *h, const char *dir, const cJSON *sum, const cJSON *env,
                                const char *prefix);
dk_status dk__report_bench(dk_html *h, const cJSON *root, const char *path, const dk_report_ctx *ctx);
dk_status dk__report_compare(dk_html *h, const cJSON *root, const char *path, const dk_report_ctx *ctx);
/* A bench result's "nodes" (mpirun), when it has them (report_ranks.c). */
void dk__report_bench_ranks(dk_html *h, const cJSON *root);
/* A result's "host_load" (or a compare's base/cand_host_load) as text: its
 * verdict and reasons, or "not recorded" (written before bench recorded it). */
void dk__report_host_load(dk_html *h, const cJSON *host_load);
/* The environment fingerprint and topology as a compact table. */
void dk__report_environment(dk_html *h, const cJSON *environment, const cJSON *topology);
/* An image file as an inline PNG thumbnail no larger than max_side pixels;
 * DK_OK with a note in the page when the file is no image. */
dk_status dk__report_thumbnail(dk_html *h, const char *path, int max_side);

/* cJSON helpers that tolerate anything: missing keys and wrong types give
 * the default. */
const char *dk__j_str(const cJSON *o, const char *key, const char *dflt);
double dk__j_num(const cJSON *o, const char *key, double dflt);

#endif
