/* Internal: a comparison of two benchmark results, shared by the analysis
 * (bench_compare.c) and its JSON writer (bench_compare_json.c). */
#ifndef DK_DRIVERS_BENCH_BENCH_COMPARE_INTERNAL_H
#define DK_DRIVERS_BENCH_BENCH_COMPARE_INTERNAL_H

#include <cjson/cJSON.h>

#include <stddef.h>

#include "deltakern/bench.h"
#include "deltakern/status.h"

/* One result file: its parsed JSON (rows point into it) and the variant
 * compared. */
typedef struct dk__compare_side {
    const char *path;
    cJSON *root;
    const cJSON *variant;
    const char *name;
    char host[256]; /* FILE#K: the rank's host */
    int ranked;     /* selected with FILE#K */
    int ort;        /* an ONNX Runtime profile (bench_ort.c), root made a result */
    int load;       /* host_load verdict: -2 not recorded, -1 unknown, 0 quiet, 1 disturbed */
    char load_why[512]; /* its reasons, ", "-separated */
    char load_text[560]; /* "disturbed: reasons", "quiet", ... (dk_compare_host_load) */
} dk__compare_side;

struct dk_compare {
    dk__compare_side base, cand;
    dk_compare_row e2e;
    dk_compare_row *rows;
    char **covers;        /* per row: the joined covers of a fused node, owned */
    int n_rows, cap_rows;
    const char **only[2]; /* node names only in base [0] or only in cand [1] */
    double *only_median[2]; /* and their median times */
    int n_only[2];
    char story[2048];
    int n_regressions;
    double common;        /* time-weighted median of the node ratios */
    dk_compare_options opts;
};

/* "FILE#K" (when no file is named so): the file, and K in *rank (else -1). */
dk_status dk__bench_split_rank(const char *arg, char *file, size_t size, long *rank);

/* Replaces *root, a run under mpirun, by rank's result taken out of its
 * "nodes"; host: that rank's host. arg names the file in errors. */
dk_status dk__bench_select_rank(cJSON **root, long rank, const char *arg, char *host, size_t host_size);

/* Whether root is a Chrome trace (an array of events, or an object with
 * "traceEvents" and no "schema"): read as an ONNX Runtime profile. */
int dk__ort_is_trace(const cJSON *root);

/* Replaces s->root, an ONNX Runtime profile, by a result of one variant
 * whose nodes are the profile's grouped by the nodes of `other` (a bench
 * result with its variant picked) they stand for (bench_ort.c); with other
 * NULL (two profiles compared), one node per ORT node. A profile that names
 * too few of other's nodes is of another model: an error. */
dk_status dk__ort_side(dk__compare_side *s, const dk__compare_side *other);

/* Two profiles turned into results: an error unless their node names are
 * mostly common. */
dk_status dk__ort_same_model(const dk__compare_side *a, const dk__compare_side *b);
/* Reads both sides' host_load verdicts and, when either side was disturbed,
 * ends the story with a clause naming the side and why (bench_compare_host.c). */
void dk__compare_host_load(dk_compare *c);
/* Adds base_host_load and cand_host_load to the comparison's JSON. */
void dk__compare_host_load_json(const dk_compare *c, cJSON *root);

#endif
