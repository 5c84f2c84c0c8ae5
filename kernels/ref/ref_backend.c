/* The reference backend: dispatch from op to plain-C kernel. Ops without a
 * dedicated kernel (data movement) use the op table's dtype-generic eval. */
#include <stdio.h>

#include "kernels/ref/ref_kernels.h"
#include "kernels/backend_iface.h"
#include "runtime/error.h"

/* Ops without a row run the op table's dtype-generic eval (data movement). */
DK_OP_TABLE_VISITED(78, "the reference kernels (kernels/ref/ref_backend.c)");
static const dk_eval_fn ref_kernels[DK_OP_COUNT] = {
    [DK_OP_CONV] = dk_ref_conv,
    [DK_OP_BATCHNORM] = dk_ref_batchnorm,
    [DK_OP_RELU] = dk_ref_unary,
    [DK_OP_CLIP] = dk_ref_unary,
    [DK_OP_LEAKYRELU] = dk_ref_unary,
    [DK_OP_SIGMOID] = dk_ref_unary,
    [DK_OP_HARDSIGMOID] = dk_ref_unary,
    [DK_OP_HARDSWISH] = dk_ref_unary,
    [DK_OP_NEG] = dk_ref_unary,
    [DK_OP_SQRT] = dk_ref_unary,
    [DK_OP_ERF] = dk_ref_unary,
    [DK_OP_TANH] = dk_ref_unary,
    [DK_OP_ABS] = dk_ref_unary,
    [DK_OP_EXP] = dk_ref_unary,
    [DK_OP_LOG] = dk_ref_unary,
    [DK_OP_RECIPROCAL] = dk_ref_unary,
    [DK_OP_FLOOR] = dk_ref_unary,
    [DK_OP_CEIL] = dk_ref_unary,
    [DK_OP_SOFTPLUS] = dk_ref_unary,
    [DK_OP_ELU] = dk_ref_unary,
    [DK_OP_SUM] = dk_ref_variadic,
    [DK_OP_MAX] = dk_ref_variadic,
    [DK_OP_MIN] = dk_ref_variadic,
    [DK_OP_MEAN] = dk_ref_variadic,
    [DK_OP_ADD] = dk_ref_binary,
    [DK_OP_SUB] = dk_ref_binary,
    [DK_OP_MUL] = dk_ref_binary,
    [DK_OP_DIV] = dk_ref_binary,
    [DK_OP_POW] = dk_ref_binary,
    [DK_OP_PRELU] = dk_ref_binary,
    [DK_OP_MAXPOOL] = dk_ref_maxpool,
    [DK_OP_AVGPOOL] = dk_ref_avgpool,
    [DK_OP_GLOBALAVGPOOL] = dk_ref_globalavgpool,
    [DK_OP_GLOBALMAXPOOL] = dk_ref_globalmaxpool,
    [DK_OP_GEMM] = dk_ref_gemm,
    [DK_OP_MATMUL] = dk_ref_matmul,
    [DK_OP_SOFTMAX] = dk_ref_softmax,
    [DK_OP_LRN] = dk_ref_lrn,
    [DK_OP_LAYERNORM] = dk_ref_layernorm,
    [DK_OP_REDUCEMEAN] = dk_ref_reduce,
    [DK_OP_REDUCEMAX] = dk_ref_reduce,
    [DK_OP_REDUCESUM] = dk_ref_reduce,
    [DK_OP_REDUCEL2] = dk_ref_reduce,
    [DK_OP_CONVTRANSPOSE] = dk_ref_convtranspose,
    [DK_OP_RESIZE] = dk_ref_resize,
    [DK_OP_UPSAMPLE] = dk_ref_resize,
    [DK_OP_INSTANCENORM] = dk_ref_instancenorm,
    [DK_OP_EINSUM] = dk_ref_einsum,
};

dk_eval_fn dk_ref_kernel_for(dk_op op)
{
    if (op <= DK_OP_NONE || op >= DK_OP_COUNT) return NULL;
    if (ref_kernels[op]) return ref_kernels[op];
    const dk_op_info *info = dk__op_info(op);
    return info ? info->eval : NULL;
}

static const char *ref_version(void)
{
    static char v[64];
#ifdef _OPENMP
    snprintf(v, sizeof v, "%s (double accumulation, OpenMP %d)", DK_VERSION, _OPENMP);
#else
    snprintf(v, sizeof v, "%s (double accumulation, no OpenMP)", DK_VERSION);
#endif
    return v;
}

static int ref_supports(void *ctx, const dk_graph *g, const dk_node *n) { return dk_ref_kernel_for(n->op) != NULL; }

static dk_status ref_execute(void *ctx, void *plan, const dk_graph *g, const dk_node *n,
                             const dk_tensor *const *in, dk_tensor *const *out)
{
    dk_eval_fn fn = dk_ref_kernel_for(n->op);
    if (!fn)
        return dk__error(DK_ERR_UNSUPPORTED, "ref: no kernel for node '%s' (%s)", n->name,
                         dk_op_name(n->op));
    return fn(n, in, out);
}

const dk_backend_iface dk_backend_ref = {
    .name = "ref",
    .description = "plain C reference (the oracle), double accumulation",
    .version = ref_version,
    .supports = ref_supports,
    .execute = ref_execute,
};
