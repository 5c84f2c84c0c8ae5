/* Ops that relabel a tensor's shape without moving its bytes (Flatten, Reshape,
 * Squeeze, Unsqueeze, Identity, Dropout in inference), plus Constant and Shape.
 * Their evals serve both constant folding and the reference backend.
 *
 * FLOPs convention: data movement performs no floating point arithmetic, so
 * n->flops = 0 for every op in this file (and in op_permute.c, op_pad.c,
 * op_gather.c); the bytes they move are counted generically by finalize. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "layers/op_move.h"
#include "runtime/checked.h"
#include "runtime/text.h"

/* ---- helpers shared with the other data-movement files ---------------- */

dk_status dk__move_input(const dk_graph *g, const dk_node *n, int i, const dk_tensor **out)
{
    const dk_tensor *t = dk__in(g, n, i);
    if (!t) return dk__node_error(g, n, DK_ERR_FORMAT, "input %d is required", i);
    if (dk_dtype_size(t->dtype) == 0)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input %d ('%s') has unsupported type %s",
                              i, t->name ? t->name : "", dk_dtype_name(t->dtype));
    *out = t;
    return DK_OK;
}

dk_status dk__eval_error(const dk_node *n, dk_status s, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dk__error(s, "node '%s' (%s): %s", DK_ESC(n->name), dk_op_name(n->op), msg);
}

int64_t dk__broadcast_index(const dk_tensor *t, int first, const dk_tensor *out, int64_t i)
{
    int64_t idx = 0, stride = 1;
    for (int d = out->ndim - 1; d >= 0; d--) {
        int64_t coord = i % out->dims[d];
        i /= out->dims[d];
        int k = d - first;
        if (k < 0 || k >= t->ndim) continue;
        if (t->dims[k] != 1) idx += coord * stride;
        stride *= t->dims[k];
    }
    return idx;
}

int dk__broadcast_shapes(int count, const int *ndims, const int64_t *const *shapes, int *ndim,
                         int64_t *dims)
{
    int r = 0;
    for (int k = 0; k < count; k++) r = ndims[k] > r ? ndims[k] : r;
    for (int d = 0; d < r; d++) {
        int64_t size = 1;
        for (int k = 0; k < count; k++) {
            int i = d - (r - ndims[k]);
            int64_t v = i >= 0 ? shapes[k][i] : 1;
            if (v == 1) continue;
            if (size != 1 && v != size) return 0;
            size = v;
        }
        dims[d] = size;
    }
    *ndim = r;
    return 1;
}

const char *dk__ints_str(const int64_t *v, int count, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0) return buf;
    used += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld", (long long)v[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

/* Reads an axes list: from attribute 'axes' before opset 13, from the optional
 * constant input 1 since. *count = -1 when absent. */
static dk_status read_axes(const dk_graph *g, const dk_node *n, int64_t *axes, int *count)
{
    if (n->opset >= 13) return dk__const_ints(g, n, 1, axes, DK_MAX_DIMS, count);
    const int64_t *attr;
    DK_TRY(dk__attr_ints(g, n, "axes", count, &attr));
    if (*count > DK_MAX_DIMS)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "%d axes exceed the maximum rank %d",
                              *count, DK_MAX_DIMS);
    for (int i = 0; i < *count; i++) axes[i] = attr[i];
    return DK_OK;
}

/* Normalises axes against rank into a membership mask; duplicates are malformed. */
static dk_status axes_mask(const dk_graph *g, const dk_node *n, const int64_t *axes, int count,
                           int rank, int *mask)
{
    for (int d = 0; d < rank; d++) mask[d] = 0;
    for (int i = 0; i < count; i++) {
        int a;
        DK_TRY(dk__norm_axis(g, n, axes[i], rank, &a));
        if (mask[a])
            return dk__node_error(g, n, DK_ERR_FORMAT, "axis %lld is listed twice",
                                  (long long)axes[i]);
        mask[a] = 1;
    }
    return DK_OK;
}

/* ---- Flatten ----------------------------------------------------------- */

dk_status dk__infer_flatten(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    int64_t axis;
    DK_TRY(dk__move_input(g, n, 0, &x));
    DK_TRY(dk__attr_int(g, n, "axis", 1, &axis));
    int r = x->ndim;
    /* axis == rank is valid here: the output is [numel, 1]. */
    if (axis < -r || axis > r)
        return dk__node_error(g, n, DK_ERR_SHAPE, "axis %lld out of range [%d, %d] for rank %d",
                              (long long)axis, -r, r, r);
    if (axis < 0) axis += r;
    /* Each part of a bounded input is bounded unless the other part is
     * empty: [2^40, 2^40, 0] flattens to [2^80, 0]. */
    int64_t dims[2];
    if (!dk_ck_numel_ok((int)axis, x->dims, &dims[0]) ||
        !dk_ck_numel_ok(r - (int)axis, x->dims + axis, &dims[1])) {
        char a[128];
        return dk__node_error(g, n, DK_ERR_SHAPE, "flattening input %s at axis %lld gives a "
                              "dimension of more than " DK_MAX_LIMIT_STR " elements",
                              dk_shape_str(x->ndim, x->dims, a, sizeof a), (long long)axis);
    }
    n->p.axis.axis = (int)axis;
    dk__set_out(g, n, 0, x->dtype, 2, dims);
    n->flops = 0;
    return DK_OK;
}

/* ---- Reshape ----------------------------------------------------------- */

static dk_status reshape_request(dk_graph *g, dk_node *n, int64_t *shape, int *count)
{
    if (n->opset >= 5) {
        const dk_tensor *s = dk__in(g, n, 1);
        if (!s) return dk__node_error(g, n, DK_ERR_FORMAT, "input 1 (shape) is required");
        if (s->ndim != 1)
            return dk__node_error(g, n, DK_ERR_FORMAT, "input 1 (shape) must be 1-D, got rank %d",
                                  s->ndim);
        return dk__const_ints(g, n, 1, shape, DK_MAX_DIMS, count);
    }
    const int64_t *attr;
    DK_TRY(dk__attr_ints(g, n, "shape", count, &attr));
    if (*count < 0) return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'shape' is required");
    if (*count > DK_MAX_DIMS)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "target rank %d exceeds the maximum %d",
                              *count, DK_MAX_DIMS);
    for (int i = 0; i < *count; i++) shape[i] = attr[i];
    return DK_OK;
}

dk_status dk__infer_reshape(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    int64_t req[DK_MAX_DIMS], dims[DK_MAX_DIMS], allowzero;
    int count;
    char a[128], b[160];
    DK_TRY(dk__move_input(g, n, 0, &x));
    DK_TRY(reshape_request(g, n, req, &count));
    DK_TRY(dk__attr_int(g, n, "allowzero", 0, &allowzero));

    int infer_at = -1, has_zero = 0;
    for (int i = 0; i < count; i++) {
        if (req[i] < -1)
            return dk__node_error(g, n, DK_ERR_FORMAT, "shape %s has invalid entry %lld",
                                  dk__ints_str(req, count, b, sizeof b), (long long)req[i]);
        if (req[i] > DK_MAX_DIM)
            return dk__node_error(g, n, DK_ERR_SHAPE, "shape %s: entry %lld at index %d is out of "
                                  "range (at most " DK_MAX_LIMIT_STR ")",
                                  dk__ints_str(req, count, b, sizeof b), (long long)req[i], i);
        if (req[i] == -1) {
            if (infer_at >= 0)
                return dk__node_error(g, n, DK_ERR_FORMAT, "shape %s has more than one -1",
                                      dk__ints_str(req, count, b, sizeof b));
            infer_at = i;
            dims[i] = 1; /* a neutral factor for the product below */
            continue;
        }
        dims[i] = req[i];
        if (req[i] == 0) {
            has_zero = 1;
            if (!allowzero) { /* 0 means "copy the input's dim at this index" */
                if (i >= x->ndim)
                    return dk__node_error(g, n, DK_ERR_SHAPE,
                                          "shape %s copies dim %d (0) but input %s has rank %d",
                                          dk__ints_str(req, count, b, sizeof b), i,
                                          dk_shape_str(x->ndim, x->dims, a, sizeof a), x->ndim);
                dims[i] = x->dims[i];
            }
        }
    }
    if (allowzero && has_zero && infer_at >= 0)
        return dk__node_error(g, n, DK_ERR_FORMAT, "shape %s mixes 0 and -1 with allowzero=1",
                              dk__ints_str(req, count, b, sizeof b));
    /* The input has at most 2^40 elements, so a larger request cannot match. */
    int64_t known;
    if (!dk_ck_numel_ok(count, dims, &known))
        return dk__node_error(g, n, DK_ERR_SHAPE, "shape %s has more than " DK_MAX_LIMIT_STR
                              " elements", dk__ints_str(req, count, b, sizeof b));

    int64_t numel = dk_tensor_numel(x);
    if (infer_at >= 0 && known != 0 && numel % known == 0) dims[infer_at] = numel / known;
    else if (infer_at >= 0 || known != numel)
        return dk__node_error(g, n, DK_ERR_SHAPE,
                              "cannot reshape input %s (%lld elements) to shape %s",
                              dk_shape_str(x->ndim, x->dims, a, sizeof a), (long long)numel,
                              dk__ints_str(req, count, b, sizeof b));
    dk__set_out(g, n, 0, x->dtype, count, dims);
    n->flops = 0;
    return DK_OK;
}

/* ---- Squeeze / Unsqueeze ----------------------------------------------- */

dk_status dk__infer_squeeze(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    int64_t axes[DK_MAX_DIMS], dims[DK_MAX_DIMS];
    int count, drop[DK_MAX_DIMS];
    char a[128];
    DK_TRY(dk__move_input(g, n, 0, &x));
    DK_TRY(read_axes(g, n, axes, &count));
    if (count < 0) { /* no axes: drop every dim of size 1 */
        for (int d = 0; d < x->ndim; d++) drop[d] = x->dims[d] == 1;
    } else {
        DK_TRY(axes_mask(g, n, axes, count, x->ndim, drop));
    }
    int r = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (!drop[d]) {
            dims[r++] = x->dims[d];
        } else if (x->dims[d] != 1) {
            return dk__node_error(g, n, DK_ERR_SHAPE,
                                  "cannot squeeze axis %d of size %lld (input %s)",
                                  d, (long long)x->dims[d],
                                  dk_shape_str(x->ndim, x->dims, a, sizeof a));
        }
    }
    dk__set_out(g, n, 0, x->dtype, r, dims);
    n->flops = 0;
    return DK_OK;
}

dk_status dk__infer_unsqueeze(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    int64_t axes[DK_MAX_DIMS], dims[DK_MAX_DIMS];
    int count, ones[DK_MAX_DIMS];
    DK_TRY(dk__move_input(g, n, 0, &x));
    DK_TRY(read_axes(g, n, axes, &count));
    if (count < 0) return dk__node_error(g, n, DK_ERR_FORMAT, "axes are required");
    int r = x->ndim + count;
    if (r > DK_MAX_DIMS)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "output rank %d exceeds the maximum %d",
                              r, DK_MAX_DIMS);
    /* Axes refer to the output, so they may come in any order. */
    DK_TRY(axes_mask(g, n, axes, count, r, ones));
    for (int d = 0, k = 0; d < r; d++) dims[d] = ones[d] ? 1 : x->dims[k++];
    dk__set_out(g, n, 0, x->dtype, r, dims);
    n->flops = 0;
    return DK_OK;
}

/* ---- Identity / Dropout ------------------------------------------------ */

/* Dropout is accepted only where it is the identity (inference): random masks
 * cannot serve as an oracle. */
static dk_status check_dropout_inference(dk_graph *g, dk_node *n)
{
    if (n->opset < 7) {
        /* The spec's default is_test=0 means training, but opset < 7 exporters
         * that omit it mean inference; only an explicit is_test=0 is refused. */
        const dk_attr *is_test = dk_node_attr(n, "is_test");
        int64_t v;
        DK_TRY(dk__attr_int(g, n, "is_test", 1, &v));
        if (is_test && v == 0)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED,
                                  "training mode (is_test=0) is not supported");
        return DK_OK;
    }
    if (n->opset < 12 || !dk__in(g, n, 2)) return DK_OK;

    const dk_tensor *mode = dk__const_in(g, n, 2);
    if (!mode || dk_tensor_numel(mode) != 1)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED,
                              "input 2 (training_mode, '%s') must be a constant scalar known at "
                              "load time",
                              g->values[n->inputs[2]].t.name);
    if (dk_tensor_get(mode, 0) == 0) return DK_OK;

    double ratio = 0.5; /* the spec's default */
    if (dk__in(g, n, 1)) {
        const dk_tensor *r = dk__const_in(g, n, 1);
        if (!r || dk_tensor_numel(r) != 1)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED,
                                  "training mode needs input 1 (ratio, '%s') to be a constant "
                                  "scalar known at load time",
                                  g->values[n->inputs[1]].t.name);
        ratio = dk_tensor_get(r, 0);
    }
    /* Training with ratio 0 drops nothing: still the identity. */
    if (ratio != 0)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED,
                              "training mode (training_mode=true, ratio=%g) is not supported",
                              ratio);
    return DK_OK;
}

dk_status dk__infer_identity(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    DK_TRY(dk__move_input(g, n, 0, &x));
    if (n->op == DK_OP_DROPOUT) {
        DK_TRY(check_dropout_inference(g, n));
        /* The mask is bool from opset 10, the input's type before. */
        dk__set_out(g, n, 1, n->opset >= 10 ? DK_BOOL : x->dtype, x->ndim, x->dims);
    }
    dk__set_out(g, n, 0, x->dtype, x->ndim, x->dims);
    n->flops = 0;
    return DK_OK;
}

/* Sets every element of t to one (Dropout's mask: every element is kept). */
static void fill_ones(dk_tensor *t)
{
    int64_t numel = dk_tensor_numel(t);
    size_t esize = dk_dtype_size(t->dtype);
    if (numel == 0) return;
    if (t->dtype == DK_F16) {
        uint16_t one = 0x3C00; /* 1.0 in IEEE half precision */
        memcpy(t->data, &one, sizeof one);
    } else {
        dk_tensor_set(t, 0, 1.0);
    }
    /* Replicate the first element by doubling the filled prefix. */
    size_t done = esize, total = (size_t)numel * esize;
    while (done < total) {
        size_t chunk = done < total - done ? done : total - done;
        memcpy((char *)t->data + done, t->data, chunk);
        done += chunk;
    }
}

/* Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout: the row-major
 * layout is unchanged, so the output is a byte copy of the input. */
dk_status dk__eval_copy(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    size_t bytes = dk_tensor_nbytes(out[0]);
    if (dk_tensor_nbytes(in[0]) != bytes || in[0]->dtype != out[0]->dtype)
        return dk__eval_error(n, DK_ERR_INTERNAL,
                              "input is %zu bytes of %s, output %zu bytes of %s",
                              dk_tensor_nbytes(in[0]), dk_dtype_name(in[0]->dtype), bytes,
                              dk_dtype_name(out[0]->dtype));
    if (bytes && in[0]->data != out[0]->data) memmove(out[0]->data, in[0]->data, bytes);
    if (n->op == DK_OP_DROPOUT && n->n_outputs > 1 && out[1]) fill_ones(out[1]);
    return DK_OK;
}

/* ---- Constant ---------------------------------------------------------- */

static const char *const constant_attrs[] = {"value", "value_float", "value_floats", "value_int",
                                             "value_ints"};
#define N_CONSTANT_ATTRS ((int)(sizeof constant_attrs / sizeof constant_attrs[0]))

/* The single value attribute of a Constant node, or NULL. */
static const dk_attr *constant_attr(const dk_node *n)
{
    const dk_attr *found = NULL;
    for (int i = 0; i < N_CONSTANT_ATTRS; i++) {
        const dk_attr *a = dk_node_attr(n, constant_attrs[i]);
        if (a && found) return NULL;
        if (a) found = a;
    }
    return found;
}

dk_status dk__infer_constant(dk_graph *g, dk_node *n)
{
    const dk_attr *a = constant_attr(n);
    if (!a)
        return dk__node_error(g, n, DK_ERR_FORMAT,
                              "needs exactly one of value, value_float(s), value_int(s)");
    dk_attr_type want = strcmp(a->name, "value") == 0          ? DK_ATTR_TENSOR
                        : strcmp(a->name, "value_float") == 0  ? DK_ATTR_FLOAT
                        : strcmp(a->name, "value_floats") == 0 ? DK_ATTR_FLOATS
                        : strcmp(a->name, "value_int") == 0    ? DK_ATTR_INT
                                                               : DK_ATTR_INTS;
    if (a->type != want || (want == DK_ATTR_TENSOR && !a->t))
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute '%s' has the wrong type", a->name);

    int64_t len = a->n;
    switch (want) {
    case DK_ATTR_TENSOR: {
        const dk_tensor *t = a->t;
        if (dk_dtype_size(t->dtype) == 0)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "constant of unsupported type %s",
                                  dk_dtype_name(t->dtype));
        if (!t->data && dk_tensor_numel(t) > 0)
            return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'value' has no data");
        dk__set_out(g, n, 0, t->dtype, t->ndim, t->dims);
        break;
    }
    case DK_ATTR_FLOAT: dk__set_out(g, n, 0, DK_F32, 0, NULL); break;
    case DK_ATTR_INT: dk__set_out(g, n, 0, DK_I64, 0, NULL); break;
    case DK_ATTR_FLOATS: dk__set_out(g, n, 0, DK_F32, 1, &len); break;
    default: dk__set_out(g, n, 0, DK_I64, 1, &len); break;
    }
    n->flops = 0;
    return DK_OK;
}

dk_status dk__eval_constant(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_attr *a = constant_attr(n);
    dk_tensor *y = out[0];
    if (!a) return dk__eval_error(n, DK_ERR_FORMAT, "no value attribute");
    const void *src;
    size_t bytes;
    switch (a->type) {
    case DK_ATTR_TENSOR: src = a->t->data; bytes = dk_tensor_nbytes(a->t); break;
    case DK_ATTR_FLOAT: src = &a->f; bytes = sizeof a->f; break;
    case DK_ATTR_INT: src = &a->i; bytes = sizeof a->i; break;
    case DK_ATTR_FLOATS: src = a->floats; bytes = (size_t)a->n * sizeof *a->floats; break;
    case DK_ATTR_INTS: src = a->ints; bytes = (size_t)a->n * sizeof *a->ints; break;
    default: return dk__eval_error(n, DK_ERR_FORMAT, "attribute '%s' has the wrong type", a->name);
    }
    if (bytes != dk_tensor_nbytes(y))
        return dk__eval_error(n, DK_ERR_INTERNAL, "value has %zu bytes, output %zu", bytes,
                              dk_tensor_nbytes(y));
    if (bytes) memcpy(y->data, src, bytes);
    return DK_OK;
}

/* ---- Shape --------------------------------------------------------------- */

/* Shape's start/end (opset 15): negative counts from the end, then clamped. */
static int clamp_dim_index(int64_t v, int rank)
{
    if (v < 0) v += rank;
    return (int)(v < 0 ? 0 : v > rank ? rank : v);
}

dk_status dk__infer_shape(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    int64_t start, end;
    DK_TRY(dk__move_input(g, n, 0, &x));
    DK_TRY(dk__attr_int(g, n, "start", 0, &start));
    DK_TRY(dk__attr_int(g, n, "end", x->ndim, &end));
    n->p.shape.start = clamp_dim_index(start, x->ndim);
    n->p.shape.end = clamp_dim_index(end, x->ndim);
    if (n->p.shape.end < n->p.shape.start) n->p.shape.end = n->p.shape.start;
    int64_t len = n->p.shape.end - n->p.shape.start;
    dk__set_out(g, n, 0, DK_I64, 1, &len);
    n->flops = 0;
    return DK_OK;
}

dk_status dk__eval_shape(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    int start = n->p.shape.start, end = n->p.shape.end;
    if (out[0]->dtype != DK_I64 || end > in[0]->ndim || dk_tensor_numel(out[0]) != end - start)
        return dk__eval_error(n, DK_ERR_INTERNAL, "output does not match start %d, end %d", start,
                              end);
    int64_t *y = out[0]->data;
    for (int d = start; d < end; d++) y[d - start] = in[0]->dims[d];
    return DK_OK;
}
