/* deltakern — the differential harness: one model, a baseline and several
 * variants, image by image; every node compared propagated and isolated,
 * labels compared, label flips and failing kernels localised.
 *
 * Per image, dk_diff_image() returns a record (a cJSON object, schema in
 * docs/diff.md): per variant its labels against the baseline, every compared
 * node's errors (max abs, relative L2, cosine, ratio to the tolerance bound)
 * propagated and isolated, the first faulty kernel, the nodes that amplify the
 * error most, and for every label flip its cause and the minimal set of nodes
 * found by mixed runs. A dk_diff_summary aggregates records, streaming
 * (memory independent of the number of images), into summary.json,
 * summary.csv, layers.csv and flips.csv.
 *
 * Ownership: records belong to the caller (cJSON_Delete). The engine owns its
 * graphs and sessions; the configuration's strings must outlive it. */
#ifndef DELTAKERN_DIFF_H
#define DELTAKERN_DIFF_H

#include <signal.h>
#include <stdint.h>

#include "deltakern/status.h"
#include "deltakern/tensor.h"
#include "deltakern/variant.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dk_onnx_options;

struct cJSON;

#define DK_DIFF_MAX_VARIANTS 16

typedef struct dk_diff_config {
    const char *model;            /* ONNX file */
    dk_variant baseline;          /* used unless `against` is set */
    const char *against;          /* bundle directory used as the baseline, or NULL */
    int n_variants;
    dk_variant variants[DK_DIFF_MAX_VARIANTS];
    const char *save;             /* write the baseline's values as a bundle here, or NULL */
    int save_shard_index, save_shard_count; /* with save, count > 0: the bundle is shard
                                     index/count of a run (its manifest's "shard",
                                     for dk_diff_bundle_merge; dk_diff_run sets them) */
    int counterfactual;           /* 1: localise every flip with mixed runs */
    int skip_determinism;         /* 1: no second run per variant and image (the
                                     determinism check, on by default) */
    int max_mixed_runs;           /* budget of mixed runs per flip (0: 64) */
    const struct dk_onnx_options *load; /* input shapes, notes (deltakern/onnx.h); NULL: none */
} dk_diff_config;

typedef struct dk_diff dk_diff;

/* Loads the model once per distinct graph optimisation, opens every session
 * (an unavailable variant is an error naming it and the reason) and, with
 * `against`, reads the bundle's manifest and checks its names and shapes
 * against the model (mismatches are listed in the error). */
dk_status dk_diff_create(const dk_diff_config *c, dk_diff **out);
void dk_diff_destroy(dk_diff *d);

/* The model's input shape (for image preprocessing): first graph input. */
const dk_tensor *dk_diff_input_shape(const dk_diff *d);
/* The number of classes: the element count of the model's output 0. */
int64_t dk_diff_classes(const dk_diff *d);
/* The number of inputs a bundle (`against`) holds, 0 without one. */
int dk_diff_bundle_inputs(const dk_diff *d);
/* Input i of the bundle and its source name (owned by the engine until the
 * next call). */
dk_status dk_diff_bundle_input(dk_diff *d, int i, const char **name, const dk_tensor **t);

/* With a bundle: DK_OK when it holds this input (by the hash of the tensor),
 * else an error naming `name` and listing the bundle's inputs. */
dk_status dk_diff_bundle_check(const dk_diff *d, const char *name, const dk_tensor *input);

/* One image: `name` labels it in the results (file name), `input` feeds the
 * model's only input. *record receives a new cJSON object. */
dk_status dk_diff_image(dk_diff *d, const char *name, const dk_tensor *input,
                        struct cJSON **record);

/* The run's identity for resuming: model hash, baseline, variants (a cJSON
 * object owned by the caller). */
struct cJSON *dk_diff_identity(const dk_diff *d);

/* FNV-1a 64-bit hash, as 16 hex digits, of a file's bytes or of a tensor's
 * dtype, shape and data. */
dk_status dk_diff_hash_file(const char *path, char hex[17]);
void dk_diff_hash_tensor(const dk_tensor *t, char hex[17]);

/* --- the summary ------------------------------------------------------------ */

typedef struct dk_diff_summary dk_diff_summary;

/* identity: as dk_diff_identity (copied). */
dk_status dk_diff_summary_create(const struct cJSON *identity, dk_diff_summary **out);
void dk_diff_summary_destroy(dk_diff_summary *s);
/* Adds one image record (dk_diff_image's). */
dk_status dk_diff_summary_add(dk_diff_summary *s, const struct cJSON *record);
int dk_diff_summary_images(const dk_diff_summary *s);
/* Writes summary.json, summary.csv, layers.csv and flips.csv into dir, each
 * atomically. complete = 0 marks an interrupted run. timing (may be NULL) is
 * stored under "timing" (it alone differs between identical runs). */
dk_status dk_diff_summary_write(const dk_diff_summary *s, const char *dir, int complete,
                                const struct cJSON *timing);
/* The dataset table as text (malloc'ed, caller frees). */
char *dk_diff_summary_table(const dk_diff_summary *s);


/* --- a whole run --------------------------------------------------------------- */

/* A run over a list of inputs into an output directory, as `deltakern diff`
 * does it: OUTDIR is created; earlier results in it are an error unless
 * force (they are replaced) or resume (the run they belong to continues:
 * the same model, variants, options and inputs, checked). A state file in
 * OUTDIR gets one line per finished input, so a run stopped at any moment
 * (o->stop set, a signal, a kill) loses at most the input in progress; the
 * summary files are written at the end, complete or not. */
typedef struct dk_diff_run_options {
    dk_diff_config cfg;
    const char *out;                 /* OUTDIR */
    const char *const *inputs;       /* image and tensor files; none with cfg.against: the
                                        bundle's own inputs */
    int n_inputs;
    const char *labels;              /* a file with every input's true class (docs/diff.md),
                                        or NULL: accuracy beside agreement */
    int force, resume;
    int progress;                    /* a progress line on stderr (when it is a terminal) */
    volatile const sig_atomic_t *stop; /* set (e.g. by a SIGINT handler): finish the current
                                        input, write a partial result */
    const char *command;             /* the command line, recorded in environment.json; NULL: none */
    int shard_index, shard_count;    /* shard_count > 0: only the inputs whose index is
                                        shard_index modulo shard_count (a shard result
                                        for dk_diff_merge); 0: all */
    /* called once when the inputs are known (done: those an earlier run
     * finished) and after every input; NULL: none (mpirun's rank 0 reports
     * the whole job with it, tools/cli_diff_mpi.c) */
    void (*on_input)(void *ctx, int done, int total);
    void *on_input_ctx;
    /* each record also carries every variant's output logits, so that the
     * results of rank groups running other variants can be merged with
     * dk_diff_merge_groups (mpirun ... diff --rank-variant) */
    int record_logits;
} dk_diff_run_options;

typedef struct dk_diff_run_result {
    int images, total;               /* inputs done (this run and before it), in all */
    int complete;                    /* images == total */
    double ms_per_input;             /* this run's mean */
    char *table;                     /* the dataset table (malloc'ed, caller frees) */
} dk_diff_run_result;

dk_status dk_diff_run(const dk_diff_run_options *o, dk_diff_run_result *r);

/* --- shards ---------------------------------------------------------------------- */

/* Merges the results of `diff --shard K/N` runs (their OUTDIRs) into OUTDIR:
 * the state file, summary files and layers and flips tables a single run of
 * all inputs writes, byte for byte but for the timing in summary.json and
 * environment.json (the merge's command and every shard's environment).
 * Shards of different runs (model, variants, options, inputs, labels,
 * deltakern version, split) are refused naming the two; a missing or
 * unfinished shard is named, unless `partial`: then what is there is merged
 * and the notes say what is missing. */
typedef struct dk_diff_merge_options {
    const char *const *shards;
    int n_shards;
    const char *out;
    int force, partial;
    const char *command;             /* recorded in environment.json; NULL: none */
} dk_diff_merge_options;

typedef struct dk_diff_merge_result {
    int images, total;               /* inputs merged, inputs of the run */
    int missing_shards, unfinished_shards;
    char *table;                     /* the dataset table (malloc'ed, caller frees) */
} dk_diff_merge_result;

dk_status dk_diff_merge(const dk_diff_merge_options *o, dk_diff_merge_result *r);

/* Merges the whole results of rank groups that ran the same inputs against
 * the same baseline with disjoint variant sets (each group's result merged
 * by dk_diff_merge from runs with record_logits) into OUTDIR: the result a
 * single run of all the variants writes, the variants in the order given.
 * Pairs of variants of different groups are compared from the recorded
 * logits. Groups of different runs (model, baseline, inputs, labels,
 * version) or whose baselines differ on an input are refused. */
typedef struct dk_diff_merge_groups_options {
    const char *const *groups;       /* their result directories */
    int n_groups;
    const char *const *variants;     /* every variant of every group, in the merged order */
    int n_variants;
    const char *out;
    const char *command;             /* recorded in environment.json; NULL: none */
} dk_diff_merge_groups_options;

dk_status dk_diff_merge_groups(const dk_diff_merge_groups_options *o, dk_diff_merge_result *r);

/* Merges the bundles of `diff --shard K/N --save` runs into the bundle a
 * single run with --save writes (folders numbered in the global input
 * order, every file the same bytes: hard links, copies where linking fails;
 * manifest.json written last, atomically, with the environment of shard 0's
 * bundle or else the first given). In two steps, so that a caller merging
 * the results too (deltakern merge) refuses before writing anything:
 * dk_diff_bundle_merge_check reads and checks everything and writes nothing
 * (bundles of another model, variant, values or split than each other or
 * than the shard results, an index twice, a shard result without its
 * bundle, an image that is not its shard's input, an unfinished bundle
 * unless partial, `out` one of the bundles or holding one unless force);
 * dk_diff_bundle_merge_write then writes. With partial, only the inputs the
 * shard results and their bundles both hold are merged. */
typedef struct dk_diff_bundle_merge_options {
    const char *const *shards;       /* the shard results (their state.jsonl) */
    int n_shards;
    const char *const *bundles;      /* one bundle per shard result, any order */
    int n_bundles;
    const char *out;                 /* the merged bundle's directory */
    int force, partial;
} dk_diff_bundle_merge_options;

typedef struct dk_diff_bundle_merge dk_diff_bundle_merge;

dk_status dk_diff_bundle_merge_check(const dk_diff_bundle_merge_options *o, dk_diff_bundle_merge **plan);
/* *images receives the number of images of the merged bundle. */
dk_status dk_diff_bundle_merge_write(dk_diff_bundle_merge *plan, int *images);
void dk_diff_bundle_merge_free(dk_diff_bundle_merge *plan);

#ifdef __cplusplus
}
#endif
#endif
