/* deltakern — one self-contained HTML page per result (`deltakern report`).
 *
 * The page holds everything it shows: inline CSS, inline SVG plots, a small
 * inline script that sorts tables, thumbnails as data: URLs. It fetches
 * nothing, so it opens offline and can be attached to a bug report.
 *
 * Inputs, in any mix and order: a `deltakern diff` OUTDIR (a directory with
 * summary.json), a `deltakern bench` result ("schema": "deltakern-bench/1")
 * and a `deltakern compare --json` file ("schema": "deltakern-compare/1").
 * Anything else is DK_ERR_FORMAT naming the file and the reason; the page is
 * written atomically (temporary file, then rename), so a failed report
 * leaves no partial HTML. */
#ifndef DELTAKERN_REPORT_H
#define DELTAKERN_REPORT_H

#include "deltakern/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dk_report_options {
    const char *const *inputs; /* result directories and files */
    int n_inputs;
    const char *out;           /* the HTML file */
    int force;                 /* replace an existing file */
    const char *command;       /* the command line that made the results, shown when the
                                  results do not record their own; NULL: none */
} dk_report_options;

dk_status dk_report_write(const dk_report_options *o);

#ifdef __cplusplus
}
#endif
#endif
