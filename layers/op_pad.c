/* Pad: constant, reflect and edge modes; negative pads crop. Follows the
 * ONNX reference (numpy.pad on the uncropped input, then cropping), so reflect
 * wider than the axis keeps reflecting periodically. FLOPs are 0 (see
 * op_shape.c for the convention). */
#include <string.h>

#include "layers/op_move.h"

static dk_status parse_mode(dk_graph *g, dk_node *n, dk_pad_mode *mode)
{
    const char *s;
    DK_TRY(dk__attr_string(g, n, "mode", "constant", &s));
    if (strcmp(s, "constant") == 0) *mode = DK_PAD_CONSTANT;
    else if (strcmp(s, "reflect") == 0) *mode = DK_PAD_REFLECT;
    else if (strcmp(s, "edge") == 0) *mode = DK_PAD_EDGE;
    else if (strcmp(s, "wrap") == 0)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "mode 'wrap' is not supported");
    else return dk__node_error(g, n, DK_ERR_FORMAT, "unknown mode '%s'", s);
    return DK_OK;
}

/* Opset < 11: attributes pads ('paddings' in opset 1) and value. */
static dk_status pads_from_attrs(dk_graph *g, dk_node *n, int64_t *pads, int *count, double *value)
{
    const int64_t *attr;
    const char *name = n->opset < 2 && dk_node_attr(n, "paddings") ? "paddings" : "pads";
    float v;
    DK_TRY(dk__attr_ints(g, n, name, count, &attr));
    if (*count < 0) return dk__node_error(g, n, DK_ERR_FORMAT, "attribute '%s' is required", name);
    if (*count > 2 * DK_MAX_DIMS)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "%d pads exceed the maximum rank %d",
                              *count, DK_MAX_DIMS);
    for (int i = 0; i < *count; i++) pads[i] = attr[i];
    DK_TRY(dk__attr_float(g, n, "value", 0.0f, &v));
    *value = v;
    return DK_OK;
}

/* Opset >= 11: constant inputs pads (1), constant_value (2), axes (3, opset 18). */
static dk_status pads_from_inputs(dk_graph *g, dk_node *n, const dk_tensor *x, int64_t *pads,
                                  int *count, double *value)
{
    if (!dk__in(g, n, 1)) return dk__node_error(g, n, DK_ERR_FORMAT, "input 1 (pads) is required");
    DK_TRY(dk__const_ints(g, n, 1, pads, 2 * DK_MAX_DIMS, count));
    *value = 0;
    if (dk__in(g, n, 2)) {
        const dk_tensor *c = dk__const_in(g, n, 2);
        if (!c)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED,
                                  "input 2 (constant_value, '%s') must be a constant known at "
                                  "load time",
                                  g->values[n->inputs[2]].t.name);
        if (dk_tensor_numel(c) != 1 || c->dtype != x->dtype)
            return dk__node_error(g, n, DK_ERR_FORMAT,
                                  "input 2 (constant_value) must be one %s, got %lld of %s",
                                  dk_dtype_name(x->dtype), (long long)dk_tensor_numel(c),
                                  dk_dtype_name(c->dtype));
        *value = dk_tensor_get(c, 0);
    }
    return DK_OK;
}

/* Where the pads come from, for messages. */
static const char *pads_name(const dk_node *n)
{
    if (n->opset >= 11) return "input 1 (pads)";
    return n->opset < 2 && dk_node_attr(n, "paddings") ? "attribute 'paddings'" : "attribute 'pads'";
}

/* Spreads pads over the axes listed in input 3 (all axes when absent). */
static dk_status assign_pads(dk_graph *g, dk_node *n, const dk_tensor *x, const int64_t *pads,
                             int count)
{
    int64_t axes[DK_MAX_DIMS];
    int naxes = -1, r = x->ndim;
    char b[256];
    if (n->opset >= 18) DK_TRY(dk__const_ints(g, n, 3, axes, DK_MAX_DIMS, &naxes));
    if (naxes < 0)
        for (naxes = 0; naxes < r; naxes++) axes[naxes] = naxes;
    if (count != 2 * naxes)
        return dk__node_error(g, n, DK_ERR_SHAPE, "pads %s has %d values but input has rank %d "
                              "(%d axes padded, %d values expected)",
                              dk__ints_str(pads, count, b, sizeof b), count, r, naxes, 2 * naxes);
    for (int d = 0; d < DK_MAX_DIMS; d++) n->p.pad.begin[d] = n->p.pad.end[d] = 0;
    /* Bounded, so that padding an axis (itself bounded) cannot overflow. */
    for (int i = 0; i < count; i++)
        if (pads[i] < -DK_MAX_DIM || pads[i] > DK_MAX_DIM)
            return dk__node_error(g, n, DK_ERR_SHAPE, "%s value %lld at index %d is out of range "
                                  "(at most " DK_MAX_LIMIT_STR " either way)", pads_name(n),
                                  (long long)pads[i], i);
    for (int i = 0; i < naxes; i++) {
        int a;
        DK_TRY(dk__norm_axis(g, n, axes[i], r, &a));
        n->p.pad.begin[a] = pads[i];
        n->p.pad.end[a] = pads[i + naxes];
    }
    return DK_OK;
}

dk_status dk__infer_pad(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    int64_t pads[2 * DK_MAX_DIMS], dims[DK_MAX_DIMS];
    int count;
    char a[128];
    DK_TRY(dk__move_input(g, n, 0, &x));
    DK_TRY(parse_mode(g, n, &n->p.pad.mode));
    if (n->opset < 11) DK_TRY(pads_from_attrs(g, n, pads, &count, &n->p.pad.value));
    else DK_TRY(pads_from_inputs(g, n, x, pads, &count, &n->p.pad.value));
    DK_TRY(assign_pads(g, n, x, pads, count));

    int empty_source = 0;
    for (int d = 0; d < x->ndim; d++) {
        dims[d] = x->dims[d] + n->p.pad.begin[d] + n->p.pad.end[d];
        if (dims[d] < 0)
            return dk__node_error(g, n, DK_ERR_SHAPE,
                                  "pads %lld/%lld crop more than the %lld elements of axis %d",
                                  (long long)n->p.pad.begin[d], (long long)n->p.pad.end[d],
                                  (long long)x->dims[d], d);
        if (dims[d] > DK_MAX_DIM)
            return dk__node_error(g, n, DK_ERR_SHAPE, "%s %lld/%lld make axis %d of %lld elements "
                                  "%lld long, out of range (at most " DK_MAX_LIMIT_STR ")",
                                  pads_name(n), (long long)n->p.pad.begin[d],
                                  (long long)n->p.pad.end[d], d, (long long)x->dims[d],
                                  (long long)dims[d]);
        empty_source |= x->dims[d] == 0;
    }
    /* edge and reflect copy existing elements: there must be some. */
    if (n->p.pad.mode != DK_PAD_CONSTANT && empty_source && dk_shape_numel(x->ndim, dims) != 0)
        return dk__node_error(g, n, DK_ERR_SHAPE, "cannot %s-pad the empty input %s",
                              n->p.pad.mode == DK_PAD_EDGE ? "edge" : "reflect",
                              dk_shape_str(x->ndim, x->dims, a, sizeof a));
    if (x->dtype == DK_F16 && n->p.pad.mode == DK_PAD_CONSTANT && n->p.pad.value != 0)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED,
                              "constant value %g for float16 input (only 0 is supported)",
                              n->p.pad.value);
    dk__set_out(g, n, 0, x->dtype, x->ndim, dims);
    n->flops = 0;
    return DK_OK;
}

/* Input index feeding position i (relative to the input's start) on an axis
 * of size len, or -1 where constant mode writes the pad value. */
static int64_t source_index(int64_t i, int64_t len, dk_pad_mode mode)
{
    if (i >= 0 && i < len) return i;
    switch (mode) {
    case DK_PAD_EDGE: return i < 0 ? 0 : len - 1;
    case DK_PAD_REFLECT: {
        if (len == 1) return 0;
        int64_t period = 2 * (len - 1), m = i % period;
        if (m < 0) m += period;
        return m < len ? m : period - m;
    }
    case DK_PAD_CONSTANT: break;
    }
    return -1;
}

/* Writes count copies of the esize-byte element at fill to dst. */
static void fill_elems(char *dst, int64_t count, const unsigned char *fill, size_t esize)
{
    if (count <= 0) return;
    size_t total = (size_t)count * esize, done = esize;
    memcpy(dst, fill, esize);
    while (done < total) { /* double the filled prefix */
        size_t chunk = done < total - done ? done : total - done;
        memcpy(dst + done, dst, chunk);
        done += chunk;
    }
}

/* One output row along the last axis: the middle is a memcpy of the input
 * row, the margins are mapped element by element. */
static void pad_row(char *dst, const char *src, int64_t in_len, int64_t out_len, int64_t begin,
                    dk_pad_mode mode, const unsigned char *fill, size_t esize)
{
    int64_t lo = begin > 0 ? begin : 0;
    int64_t hi = begin + in_len < out_len ? begin + in_len : out_len;
    if (hi > lo) memcpy(dst + (size_t)lo * esize, src + (size_t)(lo - begin) * esize,
                        (size_t)(hi - lo) * esize);
    else lo = hi = out_len; /* nothing of the input survives the cropping */
    for (int64_t o = 0; o < out_len; o++) {
        if (o == lo) o = hi;
        if (o >= out_len) break;
        int64_t s = source_index(o - begin, in_len, mode);
        memcpy(dst + (size_t)o * esize, s < 0 ? (const char *)fill : src + (size_t)s * esize,
               esize);
    }
}

dk_status dk__eval_pad(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    const dk_pad_params *p = &n->p.pad;
    int r = x->ndim;
    size_t esize = dk_dtype_size(x->dtype);
    if (y->ndim != r || y->dtype != x->dtype)
        return dk__eval_error(n, DK_ERR_INTERNAL, "output does not match the padded input");
    for (int d = 0; d < r; d++)
        if (y->dims[d] != x->dims[d] + p->begin[d] + p->end[d])
            return dk__eval_error(n, DK_ERR_INTERNAL,
                                  "output axis %d has %lld elements, expected %lld",
                                  d, (long long)y->dims[d],
                                  (long long)(x->dims[d] + p->begin[d] + p->end[d]));
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (r == 0) {
        memcpy(y->data, x->data, esize);
        return DK_OK;
    }

    /* The pad value encoded in the tensor's own dtype (8 bytes is the widest). */
    union { unsigned char bytes[8]; int64_t align; } fill = {{0}};
    dk_tensor cell = {.dtype = x->dtype, .ndim = 0, .data = fill.bytes};
    if (x->dtype != DK_F16) dk_tensor_set(&cell, 0, p->value);

    int64_t in_stride[DK_MAX_DIMS], idx[DK_MAX_DIMS] = {0};
    in_stride[r - 1] = 1;
    for (int d = r - 2; d >= 0; d--) in_stride[d] = in_stride[d + 1] * x->dims[d + 1];

    int64_t row = y->dims[r - 1], rows = dk_tensor_numel(y) / row;
    char *dst = y->data;
    for (int64_t k = 0; k < rows; k++) {
        int64_t off = 0;
        int outside = 0;
        for (int d = 0; d < r - 1 && !outside; d++) {
            int64_t s = source_index(idx[d] - p->begin[d], x->dims[d], p->mode);
            outside = s < 0;
            off += s * in_stride[d];
        }
        if (outside) fill_elems(dst, row, fill.bytes, esize);
        else pad_row(dst, (const char *)x->data + (size_t)off * esize, x->dims[r - 1], row,
                     p->begin[r - 1], p->mode, fill.bytes, esize);
        dst += (size_t)row * esize;
        for (int d = r - 2; d >= 0 && ++idx[d] == y->dims[d]; d--) idx[d] = 0; /* odometer */
    }
    return DK_OK;
}
