/* Helpers shared by the shape inference functions: inputs, outputs,
 * attributes with type checks, axes and errors with node context. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "layers/infer_util.h"
#include "runtime/text.h"

const dk_tensor *dk__in(const dk_graph *g, const dk_node *n, int i)
{
    if (i < 0 || i >= n->n_inputs || n->inputs[i] < 0) return NULL;
    return &g->values[n->inputs[i]].t;
}

const dk_tensor *dk__const_in(const dk_graph *g, const dk_node *n, int i)
{
    const dk_tensor *t = dk__in(g, n, i);
    if (!t || g->values[n->inputs[i]].kind != DK_VALUE_CONSTANT || !t->data) return NULL;
    return t;
}

dk_tensor *dk__out(dk_graph *g, const dk_node *n, int i)
{
    if (i < 0 || i >= n->n_outputs || n->outputs[i] < 0) return NULL;
    return &g->values[n->outputs[i]].t;
}

void dk__set_out(dk_graph *g, const dk_node *n, int i, dk_dtype dtype, int ndim,
                 const int64_t *dims)
{
    dk_tensor *t = dk__out(g, n, i);
    if (!t) return;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->dims[d] = dims[d];
}

dk_status dk__node_error(const dk_graph *g, const dk_node *n, dk_status s, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dk__error(s, "%s: node '%s' (%s): %s", g->source ? g->source : "graph", DK_ESC(n->name),
                     dk_op_name(n->op), msg);
}

dk_status dk__check_limits(const dk_graph *g, const dk_node *n, const dk_tensor *t, int is_output,
                           int i)
{
    char shape[160];
    const char *kind = is_output ? "output" : "input";
    int64_t numel;
    for (int d = 0; d < t->ndim; d++)
        if (!dk_ck_dim_ok(t->dims[d], 0))
            return dk__node_error(g, n, DK_ERR_SHAPE, "%s %d ('%s') has shape %s: dimension %lld "
                                  "at axis %d is out of range (at most " DK_MAX_LIMIT_STR ")",
                                  kind, i, DK_ESC(t->name),
                                  dk_shape_str(t->ndim, t->dims, shape, sizeof shape),
                                  (long long)t->dims[d], d);
    if (!dk_ck_numel_ok(t->ndim, t->dims, &numel))
        return dk__node_error(g, n, DK_ERR_SHAPE, "%s %d ('%s') has shape %s: more than "
                              DK_MAX_LIMIT_STR " elements", kind, i, DK_ESC(t->name),
                              dk_shape_str(t->ndim, t->dims, shape, sizeof shape));
    return DK_OK;
}

dk_status dk__attr_in_range(const dk_graph *g, const dk_node *n, const char *name, int64_t v,
                            int64_t min)
{
    if (v < min)
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute '%s' has value %lld (minimum %lld)",
                              name, (long long)v, (long long)min);
    if (v > DK_MAX_DIM)
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute '%s' value %lld is out of range "
                              "(at most " DK_MAX_LIMIT_STR ")", name, (long long)v);
    return DK_OK;
}

dk_status dk__attr_dims(const dk_graph *g, const dk_node *n, const char *name, int want,
                        int64_t def, int64_t min, int64_t *vals)
{
    int count;
    const int64_t *v;
    DK_TRY(dk__attr_ints(g, n, name, &count, &v));
    if (count < 0) {
        for (int i = 0; i < want; i++) vals[i] = def;
        return DK_OK;
    }
    if (count != want)
        return dk__node_error(g, n, DK_ERR_SHAPE, "attribute '%s' has %d values but input 0 "
                              "needs %d", name, count, want);
    for (int i = 0; i < want; i++) {
        if (v[i] < min)
            return dk__node_error(g, n, DK_ERR_FORMAT, "attribute '%s' has value %lld at index "
                                  "%d (minimum %lld)", name, (long long)v[i], i, (long long)min);
        if (v[i] > DK_MAX_DIM)
            return dk__node_error(g, n, DK_ERR_FORMAT, "attribute '%s' value %lld at index %d is "
                                  "out of range (at most " DK_MAX_LIMIT_STR ")", name,
                                  (long long)v[i], i);
        vals[i] = v[i];
    }
    return DK_OK;
}

static const char *attr_type_name(dk_attr_type t)
{
    switch (t) {
    case DK_ATTR_INT: return "int";
    case DK_ATTR_FLOAT: return "float";
    case DK_ATTR_STRING: return "string";
    case DK_ATTR_INTS: return "ints";
    case DK_ATTR_FLOATS: return "floats";
    case DK_ATTR_TENSOR: return "tensor";
    case DK_ATTR_OTHER: break;
    }
    return "other";
}

static dk_status want_type(const dk_graph *g, const dk_node *n, const dk_attr *a, dk_attr_type t)
{
    if (a->type == t) return DK_OK;
    return dk__node_error(g, n, DK_ERR_FORMAT, "attribute '%s' is %s, expected %s", a->name,
                          attr_type_name(a->type), attr_type_name(t));
}

dk_status dk__attr_int(const dk_graph *g, const dk_node *n, const char *name, int64_t def,
                       int64_t *out)
{
    const dk_attr *a = dk_node_attr(n, name);
    *out = def;
    if (!a) return DK_OK;
    DK_TRY(want_type(g, n, a, DK_ATTR_INT));
    *out = a->i;
    return DK_OK;
}

dk_status dk__attr_float(const dk_graph *g, const dk_node *n, const char *name, float def,
                         float *out)
{
    const dk_attr *a = dk_node_attr(n, name);
    *out = def;
    if (!a) return DK_OK;
    DK_TRY(want_type(g, n, a, DK_ATTR_FLOAT));
    *out = a->f;
    return DK_OK;
}

dk_status dk__attr_string(const dk_graph *g, const dk_node *n, const char *name,
                          const char *def, const char **out)
{
    const dk_attr *a = dk_node_attr(n, name);
    *out = def;
    if (!a) return DK_OK;
    DK_TRY(want_type(g, n, a, DK_ATTR_STRING));
    *out = a->s ? a->s : "";
    return DK_OK;
}

dk_status dk__attr_ints(const dk_graph *g, const dk_node *n, const char *name, int *count,
                        const int64_t **ptr)
{
    const dk_attr *a = dk_node_attr(n, name);
    *count = -1;
    *ptr = NULL;
    if (!a) return DK_OK;
    DK_TRY(want_type(g, n, a, DK_ATTR_INTS));
    *count = a->n;
    *ptr = a->ints;
    return DK_OK;
}

dk_status dk__attr_floats(const dk_graph *g, const dk_node *n, const char *name, int *count,
                          const float **ptr)
{
    const dk_attr *a = dk_node_attr(n, name);
    *count = -1;
    *ptr = NULL;
    if (!a) return DK_OK;
    DK_TRY(want_type(g, n, a, DK_ATTR_FLOATS));
    *count = a->n;
    *ptr = a->floats;
    return DK_OK;
}

dk_status dk__norm_axis(const dk_graph *g, const dk_node *n, int64_t axis, int rank, int *out)
{
    if (axis < -rank || axis >= rank)
        return dk__node_error(g, n, DK_ERR_SHAPE, "axis %lld out of range for rank %d",
                              (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return DK_OK;
}

dk_status dk__const_ints(const dk_graph *g, const dk_node *n, int i, int64_t *vals, int max,
                         int *count)
{
    *count = -1;
    const dk_tensor *t = dk__in(g, n, i);
    if (!t) return DK_OK;
    t = dk__const_in(g, n, i);
    if (!t)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED,
                              "input %d ('%s') must be a constant known at load time", i,
                              g->values[n->inputs[i]].t.name);
    if (t->dtype != DK_I64 && t->dtype != DK_I32)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input %d must be int64, got %s", i,
                              dk_dtype_name(t->dtype));
    int64_t m = dk_tensor_numel(t);
    if (m > max)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input %d has %lld values (max %d)", i,
                              (long long)m, max);
    for (int64_t k = 0; k < m; k++) /* exact: never through double */
        vals[k] = t->dtype == DK_I64 ? ((const int64_t *)t->data)[k] : ((const int32_t *)t->data)[k];
    *count = (int)m;
    return DK_OK;
}
