/* Slice: starts, ends, axes and steps as constant inputs (opset >= 10) or as
 * attributes (opset 1-9, step 1). Negative indices count from the end and are
 * clamped to the axis as ONNX specifies; steps may be negative. FLOPs are 0
 * (see op_shape.c for the convention). */
#include <string.h>

#include "layers/op_move.h"

/* The slicing lists of a node, each -1 long when absent. */
typedef struct slice_lists {
    int64_t starts[DK_MAX_DIMS], ends[DK_MAX_DIMS], axes[DK_MAX_DIMS], steps[DK_MAX_DIMS];
    int n_starts, n_ends, n_axes, n_steps;
} slice_lists;

static dk_status attr_list(const dk_graph *g, const dk_node *n, const char *name, int64_t *v,
                           int *count)
{
    const int64_t *attr;
    DK_TRY(dk__attr_ints(g, n, name, count, &attr));
    if (*count > DK_MAX_DIMS)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute '%s' has %d values (max %d)",
                              name, *count, DK_MAX_DIMS);
    for (int i = 0; i < *count; i++) v[i] = attr[i];
    return DK_OK;
}

static dk_status read_lists(const dk_graph *g, const dk_node *n, slice_lists *l)
{
    l->n_steps = -1;
    if (n->opset < 10) {
        if (n->n_inputs > 1)
            return dk__node_error(g, n, DK_ERR_FORMAT, "opset %lld Slice takes 1 input, got %d",
                                  (long long)n->opset, n->n_inputs);
        DK_TRY(attr_list(g, n, "starts", l->starts, &l->n_starts));
        DK_TRY(attr_list(g, n, "ends", l->ends, &l->n_ends));
        DK_TRY(attr_list(g, n, "axes", l->axes, &l->n_axes));
        if (l->n_starts < 0 || l->n_ends < 0)
            return dk__node_error(g, n, DK_ERR_FORMAT, "attributes 'starts' and 'ends' are "
                                  "required in opset %lld", (long long)n->opset);
        return DK_OK;
    }
    if (dk_node_attr(n, "starts") || dk_node_attr(n, "ends") || dk_node_attr(n, "axes"))
        return dk__node_error(g, n, DK_ERR_FORMAT, "opset %lld Slice takes starts/ends/axes as "
                              "inputs, not attributes", (long long)n->opset);
    DK_TRY(dk__const_ints(g, n, 1, l->starts, DK_MAX_DIMS, &l->n_starts));
    DK_TRY(dk__const_ints(g, n, 2, l->ends, DK_MAX_DIMS, &l->n_ends));
    DK_TRY(dk__const_ints(g, n, 3, l->axes, DK_MAX_DIMS, &l->n_axes));
    DK_TRY(dk__const_ints(g, n, 4, l->steps, DK_MAX_DIMS, &l->n_steps));
    if (l->n_starts < 0 || l->n_ends < 0)
        return dk__node_error(g, n, DK_ERR_FORMAT, "inputs 1 (starts) and 2 (ends) are required");
    return DK_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* First index and element count of one axis of length dim (ONNX's rules:
 * negative indices add dim, then clamp to [0, dim] for a positive step and
 * to [-1, dim - 1] for a negative one). */
static void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first,
                       int64_t *count)
{
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    int64_t len;
    if (step > 0) {
        start = clamp64(start, 0, dim);
        end = clamp64(end, 0, dim);
        len = end - start;
    } else {
        start = clamp64(start, 0, dim - 1);
        end = clamp64(end, -1, dim - 1);
        len = start - end;
        step = step < -INT64_MAX ? INT64_MAX : -step; /* |step| without overflow */
    }
    *first = start;
    *count = len <= 0 ? 0 : 1 + (len - 1) / step;
}

dk_status dk__infer_slice(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    slice_lists l;
    char a[128];
    DK_TRY(dk__move_input(g, n, 0, &x));
    DK_TRY(read_lists(g, n, &l));
    int count = l.n_starts;
    if (l.n_ends != count || (l.n_axes >= 0 && l.n_axes != count) ||
        (l.n_steps >= 0 && l.n_steps != count))
        return dk__node_error(g, n, DK_ERR_SHAPE, "starts has %d values, ends %d, axes %d and "
                              "steps %d (-1: absent): they must match", l.n_starts, l.n_ends,
                              l.n_axes, l.n_steps);
    dk_slice_params *p = &n->p.slice;
    int64_t dims[DK_MAX_DIMS];
    int sliced[DK_MAX_DIMS] = {0};
    for (int d = 0; d < x->ndim; d++) p->start[d] = 0, p->step[d] = 1, dims[d] = x->dims[d];
    for (int i = 0; i < count; i++) {
        int axis;
        DK_TRY(dk__norm_axis(g, n, l.n_axes >= 0 ? l.axes[i] : i, x->ndim, &axis));
        if (sliced[axis])
            return dk__node_error(g, n, DK_ERR_FORMAT, "axis %d is sliced twice (axes %s)", axis,
                                  dk__ints_str(l.axes, l.n_axes, a, sizeof a));
        sliced[axis] = 1;
        int64_t step = l.n_steps >= 0 ? l.steps[i] : 1;
        if (step == 0)
            return dk__node_error(g, n, DK_ERR_FORMAT, "step 0 for axis %d (steps %s)", axis,
                                  dk__ints_str(l.steps, l.n_steps, a, sizeof a));
        slice_axis(x->dims[axis], l.starts[i], l.ends[i], step, &p->start[axis], &dims[axis]);
        p->step[axis] = step;
    }
    dk__set_out(g, n, 0, x->dtype, x->ndim, dims);
    n->flops = 0;
    return DK_OK;
}

/* Row by row over the output (all dims but the last); a row with step 1 is
 * one memcpy. */
dk_status dk__eval_slice(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    const dk_slice_params *p = &n->p.slice;
    const int r = x->ndim;
    if (y->dtype != x->dtype || y->ndim != r)
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    for (int d = 0; d < r; d++)
        if (y->dims[d] > 0 && (p->start[d] < 0 || p->start[d] >= x->dims[d] ||
                               p->start[d] + (y->dims[d] - 1) * p->step[d] < 0 ||
                               p->start[d] + (y->dims[d] - 1) * p->step[d] >= x->dims[d]))
            return dk__eval_error(n, DK_ERR_INTERNAL, "slice of axis %d leaves the input", d);
    const size_t es = dk_dtype_size(x->dtype);
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return DK_OK;
    }
    if (dk_tensor_numel(y) == 0) return DK_OK;
    int64_t stride[DK_MAX_DIMS]; /* input element strides */
    stride[r - 1] = 1;
    for (int d = r - 2; d >= 0; d--) stride[d] = stride[d + 1] * x->dims[d + 1];
    const int64_t len = y->dims[r - 1], step = p->step[r - 1];
    const int64_t rows = dk_tensor_numel(y) / len;
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t row = 0; row < rows; row++) {
        int64_t off = p->start[r - 1], rest = row;
        for (int d = r - 2; d >= 0; d--) {
            off += (p->start[d] + rest % y->dims[d] * p->step[d]) * stride[d];
            rest /= y->dims[d];
        }
        if (step == 1) {
            memcpy(dst, src + (size_t)off * es, (size_t)len * es);
        } else {
            for (int64_t i = 0; i < len; i++)
                memcpy(dst + (size_t)i * es, src + (size_t)(off + i * step) * es, es);
        }
        dst += (size_t)len * es;
    }
    return DK_OK;
}
