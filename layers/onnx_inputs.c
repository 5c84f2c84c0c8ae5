/* The static shape of each graph input: the model's declaration, with its
 * symbolic dimensions fixed by the shapes the user gave (--input-shape), by
 * the tensor file to be fed, or (a leading batch dimension only) set to 1. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "layers/onnx_internal.h"
#include "runtime/checked.h"
#include "runtime/error.h"
#include "runtime/text.h"

static const dk_input_shape *given_shape(const dk_onnx_options *o, const char *name)
{
    for (int i = 0; o && i < o->n_shapes; i++)
        if (strcmp(o->shapes[i].name, name) == 0) return &o->shapes[i];
    return NULL;
}

/* Applies a user's shape: same rank, same static dims. */
static dk_status apply_given(const char *path, const char *name, const dk_input_shape *s, dk_tensor *t,
                             const int *symbolic)
{
    if (s->ndim != t->ndim)
        return dk__error(DK_ERR_SHAPE, "%s: --input-shape %s has %d dimensions but graph input '%s' has rank %d",
                         path, DK_ESC(name), s->ndim, DK_ESC(name), t->ndim);
    for (int d = 0; d < t->ndim; d++) {
        if (!symbolic[d] && s->dims[d] != t->dims[d])
            return dk__error(DK_ERR_SHAPE, "%s: --input-shape %s: axis %d is %lld but the model fixes it to %lld",
                             path, DK_ESC(name), d, (long long)s->dims[d], (long long)t->dims[d]);
        t->dims[d] = s->dims[d];
    }
    return DK_OK;
}

/* "1x3xHxW": what --input-shape would take, symbolic dims as a letter. */
static void suggestion(const dk_tensor *t, const int *symbolic, char **names, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    for (int d = 0; d < t->ndim && used + 24 < n; d++) {
        const char *sep = d ? "x" : "";
        if (!symbolic[d] || (d == 0 && symbolic[d] == 2))
            used += (size_t)snprintf(buf + used, n - used, "%s%lld", sep, (long long)(symbolic[d] ? 1 : t->dims[d]));
        else if (names[d] && isalpha((unsigned char)names[d][0]))
            used += (size_t)snprintf(buf + used, n - used, "%s%c", sep, toupper((unsigned char)names[d][0]));
        else
            used += (size_t)snprintf(buf + used, n - used, "%sD%d", sep, d);
    }
}

dk_status dk__onnx_input_type(const char *path, const Onnx__ValueInfoProto *vi, const dk_onnx_options *o,
                              int first, dk_tensor *t)
{
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: graph input '%s' is not a tensor", path, DK_ESC(vi->name));
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (!tt->has_elem_type || dk_dtype_size((dk_dtype)tt->elem_type) == 0)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: graph input '%s' has unsupported element type %d",
                         path, DK_ESC(vi->name), tt->has_elem_type ? tt->elem_type : 0);
    if (!tt->shape)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: graph input '%s' has no shape", path, DK_ESC(vi->name));
    if (tt->shape->n_dim > DK_MAX_DIMS)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: graph input '%s' has rank %zu (max %d)", path,
                         DK_ESC(vi->name), tt->shape->n_dim, DK_MAX_DIMS);
    t->dtype = (dk_dtype)tt->elem_type;
    t->ndim = (int)tt->shape->n_dim;
    int symbolic[DK_MAX_DIMS] = {0}, any = 0;
    char *names[DK_MAX_DIMS] = {0}; /* dim_param, NULL when unnamed */
    for (int d = 0; d < t->ndim; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        int has_value = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (has_value && dim->dim_value > DK_MAX_DIM)
            return dk__error(DK_ERR_UNSUPPORTED, "%s: graph input '%s' has dimension %lld at axis "
                             "%d, out of range (at most " DK_MAX_LIMIT_STR ")", path, DK_ESC(vi->name),
                             (long long)dim->dim_value, d);
        if (has_value && dim->dim_value >= 0) {
            t->dims[d] = dim->dim_value;
            continue;
        }
        symbolic[d] = any = 1;
        t->dims[d] = 0;
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && dim->dim_param &&
            dim->dim_param[0])
            names[d] = dim->dim_param;
    }
    const dk_input_shape *s = given_shape(o, vi->name);
    if (s) return apply_given(path, vi->name, s, t, symbolic);
    if (!any) return DK_OK;
    const dk_input_shape *f = o ? o->fill : NULL;
    if (f && f->ndim == t->ndim && (f->name[0] ? strcmp(f->name, vi->name) == 0 : first))
        for (int d = 0; d < t->ndim; d++)
            if (symbolic[d]) t->dims[d] = f->dims[d], symbolic[d] = 0;
    if (symbolic[0]) symbolic[0] = 2; /* the batch: 1 unless another axis fails */
    for (int d = 1; d < t->ndim; d++) {
        if (!symbolic[d]) continue;
        char want[160], quoted[80];
        suggestion(t, symbolic, names, want, sizeof want);
        if (names[d]) snprintf(quoted, sizeof quoted, " '%.60s'", DK_ESC(names[d]));
        else quoted[0] = 0;
        return dk__error(DK_ERR_UNSUPPORTED,
                         "%s: graph input '%s' has symbolic dimension%s at axis %d: give it with --input-shape %s=%s",
                         path, DK_ESC(vi->name), quoted, d, DK_ESC(vi->name), want);
    }
    if (symbolic[0]) {
        t->dims[0] = 1;
        if (o && o->note) {
            char line[512];
            snprintf(line, sizeof line, "graph input '%s': symbolic batch dimension%s%.60s%s set to 1 "
                     "(--input-shape to choose)", DK_ESC(vi->name), names[0] ? " '" : "", DK_ESC(names[0]),
                     names[0] ? "'" : "");
            o->note(line, o->note_ctx);
        }
    }
    return DK_OK;
}

/* A user-fed graph input: named, and no initializer of that name. */
static int is_fed(const Onnx__ValueInfoProto *vi, const dk_graph *g)
{
    return vi->name && vi->name[0] && dk_graph_find_value(g, vi->name) < 0;
}

dk_status dk__onnx_check_shape_names(const char *path, const Onnx__GraphProto *gp, const dk_graph *g,
                                     const dk_onnx_options *o)
{
    for (int i = 0; o && i < o->n_shapes; i++) {
        int found = 0;
        for (size_t k = 0; k < gp->n_input && !found; k++)
            found = is_fed(gp->input[k], g) && !strcmp(gp->input[k]->name, o->shapes[i].name);
        if (found) continue;
        char list[512];
        size_t used = 0;
        list[0] = 0;
        for (size_t k = 0; k < gp->n_input && used + 8 < sizeof list; k++)
            if (is_fed(gp->input[k], g))
                used += (size_t)snprintf(list + used, sizeof list - used, "%s'%.100s'", used ? ", " : "",
                                         DK_ESC(gp->input[k]->name));
        return dk__error(DK_ERR_INVALID, "%s: --input-shape names '%s', which is not a graph input (the graph inputs: %s)",
                         path, DK_ESC(o->shapes[i].name), used ? list : "none");
    }
    return DK_OK;
}
