/* Differential harness: the engine's set-up. One baseline (a session or a
 * bundle) and several variants, each with the graph its optimisation level
 * gives (graphs shared between variants with the same level); every variant's
 * values matched to the baseline's by name. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/input.h"
#include "deltakern/onnx.h"
#include "deltakern/passes.h"
#include "drivers/diff/diff_engine.h"
#include "runtime/error.h"
#include "runtime/text.h"
#include "deltakern/fingerprint.h"

/* ---- set-up ---- */

static dk_status get_graph(dk_diff *d, const dk_variant *v, dk_graph **out)
{
    int opt = (int)dk_variant_get_int(v, "opt", 0);
    const char *dis = dk_variant_get(v, "disable");
    if (!dis) dis = "";
    for (int i = 0; i < d->n_graphs; i++)
        if (d->graphs[i].opt == opt && !strcmp(d->graphs[i].disable, dis)) {
            *out = d->graphs[i].g;
            return DK_OK;
        }
    /* the model is read once; each optimisation level is a clone of it that
     * shares its weights (held once, however many levels and sessions) */
    if (!d->model) DK_TRY(dk_onnx_load_with(d->c.model, d->c.load, &d->model));
    dk_graph *g;
    DK_TRY(dk_graph_clone(d->model, &g));
    dk_status st = dk_graph_optimize(g, opt, dis);
    if (st == DK_OK && g->n_inputs != 1)
        st = dk__error(DK_ERR_UNSUPPORTED, "%s: the model has %d inputs; diff takes models with one input",
                       d->c.model, g->n_inputs);
    if (st == DK_OK && (g->n_outputs < 1 || g->values[g->outputs[0]].t.dtype != DK_F32))
        st = dk__error(DK_ERR_UNSUPPORTED, "%s: the model's first output is not float32", d->c.model);
    if (st != DK_OK) {
        dk_graph_destroy(g);
        return st;
    }
    dgraph *slot = &d->graphs[d->n_graphs++];
    slot->opt = opt;
    snprintf(slot->disable, sizeof slot->disable, "%s", dis);
    slot->g = g;
    *out = g;
    return DK_OK;
}


/* The baseline store's slots: the graph input and every float32 node output. */
static dk_status store_from_graph(dk_diff *d)
{
    const dk_graph *g = d->bg;
    d->base_value = calloc((size_t)g->n_values + 1, sizeof(int));
    d->base_producer = calloc((size_t)g->n_values + 1, sizeof(int));
    if (!d->base_value || !d->base_producer) return dk__error(DK_ERR_NOMEM, "out of memory");
    d->base_producer[d->store.n] = -1;
    d->base_value[d->store.n] = g->inputs[0];
    DK_TRY(dk__store_add(&d->store, g->values[g->inputs[0]].t.name, &g->values[g->inputs[0]].t));
    for (int k = 0; k < g->n_nodes; k++)
        for (int o = 0; o < g->nodes[k].n_outputs; o++) {
            int v = g->nodes[k].outputs[o];
            if (!dk__diff_is_f32(g, v) || dk__store_find(&d->store, g->values[v].t.name) >= 0) continue;
            d->base_value[d->store.n] = v;
            d->base_producer[d->store.n] = k;
            DK_TRY(dk__store_add(&d->store, g->values[v].t.name, &g->values[v].t));
        }
    d->slot_input = 0;
    d->slot_output = dk__store_find(&d->store, g->values[g->outputs[0]].t.name);
    if (d->slot_output < 0) return dk__error(DK_ERR_UNSUPPORTED, "%s: the output is not produced by a node", d->c.model);
    return DK_OK;
}

static int same_shape(const dk_tensor *a, const dk_tensor *b)
{
    if (a->ndim != b->ndim || a->dtype != b->dtype) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

static void note(dk_diff *d, const char *text) { cJSON_AddItemToArray(d->notes, cJSON_CreateString(text)); }

/* A bundle from another model file: how many of the model's node outputs it
 * holds (a note), and an error listing names on both sides when it holds
 * none. */
static dk_status check_overlap(dk_diff *d, const vrun *r)
{
    const dk_graph *g = r->g;
    int total = 0, matched = 0;
    char ours[512] = "", theirs[512] = "";
    for (int k = 0; k < g->n_nodes; k++) {
        int v = g->nodes[k].outputs[0];
        if (v < 0 || v == g->outputs[0]) continue;
        total++;
        matched += r->slot[v] >= 0;
        dk_joinf(ours, sizeof ours, ", ", "'%s'", g->values[v].t.name);
    }
    for (int i = 0; i < d->store.n; i++) dk_joinf(theirs, sizeof theirs, ", ", "'%s'", d->store.names[i]);
    if (total > 0 && matched == 0)
        return dk__error(DK_ERR_INVALID, "%s: no node output of the model is in the bundle %s (the model's: %s; the bundle's: %s)",
                         d->c.model, d->c.against, ours, theirs);
    char msg[400];
    snprintf(msg, sizeof msg, "%s: %d of %d node outputs found in the bundle by name and shape", r->name, matched, total);
    note(d, msg);
    return DK_OK;
}

/* Maps every value of the variant's graph to the baseline's by name; the
 * input and output by position when a bundle from another model names them
 * otherwise. Same names with other shapes are an error listing them. */
static dk_status map_values(dk_diff *d, vrun *r)
{
    const dk_graph *g = r->g;
    r->slot = malloc(sizeof(int) * ((size_t)g->n_values + 1));
    if (!r->slot) return dk__error(DK_ERR_NOMEM, "out of memory");
    /* only values the graph computes or is fed: passes leave others unused */
    char *live = calloc((size_t)g->n_values + 1, 1);
    if (!live) return dk__error(DK_ERR_NOMEM, "out of memory");
    live[g->inputs[0]] = 1;
    for (int k = 0; k < g->n_nodes; k++)
        for (int o = 0; o < g->nodes[k].n_outputs; o++)
            if (g->nodes[k].outputs[o] >= 0) live[g->nodes[k].outputs[o]] = 1;
    char bad[1024] = "";
    int n_bad = 0;
    for (int v = 0; v < g->n_values; v++) {
        r->slot[v] = -1;
        if (!live[v] || !g->values[v].t.name || g->values[v].kind == DK_VALUE_CONSTANT) continue;
        int s = dk__store_find(&d->store, g->values[v].t.name);
        if (s < 0) continue;
        if (!same_shape(&d->store.t[s], &g->values[v].t)) {
            char a[96], b[96];
            size_t used = strlen(bad);
            if (n_bad++ < 8 && used < sizeof bad - 1)
                snprintf(bad + used, sizeof bad - used, "%s'%s' is %s here, %s in the baseline", n_bad > 1 ? "; " : "",
                         g->values[v].t.name, dk_shape_str(g->values[v].t.ndim, g->values[v].t.dims, a, sizeof a),
                         dk_shape_str(d->store.t[s].ndim, d->store.t[s].dims, b, sizeof b));
            continue;
        }
        r->slot[v] = s;
    }
    free(live);
    if (n_bad)
        return dk__error(DK_ERR_SHAPE, "%s: %d value(s) the baseline%s has under the same name differ in shape: %s%s",
                         d->c.model, n_bad, d->have_against ? " bundle" : "", bad, n_bad > 8 ? "; ..." : "");
    if (d->have_against && strcmp(d->against.model_hash, d->model_hash)) DK_TRY(check_overlap(d, r));
    int in = g->inputs[0], out = g->outputs[0];
    const char *which[2] = {"input", "output"};
    int vals[2] = {in, out}, slots[2] = {d->slot_input, d->slot_output};
    for (int i = 0; i < 2; i++) {
        if (r->slot[vals[i]] == slots[i]) continue;
        if (r->slot[vals[i]] < 0 && same_shape(&d->store.t[slots[i]], &g->values[vals[i]].t)) {
            r->slot[vals[i]] = slots[i];
            char msg[512];
            snprintf(msg, sizeof msg, "the model's %s '%s' is compared with the baseline's '%s' (matched by position)",
                     which[i], g->values[vals[i]].t.name, d->store.names[slots[i]]);
            note(d, msg);
            continue;
        }
        char a[96], b[96];
        return dk__error(DK_ERR_SHAPE, "%s: the model's %s '%s' (%s) matches neither the name nor the shape of the baseline's '%s' (%s)",
                         d->c.model, which[i], g->values[vals[i]].t.name,
                         dk_shape_str(g->values[vals[i]].t.ndim, g->values[vals[i]].t.dims, a, sizeof a),
                         d->store.names[slots[i]],
                         dk_shape_str(d->store.t[slots[i]].ndim, d->store.t[slots[i]].dims, b, sizeof b));
    }
    return DK_OK;
}

static double prec_u(dk_precision p) { return dk_precision_get(p)->u; }

static dk_status open_against(dk_diff *d)
{
    d->have_against = 1; /* freed by dk_diff_destroy even when incomplete */
    DK_TRY(dk__bundle_open(d->c.against, &d->against));
    for (int i = 0; i < d->against.values.n; i++) DK_TRY(dk__store_add(&d->store, d->against.values.names[i], &d->against.values.t[i]));
    d->slot_input = dk__store_find(&d->store, d->against.input_name);
    d->slot_output = dk__store_find(&d->store, d->against.output_name);
    snprintf(d->base_name, sizeof d->base_name, "%s", d->against.variant);
    dk_variant bv;
    /* the bundle's precision and whether it is the reference come from its variant */
    if (dk_variant_parse(d->against.variant, &bv) == DK_OK) {
        d->base_prec = dk_variant_precision(&bv);
    } else {
        dk__error_clear();
        d->base_prec = DK_PREC_FP32;
    }
    if (strcmp(d->against.model_hash, d->model_hash)) {
        char msg[600];
        snprintf(msg, sizeof msg, "the bundle was made from another model file (%s, hash %s; this one %s): values are compared by name and shape",
                 d->against.model_file, d->against.model_hash, d->model_hash);
        note(d, msg);
    }
    /* mixed runs need a baseline backend here: the reference stands in */
    DK_TRY(dk_variant_parse("ref", &d->mixed_variant));
    note(d, "mixed runs (counterfactual) use the local reference backend for the baseline's nodes");
    return DK_OK;
}

static dk_status open_baseline(dk_diff *d)
{
    const dk_variant *bv = &d->c.baseline;
    dk_variant_canonical(bv, 0, d->base_name, sizeof d->base_name);
    DK_TRY(get_graph(d, bv, &d->bg));
    dk_status st = dk_session_create(d->bg, bv, &d->bs);
    if (st != DK_OK) return dk__error_prefix(st, "baseline '%s'", d->base_name);
    d->base_prec = dk_variant_precision(bv);
    d->mixed_variant = *bv;
    return store_from_graph(d);
}

static dk_status open_variant(dk_diff *d, int i)
{
    vrun *r = &d->v[i];
    r->v = d->c.variants[i];
    dk_variant_canonical(&r->v, 0, r->name, sizeof r->name);
    DK_TRY(get_graph(d, &r->v, &r->g));
    dk_status st = dk_session_create(r->g, &r->v, &r->s);
    if (st != DK_OK) return dk__error_prefix(st, "variant '%s'", r->name);
    dk_session_release(r->s); /* one variant's activations at a time: allocated when it runs */
    dk_precision p = dk_variant_precision(&r->v);
    r->prec = prec_u(p) >= prec_u(d->base_prec) ? p : d->base_prec;
    const char *bname = d->have_against ? d->against.variant : d->base_name;
    r->scale = strncmp(bname, "ref", 3) == 0 && (bname[3] == 0 || bname[3] == ':') ? 1.0 : 2.0;
    return map_values(d, r);
}

dk_status dk_diff_create(const dk_diff_config *c, dk_diff **out)
{
    *out = NULL;
    if (c->n_variants < 1 || c->n_variants > DK_DIFF_MAX_VARIANTS)
        return dk__error(DK_ERR_INVALID, "diff: between 1 and %d variants, not %d", DK_DIFF_MAX_VARIANTS, c->n_variants);
    dk_diff *d = calloc(1, sizeof *d);
    if (!d) return dk__error(DK_ERR_NOMEM, "out of memory");
    d->c = *c;
    if (!d->c.max_mixed_runs) d->c.max_mixed_runs = DEFAULT_MIXED_RUNS;
    d->notes = cJSON_CreateArray();
    dk_status st = d->notes ? dk_diff_hash_file(c->model, d->model_hash) : dk__error(DK_ERR_NOMEM, "out of memory");
    if (st == DK_OK) st = c->against ? open_against(d) : open_baseline(d);
    for (int i = 0; i < c->n_variants && st == DK_OK; i++, d->n++) st = open_variant(d, i);
    if (st == DK_OK && c->save) {
        if (c->against) {
            st = dk__error(DK_ERR_INVALID, "diff: --save writes the baseline's values; with --against the baseline is already a bundle");
        } else {
            st = dk__bundle_begin(&d->save, c->save, c->model, d->model_hash, d->base_name,
                                  dk_environment_json(&d->c.baseline), d->store.names[d->slot_input],
                                  d->store.names[d->slot_output], &d->store,
                                  c->save_shard_index, c->save_shard_count);
            d->saving = 1; /* freed by dk_diff_destroy even when incomplete */
        }
    }
    if (st != DK_OK) {
        dk_diff_destroy(d);
        return st;
    }
    *out = d;
    return DK_OK;
}

void dk_diff_destroy(dk_diff *d)
{
    if (!d) return;
    for (int i = 0; i < d->n; i++) {
        dk_session_destroy(d->v[i].s);
        dk_session_destroy(d->v[i].mixed_base);
        free(d->v[i].slot);
        dk_tensor_reset(&d->v[i].logits);
    }
    dk_session_destroy(d->bs);
    for (int i = 0; i < d->n_graphs; i++) dk_graph_destroy(d->graphs[i].g);
    dk_graph_destroy(d->model); /* after its clones */
    free(d->base_value);
    free(d->base_producer);
    if (d->have_against) dk__bundle_free(&d->against);
    if (d->saving) dk__bundle_free(&d->save);
    dk__store_free(&d->store);
    cJSON_Delete(d->notes);
    dk_tensor_reset(&d->bundle_input);
    free(d->scratch);
    free(d);
}

const dk_tensor *dk_diff_input_shape(const dk_diff *d)
{
    const dk_graph *g = d->n ? d->v[0].g : d->bg;
    return &g->values[g->inputs[0]].t;
}

int64_t dk_diff_classes(const dk_diff *d) { return dk_tensor_numel(&d->store.t[d->slot_output]); }

int dk_diff_bundle_inputs(const dk_diff *d) { return d->have_against ? d->against.n_images : 0; }

dk_status dk_diff_bundle_input(dk_diff *d, int i, const char **name, const dk_tensor **t)
{
    if (!d->have_against || i < 0 || i >= d->against.n_images)
        return dk__error(DK_ERR_INVALID, "diff: no bundle input %d", i);
    dk_tensor_reset(&d->bundle_input);
    DK_TRY(dk__bundle_load_value(&d->against, i, d->slot_input, &d->bundle_input));
    *name = d->against.image_names[i];
    *t = &d->bundle_input;
    return DK_OK;
}

cJSON *dk_diff_identity(const dk_diff *d)
{
    cJSON *id = cJSON_CreateObject();
    cJSON_AddStringToObject(id, "model", d->c.model);
    cJSON_AddStringToObject(id, "model_hash", d->model_hash);
    cJSON_AddStringToObject(id, "baseline", d->base_name);
    if (d->have_against) cJSON_AddStringToObject(id, "against", d->c.against);
    cJSON *vs = cJSON_AddArrayToObject(id, "variants");
    for (int i = 0; i < d->n; i++) cJSON_AddItemToArray(vs, cJSON_CreateString(d->v[i].name));
    cJSON_AddBoolToObject(id, "counterfactual", d->c.counterfactual);
    cJSON_AddNumberToObject(id, "max_mixed_runs", d->c.max_mixed_runs);
    cJSON_AddItemToObject(id, "notes", cJSON_Duplicate(d->notes, 1));
    return id;
}

