/* Transpose and Concat: ops that rearrange bytes of any dtype.
 * FLOPs are 0 (see op_shape.c for the convention). */
#include <string.h>

#include "layers/op_move.h"
#include "runtime/checked.h"

/* ---- Transpose ------------------------------------------------------------ */

dk_status dk__infer_transpose(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    const int64_t *perm;
    int count, seen[DK_MAX_DIMS] = {0};
    int64_t dims[DK_MAX_DIMS];
    char a[128], b[160];
    DK_TRY(dk__move_input(g, n, 0, &x));
    DK_TRY(dk__attr_ints(g, n, "perm", &count, &perm));
    int r = x->ndim;
    if (count < 0) { /* default: reverse the axes */
        for (int d = 0; d < r; d++) n->p.transpose.perm[d] = r - 1 - d;
    } else {
        if (count != r)
            return dk__node_error(g, n, DK_ERR_SHAPE,
                                  "perm %s has %d entries but input %s has rank %d",
                                  dk__ints_str(perm, count, b, sizeof b), count,
                                  dk_shape_str(x->ndim, x->dims, a, sizeof a), r);
        for (int d = 0; d < r; d++) {
            if (perm[d] < 0 || perm[d] >= r || seen[perm[d]]++)
                return dk__node_error(g, n, DK_ERR_FORMAT, "perm %s is not a permutation of 0..%d",
                                      dk__ints_str(perm, count, b, sizeof b), r - 1);
            n->p.transpose.perm[d] = (int)perm[d];
        }
    }
    for (int d = 0; d < r; d++) dims[d] = x->dims[n->p.transpose.perm[d]];
    dk__set_out(g, n, 0, x->dtype, r, dims);
    n->flops = 0;
    return DK_OK;
}

/* Copies count elements of esize bytes from src (stride in elements) to the
 * contiguous dst; typed loops for the common sizes so they compile to moves. */
static void gather_row(char *dst, const char *src, int64_t count, int64_t stride, size_t esize)
{
#define GATHER_ROW(T)                                                          \
    do {                                                                       \
        T *d_ = (T *)(void *)dst;                                              \
        const T *s_ = (const T *)(const void *)src;                            \
        for (int64_t i = 0; i < count; i++) d_[i] = s_[i * stride];            \
    } while (0)
    switch (esize) {
    case 1: GATHER_ROW(uint8_t); break;
    case 2: GATHER_ROW(uint16_t); break;
    case 4: GATHER_ROW(uint32_t); break;
    case 8: GATHER_ROW(uint64_t); break;
    default:
        for (int64_t i = 0; i < count; i++)
            memcpy(dst + (size_t)i * esize, src + (size_t)(i * stride) * esize, esize);
    }
#undef GATHER_ROW
}

/* Generic N-D strided copy: walks the output in row-major order; the input
 * stride of output axis d is the input stride of axis perm[d]. */
dk_status dk__eval_transpose(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    int r = x->ndim;
    size_t esize = dk_dtype_size(x->dtype);
    if (y->ndim != r || y->dtype != x->dtype || dk_tensor_numel(y) != dk_tensor_numel(x))
        return dk__eval_error(n, DK_ERR_INTERNAL, "output does not match the transposed input");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (r == 0) {
        memcpy(y->data, x->data, esize);
        return DK_OK;
    }

    int64_t in_stride[DK_MAX_DIMS], stride[DK_MAX_DIMS], idx[DK_MAX_DIMS] = {0};
    in_stride[r - 1] = 1;
    for (int d = r - 2; d >= 0; d--) in_stride[d] = in_stride[d + 1] * x->dims[d + 1];
    for (int d = 0; d < r; d++) stride[d] = in_stride[n->p.transpose.perm[d]];

    int64_t row = y->dims[r - 1], rows = dk_tensor_numel(y) / row;
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t k = 0; k < rows; k++) {
        int64_t off = 0;
        for (int d = 0; d < r - 1; d++) off += idx[d] * stride[d];
        gather_row(dst, src + (size_t)off * esize, row, stride[r - 1], esize);
        dst += (size_t)row * esize;
        for (int d = r - 2; d >= 0 && ++idx[d] == y->dims[d]; d--) idx[d] = 0; /* odometer */
    }
    return DK_OK;
}

/* ---- Concat --------------------------------------------------------------- */

dk_status dk__infer_concat(dk_graph *g, dk_node *n)
{
    const dk_tensor *x0;
    int64_t axis, dims[DK_MAX_DIMS];
    char a[128], b[128];
    DK_TRY(dk__move_input(g, n, 0, &x0));
    if (n->opset < 4) {
        DK_TRY(dk__attr_int(g, n, "axis", 1, &axis));
    } else {
        if (!dk_node_attr(n, "axis"))
            return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'axis' is required");
        DK_TRY(dk__attr_int(g, n, "axis", 0, &axis));
    }
    int r = x0->ndim;
    if (r == 0) return dk__node_error(g, n, DK_ERR_SHAPE, "cannot concatenate scalars");
    DK_TRY(dk__norm_axis(g, n, axis, r, &n->p.axis.axis));
    int ax = n->p.axis.axis;

    memcpy(dims, x0->dims, sizeof dims);
    for (int i = 1; i < n->n_inputs; i++) {
        const dk_tensor *x;
        DK_TRY(dk__move_input(g, n, i, &x));
        if (x->dtype != x0->dtype)
            return dk__node_error(g, n, DK_ERR_FORMAT, "input %d is %s but input 0 is %s", i,
                                  dk_dtype_name(x->dtype), dk_dtype_name(x0->dtype));
        int same = x->ndim == r;
        for (int d = 0; same && d < r; d++) same = d == ax || x->dims[d] == x0->dims[d];
        if (!same)
            return dk__node_error(g, n, DK_ERR_SHAPE,
                                  "input %d has shape %s but input 0 has %s: all dims except "
                                  "axis %d must match",
                                  i, dk_shape_str(x->ndim, x->dims, a, sizeof a),
                                  dk_shape_str(r, x0->dims, b, sizeof b), ax);
        if (!dk_ck_add(dims[ax], x->dims[ax], &dims[ax]))
            return dk__node_error(g, n, DK_ERR_SHAPE, "concatenated axis %d overflows", ax);
    }
    dk__set_out(g, n, 0, x0->dtype, r, dims);
    n->flops = 0;
    return DK_OK;
}

/* Each input contributes a contiguous chunk dims[axis:] per outer index. */
dk_status dk__eval_concat(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    dk_tensor *y = out[0];
    int ax = n->p.axis.axis;
    size_t esize = dk_dtype_size(y->dtype);
    int64_t outer = dk_shape_numel(ax, y->dims);
    size_t total = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        if (!in[i] || in[i]->dtype != y->dtype || in[i]->ndim != y->ndim)
            return dk__eval_error(n, DK_ERR_INTERNAL, "input %d does not match the output", i);
        total += dk_tensor_nbytes(in[i]);
    }
    if (total != dk_tensor_nbytes(y))
        return dk__eval_error(n, DK_ERR_INTERNAL, "inputs hold %zu bytes, output %zu", total,
                              dk_tensor_nbytes(y));
    char *dst = y->data;
    for (int64_t o = 0; o < outer; o++) {
        for (int i = 0; i < n->n_inputs; i++) {
            size_t chunk = (size_t)dk_shape_numel(y->ndim - ax, in[i]->dims + ax) * esize;
            if (!chunk) continue;
            memcpy(dst, (const char *)in[i]->data + (size_t)o * chunk, chunk);
            dst += chunk;
        }
    }
    return DK_OK;
}
