/* deltakern — selftest: every backend against the reference, in one call.
 *
 *  - the op suite: every op on random shapes and data (seed printed), one
 *    node at a time, on the reference and on each variant, judged with the
 *    tolerance table in the variant's precision; outputs are poisoned with
 *    NaN and guarded by sentinels, inputs checked to be left untouched;
 *  - ONNX node conformance (Debian's libonnx-testdata): the reference
 *    against each case's expected outputs, each variant against the
 *    reference with the tolerance table.
 *
 * Results have states (PASSED, FAILED, SKIPPED, MISTRUSTED, after benchdnn)
 * and every failure prints a repro line that reruns exactly that case.
 * dk_selftest_run prints its report (one row per variant, the op suite's
 * summary line, and with verbose the per-op tables) to `out`.
 *
 * Plain structs; the string arrays in the options belong to the caller. */
#ifndef DELTAKERN_SELFTEST_H
#define DELTAKERN_SELFTEST_H

#include <stdint.h>
#include <stdio.h>

#include "deltakern/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where Debian's libonnx-testdata puts the ONNX backend node tests. */
#define DK_SELFTEST_DATA "/usr/share/libonnx-testdata/data"

typedef struct dk_selftest_options {
    const char *const *variants; /* patterns (a/b values expand); none: every backend */
    int n_variants;
    int all_options;             /* with no variants: also every non-default value of each
                                    backend's enumerated options, one at a time, and threads=1 */
    int run_ops, run_conformance;
    /* the op suite */
    int cases;                   /* random cases per op (at least one per shape class) */
    int only_case;               /* -1: all; K: only case K of each op (rerun one with seed) */
    uint64_t seed;
    const char *const *ops;      /* ONNX op names (none: every op) */
    int n_ops;
    double max_ratio;            /* a case fails above this ratio error/bound (1; 0 demands
                                    bit-identical outputs, e.g. of the reference itself) */
    double margin;               /* op rows whose worst ratio exceeds it are flagged (0.5) */
    /* conformance */
    const char *data;            /* data root holding node/ and pytorch-converted/ */
    const char *const *roots;    /* suite directories instead of the two under data */
    int n_roots;
    const char *filter;          /* only cases whose name contains it */
    const char *const *required; /* skipped cases starting with one of these fail... */
    int n_required;
    const char *const *except;   /* ...unless their name contains one of these... */
    int n_except;
    const char *const *excused;  /* ...or their skip reason one of these */
    int n_excused;
    int require_families;        /* require the families every backend must support */
    /* both */
    int inject_set;              /* teeth check: one element of every judged output moved */
    double inject;               /* to X times its bound (X >= 1 must fail, X < 1 pass) */
    int verbose;                 /* a line per case; per-op tables */
} dk_selftest_options;

/* Every backend, default options, 12 cases per op, seed 0 (set one), max
 * ratio 1, margin 0.5, both suites on DK_SELFTEST_DATA. */
void dk_selftest_options_default(dk_selftest_options *o);

typedef struct dk_selftest_summary {
    int variants, available;     /* variants named or found; usable here */
    int failed;                  /* variants with a failed case (FAIL rows) */
    int broken;                  /* op-suite cases that could not be built or that the
                                    reference declined */
    int ops_cases, ops_passed, ops_failed, ops_mistrusted, ops_skipped;
    int ops_differed;            /* judged cases whose two runs differed on a kernel the
                                    variant allows to be non-deterministic (not failures) */
    int ops_transform;           /* passed cases over the table's bound but within the looser
                                    bound of a transform-based convolution (Winograd, FFT) */
    int conf_found;              /* conformance data was found and run */
    int conf_passed, conf_failed, conf_skipped;
} dk_selftest_summary;

/* Runs what o asks for and prints the report to out. DK_ERR_INVALID (naming
 * it) for a variant or op that does not exist; a backend that cannot run here
 * is not an error, its row says SKIPPED and why. Passing or failing is in
 * *sum: a run passed when sum->failed == 0 and sum->broken == 0. */
dk_status dk_selftest_run(const dk_selftest_options *o, FILE *out, dk_selftest_summary *sum);

/* The variants a run of o would check, one per line. */
dk_status dk_selftest_list_variants(const dk_selftest_options *o, FILE *out);
/* The ops of the op suite and their shape classes, one op per line. */
void dk_selftest_list_ops(FILE *out);
/* The tolerance table: op x precision, with each row's derivation. */
void dk_selftest_print_tolerance_table(FILE *out);

#ifdef __cplusplus
}
#endif
#endif
