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

/* Reads both sides' host_load verdicts and, when either side was disturbed,
 * ends the story with a clause naming the side and why (bench_compare_host.c). */
void dk__compare_host_load(dk_compare *c);
/* Adds base_host_load and cand_host_load to the comparison's JSON. */
void dk__compare_host_load_json(const dk_compare *c, cJSON *root);

#endif
