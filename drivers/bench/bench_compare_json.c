/* A comparison as JSON ("schema": "deltakern-compare/1", docs/bench.md). */
#include <cjson/cJSON.h>

#include "drivers/bench/bench_compare_internal.h"
#include "drivers/bench/bench_internal.h"
#include "runtime/error.h"

static const char *change_name(dk_change c)
{
    switch (c) {
    case DK_CHANGE_REGRESSION: return "regression";
    case DK_CHANGE_SLOWER: return "slower";
    case DK_CHANGE_FASTER: return "faster";
    default: return "none";
    }
}

static cJSON *row_json(const dk_compare_row *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddStringToObject(o, "op", r->op);
    cJSON_AddStringToObject(o, "desc", r->desc);
    if (r->covers) cJSON_AddStringToObject(o, "covers", r->covers);
    cJSON_AddNumberToObject(o, "base_median_s", r->base_median);
    cJSON_AddNumberToObject(o, "cand_median_s", r->cand_median);
    cJSON_AddNumberToObject(o, "base_n", r->base_n);
    cJSON_AddNumberToObject(o, "cand_n", r->cand_n);
    cJSON_AddNumberToObject(o, "ratio", r->ratio);
    double ci[2] = {r->ratio_lo, r->ratio_hi};
    cJSON_AddItemToObject(o, "ratio_ci95", cJSON_CreateDoubleArray(ci, 2));
    cJSON_AddNumberToObject(o, "ratio_simultaneous_lo", r->gate_lo);
    cJSON_AddNumberToObject(o, "p", r->p);
    cJSON_AddNumberToObject(o, "p_holm", r->p_adj);
    cJSON_AddNumberToObject(o, "delta_s", r->delta);
    cJSON_AddNumberToObject(o, "share", r->share);
    cJSON_AddStringToObject(o, "change", change_name(r->change));
    if (r->n_counters) {
        cJSON *ctr = cJSON_AddObjectToObject(o, "counters");
        for (int e = 0; e < r->n_counters; e++) {
            cJSON *x = cJSON_AddObjectToObject(ctr, r->counter_names[e]);
            cJSON_AddNumberToObject(x, "base_median", r->counter_base[e]);
            cJSON_AddNumberToObject(x, "cand_median", r->counter_cand[e]);
        }
    }
    return o;
}

dk_status dk_compare_write_json(const dk_compare *c, const char *path, int force)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "deltakern-compare/1");
    cJSON_AddStringToObject(root, "story", c->story);
    cJSON_AddStringToObject(root, "base", c->base.path);
    cJSON_AddStringToObject(root, "base_variant", c->base.name);
    cJSON_AddStringToObject(root, "cand", c->cand.path);
    cJSON_AddStringToObject(root, "cand_variant", c->cand.name);
    /* "onnxruntime-profile" for a side read from ONNX Runtime's profile */
    cJSON_AddStringToObject(root, "base_kind", c->base.ort ? "onnxruntime-profile" : "deltakern-bench");
    cJSON_AddStringToObject(root, "cand_kind", c->cand.ort ? "onnxruntime-profile" : "deltakern-bench");
    /* FILE#K: the rank's host, so that machines compared stay named */
    if (c->base.ranked) cJSON_AddStringToObject(root, "base_host", c->base.host);
    if (c->cand.ranked) cJSON_AddStringToObject(root, "cand_host", c->cand.host);
    dk__compare_host_load_json(c, root);
    cJSON *opt = cJSON_AddObjectToObject(root, "options");
    cJSON_AddNumberToObject(opt, "threshold", c->opts.threshold);
    cJSON_AddNumberToObject(opt, "alpha", c->opts.alpha);
    cJSON_AddNumberToObject(opt, "min_share", c->opts.min_share);
    cJSON_AddBoolToObject(opt, "gate_end_to_end", c->opts.gate_end_to_end);
    cJSON_AddNumberToObject(root, "regressions", c->n_regressions);
    cJSON_AddNumberToObject(root, "common_factor", c->common);
    cJSON_AddItemToObject(root, "end_to_end", row_json(&c->e2e));
    cJSON *rows = cJSON_AddArrayToObject(root, "nodes");
    for (int i = 0; i < c->n_rows; i++) cJSON_AddItemToArray(rows, row_json(&c->rows[i]));
    for (int k = 0; k < 2; k++) {
        cJSON *a = cJSON_AddArrayToObject(root, k ? "only_in_cand" : "only_in_base");
        for (int i = 0; i < c->n_only[k]; i++) cJSON_AddItemToArray(a, cJSON_CreateString(c->only[k][i]));
        cJSON_AddItemToObject(root, k ? "only_in_cand_median_s" : "only_in_base_median_s",
                              cJSON_CreateDoubleArray(c->only_median[k], c->n_only[k]));
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return dk__error(DK_ERR_NOMEM, "%s: out of memory formatting the comparison", path);
    dk_status st = dk__bench_write_text(path, text, force);
    cJSON_free(text);
    return st;
}
