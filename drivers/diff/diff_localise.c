/* Differential harness: the counterfactual check. Mixed runs put the
 * candidate on a set of nodes and the baseline elsewhere; delta debugging
 * (after a bisection over the nodes ordered by suspicion) finds a small set
 * that still flips the label. */
#include <stdlib.h>
#include <string.h>

#include "drivers/diff/diff_internal.h"
#include "runtime/error.h"

typedef struct mixed {
    dk_session *cand, *base;
    const dk_graph *g;
    const dk_tensor *input;
    char *mask;
    int runs;
} mixed;

static int argmax(const dk_tensor *t)
{
    int64_t n = dk_tensor_numel(t), best = 0;
    for (int64_t i = 1; i < n; i++)
        if (dk_tensor_get(t, i) > dk_tensor_get(t, best)) best = i;
    return (int)best;
}

/* Copies value v from one session into the other. */
static dk_status transfer(dk_session *from, dk_session *to, int v)
{
    const dk_tensor *t = dk_session_value(from, v);
    if (!t) return DK_ERR_INVALID;
    return dk_session_set_value(to, v, t);
}

/* One mixed run: the base session holds the mixed state; nodes in the mask
 * run on the candidate from that state and write their outputs back. */
static dk_status run_mixed(mixed *m, const int *set, int n_set, int *top1)
{
    const dk_graph *g = m->g;
    memset(m->mask, 0, (size_t)g->n_nodes);
    for (int i = 0; i < n_set; i++) m->mask[set[i]] = 1;
    DK_TRY(dk_session_set_value(m->base, g->inputs[0], m->input));
    for (int k = 0; k < g->n_nodes; k++) {
        const dk_node *n = &g->nodes[k];
        if (!m->mask[k]) {
            DK_TRY(dk_session_run_node(m->base, k, NULL));
            continue;
        }
        for (int i = 0; i < n->n_inputs; i++)
            if (n->inputs[i] >= 0 && g->values[n->inputs[i]].kind != DK_VALUE_CONSTANT)
                DK_TRY(transfer(m->base, m->cand, n->inputs[i]));
        DK_TRY(dk_session_run_node(m->cand, k, NULL));
        for (int o = 0; o < n->n_outputs; o++)
            if (n->outputs[o] >= 0) DK_TRY(transfer(m->cand, m->base, n->outputs[o]));
    }
    const dk_tensor *out = dk_session_value(m->base, g->outputs[0]);
    if (!out) return DK_ERR_INVALID;
    *top1 = argmax(out);
    m->runs++;
    return DK_OK;
}

/* Classic ddmin (Zeller and Hildebrandt, 2002) on c[0..*n), shrinking it in
 * place while the flip persists, within the run budget. */
static dk_status ddmin(mixed *m, int *c, int *n, int top1_none, int budget, int *exhausted)
{
    int gran = 2;
    int *trial = malloc(sizeof(int) * (size_t)(*n + 1));
    if (!trial) return dk__error(DK_ERR_NOMEM, "out of memory");
    dk_status st = DK_OK;
    while (*n >= 2 && st == DK_OK) {
        if (m->runs >= budget) {
            *exhausted = 1;
            break;
        }
        int reduced = 0;
        /* try each chunk, then each complement */
        for (int pass = 0; pass < 2 && !reduced && st == DK_OK; pass++) {
            for (int ch = 0; ch < gran && !reduced && st == DK_OK && m->runs < budget; ch++) {
                int lo = (int)((long)*n * ch / gran), hi = (int)((long)*n * (ch + 1) / gran), t = 0;
                for (int i = 0; i < *n; i++)
                    if ((i >= lo && i < hi) == (pass == 0)) trial[t++] = c[i];
                if (t == 0 || t == *n) continue;
                int top1;
                if ((st = run_mixed(m, trial, t, &top1)) != DK_OK) break;
                if (top1 != top1_none) {
                    memcpy(c, trial, sizeof(int) * (size_t)t);
                    *n = t;
                    gran = pass == 0 ? 2 : (gran - 1 > 2 ? gran - 1 : 2);
                    reduced = 1;
                }
            }
        }
        if (!reduced && st == DK_OK) {
            if (m->runs >= budget) {
                *exhausted = 1;
                break;
            }
            if (gran >= *n) break;
            gran = 2 * gran < *n ? 2 * gran : *n;
        }
    }
    free(trial);
    return st;
}

dk_status dk__diff_counterfactual(dk_session *cand, dk_session *base, const dk_tensor *input,
                                  const int *order, int n_order, int budget, dk__cf_result *r)
{
    memset(r, 0, sizeof *r);
    mixed m = {cand, base, dk_session_graph(cand), input, NULL, 0};
    m.mask = malloc((size_t)m.g->n_nodes + 1);
    r->set = malloc(sizeof(int) * (size_t)(n_order + 1));
    if (!m.mask || !r->set) {
        free(m.mask);
        return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    dk_status st = run_mixed(&m, NULL, 0, &r->top1_none);
    if (st == DK_OK) st = run_mixed(&m, order, n_order, &r->top1_all);
    r->reproduced = st == DK_OK && r->top1_all != r->top1_none;
    if (st == DK_OK && r->reproduced) {
        /* bisection for the shortest flipping prefix of the suspicion order:
         * O(log n) runs, exact when flips are monotone in the prefix */
        int lo = 0, hi = n_order, top1;
        while (hi - lo > 1 && st == DK_OK) {
            int mid = lo + (hi - lo) / 2;
            if ((st = run_mixed(&m, order, mid, &top1)) != DK_OK) break;
            if (top1 != r->top1_none) hi = mid;
            else lo = mid;
        }
        memcpy(r->set, order, sizeof(int) * (size_t)hi);
        r->n_set = hi;
        if (st == DK_OK) st = ddmin(&m, r->set, &r->n_set, r->top1_none, budget, &r->exhausted);
        if (st == DK_OK) st = run_mixed(&m, r->set, r->n_set, &r->top1_set);
    }
    r->runs = m.runs;
    free(m.mask);
    return st;
}
