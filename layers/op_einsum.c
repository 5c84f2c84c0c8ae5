/* Shape inference for Einsum (opset 12): the equation parsed into labels.
 *
 * The equation: comma-separated terms, one per input, then optionally "->"
 * and the output's term. A term is letters (a-z, A-Z; each an axis) and at
 * most one "..." standing for the axes no letter names; spaces are ignored.
 *   - A letter repeated within one input takes that input's diagonal (its
 *     axes must have one size).
 *   - The ellipses of the inputs broadcast numpy-style (aligned right, a
 *     size of 1 repeats); so does a letter of size 1 in one input and n in
 *     another (as numpy and PyTorch do); other sizes must agree.
 *   - Explicit output ("->"): its letters, each once and each from some
 *     input, and the ellipsis where it stands; every label not in it is
 *     summed over (the ellipsis too, when the output has none).
 *   - Implicit output: the ellipsis's axes, then the letters that occur once
 *     in the whole equation, in ASCII order (upper case before lower).
 * Labels (dk_einsum_params): the output's axes first, then the summed ones in
 * order of first appearance; the reference sums in that order.
 *
 * FLOP convention: each of the K terms of an output element (K the product
 * of the summed sizes) costs p - 1 multiplications and one addition for p
 * inputs: 2 M N K for a matrix product, as MatMul counts. */
#include <stdio.h>
#include <string.h>

#include "layers/infer_util.h"
#include "layers/op_table.h"

#define ELLIPSIS '.'

/* One term of the equation: its letters in order, the ellipsis as ELLIPSIS. */
typedef struct es_term {
    int n;                       /* items, the ellipsis counted as one */
    int letters;
    int ellipsis;                /* index of the ellipsis item, -1 when none */
    char item[DK_MAX_DIMS + 1];
} es_term;

static int is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* "'x'" or "byte 0xNN" for a character in a message. */
static const char *char_str(char c, char *buf, size_t n)
{
    if (c >= 0x20 && c < 0x7f) snprintf(buf, n, "'%c'", c);
    else snprintf(buf, n, "byte 0x%02x", (unsigned char)c);
    return buf;
}

/* Parses the term in eq[from, to) (what names it in messages). */
static dk_status parse_term(dk_graph *g, dk_node *n, const char *eq, size_t from, size_t to,
                            const char *what, es_term *t)
{
    char cs[16];
    t->n = t->letters = 0;
    t->ellipsis = -1;
    for (size_t i = from; i < to; i++) {
        char c = eq[i];
        if (c == ' ' || c == '\t') continue;
        if (c == '.') {
            if (to - i < 3 || eq[i + 1] != '.' || eq[i + 2] != '.')
                return dk__node_error(g, n, DK_ERR_FORMAT, "equation: a '.' at position %zu is "
                                      "not part of an ellipsis '...'", i);
            if (t->ellipsis >= 0)
                return dk__node_error(g, n, DK_ERR_FORMAT, "equation: %s has more than one "
                                      "ellipsis '...'", what);
            t->ellipsis = t->n;
            t->item[t->n++] = ELLIPSIS;
            i += 2;
            continue;
        }
        if (!is_letter(c))
            return dk__node_error(g, n, DK_ERR_FORMAT, "equation: %s at position %zu is not a "
                                  "letter, ',', '...' or '->'", char_str(c, cs, sizeof cs), i);
        if (t->letters == DK_MAX_DIMS)
            return dk__node_error(g, n, DK_ERR_SHAPE, "equation: %s names more than %d axes "
                                  "(the largest rank)", what, DK_MAX_DIMS);
        t->letters++;
        t->item[t->n++] = c;
    }
    return DK_OK;
}

/* The labels being built: letters by character, ellipsis axes by position
 * within the broadcast ellipsis. */
typedef struct es_labels {
    int n;
    int64_t size[DK_EINSUM_MAX_LABELS];
    int letter[128];                 /* label of a letter, -1 when none yet */
    int ell[DK_MAX_DIMS];            /* label of ellipsis axis e (of the broadcast one) */
    int count[128];                  /* occurrences of each letter in the inputs */
} es_labels;

static const char *label_str(const es_labels *L, int l, char *buf, size_t n)
{
    for (int c = 0; c < 128; c++)
        if (L->letter[c] == l) {
            snprintf(buf, n, "letter '%c'", c);
            return buf;
        }
    for (int e = 0; e < DK_MAX_DIMS; e++)
        if (L->ell[e] == l) {
            snprintf(buf, n, "ellipsis axis %d", e);
            return buf;
        }
    snprintf(buf, n, "label %d", l);
    return buf;
}

/* Gives label l the size of input i's axis a (broadcasting 1s against
 * other inputs; within one input a repeated letter must match exactly). */
static dk_status merge_size(dk_graph *g, dk_node *n, es_labels *L, int l, int i, int a,
                            int64_t d, const int *seen_in)
{
    char ls[32];
    int64_t *s = &L->size[l];
    if (*s < 0 || *s == d) {
        *s = d;
        return DK_OK;
    }
    if (seen_in[l] == i)
        return dk__node_error(g, n, DK_ERR_SHAPE, "equation: %s repeats within input %d with "
                              "sizes %lld and %lld (a diagonal needs equal sizes)",
                              label_str(L, l, ls, sizeof ls), i, (long long)*s, (long long)d);
    if (d == 1) return DK_OK;
    if (*s == 1) {
        *s = d;
        return DK_OK;
    }
    return dk__node_error(g, n, DK_ERR_SHAPE, "equation: %s has size %lld in input %d (axis %d) "
                          "but %lld in an earlier input", label_str(L, l, ls, sizeof ls),
                          (long long)d, i, a, (long long)*s);
}

static int new_label(es_labels *L)
{
    L->size[L->n] = -1;
    return L->n++;
}

dk_status dk__infer_einsum(dk_graph *g, dk_node *n)
{
    dk_einsum_params *p = &n->p.einsum;
    const char *eq = NULL;
    const int n_in = n->n_inputs;
    memset(p, 0, sizeof *p);
    if (n->opset < 12)
        return dk__node_error(g, n, DK_ERR_FORMAT, "Einsum does not exist in opset %lld (from "
                              "opset 12)", (long long)n->opset);
    if (n_in > DK_EINSUM_MAX_INPUTS)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "%d inputs (supported: at most %d)", n_in,
                              DK_EINSUM_MAX_INPUTS);
    const dk_tensor *x0 = dk__in(g, n, 0);
    for (int i = 0; i < n_in; i++) {
        const dk_tensor *x = dk__in(g, n, i);
        if (!x) return dk__node_error(g, n, DK_ERR_FORMAT, "input %d is missing", i);
        if (x->dtype != DK_F32 && x->dtype != DK_F64)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input %d has element type %s "
                                  "(supported: float32, float64)", i, dk_dtype_name(x->dtype));
        if (x->dtype != x0->dtype)
            return dk__node_error(g, n, DK_ERR_FORMAT, "input %d has element type %s, input 0 %s",
                                  i, dk_dtype_name(x->dtype), dk_dtype_name(x0->dtype));
    }
    DK_TRY(dk__attr_string(g, n, "equation", NULL, &eq));
    if (!eq) return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'equation' is required");

    /* ---- the terms ---- */
    const size_t len = strlen(eq);
    const char *arrow = strstr(eq, "->");
    const size_t lhs_end = arrow ? (size_t)(arrow - eq) : len;
    if (arrow && strstr(arrow + 2, "->"))
        return dk__node_error(g, n, DK_ERR_FORMAT, "equation: more than one '->'");
    es_term terms[DK_EINSUM_MAX_INPUTS], out;
    int n_terms = 0;
    size_t from = 0;
    for (;;) {
        const char *comma = memchr(eq + from, ',', lhs_end - from);
        size_t to = comma ? (size_t)(comma - eq) : lhs_end;
        if (n_terms == n_in)
            return dk__node_error(g, n, DK_ERR_FORMAT, "equation: more terms than the node's %d "
                                  "input%s", n_in, n_in == 1 ? "" : "s");
        char what[32];
        snprintf(what, sizeof what, "the term of input %d", n_terms);
        DK_TRY(parse_term(g, n, eq, from, to, what, &terms[n_terms]));
        n_terms++;
        if (!comma) break;
        from = to + 1;
    }
    if (n_terms != n_in)
        return dk__node_error(g, n, DK_ERR_FORMAT, "equation: %d term%s for %d inputs", n_terms,
                              n_terms == 1 ? "" : "s", n_in);
    if (arrow) {
        if (memchr(arrow + 2, ',', strlen(arrow + 2)))
            return dk__node_error(g, n, DK_ERR_FORMAT, "equation: a ',' after '->' (one output)");
        DK_TRY(parse_term(g, n, eq, lhs_end + 2, len, "the output", &out));
    }

    /* ---- every input axis gets a label; sizes merge ---- */
    es_labels L;
    memset(&L, 0, sizeof L);
    for (int c = 0; c < 128; c++) L.letter[c] = -1;
    for (int e = 0; e < DK_MAX_DIMS; e++) L.ell[e] = -1;
    int ell_rank = 0, ell_of[DK_EINSUM_MAX_INPUTS];
    char sx[96];
    for (int i = 0; i < n_in; i++) {
        const dk_tensor *x = dk__in(g, n, i);
        const es_term *t = &terms[i];
        ell_of[i] = x->ndim - t->letters;
        if (t->ellipsis < 0 ? ell_of[i] != 0 : ell_of[i] < 0)
            return dk__node_error(g, n, DK_ERR_SHAPE, "equation: input %d has shape %s (rank %d) "
                                  "but its term names %d ax%s%s", i,
                                  dk_shape_str(x->ndim, x->dims, sx, sizeof sx), x->ndim,
                                  t->letters, t->letters == 1 ? "is" : "es",
                                  t->ellipsis >= 0 ? " and an ellipsis" : "");
        if (ell_of[i] > ell_rank) ell_rank = ell_of[i];
    }
    /* the labels of the output, in its order: the explicit term, or the
     * ellipsis then the letters that occur once */
    for (int i = 0; i < n_in; i++)
        for (int k = 0; k < terms[i].n; k++)
            if (terms[i].item[k] != ELLIPSIS) L.count[(int)terms[i].item[k]]++;
    int out_ndim = 0;
    if (arrow) {
        for (int k = 0; k < out.n; k++) {
            char c = out.item[k], cs[16];
            if (c == ELLIPSIS) {
                for (int e = 0; e < ell_rank; e++) L.ell[e] = new_label(&L);
                out_ndim += ell_rank;
                continue;
            }
            if (!L.count[(int)c])
                return dk__node_error(g, n, DK_ERR_FORMAT, "equation: the output's letter %s is "
                                      "in no input", char_str(c, cs, sizeof cs));
            if (L.letter[(int)c] >= 0)
                return dk__node_error(g, n, DK_ERR_FORMAT, "equation: the output names letter "
                                      "%s twice", char_str(c, cs, sizeof cs));
            L.letter[(int)c] = new_label(&L);
            out_ndim++;
        }
    } else {
        for (int e = 0; e < ell_rank; e++) L.ell[e] = new_label(&L);
        out_ndim = ell_rank;
        for (int c = 0; c < 128; c++)
            if (L.count[c] == 1) {
                L.letter[c] = new_label(&L);
                out_ndim++;
            }
    }
    if (out_ndim > DK_MAX_DIMS)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "equation: the output has rank %d "
                              "(supported: at most %d)", out_ndim, DK_MAX_DIMS);
    /* the summed labels, in order of first appearance */
    int seen_in[DK_EINSUM_MAX_LABELS];
    for (int l = 0; l < DK_EINSUM_MAX_LABELS; l++) seen_in[l] = -1;
    for (int i = 0; i < n_in; i++) {
        const dk_tensor *x = dk__in(g, n, i);
        const es_term *t = &terms[i];
        int a = 0;
        for (int k = 0; k < t->n; k++) {
            int count = t->item[k] == ELLIPSIS ? ell_of[i] : 1;
            for (int j = 0; j < count; j++, a++) {
                int *slot = t->item[k] == ELLIPSIS ? &L.ell[ell_rank - ell_of[i] + j]
                                                   : &L.letter[(int)t->item[k]];
                if (*slot < 0) *slot = new_label(&L);
                DK_TRY(merge_size(g, n, &L, *slot, i, a, x->dims[a], seen_in));
                seen_in[*slot] = i;
                p->label[i][a] = (signed char)*slot;
            }
        }
    }
    /* ---- the output and the contraction's size ---- */
    int64_t dims[DK_MAX_DIMS], K = 1, out_numel = 1;
    for (int l = 0; l < L.n; l++) {
        int64_t s = L.size[l] < 0 ? 1 : L.size[l];
        if (l < out_ndim) dims[l] = s;
        if (!dk_ck_mul(l < out_ndim ? out_numel : K, s, l < out_ndim ? &out_numel : &K))
            return dk__node_error(g, n, DK_ERR_SHAPE, "the %s overflows int64",
                                  l < out_ndim ? "output's size" : "contraction's length");
    }
    p->n_inputs = n_in;
    p->n_labels = L.n;
    p->out_ndim = out_ndim;
    dk__set_out(g, n, 0, x0->dtype, out_ndim, dims);
    n->flops = (double)out_numel * (double)K * (double)(n_in > 1 ? n_in : 1);
    return DK_OK;
}

void dk__einsum_label_dims(const dk_einsum_params *p, const dk_tensor *const *in, int64_t *size)
{
    for (int l = 0; l < p->n_labels; l++) size[l] = 1;
    for (int i = 0; i < p->n_inputs; i++)
        for (int a = 0; a < in[i]->ndim; a++)
            if (in[i]->dims[a] != 1) size[p->label[i][a]] = in[i]->dims[a];
}

int64_t dk__einsum_terms(const dk_einsum_params *p, const dk_tensor *const *in)
{
    int64_t size[DK_EINSUM_MAX_LABELS], K = 1;
    dk__einsum_label_dims(p, in, size);
    for (int l = p->out_ndim; l < p->n_labels; l++) K *= size[l];
    return K;
}
