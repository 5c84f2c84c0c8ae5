/* Internal: the engine's state, shared by its set-up (diff_engine.c) and the
 * per-image work (diff_image.c). */
#ifndef DK_DRIVERS_DIFF_DIFF_ENGINE_H
#define DK_DRIVERS_DIFF_DIFF_ENGINE_H

#include "drivers/diff/diff_internal.h"

#define DEFAULT_MIXED_RUNS 64
#define N_AMPLIFIERS 3

typedef struct dgraph {
    int opt;
    char disable[DK_VARIANT_VALUE_MAX];
    dk_graph *g;
} dgraph;

typedef struct vrun {
    dk_variant v;
    char name[256];
    dk_graph *g;
    dk_session *s;
    dk_session *mixed_base; /* the baseline's backend on this graph, for mixed runs */
    int *slot;              /* per value of g: the baseline store's slot, -1 when none */
    dk_precision prec;
    double scale;           /* the bound's multiple: 2 when the baseline is not the reference */
    dk_tensor logits;       /* the last image's propagated output 0 */
} vrun;

struct dk_diff {
    dk_diff_config c;
    char model_hash[17];
    dk_graph *model;         /* as loaded; every graph below is a clone sharing its weights */
    int n_graphs;
    dgraph graphs[DK_DIFF_MAX_VARIANTS + 1];
    dk_graph *bg;            /* the baseline's graph (in-process baseline) */
    dk_session *bs;
    int *base_value;         /* per store slot: value index in bg */
    int *base_producer;      /* per store slot: the node of bg computing it, -1 for the input */
    char base_name[512];
    dk_variant mixed_variant; /* the baseline's variant, or ref with a bundle */
    int have_against;
    dk__bundle against;
    int saving;
    dk__bundle save;
    dk__diff_store store;    /* the baseline's values of the current image */
    int slot_input, slot_output;
    dk_precision base_prec;
    int n;
    vrun v[DK_DIFF_MAX_VARIANTS];
    cJSON *notes;
    dk_tensor bundle_input;
    double *scratch;         /* a node's bound, magnitudes and the table's terms: 4 x scratch_count */
    int64_t scratch_count;
};

static inline int dk__diff_is_f32(const dk_graph *g, int v) { return v >= 0 && g->values[v].t.dtype == DK_F32; }

#endif
