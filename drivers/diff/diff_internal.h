/* Internal: the pieces of the differential harness (drivers/diff/diff_*.c). */
#ifndef DK_DRIVERS_DIFF_DIFF_INTERNAL_H
#define DK_DRIVERS_DIFF_DIFF_INTERNAL_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "deltakern/diff.h"
#include "deltakern/graph.h"
#include "deltakern/session.h"
#include "deltakern/tolerance.h"

/* ---- metrics (diff_metrics.c) ---- */

typedef struct dk__diff_err {
    double max_abs;  /* max |y - ref| over finite pairs (inf for a NaN/inf mismatch) */
    double rel_l2;   /* ||y - ref|| / ||ref|| */
    double cosine;   /* <y, ref> / (||y|| ||ref||); 1 when both are zero */
    double ratio;    /* max |y - ref| / (scale * tol), NAN without a bound */
} dk__diff_err;

/* Compares y with ref (float32, same element count). tol may be NULL (no
 * bound: ratio NAN); it is multiplied by scale. */
void dk__diff_compare(const dk_tensor *ref, const dk_tensor *y, const double *tol, double scale,
                      dk__diff_err *e);

/* ---- labels (diff_labels.c) ---- */

#define DK_DIFF_TOP 5

typedef struct dk__diff_top {
    int n;
    int idx[DK_DIFF_TOP];
    double val[DK_DIFF_TOP];
} dk__diff_top;

/* The top classes among the finite outputs (n < 5 when fewer are finite;
 * unused entries are -1). */
void dk__diff_top_of(const dk_tensor *logits, dk__diff_top *top);
/* Elements of a float tensor that are NaN or infinite. */
int64_t dk__diff_count_nonfinite(const dk_tensor *t);

typedef struct dk__diff_labels {
    int comparable;      /* both outputs finite: labels mean something (else NONFINITE) */
    int top1_agree;
    double top5_overlap; /* |top5(a) & top5(b)| / 5 */
    double tau;          /* Kendall's tau of b's order of a's top-5 classes against a's */
} dk__diff_labels;

void dk__diff_compare_labels(const dk_tensor *a, const dk_tensor *b, dk__diff_labels *out);
cJSON *dk__diff_top_json(const dk__diff_top *t);
/* A record's pair object for outputs a and b, as a single run writes it
 * (diff_image.c). */
cJSON *dk__diff_pair_json(const char *a, const char *b, const dk_tensor *ta, const dk_tensor *tb);

/* ---- logits in records, for rank groups (diff_logits.c) ---- */

/* Adds every variant's output as "logits" (dtype, shape, raw bytes as hex)
 * to its entry in record. */
dk_status dk__diff_add_logits(const dk_diff *d, cJSON *record);
/* Detaches a variant entry's "logits" into t (allocated). */
dk_status dk__diff_take_logits(cJSON *variant, dk_tensor *t);

/* FNV-1a 64 of n bytes, as 16 hex digits (diff_bundle.c). */
void dk__diff_hash_bytes(const void *p, size_t n, char hex[17]);

/* ---- values by name (diff_engine.c, diff_bundle.c) ---- */

typedef struct dk__diff_store {
    int n, cap;
    char **names;
    dk_tensor *t;   /* shapes always; data once an image is loaded */
    int views;      /* t[i].data are the baseline session's own (not freed here) */
    int *index;     /* open addressing by name: slot + 1, 0 free (index_cap a power of 2) */
    int index_cap;
} dk__diff_store;

/* Slot of a name, or -1: constant time, so that looking up every value of a
 * large graph or bundle stays linear. */
int dk__store_find(const dk__diff_store *s, const char *name);
/* Appends a name (not yet in s) with the shape and dtype of shape_of. */
dk_status dk__store_add(dk__diff_store *s, const char *name, const dk_tensor *shape_of);
void dk__store_free(dk__diff_store *s);

/* ---- bundles (diff_bundle.c) ---- */

typedef struct dk__bundle {
    char *dir;
    char *model_hash;
    char *model_file;
    char *variant;         /* the variant that made it */
    char *input_name;      /* the graph input's value name */
    char *output_name;     /* graph output 0's value name */
    dk__diff_store values; /* every saved value (the input included), shapes only */
    char **files;          /* per value: its file name inside an image's folder */
    int n_images, cap_images;
    char **image_names;    /* source file of each image */
    char **image_hashes;   /* hash of each image's input tensor */
    char **image_dirs;     /* folder of each image inside dir */
    int *hash_index;       /* open addressing by input hash: image + 1, 0 free */
    int hash_index_cap;
    cJSON *environment;
    int shard_index, shard_count; /* count > 0: a shard's bundle (diff --shard K/N --save) */
} dk__bundle;

/* Reads dir/manifest.json. */
dk_status dk__bundle_open(const char *dir, dk__bundle *b);
/* Loads image i's values into store (same order as b->values): regular files
 * only, no symbolic link followed, and the input value must have the hash the
 * manifest gives the image. */
dk_status dk__bundle_load_image(const dk__bundle *b, int i, dk__diff_store *store);
/* Loads value k of image i (a regular file inside the bundle, no link). */
dk_status dk__bundle_load_value(const dk__bundle *b, int i, int k, dk_tensor *t);
/* Image with this input hash (the first when several), or -1. */
int dk__bundle_find(const dk__bundle *b, const char *hash);
/* Starts a bundle in dir (must not exist or be empty unless force);
 * shard_count > 0 records shard shard_index/shard_count in the manifest. */
dk_status dk__bundle_begin(dk__bundle *b, const char *dir, const char *model_file,
                           const char *model_hash, const char *variant, cJSON *environment,
                           const char *input_name, const char *output_name,
                           const dk__diff_store *shapes, int shard_index, int shard_count);
/* Writes one image's values and rewrites the manifest. */
dk_status dk__bundle_add_image(dk__bundle *b, const char *name, const char *hash,
                               const dk__diff_store *store);
void dk__bundle_free(dk__bundle *b);

/* ---- directories it writes (diff_outdir.c) ---- */

#define DK__DIR_LOCK ".lock"

/* Creates dir and takes its lock (dir/.lock, holding this process's pid) in
 * *fd; a directory another live process holds is an error naming its pid. */
dk_status dk__dir_lock(const char *dir, int *fd);
void dk__dir_unlock(int fd);
/* Whether a and b are one directory. */
int dk__same_dir(const char *a, const char *b);
/* An error when one of dir's names is a symbolic link. */
dk_status dk__dir_refuse_links(const char *dir, const char *const *names, int n);
/* An error unless path is a directory, itself (not a link to one). */
dk_status dk__dir_real(const char *path);

/* ---- counterfactual (diff_localise.c) ---- */

typedef struct dk__cf_result {
    int reproduced;  /* the candidate on every node flips the label in mixed runs */
    int runs;        /* mixed runs used */
    int n_set;
    int *set;        /* node indices of the minimal set found (malloc'ed) */
    int top1_none, top1_all, top1_set;
    int exhausted;   /* the run budget ran out before the set was 1-minimal */
} dk__cf_result;

/* Mixed runs on graph g: nodes in the set run on `cand`, the others on
 * `base` (both sessions on g). order: node indices, most suspect first. */
dk_status dk__diff_counterfactual(dk_session *cand, dk_session *base, const dk_tensor *input,
                                  const int *order, int n_order, int budget, dk__cf_result *r);

/* ---- ground truth (diff_truth.c) ---- */

/* Reads `diff --labels` FILE: one class in 0..classes-1 per input, in the
 * order of names (an optional NAME field must be the input's file or base
 * name). Errors name the file and the line. */
dk_status dk__diff_read_labels(const char *path, const char *const *names, int n, int64_t classes, int *labels);

/* OUTDIR/environment.json (diff_environment.c): the command line, its
 * directory, the baseline's environment fingerprint and the topology;
 * written when a run starts, kept when it is resumed. */
#define DK__DIFF_ENVIRONMENT_FILE "environment.json"
/* Every file of a result set (diff_run.c): cleared by --force, refused as links. */
#define DK__DIFF_N_RESULT_FILES 6
extern const char *const dk__diff_result_files[DK__DIFF_N_RESULT_FILES];
/* One line of a state file (at most 64 MiB, malloc'ed), NULL at the end or
 * for a line cut short by a crash (not a record). */
char *dk__diff_read_line(FILE *f);
dk_status dk__diff_write_environment(const dk_diff_run_options *o, int resumed);
/* The pieces the merges build theirs from: a new environment.json object
 * (schema, time, the command, its directory); a result directory's own
 * (NULL when it has none or it does not parse); its environment and
 * topology copied into root; root written into dir (and freed). */
cJSON *dk__diff_environment_begin(const char *command);
cJSON *dk__diff_environment_read(const char *dir);
void dk__diff_environment_adopt(cJSON *root, const cJSON *env);
dk_status dk__diff_environment_finish(cJSON *root, const char *dir);
/* A result directory's summary.json timing.ms_per_input_this_run; 0 when
 * it has none (diff_summary.c). */
double dk__diff_summary_ms_per_input(const char *dir);

/* cJSON members by key: an int in range, else dflt; a string, else dflt. */
int dk__json_int(const cJSON *o, const char *key, int dflt);
const char *dk__json_str(const cJSON *o, const char *key, const char *dflt);

#endif
