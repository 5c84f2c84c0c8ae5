/* Internal: what a benchmark run holds, shared by the measuring loop
 * (bench_run.c), the result writer (bench_json.c) and the trace writer
 * (bench_trace.c). */
#ifndef DK_DRIVERS_BENCH_BENCH_INTERNAL_H
#define DK_DRIVERS_BENCH_BENCH_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "deltakern/bench.h"
#include "deltakern/graph.h"
#include "deltakern/session.h"
#include "drivers/bench/bench_host_load.h"
#include "measure/counters.h"
#include "deltakern/roofline.h"

/* Samples of one variant. Node arrays are indexed [rep * n_nodes + k]; the
 * counter array [(rep * n_nodes + k) * n_counters + e]. */
typedef struct dk_bench_variant {
    dk_variant variant;
    char name[256];       /* canonical, options given explicitly */
    char full[512];       /* canonical with every option */
    dk_graph *g;
    dk_session **s;       /* n_sessions sessions of the graph, taken in turn */
    int n_nodes;
    double *node_s;       /* node execution seconds */
    double *node_start;   /* node start, seconds since the benchmark began */
    double *e2e_s;        /* wall time of each repetition's node loop */
    double *plain_s;      /* uninstrumented dk_session_run wall time (overhead option) */
    long long *counts;
    dk_roofline roof;     /* for this variant's thread count */
    int have_roof;
} dk_bench_variant;

struct dk_bench {
    char *model_path;
    char model_hash[40];  /* "fnv1a64:<16 hex digits>" of the file's bytes */
    char *model_name;
    char input_desc[512];
    char input_kind[16];  /* "random" or "file" */
    int n_inputs;         /* graph inputs fed */
    uint64_t seed;
    int reps_requested, warmup, cold, overhead, measure_roofline;
    int n_sessions;       /* per variant: repetition r runs on session r % n_sessions */
    double min_time;
    char bind[16];
    int n_variants;
    dk_bench_variant *v;
    int reps, cap;        /* recorded repetitions per variant, allocated capacity */
    double origin;        /* dk__now() when measuring began */
    dk_counters *counters;
    int n_counters;
    char counters_note[512];
    char roof_note[512];  /* why a variant has no roofline ("" when all have one) */
    cJSON *topology, *binding;
    dk__host_load host;   /* the host's load over the recorded rounds */
    char host_note[640];  /* "" or "host disturbed: ..." */
    /* hook state: the variant and repetition being recorded */
    int cur_variant, cur_rep, recording;
    int dflt_threads;     /* the OpenMP default before any session set its own */
    dk_status hook_status;
};

/* FNV-1a 64 of a file's bytes, for telling models apart. */
dk_status dk__bench_hash_file(const char *path, char *out, size_t n);

/* Writes text to path atomically: refuses an existing file unless force. */
dk_status dk__bench_write_text(const char *path, const char *text, int force);

/* "Conv 3×3 256→256 /2", "Gemm 2048→1000", else the op name. */
void dk__bench_node_desc(const dk_graph *g, const dk_node *n, char *buf, size_t size);

#endif
