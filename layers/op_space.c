/* DepthToSpace (DCR and CRD) and SpaceToDepth on NCHW tensors of any dtype:
 * blocks of b x b pixels moved between channels and space, as the spec's
 * reshape-transpose-reshape defines them. FLOPs are 0 (see op_shape.c). */
#include <string.h>

#include "layers/op_move.h"

dk_status dk__infer_space(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    int64_t b;
    const char *mode;
    char a[128];
    dk_space_params *p = &n->p.space;
    DK_TRY(dk__move_input(g, n, 0, &x));
    if (!dk_node_attr(n, "blocksize"))
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'blocksize' is required");
    DK_TRY(dk__attr_int(g, n, "blocksize", 1, &b));
    if (b < 1 || b > 1 << 20)
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'blocksize' is %lld, expected >= 1",
                              (long long)b);
    DK_TRY(dk__attr_string(g, n, "mode", "DCR", &mode));
    p->crd = strcmp(mode, "CRD") == 0;
    if (n->op == DK_OP_DEPTHTOSPACE && !p->crd && strcmp(mode, "DCR") != 0)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute 'mode' value '%s' is not "
                              "supported (DCR, CRD)", mode);
    p->blocksize = b;
    if (x->ndim != 4)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 %s must be 4-D (NCHW)",
                              dk_shape_str(x->ndim, x->dims, a, sizeof a));
    int64_t dims[4] = {x->dims[0], x->dims[1], x->dims[2], x->dims[3]};
    if (n->op == DK_OP_DEPTHTOSPACE) {
        if (x->dims[1] % (b * b))
            return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 %s: channels are not a multiple "
                                  "of blocksize^2 = %lld",
                                  dk_shape_str(x->ndim, x->dims, a, sizeof a), (long long)(b * b));
        dims[1] /= b * b;
        if (!dk_ck_mul(dims[2], b, &dims[2]) || !dk_ck_mul(dims[3], b, &dims[3]))
            return dk__node_error(g, n, DK_ERR_SHAPE, "output dims are too large");
    } else {
        if (x->dims[2] % b || x->dims[3] % b)
            return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 %s: height and width are not "
                                  "multiples of blocksize %lld",
                                  dk_shape_str(x->ndim, x->dims, a, sizeof a), (long long)b);
        dims[2] /= b, dims[3] /= b;
        if (!dk_ck_mul(dims[1], b * b, &dims[1]))
            return dk__node_error(g, n, DK_ERR_SHAPE, "output dims are too large");
    }
    dk__set_out(g, n, 0, x->dtype, 4, dims);
    n->flops = 0;
    return DK_OK;
}

/* Over the depth-side tensor D [N, C*b*b, H, W] and the space-side tensor
 * S [N, C, H*b, W*b]: element (n, c, h*b+i, w*b+j) of S is element
 * (n, k, h, w) of D with k = (i*b + j)*C + c (DCR) or c*b*b + i*b + j (CRD). */
dk_status dk__eval_space(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    const int to_space = n->op == DK_OP_DEPTHTOSPACE;
    const dk_tensor *S = to_space ? y : x, *D = to_space ? x : y;
    const int64_t b = n->p.space.blocksize;
    if (y->dtype != x->dtype || x->ndim != 4 || y->ndim != 4 || dk_tensor_numel(x) != dk_tensor_numel(y))
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    const size_t es = dk_dtype_size(x->dtype);
    const int64_t N = S->dims[0], C = S->dims[1], SH = S->dims[2], SW = S->dims[3];
    const int64_t H = D->dims[2], W = D->dims[3], DC = D->dims[1];
    const int crd = n->p.space.crd && to_space;
    for (int64_t nn = 0; nn < N; nn++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t sh = 0; sh < SH; sh++)
                for (int64_t sw = 0; sw < SW; sw++) {
                    int64_t h = sh / b, i = sh % b, w = sw / b, j = sw % b;
                    int64_t k = crd ? c * b * b + i * b + j : (i * b + j) * C + c;
                    int64_t si = ((nn * C + c) * SH + sh) * SW + sw;
                    int64_t di = ((nn * DC + k) * H + h) * W + w;
                    const int64_t from = to_space ? di : si, to = to_space ? si : di;
                    memcpy((char *)y->data + (size_t)to * es, (const char *)x->data + (size_t)from * es, es);
                }
    return DK_OK;
}
