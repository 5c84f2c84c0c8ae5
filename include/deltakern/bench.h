/* deltakern — micro-benchmarks of a model, node by node, and the comparison
 * of two benchmark results.
 *
 * dk_bench_run() loads the model once per variant, applies the variant's
 * graph optimisation, plans every node (never timed) in `sessions` sessions
 * of its own memory each, and then runs repetitions round by round: each
 * round runs every variant once (repetition r on session r mod sessions), so
 * drift of the host falls on all alike. Every node is timed on its own; counters
 * (measure/counters.h) are read around every node outside its timed region.
 * The result (statistics, GFLOP/s, GB/s, roofline attainment, topology,
 * binding, environment) is written as JSON by dk_bench_write_json(); the
 * schema is described in docs/bench.md.
 *
 * dk_compare_files() reads two such results, matches nodes by name (a node
 * fused on one side against the sum of the nodes it covers on the other)
 * and tests each for a change (see dk_compare_row and docs/bench.md).
 *
 * Ownership: dk_bench and dk_compare objects own everything they point to
 * and are freed by their _destroy function. Strings passed in options are
 * copied where they are kept. */
#ifndef DELTAKERN_BENCH_H
#define DELTAKERN_BENCH_H

#include <stdint.h>
#include "deltakern/input.h"
#include "deltakern/status.h"
#include "deltakern/variant.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dk_onnx_options;

typedef struct dk_bench_options {
    const char *model;          /* ONNX file */
    const dk_variant *variants; /* interleaved round by round */
    int n_variants;
    const char *input;          /* image, .npy or .pb; NULL: uniform random in [-1, 1) */
    uint64_t seed;              /* of the random input */
    dk_preprocess pre;          /* for an image input; its size is taken from the model */
    int reps;                   /* repetitions per variant (>= 1); with min_time: at least */
    double min_time;            /* > 0: repeat until each variant ran this many seconds */
    int warmup;                 /* unrecorded repetitions per variant first */
    int cold;                   /* flush the caches before every repetition */
    const char *counters;       /* "EV1,EV2", "default", or NULL for none */
    const char *bind;           /* "core" or "none" (NULL: none) */
    int measure_roofline;       /* measure peak and bandwidth when no cached values */
    int overhead;               /* also time uninstrumented whole runs, interleaved */
    int sessions;               /* sessions per variant taken in turn (0: 1); see docs/bench.md */
    const struct dk_onnx_options *load; /* input shapes, notes (deltakern/onnx.h); NULL: none */
} dk_bench_options;

typedef struct dk_bench dk_bench;

/* Runs the benchmark. Errors name the model, variant, node or counter. */
dk_status dk_bench_run(const dk_bench_options *o, dk_bench **out);
void dk_bench_destroy(dk_bench *b);

/* "" or one line about the counters to print once (e.g. hardware counters
 * unavailable, software events counted instead). */
const char *dk_bench_counters_note(const dk_bench *b);
/* "" or one line about the roofline (e.g. none cached: attainment omitted). */
const char *dk_bench_roofline_note(const dk_bench *b);
/* "" or one line when the host was disturbed while measuring (other runnable
 * tasks, steal, involuntary context switches; docs/bench.md), with advice. */
const char *dk_bench_host_note(const dk_bench *b);

/* Summary of variant i for printing: name, repetitions, end-to-end median
 * and its 95% CI and CV (seconds); the sum of per-node medians; the
 * uninstrumented median (0 without the overhead option). */
typedef struct dk_bench_summary {
    const char *variant;
    int reps, nodes;
    double median, ci_lo, ci_hi, cv, node_sum, plain_median;
} dk_bench_summary;
int dk_bench_variant_count(const dk_bench *b);
dk_status dk_bench_summary_get(const dk_bench *b, int i, dk_bench_summary *s);

/* Writes the result as JSON, atomically (temporary file, then rename);
 * an existing file is an error unless force. */
dk_status dk_bench_write_json(const dk_bench *b, const char *path, int force);

/* The result as JSON text, what dk_bench_write_json writes; free() it. */
dk_status dk_bench_json_text(const dk_bench *b, char **text);

/* One process's result of a benchmark run by several (mpirun): its rank,
 * the host it ran on and its result as JSON text (dk_bench_json_text). */
typedef struct dk_bench_node {
    int rank;
    const char *host;
    const char *json;
} dk_bench_node;

/* Writes nodes[0]'s result with "nodes": [{rank, host, result}, ...] for all
 * n added (docs/bench.md), atomically; an existing file is an error unless
 * force. A text that is no bench result is an error naming its rank. */
dk_status dk_bench_write_nodes(const char *path, const dk_bench_node *nodes, int n, int force);

/* Writes Chrome trace-event JSON (Perfetto, chrome://tracing): one complete
 * event per node per repetition, one track per variant. Atomic as above. */
dk_status dk_bench_write_trace(const dk_bench *b, const char *path, int force);

/* --- comparing two results --------------------------------------------- */

typedef struct dk_compare_options {
    double threshold;     /* relative slowdown that counts as a regression (0.15) */
    double alpha;         /* family-wise error rate over all nodes (0.05) */
    double min_share;     /* a node regression must add at least this fraction
                             of the sum of the base's node medians (0.01) */
    const char *base_variant; /* name or index in the base file (NULL: the first) */
    const char *cand_variant;
    int gate_end_to_end;  /* 1: the end to end can be a regression too: when the
                             common factor of the nodes or its own interval is
                             beyond the threshold; 0 (default): reported only.
                             Between two runs on a shared host the load moves
                             every node together (and the wall time more). */
} dk_compare_options;

void dk_compare_options_default(dk_compare_options *o);

typedef enum dk_change {
    DK_CHANGE_NONE = 0,    /* no significant change */
    DK_CHANGE_SLOWER,      /* significantly slower, below the threshold or immaterial */
    DK_CHANGE_REGRESSION,  /* significantly slower beyond the threshold: gates */
    DK_CHANGE_FASTER       /* significantly faster */
} dk_change;

#define DK_COMPARE_MAX_COUNTERS 16

/* One matched node (or the end to end). Times in seconds. ratio: cand/base
 * medians; ratio_lo/hi: 95% CI of the ratio (Hodges–Lehmann on log times);
 * gate_lo: lower end of the simultaneous (Bonferroni) interval used for the
 * verdict; p: Mann–Whitney two-sided p-value, p_adj: Holm-adjusted over all
 * nodes and the end to end; share: delta over the sum of the nodes' absolute
 * changes (magnitudes add up to 1; negative: faster). */
typedef struct dk_compare_row {
    const char *name, *op, *desc, *covers;
    double base_median, cand_median, ratio, ratio_lo, ratio_hi, gate_lo;
    double p, p_adj, delta, share;
    int base_n, cand_n;
    dk_change change;
    int n_counters;
    const char *counter_names[DK_COMPARE_MAX_COUNTERS];
    double counter_base[DK_COMPARE_MAX_COUNTERS], counter_cand[DK_COMPARE_MAX_COUNTERS];
} dk_compare_row;

typedef struct dk_compare dk_compare;

/* base and cand are result files; FILE#K selects rank K's result from the
 * "nodes" of a run under mpirun (when no file is named FILE#K itself). */
dk_status dk_compare_files(const char *base, const char *cand, const dk_compare_options *o,
                           dk_compare **out);
void dk_compare_destroy(dk_compare *c);

const dk_compare_row *dk_compare_end_to_end(const dk_compare *c);
int dk_compare_row_count(const dk_compare *c);
/* Rows ordered by the size of their contribution, largest first. */
const dk_compare_row *dk_compare_row_at(const dk_compare *c, int i);
/* Names of nodes present in only one of the results. */
int dk_compare_unmatched_count(const dk_compare *c, int in_cand);
const char *dk_compare_unmatched_at(const dk_compare *c, int in_cand, int i);
/* Its median time in seconds (NaN when it has none). */
double dk_compare_unmatched_median(const dk_compare *c, int in_cand, int i);
/* Whether a side is an ONNX Runtime profile (docs/bench.md). */
int dk_compare_is_ort_profile(const dk_compare *c, int cand);
const char *dk_compare_base_variant(const dk_compare *c);
const char *dk_compare_cand_variant(const dk_compare *c);
/* The host a side ran on when it was selected with FILE#K, else NULL. */
const char *dk_compare_host(const dk_compare *c, int cand);
/* The host's load while a side was measured: "quiet", "disturbed: REASONS",
 * "unknown" or "not recorded" (a result written before bench recorded it). */
const char *dk_compare_host_load(const dk_compare *c, int cand);
/* The one-line story: the end-to-end change and the node carrying most of it;
 * when a side was measured on a disturbed host, a last clause says which and why. */
const char *dk_compare_story(const dk_compare *c);
/* Median of the node ratios weighted by the base's node times. */
double dk_compare_common_factor(const dk_compare *c);
/* Number of rows (end to end included) judged DK_CHANGE_REGRESSION. */
int dk_compare_regressions(const dk_compare *c);

/* Writes the comparison (story, options, every row) as JSON, atomically;
 * an existing file is an error unless force. */
dk_status dk_compare_write_json(const dk_compare *c, const char *path, int force);

#ifdef __cplusplus
}
#endif
#endif
