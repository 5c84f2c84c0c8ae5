/* Differential harness: labels — top-5, their overlap, Kendall's tau. */
#include <math.h>

#include "drivers/diff/diff_internal.h"

void dk__diff_top_of(const dk_tensor *logits, dk__diff_top *top)
{
    int64_t n = dk_tensor_numel(logits);
    top->n = 0;
    for (int k = 0; k < DK_DIFF_TOP; k++) top->idx[k] = -1, top->val[k] = NAN; /* never read unset */
    for (int64_t i = 0; i < n; i++) {
        double v = dk_tensor_get(logits, i);
        if (!isfinite(v)) continue; /* a non-finite output is no class (see dk__diff_count_nonfinite) */
        /* insertion into the sorted top list; ties keep the lower index first */
        int pos = top->n;
        while (pos > 0 && v > top->val[pos - 1]) pos--;
        if (pos >= DK_DIFF_TOP) continue;
        int last = top->n < DK_DIFF_TOP ? top->n : DK_DIFF_TOP - 1;
        for (int j = last; j > pos; j--) {
            top->val[j] = top->val[j - 1];
            top->idx[j] = top->idx[j - 1];
        }
        top->val[pos] = v;
        top->idx[pos] = (int)i;
        if (top->n < DK_DIFF_TOP) top->n++;
    }
}

int64_t dk__diff_count_nonfinite(const dk_tensor *t)
{
    int64_t bad = 0, n = dk_tensor_numel(t);
    if (t->dtype == DK_F32)
        for (int64_t i = 0; i < n; i++) bad += !isfinite(((const float *)t->data)[i]);
    else if (dk_dtype_is_float(t->dtype))
        for (int64_t i = 0; i < n; i++) bad += !isfinite(dk_tensor_get(t, i));
    return bad;
}

static int sign(double x) { return (x > 0) - (x < 0); }

void dk__diff_compare_labels(const dk_tensor *a, const dk_tensor *b, dk__diff_labels *out)
{
    dk__diff_top ta, tb;
    dk__diff_top_of(a, &ta);
    dk__diff_top_of(b, &tb);
    out->comparable = !dk__diff_count_nonfinite(a) && !dk__diff_count_nonfinite(b) && ta.n > 0 && tb.n > 0;
    out->top1_agree = ta.n > 0 && tb.n > 0 && ta.idx[0] == tb.idx[0];
    int common = 0;
    for (int i = 0; i < ta.n; i++)
        for (int j = 0; j < tb.n; j++) common += ta.idx[i] == tb.idx[j];
    out->top5_overlap = ta.n ? (double)common / ta.n : 1.0;
    /* tau-a over the pairs of a's top classes: concordant minus discordant */
    int pairs = 0, score = 0;
    for (int i = 0; i < ta.n; i++)
        for (int j = i + 1; j < ta.n; j++) {
            double sa = ta.val[i] - ta.val[j];
            double sb = dk_tensor_get(b, ta.idx[i]) - dk_tensor_get(b, ta.idx[j]);
            score += sign(sa) * sign(sb);
            pairs++;
        }
    out->tau = pairs ? (double)score / pairs : 1.0;
}

cJSON *dk__diff_top_json(const dk__diff_top *t)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < t->n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(t->idx[i]));
    return a;
}
