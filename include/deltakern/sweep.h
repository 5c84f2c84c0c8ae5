/* deltakern — sweep: every convolution of a model under every implementation
 * a backend offers, each timed and judged in isolation against the reference
 * on the same inputs.
 *
 * The swept options are those the backend's option table marks with the
 * roles DK_ROLE_CONV_IMPL, DK_ROLE_LAYOUT and DK_ROLE_PRECISION (oneDNN algo x
 * layout x fpmath, OpenBLAS conv, cuDNN algo x layout x math), less those the
 * variant gives explicitly. The reference runs the whole graph once on a
 * seeded random input; every convolution then becomes a graph of its own
 * (dk_graph_extract_node), planned once per combination, fed the reference's
 * inputs for that node and timed with the combinations interleaved run by
 * run, so that drift of the host falls on all alike.
 *
 * Ownership: dk_sweep_run returns a result the caller frees with
 * dk_sweep_destroy. */
#ifndef DELTAKERN_SWEEP_H
#define DELTAKERN_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "deltakern/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dk_onnx_options;

typedef struct dk_sweep_config {
    const char *model;         /* ONNX file */
    const char *backend;       /* variant, possibly with fixed options; opt=1 unless it names a level */
    const char *const *nodes;  /* only these nodes (names, or ONNX nodes they cover); NULL: every Conv */
    int n_nodes;
    int reps, warmup;          /* timed runs per combination and node; untimed runs before */
    uint64_t seed;             /* of the random input */
    const struct dk_onnx_options *load; /* input shapes, notes (deltakern/onnx.h); NULL: none */
} dk_sweep_config;

typedef struct dk_sweep dk_sweep;

/* Runs the sweep (progress on stderr). Errors of the configuration (unknown
 * node, no convolution, too many combinations) are DK_ERR_INVALID naming what
 * is wrong; a combination a backend refuses for a layer is not an error, it
 * is recorded on that row. */
dk_status dk_sweep_run(const dk_sweep_config *cfg, dk_sweep **out);
void dk_sweep_destroy(dk_sweep *s);

/* The table: per node, a row per combination with median time, p10..p90,
 * GFLOP/s, worst error ratio, precision and the FASTEST / MOST-ACCURATE /
 * OUT-OF-TOLERANCE marks. */
void dk_sweep_print(const dk_sweep *s, FILE *f);
/* The result as JSON with the environment fingerprint and topology, written
 * atomically (an existing file is replaced: the caller checks --force). */
dk_status dk_sweep_write_json(const dk_sweep *s, const char *path);
/* 1 when at least one combination ran on at least one node. */
int dk_sweep_any_ran(const dk_sweep *s);

#ifdef __cplusplus
}
#endif
#endif
