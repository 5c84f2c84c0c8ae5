/* Internal: the self-test of the backends against the reference, shared by
 * the test programs (tests/ops/dk_ops_suite, tests/conformance/dk_conformance)
 * and `deltakern selftest`.
 *
 *  - the op suite (drivers/selftest/selftest_ops.c): every float32 op of the reference
 *    on random shapes and data (drivers/selftest/selftest_cases.c), one node at a time,
 *    on the reference and on each variant, judged with the tolerance table;
 *  - the ONNX node conformance runner (drivers/selftest/selftest_conformance.c): the
 *    ONNX backend node tests, the reference checked against their expected
 *    outputs, each candidate against the reference with the tolerance table.
 *
 * Nothing here prints: failures, repro lines and (verbose) per-case lines
 * reach the caller one line at a time through a dk__st_log_fn. The results
 * are plain structs the caller formats.
 *
 * Ownership: dk__st_target holds an open backend context until
 * dk__st_target_close(); dk__ops_result owns its rows until
 * dk__ops_result_free(); dk__conf_result holds no memory. */
#ifndef DK_DRIVERS_SELFTEST_SELFTEST_H
#define DK_DRIVERS_SELFTEST_SELFTEST_H

#include <stdint.h>

#include "deltakern/tolerance.h"
#include "deltakern/variant.h"
#include "drivers/selftest/selftest_cases.h"
#include "kernels/backend_call.h"

/* Receives one line of text (no trailing newline). */
typedef void (*dk__st_log_fn)(void *user, const char *line);

/* ---- variants under test ------------------------------------------------------- */

/* A variant opened for driving single nodes through the backend interface. */
typedef struct dk__st_target {
    char text[256];          /* as given */
    dk_variant v;
    const dk_backend_iface *b;
    int available;           /* probed and opened: usable */
    char reason[256];        /* why not available */
    void *ctx;               /* the backend's context from open() */
    dk_precision prec;       /* its row of the tolerance table */
    int threads;             /* its threads option (0: the default) */
} dk__st_target;

/* Parses text into t and opens its backend when it is usable here. A text
 * that does not parse is an error (DK_ERR_INVALID, message names it); an
 * unusable backend is not: t->available is 0 and t->reason says why. */
dk_status dk__st_target_open(dk__st_target *t, const char *text);
void dk__st_target_close(dk__st_target *t);

/* Moves one element of y (picked by rng among the finite elements of ref)
 * to ref + X * its bound from the tolerance table: at least that far for
 * X >= 1, at most for X < 1 (an element whose bound is 0 moves by one ulp
 * when X >= 1). The teeth check of both suites. *where receives the element
 * (-1 when none moved). in, ref and y as for dk_tolerance_check. */
dk_status dk__st_inject(const dk_graph *g, const dk_node *n, dk_precision p,
                        const dk_tensor *const *in, const dk_tensor *ref, dk_tensor *y, double X,
                        dk_rng *rng, int64_t *where);

/* ---- the op suite -------------------------------------------------------------------- */

#define DK__OPS_MAX_OPS 64

typedef struct dk__ops_config {
    uint64_t seed;           /* of the random shapes and data */
    int cases;               /* cases per op (each op runs at least one per shape class) */
    int only_case;           /* -1: every case; K: only case K of each op */
    const dk__op_gen *ops[DK__OPS_MAX_OPS];
    int n_ops;               /* 0: every op */
    double max_ratio;        /* a case fails above this ratio measured / bound (1: the table) */
    int inject_set;          /* teeth check: move one element per output (dk__st_inject) */
    double inject;
    int verbose;             /* one line per case */
    const char *repro;       /* command the repro lines start with... */
    const char *variant_flag; /* ...and the option that names the variant ("--variant") */
    dk__st_log_fn log;
    void *log_user;
} dk__ops_config;

/* Defaults: 12 cases, every op, max_ratio 1, seed 0 (set one), no logging,
 * repro lines "dk_ops_suite ... --variant V". */
void dk__ops_config_default(dk__ops_config *c);

/* The results of one op on one variant. */
typedef struct dk__ops_stats {
    int cases, passed, failed, mistrusted, skipped;
    int differed;            /* of those judged: two runs differed on a kernel the
                                variant allows to be non-deterministic */
    int transform;           /* passed: over the table's bound, within the looser
                                one of a transform-based convolution */
    double worst_norm;       /* worst |y - ref| / (u S) */
    double worst_ratio;      /* worst |y - ref| / bound */
    double worst_l2;         /* worst relative L2 error */
    double median_ratio;     /* median over the compared cases */
    int compared;            /* cases with a ratio */
    int64_t k_min, k_max;    /* reduction lengths seen */
    char skip_reason[512];   /* the last reason a case was skipped */
} dk__ops_stats;

typedef struct dk__ops_result {
    int n_ops, n_targets;
    const dk__op_gen *ops[DK__OPS_MAX_OPS];
    dk__ops_stats *rows;     /* rows[op * n_targets + target] */
    int failures;            /* failed cases, plus cases that could not be built or
                                that the reference declined */
} dk__ops_result;

/* Runs the suite: each case on ref (which must be available) and on every
 * target (unavailable ones count every case skipped). Fills *out (free with
 * dk__ops_result_free) and returns DK_OK whatever the verdicts. */
dk_status dk__ops_run(const dk__ops_config *cfg, dk__st_target *ref, dk__st_target *targets,
                      int n_targets, dk__ops_result *out);
void dk__ops_result_free(dk__ops_result *r);
/* Sums target t's rows over every op into *sum (worst values: the maximum). */
void dk__ops_totals(const dk__ops_result *r, int t, dk__ops_stats *sum);

/* ---- ONNX node conformance ----------------------------------------------------------- */

/* The ONNX backend test runner's comparison (numpy.testing.assert_allclose in
 * onnx/backend/test/runner): the standard the reference is held to, and the
 * fallback for ops the tolerance table has no row for. */
#define DK__CONF_RTOL 1e-3
#define DK__CONF_ATOL 1e-7

typedef struct dk__conf_config {
    const char *filter;              /* only cases whose name contains it (NULL: all) */
    const char *const *required;     /* name prefixes: a skipped case matching one fails... */
    int n_required;
    const char *const *except;       /* ...unless its name contains one of these... */
    int n_except;
    const char *const *excused;      /* ...or its skip reason one of these */
    int n_excused;
    int inject_set;                  /* teeth check on the candidate's judged outputs */
    double inject;
    uint64_t seed;                   /* picks the injected elements */
    int verbose;                     /* a line for every case, passed ones too */
    int quiet_skips;                 /* no line for skipped cases (they are counted) */
    const char *repro;               /* repro lines: "<repro> --filter CASE -v" */
    dk__st_log_fn log;
    void *log_user;
} dk__conf_config;

/* The families every backend must support (the CPU-backend issue's list):
 * required name prefixes, except names containing the except substrings
 * ("_expanded" cases, transposed and integer convolutions) and skips whose
 * reason contains an excuse (training-mode features). */
void dk__conf_required_families(dk__conf_config *c);

/* Per op of the judged node (the node producing a graph output). */
typedef struct dk__conf_op {
    int judged;              /* outputs judged */
    int by_table;            /* ... with the tolerance table */
    int fallback;            /* ... with the ONNX rtol/atol (no row, not float32, output > 0) */
    double worst_ratio;      /* worst error / allowed over them */
} dk__conf_op;

typedef struct dk__conf_result {
    int cases, passed, failed, skipped, required_passed;
    double ref_worst;        /* the reference against the expected outputs: worst error as a
                                fraction of atol + rtol |expected| */
    double worst_ratio;      /* the candidate against the reference, worst over all outputs */
    dk__conf_op ops[DK_OP_COUNT];
} dk__conf_result;

/* Runs every case directory test_* under root (sorted) on the reference and
 * on cand, adding to *acc (zero it first; call once per root). Per case and
 * data set: the reference's outputs must match the case's expected outputs
 * within DK__CONF_RTOL/ATOL (integer outputs exactly); then every node that
 * produces a graph output runs on cand alone, fed the reference's values of
 * its inputs (so that its error is its own), and its output is judged
 * against the reference's with the tolerance table in cand's precision. A
 * case whose model, op or attribute is unsupported (by the loader, the
 * reference or cand) is skipped with the reason, unless it is required.
 * cand's graph passes (its opt and disable options) rewrite the graph that
 * both run, so a fused node is judged with its own row.
 * DK_ERR_IO when root cannot be read; DK_OK whatever the verdicts. */
dk_status dk__conformance_run_root(const dk__conf_config *cfg, const dk_variant *cand,
                                   const char *root, dk__conf_result *acc);

#endif
