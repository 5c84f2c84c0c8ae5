/* Split and Tile: data movement along the dims, any dtype. Split's sizes come
 * from the 'split' attribute (opset < 13), the constant input 1 (opset 13),
 * 'num_outputs' (opset 18: equal chunks of ceil(dim / num), the last one
 * shorter) or, absent all, equal parts for the outputs. Tile's repeats are a
 * constant input. FLOPs are 0 (see op_shape.c for the convention). */
#include <string.h>

#include "layers/op_move.h"

/* ---- Split ------------------------------------------------------------------ */

static dk_status split_sizes(dk_graph *g, dk_node *n, int64_t dim, int64_t *sizes)
{
    const int nout = n->n_outputs;
    const int64_t *attr;
    int n_attr, n_input = -1;
    int64_t num;
    char a[256];
    DK_TRY(dk__attr_ints(g, n, "split", &n_attr, &attr));
    DK_TRY(dk__attr_int(g, n, "num_outputs", 0, &num));
    if (dk__in(g, n, 1)) DK_TRY(dk__const_ints(g, n, 1, sizes, DK_MAX_SPLIT, &n_input));
    if (n_attr >= 0 && n_input >= 0)
        return dk__node_error(g, n, DK_ERR_FORMAT, "split given both as attribute and as input 1");
    if (dk_node_attr(n, "num_outputs") && (n_attr >= 0 || n_input >= 0))
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'num_outputs' and split sizes are "
                              "both given");
    if (dk_node_attr(n, "num_outputs") && num != nout)
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'num_outputs' is %lld but the node "
                              "has %d outputs", (long long)num, nout);
    if (n_attr > DK_MAX_SPLIT)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute 'split' has %d values (max %d)",
                              n_attr, DK_MAX_SPLIT);
    for (int i = 0; i < n_attr; i++) sizes[i] = attr[i];
    int count = n_attr >= 0 ? n_attr : n_input;
    if (count >= 0) {
        int64_t sum = 0;
        if (count != nout)
            return dk__node_error(g, n, DK_ERR_SHAPE, "split %s has %d values for %d outputs",
                                  dk__ints_str(sizes, count, a, sizeof a), count, nout);
        for (int i = 0; i < count; i++) {
            if (sizes[i] < 0 || sizes[i] > DK_MAX_DIM)
                return dk__node_error(g, n, DK_ERR_SHAPE, "split %s has an invalid size",
                                      dk__ints_str(sizes, count, a, sizeof a));
            sum += sizes[i];
        }
        if (sum != dim)
            return dk__node_error(g, n, DK_ERR_SHAPE, "split %s adds up to %lld, the axis has %lld",
                                  dk__ints_str(sizes, count, a, sizeof a), (long long)sum,
                                  (long long)dim);
        return DK_OK;
    }
    /* equal chunks; with num_outputs the last may be shorter */
    int64_t chunk = dk_node_attr(n, "num_outputs") ? (dim + nout - 1) / nout : dim / nout;
    if (!dk_node_attr(n, "num_outputs") && dim % nout != 0)
        return dk__node_error(g, n, DK_ERR_SHAPE, "axis of %lld does not split into %d equal "
                              "parts", (long long)dim, nout);
    if (chunk * (nout - 1) > dim)
        return dk__node_error(g, n, DK_ERR_SHAPE, "attribute 'num_outputs' %d: an axis of %lld "
                              "leaves the last output no elements", nout, (long long)dim);
    for (int i = 0; i < nout; i++) sizes[i] = i < nout - 1 ? chunk : dim - chunk * (nout - 1);
    return DK_OK;
}

dk_status dk__infer_split(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    int64_t axis, dims[DK_MAX_DIMS];
    dk_split_params *p = &n->p.split;
    DK_TRY(dk__move_input(g, n, 0, &x));
    if (n->n_outputs > DK_MAX_SPLIT)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "%d outputs (max %d)", n->n_outputs,
                              DK_MAX_SPLIT);
    DK_TRY(dk__attr_int(g, n, "axis", 0, &axis));
    DK_TRY(dk__norm_axis(g, n, axis, x->ndim, &p->axis));
    DK_TRY(split_sizes(g, n, x->dims[p->axis], p->sizes));
    p->count = n->n_outputs;
    memcpy(dims, x->dims, sizeof dims);
    for (int i = 0; i < n->n_outputs; i++) {
        dims[p->axis] = p->sizes[i];
        dk__set_out(g, n, i, x->dtype, x->ndim, dims);
    }
    n->flops = 0;
    return DK_OK;
}

/* Each output takes, from every block of the dims before the axis, its
 * contiguous run of sizes[i] * inner elements. */
dk_status dk__eval_split(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    const dk_split_params *p = &n->p.split;
    const size_t es = dk_dtype_size(x->dtype);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < p->axis; d++) outer *= x->dims[d];
    for (int d = p->axis + 1; d < x->ndim; d++) inner *= x->dims[d];
    const int64_t dim = x->dims[p->axis];
    int64_t off = 0;
    for (int i = 0; i < p->count && i < n->n_outputs; i++) {
        dk_tensor *y = out[i];
        const int64_t run = p->sizes[i] * inner;
        if (y && (y->dtype != x->dtype || dk_tensor_numel(y) != outer * run))
            return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
        for (int64_t o = 0; y && run && o < outer; o++)
            memcpy((char *)y->data + (size_t)(o * run) * es,
                   (const char *)x->data + (size_t)((o * dim + off) * inner) * es, (size_t)run * es);
        off += p->sizes[i];
    }
    return DK_OK;
}

/* ---- Tile ------------------------------------------------------------------- */

dk_status dk__infer_tile(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    int64_t reps[DK_MAX_DIMS], dims[DK_MAX_DIMS];
    int count;
    char a[128];
    DK_TRY(dk__move_input(g, n, 0, &x));
    if (n->opset < 6)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "opset %lld Tile (tiles and axis inputs) "
                              "is not supported", (long long)n->opset);
    if (!dk__in(g, n, 1)) return dk__node_error(g, n, DK_ERR_FORMAT, "input 1 (repeats) is required");
    DK_TRY(dk__const_ints(g, n, 1, reps, DK_MAX_DIMS, &count));
    if (count != x->ndim)
        return dk__node_error(g, n, DK_ERR_SHAPE, "repeats %s has %d values for an input of rank %d",
                              dk__ints_str(reps, count, a, sizeof a), count, x->ndim);
    for (int d = 0; d < count; d++) {
        if (reps[d] < 0 || reps[d] > DK_MAX_DIM || !dk_ck_mul(x->dims[d], reps[d], &dims[d]))
            return dk__node_error(g, n, DK_ERR_SHAPE, "repeats %s: invalid or too large at axis %d",
                                  dk__ints_str(reps, count, a, sizeof a), d);
    }
    dk__set_out(g, n, 0, x->dtype, x->ndim, dims);
    n->flops = 0;
    return DK_OK;
}

/* Output element i reads the input at each coordinate modulo the input's dim. */
dk_status dk__eval_tile(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    if (y->dtype != x->dtype || y->ndim != x->ndim)
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    const size_t es = dk_dtype_size(x->dtype);
    const int64_t total = dk_tensor_numel(y);
    for (int64_t i = 0; i < total; i++) {
        int64_t rest = i, src = 0, stride = 1;
        for (int d = y->ndim - 1; d >= 0; d--) {
            src += (rest % y->dims[d]) % x->dims[d] * stride;
            rest /= y->dims[d];
            stride *= x->dims[d];
        }
        memcpy((char *)y->data + (size_t)i * es, (const char *)x->data + (size_t)src * es, es);
    }
    return DK_OK;
}
