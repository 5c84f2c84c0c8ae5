/* The op suite's case generators; see drivers/selftest/selftest_cases.h.
 *
 * Data: uniform in [-1, 1) unless the op needs otherwise (divisors and
 * variances kept away from zero; Sigmoid, Softmax and the clamps over a wider
 * range so that their tails and bounds are exercised). Weights are constants,
 * as in exported models; activations are graph inputs. Sizes are kept small
 * enough that the whole suite runs in seconds on the reference. */
#include "drivers/selftest/selftest_cases.h"
#include "layers/op_table.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define R (&c->rng)

static void ints_desc(dk__op_case *c, const char *name, int count, const int64_t *v)
{
    dk__op_case_desc(c, " %s=", name);
    for (int i = 0; i < count; i++) dk__op_case_desc(c, "%s%lld", i ? "," : "", (long long)v[i]);
}

/* ---- Conv -------------------------------------------------------------------- */

static void gen_conv(dk__op_case *c, int cls)
{
    int64_t N = dk_rng_int(R, 1, 2), C = dk_rng_int(R, 2, 24), M = dk_rng_int(R, 2, 32),
            group = 1;
    int ns = 2;
    int64_t k[3] = {3, 3, 3}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
    int64_t pb[3] = {1, 1, 1}, pe[3] = {1, 1, 1}; /* padding at the beginning / end per axis */
    int64_t sp[3] = {dk_rng_int(R, 5, 18), dk_rng_int(R, 5, 18), dk_rng_int(R, 3, 8)};
    const char *auto_pad = NULL;
    switch (cls) {
    case 0: /* 1x1 (pointwise) */
        k[0] = k[1] = 1;
        pb[0] = pb[1] = pe[0] = pe[1] = 0;
        C = dk_rng_int(R, 4, 64);
        M = dk_rng_int(R, 4, 64);
        break;
    case 1: /* 3x3 same */
        break;
    case 2: /* 3x3 stride 2 */
        s[0] = s[1] = 2;
        if (dk_rng_chance(R, 0.3)) pb[0] = pb[1] = pe[0] = pe[1] = 0;
        break;
    case 3: /* grouped */
        group = dk_rng_chance(R, 0.5) ? 2 : 4;
        C = group * dk_rng_int(R, 1, 8);
        M = group * dk_rng_int(R, 1, 8);
        s[0] = s[1] = dk_rng_int(R, 1, 2);
        break;
    case 4: /* depthwise, channel multiplier 1 or 2 */
        C = dk_rng_int(R, 2, 32);
        group = C;
        M = C * (dk_rng_chance(R, 0.3) ? 2 : 1);
        s[0] = s[1] = dk_rng_int(R, 1, 2);
        break;
    case 5: /* 7x7 stride 2 stem */
        C = 3;
        M = dk_rng_int(R, 4, 32);
        k[0] = k[1] = 7;
        s[0] = s[1] = 2;
        pb[0] = pb[1] = pe[0] = pe[1] = 3;
        sp[0] = dk_rng_int(R, 16, 40);
        sp[1] = dk_rng_int(R, 16, 40);
        break;
    case 6: /* 1x7 or 7x1 (Inception) */
        if (dk_rng_chance(R, 0.5)) {
            k[0] = 1, k[1] = 7;
            pb[0] = pe[0] = 0, pb[1] = pe[1] = 3;
        } else {
            k[0] = 7, k[1] = 1;
            pb[0] = pe[0] = 3, pb[1] = pe[1] = 0;
        }
        break;
    case 7: /* 5x5, dilated 3x3 or asymmetric padding */
        switch (dk_rng_int(R, 0, 2)) {
        case 0:
            k[0] = k[1] = 5;
            pb[0] = pb[1] = pe[0] = pe[1] = 2;
            break;
        case 1:
            d[0] = d[1] = 2;
            pb[0] = pb[1] = pe[0] = pe[1] = 2;
            break;
        default:
            for (int i = 0; i < 2; i++) pb[i] = dk_rng_int(R, 0, 2), pe[i] = dk_rng_int(R, 0, 2);
            s[0] = dk_rng_int(R, 1, 2);
            break;
        }
        break;
    case 8: /* 1x1 stride 2 (ResNet downsampling) */
        k[0] = k[1] = 1;
        s[0] = s[1] = 2;
        pb[0] = pb[1] = pe[0] = pe[1] = 0;
        break;
    case 9: /* 1-D or 3-D */
        ns = dk_rng_chance(R, 0.5) ? 1 : 3;
        if (ns == 1) {
            sp[0] = dk_rng_int(R, 8, 40);
            k[0] = dk_rng_int(R, 1, 5);
            pb[0] = pe[0] = k[0] / 2;
            s[0] = dk_rng_int(R, 1, 2);
        } else {
            sp[0] = dk_rng_int(R, 3, 6), sp[1] = dk_rng_int(R, 3, 8),
            sp[2] = dk_rng_int(R, 3, 8);
            C = dk_rng_int(R, 2, 8), M = dk_rng_int(R, 2, 8);
        }
        break;
    case 10: /* auto_pad SAME_UPPER / SAME_LOWER, stride 2 */
        s[0] = s[1] = 2;
        auto_pad = dk_rng_chance(R, 0.5) ? "SAME_UPPER" : "SAME_LOWER";
        break;
    default: /* long reduction: 3x3 over many channels */
        C = dk_rng_int(R, 64, 160);
        M = dk_rng_int(R, 4, 16);
        sp[0] = dk_rng_int(R, 3, 8);
        sp[1] = dk_rng_int(R, 3, 8);
        break;
    }
    int bias = dk_rng_chance(R, 0.7);
    int64_t xd[5] = {N, C}, wd[5] = {M, C / group}, p[6];
    for (int i = 0; i < ns; i++) {
        xd[2 + i] = sp[i], wd[2 + i] = k[i];
        p[i] = pb[i], p[ns + i] = pe[i];
    }
    int ins[3] = {dk__op_case_input(c, "x", ns + 2, xd, -1, 1),
                  dk__op_case_const(c, "w", ns + 2, wd, -1, 1), -1};
    if (bias) ins[2] = dk__op_case_const(c, "b", 1, &M, -1, 1);
    dk__op_case_node(c, DK_OP_CONV, ins, bias ? 3 : 2, 1);
    dk__op_case_attr_ints(c, "kernel_shape", ns, k);
    dk__op_case_attr_ints(c, "strides", ns, s);
    dk__op_case_attr_ints(c, "dilations", ns, d);
    if (group != 1) dk__op_case_attr_int(c, "group", group);
    if (auto_pad) dk__op_case_attr_string(c, "auto_pad", auto_pad);
    else dk__op_case_attr_ints(c, "pads", 2 * ns, p);
    dk__op_case_desc(c, "x %s w %s", dk__op_case_shape(ns + 2, xd), dk__op_case_shape(ns + 2, wd));
    ints_desc(c, "s", ns, s);
    ints_desc(c, "d", ns, d);
    if (auto_pad) dk__op_case_desc(c, " auto_pad=%s", auto_pad);
    else ints_desc(c, "pads", 2 * ns, p);
    dk__op_case_desc(c, " group=%lld%s", (long long)group, bias ? " bias" : "");
}

/* ---- pools --------------------------------------------------------------------- */

static void gen_pool(dk__op_case *c, dk_op op, int cls)
{
    int64_t N = dk_rng_int(R, 1, 2), C = dk_rng_int(R, 1, 16);
    int ns = 2;
    int64_t k[2] = {3, 3}, s[2] = {2, 2}, d[2] = {1, 1}, p[4] = {0, 0, 0, 0};
    int64_t sp[2] = {dk_rng_int(R, 5, 24), dk_rng_int(R, 5, 24)};
    int ceil_mode = 0, include_pad = -1;
    int is_max = op == DK_OP_MAXPOOL;
    switch (cls) {
    case 0: /* 3x3 s2 p1 (ResNet max) / 3x3 s1 p1 exclude pad (Inception avg) */
        if (is_max) {
            for (int i = 0; i < 4; i++) p[i] = 1;
        } else {
            s[0] = s[1] = 1;
            for (int i = 0; i < 4; i++) p[i] = 1;
            include_pad = 0;
        }
        break;
    case 1: /* 3x3 s2 ceil_mode, no padding (Inception) */
        ceil_mode = 1;
        break;
    case 2: /* 2x2 s2 */
        k[0] = k[1] = 2;
        break;
    case 3: /* 3x3 s1 p1, count_include_pad=1 for average */
        s[0] = s[1] = 1;
        for (int i = 0; i < 4; i++) p[i] = 1;
        if (!is_max) include_pad = 1;
        break;
    case 4: /* ceil_mode with padding */
        ceil_mode = 1;
        for (int i = 0; i < 4; i++) p[i] = dk_rng_int(R, 0, 1);
        if (!is_max) include_pad = (int)dk_rng_int(R, 0, 1);
        break;
    default: /* large window, dilation (max), or 1-D */
        if (dk_rng_chance(R, 0.5)) {
            ns = 1;
            k[0] = dk_rng_int(R, 2, 4);
            s[0] = dk_rng_int(R, 1, 3);
            p[0] = dk_rng_int(R, 0, 1), p[1] = dk_rng_int(R, 0, 1);
            sp[0] = dk_rng_int(R, 8, 30);
        } else if (is_max) {
            k[0] = k[1] = 2;
            d[0] = d[1] = 2;
            s[0] = s[1] = 1;
        } else {
            k[0] = k[1] = dk_rng_int(R, 5, 7);
            s[0] = s[1] = dk_rng_int(R, 1, 3);
            sp[0] = dk_rng_int(R, 7, 20), sp[1] = dk_rng_int(R, 7, 20);
        }
        break;
    }
    int64_t xd[4] = {N, C, sp[0], sp[1]};
    int64_t pads[4];
    if (ns == 2) memcpy(pads, p, sizeof pads);
    else pads[0] = p[0], pads[1] = p[1];
    int ins[1] = {dk__op_case_input(c, "x", ns + 2, xd, -1, 1)};
    dk__op_case_node(c, op, ins, 1, 1);
    dk__op_case_attr_ints(c, "kernel_shape", ns, k);
    dk__op_case_attr_ints(c, "strides", ns, s);
    dk__op_case_attr_ints(c, "pads", 2 * ns, pads);
    if (d[0] != 1) dk__op_case_attr_ints(c, "dilations", ns, d);
    if (ceil_mode) dk__op_case_attr_int(c, "ceil_mode", 1);
    if (include_pad >= 0) dk__op_case_attr_int(c, "count_include_pad", include_pad);
    dk__op_case_desc(c, "x %s", dk__op_case_shape(ns + 2, xd));
    ints_desc(c, "k", ns, k);
    ints_desc(c, "s", ns, s);
    ints_desc(c, "pads", 2 * ns, pads);
    if (d[0] != 1) ints_desc(c, "d", ns, d);
    dk__op_case_desc(c, "%s", ceil_mode ? " ceil_mode" : "");
    if (include_pad >= 0) dk__op_case_desc(c, " count_include_pad=%d", include_pad);
}

static void gen_maxpool(dk__op_case *c, int cls) { gen_pool(c, DK_OP_MAXPOOL, cls); }
static void gen_avgpool(dk__op_case *c, int cls) { gen_pool(c, DK_OP_AVGPOOL, cls); }

static void gen_global(dk__op_case *c, dk_op op, int cls)
{
    int64_t xd[5] = {dk_rng_int(R, 1, 2), dk_rng_int(R, 1, 64)};
    int rank = cls == 0 ? 4 : cls == 1 ? 3 : 5;
    for (int i = 2; i < rank; i++) xd[i] = dk_rng_int(R, 1, rank == 5 ? 6 : 14);
    if (cls == 0 && dk_rng_chance(R, 0.3)) xd[2] = xd[3] = 7; /* the classifier head */
    int ins[1] = {dk__op_case_input(c, "x", rank, xd, -1, 1)};
    dk__op_case_node(c, op, ins, 1, 1);
    dk__op_case_desc(c, "x %s", dk__op_case_shape(rank, xd));
}

static void gen_gap(dk__op_case *c, int cls) { gen_global(c, DK_OP_GLOBALAVGPOOL, cls); }
static void gen_gmp(dk__op_case *c, int cls) { gen_global(c, DK_OP_GLOBALMAXPOOL, cls); }

/* ---- dense -------------------------------------------------------------------- */

static void gen_gemm(dk__op_case *c, int cls)
{
    int64_t M = dk_rng_int(R, 1, 8), K = dk_rng_int(R, 16, 512), N = dk_rng_int(R, 4, 160);
    int ta = cls == 1 || (cls == 3 && dk_rng_chance(R, 0.5)), tb = cls == 0 || cls == 3;
    int has_c = cls != 4;
    float alpha = 1, beta = 1;
    if (cls == 3) {
        alpha = (float)dk_rng_uniform(R, -2, 2);
        beta = (float)dk_rng_uniform(R, -2, 2);
    }
    if (cls == 0) K = dk_rng_int(R, 256, 2048); /* the classifier: [1, 2048] x [1000, 2048]^T */
    int64_t ad[2] = {ta ? K : M, ta ? M : K}, bd[2] = {tb ? N : K, tb ? K : N};
    int64_t cd[2] = {N, 0};
    int crank = 1;
    if (cls == 2) crank = 2, cd[0] = M, cd[1] = N;
    if (cls == 3) {
        switch (dk_rng_int(R, 0, 2)) {
        case 0: crank = 2, cd[0] = 1, cd[1] = N; break;
        case 1: crank = 2, cd[0] = M, cd[1] = 1; break;
        default: crank = 0; break;
        }
    }
    int ins[3] = {dk__op_case_input(c, "a", 2, ad, -1, 1), dk__op_case_const(c, "b", 2, bd, -1, 1),
                  -1};
    if (has_c) ins[2] = dk__op_case_const(c, "c", crank, cd, -1, 1);
    dk__op_case_node(c, DK_OP_GEMM, ins, has_c ? 3 : 2, 1);
    if (ta) dk__op_case_attr_int(c, "transA", 1);
    if (tb) dk__op_case_attr_int(c, "transB", 1);
    if (alpha != 1) dk__op_case_attr_float(c, "alpha", alpha);
    if (beta != 1) dk__op_case_attr_float(c, "beta", beta);
    dk__op_case_desc(c, "A %s B %s", dk__op_case_shape(2, ad), dk__op_case_shape(2, bd));
    if (has_c) dk__op_case_desc(c, " C %s", dk__op_case_shape(crank, cd));
    dk__op_case_desc(c, " transA=%d transB=%d alpha=%g beta=%g", ta, tb, alpha, beta);
}

static void gen_matmul(dk__op_case *c, int cls)
{
    int64_t M = dk_rng_int(R, 1, 24), K = dk_rng_int(R, 4, 256), N = dk_rng_int(R, 1, 48),
            B = dk_rng_int(R, 2, 4);
    int64_t ad[4], bd[4];
    int ar, br, b_const = 0;
    switch (cls) {
    case 0: ar = br = 2, ad[0] = M, ad[1] = K, bd[0] = K, bd[1] = N, b_const = 1; break;
    case 1: ar = br = 3, ad[0] = bd[0] = B, ad[1] = M, ad[2] = K, bd[1] = K, bd[2] = N; break;
    case 2:
        ar = 3, br = 2, ad[0] = B, ad[1] = M, ad[2] = K, bd[0] = K, bd[1] = N, b_const = 1;
        break;
    case 3:
        ar = br = 4;
        ad[0] = 2, ad[1] = 3, ad[2] = M, ad[3] = K;
        bd[0] = 1, bd[1] = 3, bd[2] = K, bd[3] = N;
        break;
    default:
        if (dk_rng_chance(R, 0.5)) ar = 1, br = 2, ad[0] = K, bd[0] = K, bd[1] = N;
        else ar = 2, br = 1, ad[0] = M, ad[1] = K, bd[0] = K;
        b_const = 1;
        break;
    }
    int ins[2] = {dk__op_case_input(c, "a", ar, ad, -1, 1),
                  b_const ? dk__op_case_const(c, "b", br, bd, -1, 1)
                          : dk__op_case_input(c, "b", br, bd, -1, 1)};
    dk__op_case_node(c, DK_OP_MATMUL, ins, 2, 1);
    dk__op_case_desc(c, "A %s B %s%s", dk__op_case_shape(ar, ad), dk__op_case_shape(br, bd),
                     b_const ? " (B constant)" : "");
}

/* ---- Einsum ----------------------------------------------------------------------- */

/* The equations of exported attention (MaxViT's scores and values), a batched
 * product broadcasting its ellipsis, a diagonal in implicit form, three
 * inputs, and one input transposed and summed. */
static void gen_einsum(dk__op_case *c, int cls)
{
    int64_t B = dk_rng_int(R, 1, 2), G = dk_rng_int(R, 1, 4), H = dk_rng_int(R, 1, 4),
            I = dk_rng_int(R, 1, 49), J = dk_rng_int(R, 1, 49), D = dk_rng_int(R, 4, 64);
    int64_t d[3][DK_MAX_DIMS];
    int rank[3], n_in = 2, b_const = 0;
    const char *eq;
    switch (cls) {
    case 0: /* attention scores: q k^T per window and head */
        eq = "bghid,bghjd->bghij";
        rank[0] = rank[1] = 5;
        d[0][0] = d[1][0] = B, d[0][1] = d[1][1] = G, d[0][2] = d[1][2] = H;
        d[0][3] = I, d[1][3] = J, d[0][4] = d[1][4] = D;
        break;
    case 1: /* attention values: scores times v */
        eq = "bghij,bghjd->bghid";
        rank[0] = rank[1] = 5;
        d[0][0] = d[1][0] = B, d[0][1] = d[1][1] = G, d[0][2] = d[1][2] = H;
        d[0][3] = I, d[0][4] = J, d[1][3] = J, d[1][4] = D;
        break;
    case 2: /* batched product, B's batch broadcast */
        eq = "...ij,...jk->...ik";
        rank[0] = 4, rank[1] = 3;
        d[0][0] = B, d[0][1] = G, d[0][2] = I, d[0][3] = D;
        d[1][0] = 1, d[1][1] = D, d[1][2] = J;
        b_const = 1;
        break;
    case 3: /* diagonal times a vector, implicit output (i) */
        eq = "ii,ij";
        rank[0] = rank[1] = 2;
        d[0][0] = d[0][1] = d[1][0] = I, d[1][1] = J;
        break;
    case 4: /* three inputs */
        eq = "ij,jk,kl->il";
        n_in = 3;
        rank[0] = rank[1] = rank[2] = 2;
        d[0][0] = I, d[0][1] = d[1][0] = D, d[1][1] = d[2][0] = H + 2, d[2][1] = J;
        break;
    default: /* one input: transposed, one axis summed */
        eq = "bhij->jhb";
        n_in = 1;
        rank[0] = 4;
        d[0][0] = B, d[0][1] = H, d[0][2] = I, d[0][3] = J;
        break;
    }
    static const char *const names[3] = {"a", "b", "c"};
    int ins[3];
    for (int i = 0; i < n_in; i++)
        ins[i] = b_const && i == 1 ? dk__op_case_const(c, names[i], rank[i], d[i], -1, 1)
                                   : dk__op_case_input(c, names[i], rank[i], d[i], -1, 1);
    dk__op_case_node(c, DK_OP_EINSUM, ins, n_in, 1);
    dk__op_case_attr_string(c, "equation", eq);
    dk__op_case_desc(c, "%s", eq);
    for (int i = 0; i < n_in; i++)
        dk__op_case_desc(c, " %s %s", names[i], dk__op_case_shape(rank[i], d[i]));
}

/* ---- normalisations ------------------------------------------------------------- */

static void gen_batchnorm(dk__op_case *c, int cls)
{
    int64_t C = dk_rng_int(R, 1, 48), xd[5] = {dk_rng_int(R, 1, 2), C};
    int rank = cls == 0 ? 4 : cls == 1 ? 2 : 3;
    for (int i = 2; i < rank; i++) xd[i] = dk_rng_int(R, 1, 16);
    int ins[5] = {
        dk__op_case_input(c, "x", rank, xd, -2, 2), dk__op_case_const(c, "scale", 1, &C, -1.5, 1.5),
        dk__op_case_const(c, "B", 1, &C, -1, 1), dk__op_case_const(c, "mean", 1, &C, -1, 1),
        dk__op_case_const(c, "var", 1, &C, 0.05, 2)};
    dk__op_case_node(c, DK_OP_BATCHNORM, ins, 5, 1);
    float eps = (float)dk_rng_uniform(R, 1e-5, 1e-3);
    dk__op_case_attr_float(c, "epsilon", eps);
    dk__op_case_desc(c, "x %s epsilon=%g", dk__op_case_shape(rank, xd), eps);
}

static void gen_lrn(dk__op_case *c, int cls)
{
    int64_t xd[4] = {dk_rng_int(R, 1, 2), dk_rng_int(R, 2, 32), dk_rng_int(R, 1, 12),
                     dk_rng_int(R, 1, 12)};
    int64_t size = cls == 0 ? 5 : cls == 1 ? 3 : dk_rng_int(R, 1, 7);
    float alpha = cls == 0 ? 1e-4f : (float)dk_rng_uniform(R, 1e-4, 1.0);
    float beta = cls == 0 ? 0.75f : (float)dk_rng_uniform(R, 0.5, 1.5);
    float bias = cls == 0 ? 1.0f : (float)dk_rng_uniform(R, 0.5, 2.0);
    double range = cls == 0 ? 4 : 2;
    int ins[1] = {dk__op_case_input(c, "x", 4, xd, -range, range)};
    dk__op_case_node(c, DK_OP_LRN, ins, 1, 1);
    dk__op_case_attr_int(c, "size", size);
    dk__op_case_attr_float(c, "alpha", alpha);
    dk__op_case_attr_float(c, "beta", beta);
    dk__op_case_attr_float(c, "bias", bias);
    dk__op_case_desc(c, "x %s size=%lld alpha=%g beta=%g bias=%g", dk__op_case_shape(4, xd),
                     (long long)size, alpha, beta, bias);
}

/* ---- reductions ----------------------------------------------------------------- */

static void gen_softmax(dk__op_case *c, int cls)
{
    int64_t xd[4];
    int rank = 2, axis = -1;
    double range = 5;
    switch (cls) {
    case 0: /* classifier output */
        xd[0] = dk_rng_int(R, 1, 4), xd[1] = dk_rng_int(R, 10, 1000);
        break;
    case 1: /* channels of a feature map */
        rank = 4, axis = 1;
        xd[0] = dk_rng_int(R, 1, 2), xd[1] = dk_rng_int(R, 2, 32), xd[2] = dk_rng_int(R, 1, 8),
        xd[3] = dk_rng_int(R, 1, 8);
        break;
    case 2: /* any axis, wide range */
        rank = (int)dk_rng_int(R, 1, 4);
        for (int i = 0; i < rank; i++) xd[i] = dk_rng_int(R, 1, 12);
        axis = (int)dk_rng_int(R, -rank, rank - 1);
        range = 20;
        break;
    default: /* opset 11: coerced to 2-D at axis */
        rank = 4, axis = (int)dk_rng_int(R, 0, 3);
        xd[0] = dk_rng_int(R, 1, 3), xd[1] = dk_rng_int(R, 1, 8), xd[2] = dk_rng_int(R, 1, 6),
        xd[3] = dk_rng_int(R, 1, 6);
        c->g->opset = 11;
        break;
    }
    int ins[1] = {dk__op_case_input(c, "x", rank, xd, -range, range)};
    dk__op_case_node(c, DK_OP_SOFTMAX, ins, 1, 1);
    dk__op_case_attr_int(c, "axis", axis);
    dk__op_case_desc(c, "x %s axis=%d opset=%lld range=%g", dk__op_case_shape(rank, xd), axis,
            (long long)c->g->opset, range);
}

/* ReduceMean, ReduceMax, ReduceSum, ReduceL2: the spatial dims (global pooling), the
 * last axis, all axes, axes as an input (opset 18; ReduceSum takes them
 * from opset 13), random axes. */
static void gen_reduce(dk__op_case *c, dk_op op, int cls)
{
    int rank = (int)dk_rng_int(R, 2, 4);
    int64_t xd[4], axes[4];
    for (int i = 0; i < rank; i++) xd[i] = dk_rng_int(R, 1, 12);
    int naxes = 0, keepdims = (int)dk_rng_int(R, 0, 1), as_input = 0;
    switch (cls) {
    case 0: /* spatial mean, i.e. global average pooling */
        rank = 4, xd[0] = dk_rng_int(R, 1, 2), xd[1] = dk_rng_int(R, 1, 32);
        xd[2] = dk_rng_int(R, 1, 14), xd[3] = dk_rng_int(R, 1, 14);
        axes[0] = 2, axes[1] = 3, naxes = 2;
        break;
    case 1: axes[0] = -1, naxes = 1; break;
    case 2: naxes = 0; break; /* all axes */
    case 3: /* opset 18: axes as input */
        axes[0] = dk_rng_int(R, 0, rank - 1), naxes = 1;
        as_input = 1;
        c->g->opset = op == DK_OP_REDUCESUM ? 13 : 18;
        break;
    default:
        for (int i = 0; i < rank; i++)
            if (dk_rng_chance(R, 0.5)) axes[naxes++] = i;
        if (!naxes) axes[naxes++] = 0;
        break;
    }
    int ins[2] = {dk__op_case_input(c, "x", rank, xd, -1, 1), -1};
    if (as_input) ins[1] = dk__op_case_const_ints(c, "axes", 1, naxes, axes);
    dk__op_case_node(c, op, ins, as_input ? 2 : 1, 1);
    if (!as_input && naxes) dk__op_case_attr_ints(c, "axes", naxes, axes);
    dk__op_case_attr_int(c, "keepdims", keepdims);
    dk__op_case_desc(c, "x %s", dk__op_case_shape(rank, xd));
    if (naxes) ints_desc(c, "axes", naxes, axes);
    else dk__op_case_desc(c, " axes=all");
    dk__op_case_desc(c, " keepdims=%d%s", keepdims, !as_input ? ""
                     : op == DK_OP_REDUCESUM ? " (axes input, opset 13)" : " (axes input, opset 18)");
}

static void gen_reducemean(dk__op_case *c, int cls) { gen_reduce(c, DK_OP_REDUCEMEAN, cls); }
static void gen_reducemax(dk__op_case *c, int cls) { gen_reduce(c, DK_OP_REDUCEMAX, cls); }
static void gen_reducesum(dk__op_case *c, int cls) { gen_reduce(c, DK_OP_REDUCESUM, cls); }
static void gen_reducel2(dk__op_case *c, int cls) { gen_reduce(c, DK_OP_REDUCEL2, cls); }

/* LayerNormalization (opset 17) as transformers use it: over the channels of
 * ViT's tokens and of ConvNeXt's channels-last maps, over two dims with a
 * broadcast Scale, without B on data whose mean is far from zero (the
 * variance's cancellation), and over the whole tensor. */
static void gen_layernorm(dk__op_case *c, int cls)
{
    int64_t xd[4] = {dk_rng_int(R, 1, 2), dk_rng_int(R, 1, 12), dk_rng_int(R, 1, 12),
                     dk_rng_int(R, 8, 96)};
    int rank = 4, axis = 3, bias = 1;
    double lo = -2, hi = 2;
    switch (cls) {
    case 0: rank = 3, axis = 2, xd[1] = dk_rng_int(R, 1, 50), xd[2] = xd[3]; break; /* [N,T,C] */
    case 1: break;                                                           /* [N,H,W,C] */
    case 2: axis = (int)dk_rng_int(R, 1, 2); break;                          /* two or three dims */
    case 3: bias = 0, lo = 3, hi = 5; break;
    default: rank = 2, axis = 0, xd[0] = dk_rng_int(R, 2, 16); break;
    }
    int64_t sd[4];
    int srank = rank - axis;
    for (int d = 0; d < srank; d++) sd[d] = xd[axis + d];
    if (cls == 2) sd[0] = 1; /* broadcast along the first normalised dim */
    c->g->opset = 17;
    int ins[3] = {dk__op_case_input(c, "x", rank, xd, lo, hi),
                  dk__op_case_const(c, "scale", srank, sd, -1, 1), -1};
    dk__op_case_away_from_zero(c, ins[1], 0.5, 1.5, 1);
    if (bias) ins[2] = dk__op_case_const(c, "B", srank, sd, -1, 1);
    dk__op_case_node(c, DK_OP_LAYERNORM, ins, bias ? 3 : 2, 1);
    int explicit_axis = cls != 0 || dk_rng_chance(R, 0.5);
    if (explicit_axis) dk__op_case_attr_int(c, "axis", axis - (dk_rng_chance(R, 0.5) ? rank : 0));
    float eps = cls == 4 ? 1e-2f : 1e-5f;
    if (cls != 1) dk__op_case_attr_float(c, "epsilon", eps);
    dk__op_case_desc(c, "x %s in [%g,%g] axis=%d Scale %s%s epsilon=%g",
                     dk__op_case_shape(rank, xd), lo, hi, axis, dk__op_case_shape(srank, sd),
                     bias ? " B" : "", (double)eps);
}

/* ---- elementwise ---------------------------------------------------------------- */

static void gen_binary(dk__op_case *c, dk_op op, int cls)
{
    int64_t N = dk_rng_int(R, 1, 2), C = dk_rng_int(R, 1, 24), H = dk_rng_int(R, 1, 12),
            W = dk_rng_int(R, 1, 12);
    int64_t ad[4] = {N, C, H, W}, bd[4];
    int ar = 4, br = 4, b_const = 0, swap = 0;
    switch (cls) {
    case 0: memcpy(bd, ad, sizeof bd); break;                     /* residual */
    case 1: br = 3, bd[0] = C, bd[1] = 1, bd[2] = 1, b_const = 1; break; /* per channel */
    case 2: bd[0] = 1, bd[1] = C, bd[2] = 1, bd[3] = 1, b_const = dk_rng_chance(R, 0.5); break;
    case 3: br = 0, b_const = 1; break;                           /* scalar */
    case 4: /* bidirectional */
        ad[2] = 1;
        bd[0] = 1, bd[1] = 1, bd[2] = H, bd[3] = 1;
        break;
    case 5: ar = 2, br = 1, ad[0] = N, ad[1] = C, bd[0] = C, b_const = 1; break;
    default: /* the smaller operand first */
        bd[0] = 1, bd[1] = C, bd[2] = 1, bd[3] = W;
        swap = 1;
        break;
    }
    int a = dk__op_case_input(c, "a", ar, ad, -1, 1);
    int b = b_const ? dk__op_case_const(c, "b", br, bd, -1, 1)
                    : dk__op_case_input(c, "b", br, bd, -1, 1);
    if (op == DK_OP_DIV) dk__op_case_away_from_zero(c, b, 0.25, 2, 1);
    int ins[2] = {swap ? b : a, swap ? a : b};
    dk__op_case_node(c, op, ins, 2, 1);
    dk__op_case_desc(c, "A %s B %s%s", dk__op_case_shape(swap ? br : ar, swap ? bd : ad),
            dk__op_case_shape(swap ? ar : br, swap ? ad : bd), b_const ? " (constant)" : "");
}

static void gen_add(dk__op_case *c, int cls) { gen_binary(c, DK_OP_ADD, cls); }
static void gen_sub(dk__op_case *c, int cls) { gen_binary(c, DK_OP_SUB, cls); }
static void gen_mul(dk__op_case *c, int cls) { gen_binary(c, DK_OP_MUL, cls); }
static void gen_div(dk__op_case *c, int cls) { gen_binary(c, DK_OP_DIV, cls); }

/* Sum, Mean, Max, Min over 1 to 6 inputs: all of one shape; an NCHW
 * tensor with per-channel [C,1,1] and [1,C,1,1] terms (a constant among
 * them); a single input; every input broadcasting some dims (the output
 * shape no input has). */
static void gen_variadic(dk__op_case *c, dk_op op, int cls)
{
    int64_t N = dk_rng_int(R, 1, 2), C = dk_rng_int(R, 1, 24), H = dk_rng_int(R, 1, 12),
            W = dk_rng_int(R, 1, 12);
    int k = cls == 2 ? 1 : (int)dk_rng_int(R, 2, 6);
    int ins[6];
    dk__op_case_desc(c, "%d inputs:", k);
    for (int j = 0; j < k; j++) {
        int64_t d[4] = {N, C, H, W};
        int r = 4, is_const = 0;
        if (cls == 1 && j > 0) {
            if (j % 2) r = 3, d[0] = C, d[1] = 1, d[2] = 1;
            else d[0] = 1, d[2] = 1, d[3] = 1;
            is_const = j == 1;
        } else if (cls == 3) {
            d[j % 4] = 1; /* each input lacks one dim, the first two differ */
            if (j == 0) d[1] = 1, d[2] = H;
        }
        char name[16];
        snprintf(name, sizeof name, "x%d", j);
        ins[j] = is_const ? dk__op_case_const(c, name, r, d, -2, 2)
                          : dk__op_case_input(c, name, r, d, -2, 2);
        dk__op_case_desc(c, " %s%s", dk__op_case_shape(r, d), is_const ? " (constant)" : "");
    }
    dk__op_case_node(c, op, ins, k, 1);
}

static void gen_sum(dk__op_case *c, int cls) { gen_variadic(c, DK_OP_SUM, cls); }
static void gen_mean(dk__op_case *c, int cls) { gen_variadic(c, DK_OP_MEAN, cls); }
static void gen_max(dk__op_case *c, int cls) { gen_variadic(c, DK_OP_MAX, cls); }
static void gen_min(dk__op_case *c, int cls) { gen_variadic(c, DK_OP_MIN, cls); }

/* PRelu: a constant per-channel slope [C,1,1] (what exporters write), a
 * single shared slope, a slope of X's shape, a slope [W] fed as a graph input. */
static void gen_prelu(dk__op_case *c, int cls)
{
    int64_t xd[4] = {dk_rng_int(R, 1, 2), dk_rng_int(R, 1, 24), dk_rng_int(R, 1, 12),
                     dk_rng_int(R, 1, 12)};
    int64_t sd[4];
    int sr = 1;
    switch (cls) {
    case 0: sr = 3, sd[0] = xd[1], sd[1] = 1, sd[2] = 1; break;
    case 1: sd[0] = 1; break;
    case 2: sr = 4, memcpy(sd, xd, sizeof sd); break;
    default: sd[0] = xd[3]; break;
    }
    int ins[2] = {dk__op_case_input(c, "x", 4, xd, -2, 2),
                  cls < 2 ? dk__op_case_const(c, "slope", sr, sd, -0.5, 0.5)
                          : dk__op_case_input(c, "slope", sr, sd, -0.5, 0.5)};
    dk__op_case_node(c, DK_OP_PRELU, ins, 2, 1);
    dk__op_case_desc(c, "x %s slope %s%s", dk__op_case_shape(4, xd), dk__op_case_shape(sr, sd),
                     cls < 2 ? " (constant)" : "");
}

/* Pow on a positive base, never zero: the constant scalar exponents exporters
 * write (x^2 and x^0.5 of a decomposed LayerNorm, x^3 of GELU's tanh form), an
 * exponent tensor broadcast over the channels (a graph input), and an int64
 * exponent (ONNX's T1 differs from T). */
static void gen_pow(dk__op_case *c, int cls)
{
    static const float scalars[3] = {2, 0.5f, 3};
    int64_t xd[4] = {dk_rng_int(R, 1, 2), dk_rng_int(R, 1, 24), dk_rng_int(R, 1, 12),
                     dk_rng_int(R, 1, 12)};
    int x = dk__op_case_input(c, "x", 4, xd, 0.05, 4), e;
    dk__op_case_desc(c, "x %s in [0.05,4)", dk__op_case_shape(4, xd));
    if (cls < 3) {
        e = dk__op_case_scalar(c, "e", scalars[cls], 0);
        dk__op_case_desc(c, " e=%g (constant)", scalars[cls]);
    } else if (cls == 3) {
        int64_t ed[4] = {1, xd[1], 1, 1};
        e = dk__op_case_input(c, "e", 4, ed, -2, 3);
        dk__op_case_desc(c, " e %s in [-2,3) (graph input)", dk__op_case_shape(4, ed));
    } else {
        int64_t v = dk_rng_int(R, -3, 4);
        e = dk__op_case_const_ints(c, "e", 0, 1, &v);
        dk__op_case_desc(c, " e=%lld (int64 constant)", (long long)v);
    }
    int ins[2] = {x, e};
    dk__op_case_node(c, DK_OP_POW, ins, 2, 1);
}

/* A random activation shape: rank 1 to 4 (mostly NCHW). */
static int act_shape(dk__op_case *c, int cls, int64_t *dims)
{
    int rank = cls == 0 ? 4 : (int)dk_rng_int(R, 1, 4);
    int64_t hi = rank == 4 ? 12 : 40;
    for (int i = 0; i < rank; i++) dims[i] = dk_rng_int(R, 1, hi);
    if (rank == 4) dims[0] = dk_rng_int(R, 1, 2);
    return rank;
}

static void gen_unary(dk__op_case *c, dk_op op, int cls, double range)
{
    int64_t xd[4];
    int rank = act_shape(c, cls, xd);
    int ins[1] = {dk__op_case_input(c, "x", rank, xd, -range, range)};
    dk__op_case_node(c, op, ins, 1, 1);
    dk__op_case_desc(c, "x %s range=%g", dk__op_case_shape(rank, xd), range);
    if (op == DK_OP_LEAKYRELU) {
        float alpha = (float)dk_rng_uniform(R, 0.01, 0.5);
        dk__op_case_attr_float(c, "alpha", alpha);
        dk__op_case_desc(c, " alpha=%g", alpha);
    } else if (op == DK_OP_ELU) {
        float alpha = (float)dk_rng_uniform(R, 0.1, 2);
        dk__op_case_attr_float(c, "alpha", alpha);
        dk__op_case_desc(c, " alpha=%g", alpha);
    } else if (op == DK_OP_HARDSIGMOID) {
        float alpha = (float)dk_rng_uniform(R, 0.1, 0.5),
              beta = (float)dk_rng_uniform(R, 0.2, 0.8);
        dk__op_case_attr_float(c, "alpha", alpha);
        dk__op_case_attr_float(c, "beta", beta);
        dk__op_case_desc(c, " alpha=%g beta=%g", alpha, beta);
    }
}

static void gen_relu(dk__op_case *c, int cls) { gen_unary(c, DK_OP_RELU, cls, 1); }
static void gen_neg(dk__op_case *c, int cls) { gen_unary(c, DK_OP_NEG, cls, 8); }
static void gen_leakyrelu(dk__op_case *c, int cls) { gen_unary(c, DK_OP_LEAKYRELU, cls, 1); }
/* erf saturates beyond |x| ~ 4, tanh beyond ~ 9: the second class reaches both tails */
static void gen_erf(dk__op_case *c, int cls) { gen_unary(c, DK_OP_ERF, cls, cls ? 6 : 2); }
static void gen_tanh(dk__op_case *c, int cls) { gen_unary(c, DK_OP_TANH, cls, cls ? 12 : 3); }

/* Cast from float32 (the type graph inputs have here) to each supported
 * type: float64, int32 and int64 (truncation, negative values), uint8 (values
 * up to 300: wrapped), bool (some exact zeros), and float32 itself. */
static void gen_cast(dk__op_case *c, int cls)
{
    static const dk_dtype to[6] = {DK_F64, DK_I32, DK_I64, DK_U8, DK_BOOL, DK_F32};
    int64_t xd[4];
    int rank = act_shape(c, cls % 2, xd);
    double range = cls == 3 ? 300 : 100;
    int x = dk__op_case_input(c, "x", rank, xd, cls == 3 ? 0 : -range, range);
    if (to[cls] == DK_BOOL) {
        dk_tensor *t = dk__op_case_tensor(c, x);
        for (int64_t i = 0; t && i < dk_tensor_numel(t); i += 3) ((float *)t->data)[i] = 0;
    }
    int ins[1] = {x};
    dk__op_case_node(c, DK_OP_CAST, ins, 1, 1);
    dk__op_case_attr_int(c, "to", to[cls]);
    dk__op_case_desc(c, "x %s in [%g,%g) to %s", dk__op_case_shape(rank, xd),
                     cls == 3 ? 0 : -range, range, dk_dtype_name(to[cls]));
}

/* Abs, Floor, Ceil are exact: any values; the wide class gives Floor and
 * Ceil integers of several digits. Exp up to e^20 and down to e^-20;
 * Softplus into both tails (y ~ e^x below, y ~ x above); Elu mostly on its
 * exponential side. */
static void gen_abs(dk__op_case *c, int cls) { gen_unary(c, DK_OP_ABS, cls, 8); }
static void gen_floor(dk__op_case *c, int cls) { gen_unary(c, DK_OP_FLOOR, cls, cls ? 1000 : 4); }
static void gen_ceil(dk__op_case *c, int cls) { gen_unary(c, DK_OP_CEIL, cls, cls ? 1000 : 4); }
static void gen_exp(dk__op_case *c, int cls) { gen_unary(c, DK_OP_EXP, cls, cls ? 20 : 3); }
static void gen_softplus(dk__op_case *c, int cls) { gen_unary(c, DK_OP_SOFTPLUS, cls, cls ? 30 : 4); }
static void gen_elu(dk__op_case *c, int cls) { gen_unary(c, DK_OP_ELU, cls, cls ? 12 : 3); }

/* Log and Reciprocal on positive inputs away from 0 (Reciprocal with a
 * random sign); the second class log-uniform over six decades. */
static void gen_positive(dk__op_case *c, dk_op op, int cls)
{
    int64_t xd[4];
    int rank = act_shape(c, cls, xd);
    double lo = cls ? 1e-3 : 0.05, hi = cls ? 1e3 : 4;
    int x = dk__op_case_input(c, "x", rank, xd, lo, hi);
    dk_tensor *t = dk__op_case_tensor(c, x);
    for (int64_t i = 0; t && i < dk_tensor_numel(t); i++) {
        float *v = (float *)t->data + i;
        if (cls) *v = (float)pow(10.0, dk_rng_uniform(R, -3, 3));
        if (op == DK_OP_RECIPROCAL && dk_rng_chance(R, 0.5)) *v = -*v;
    }
    int ins[1] = {x};
    dk__op_case_node(c, op, ins, 1, 1);
    dk__op_case_desc(c, "x %s |x| in [%g,%g)%s", dk__op_case_shape(rank, xd), lo, hi,
                     cls ? " log-uniform" : "");
}
static void gen_log(dk__op_case *c, int cls) { gen_positive(c, DK_OP_LOG, cls); }
static void gen_reciprocal(dk__op_case *c, int cls) { gen_positive(c, DK_OP_RECIPROCAL, cls); }

/* Sqrt on positive inputs only (NaN below 0 compares equal but proves nothing);
 * the second class spans six orders of magnitude. */
static void gen_sqrt(dk__op_case *c, int cls)
{
    int64_t xd[4];
    int rank = act_shape(c, cls, xd);
    double lo = cls ? 1e-4 : 0.01, hi = cls ? 1e2 : 4;
    int x = dk__op_case_input(c, "x", rank, xd, lo, hi);
    if (cls) { /* log-uniform, so that the small values are not drowned out */
        dk_tensor *t = dk__op_case_tensor(c, x);
        for (int64_t i = 0; t && i < dk_tensor_numel(t); i++)
            ((float *)t->data)[i] = (float)pow(10.0, dk_rng_uniform(R, -4, 2));
    }
    int ins[1] = {x};
    dk__op_case_node(c, DK_OP_SQRT, ins, 1, 1);
    dk__op_case_desc(c, "x %s range=[%g,%g)", dk__op_case_shape(rank, xd), lo, hi);
}
static void gen_sigmoid(dk__op_case *c, int cls) { gen_unary(c, DK_OP_SIGMOID, cls, cls ? 16 : 4); }
static void gen_hardsigmoid(dk__op_case *c, int cls) { gen_unary(c, DK_OP_HARDSIGMOID, cls, 5); }
static void gen_hardswish(dk__op_case *c, int cls)
{
    c->g->opset = 14;
    gen_unary(c, DK_OP_HARDSWISH, cls, 6);
}

static void gen_clip(dk__op_case *c, int cls)
{
    int64_t xd[4];
    int rank = act_shape(c, cls == 0 ? 0 : 1, xd);
    float lo = (float)dk_rng_uniform(R, -4, 0), hi = (float)dk_rng_uniform(R, 0.5, 4);
    if (cls == 0 && dk_rng_chance(R, 0.5)) lo = 0, hi = 6; /* ReLU6 */
    int x = dk__op_case_input(c, "x", rank, xd, -8, 8);
    dk__op_case_desc(c, "x %s", dk__op_case_shape(rank, xd));
    if (cls == 0) { /* opset 6: attributes */
        c->g->opset = 6;
        int ins[1] = {x};
        dk__op_case_node(c, DK_OP_CLIP, ins, 1, 1);
        dk__op_case_attr_float(c, "min", lo);
        dk__op_case_attr_float(c, "max", hi);
        dk__op_case_desc(c, " min=%g max=%g (attributes)", lo, hi);
        return;
    }
    c->g->opset = 13;
    int runtime = cls == 4;
    int ins[3] = {x, -1, -1}, n_in = 3;
    if (cls != 3) ins[1] = dk__op_case_scalar(c, "min", lo, runtime);
    if (cls != 2) ins[2] = dk__op_case_scalar(c, "max", hi, runtime);
    else n_in = 2;
    dk__op_case_node(c, DK_OP_CLIP, ins, n_in, 1);
    if (cls != 3) dk__op_case_desc(c, " min=%g", lo);
    if (cls != 2) dk__op_case_desc(c, " max=%g", hi);
    dk__op_case_desc(c, runtime ? " (graph inputs)" : " (constant inputs)");
}

/* ---- data movement --------------------------------------------------------------- */

static void gen_flatten(dk__op_case *c, int cls)
{
    int64_t xd[4];
    int rank = act_shape(c, cls, xd);
    int axis = (int)dk_rng_int(R, 0, rank);
    int ins[1] = {dk__op_case_input(c, "x", rank, xd, -1, 1)};
    dk__op_case_node(c, DK_OP_FLATTEN, ins, 1, 1);
    dk__op_case_attr_int(c, "axis", axis);
    dk__op_case_desc(c, "x %s axis=%d", dk__op_case_shape(rank, xd), axis);
}

static void gen_reshape(dk__op_case *c, int cls)
{
    int64_t xd[4] = {dk_rng_int(R, 1, 2), dk_rng_int(R, 1, 16), dk_rng_int(R, 1, 8),
                     dk_rng_int(R, 1, 8)};
    int64_t shape[4];
    int count;
    switch (cls) {
    case 0: shape[0] = xd[0], shape[1] = -1, count = 2; break;
    case 1: shape[0] = 0, shape[1] = xd[1] * xd[2], shape[2] = xd[3], count = 3; break;
    default: shape[0] = -1, count = 1; break;
    }
    c->g->opset = 14;
    int ins[2] = {dk__op_case_input(c, "x", 4, xd, -1, 1),
                  dk__op_case_const_ints(c, "shape", 1, count, shape)};
    dk__op_case_node(c, DK_OP_RESHAPE, ins, 2, 1);
    dk__op_case_desc(c, "x %s", dk__op_case_shape(4, xd));
    ints_desc(c, "shape", count, shape);
}

static void gen_transpose(dk__op_case *c, int cls)
{
    int rank = (int)dk_rng_int(R, 2, 5);
    int64_t xd[5], perm[5];
    for (int i = 0; i < rank; i++) xd[i] = dk_rng_int(R, 1, 8), perm[i] = i;
    if (cls == 0 && rank >= 4) perm[1] = 2, perm[2] = 3, perm[3] = 1; /* NCHW -> NHWC */
    else
        for (int i = rank - 1; i > 0; i--) {
            int j = (int)dk_rng_int(R, 0, i);
            int64_t t = perm[i];
            perm[i] = perm[j], perm[j] = t;
        }
    int ins[1] = {dk__op_case_input(c, "x", rank, xd, -1, 1)};
    dk__op_case_node(c, DK_OP_TRANSPOSE, ins, 1, 1);
    dk__op_case_attr_ints(c, "perm", rank, perm);
    dk__op_case_desc(c, "x %s", dk__op_case_shape(rank, xd));
    ints_desc(c, "perm", rank, perm);
}

static void gen_squeeze(dk__op_case *c, int cls)
{
    int64_t xd[4] = {dk_rng_int(R, 1, 4), 1, dk_rng_int(R, 1, 8), 1}, axes[2] = {1, 3};
    int naxes = cls == 0 ? 2 : 1;
    if (cls == 1) axes[0] = -1;
    c->g->opset = 13;
    int ins[2] = {dk__op_case_input(c, "x", 4, xd, -1, 1),
                  dk__op_case_const_ints(c, "axes", 1, naxes, axes)};
    dk__op_case_node(c, DK_OP_SQUEEZE, ins, 2, 1);
    dk__op_case_desc(c, "x %s", dk__op_case_shape(4, xd));
    ints_desc(c, "axes", naxes, axes);
}

static void gen_unsqueeze(dk__op_case *c, int cls)
{
    int64_t xd[2] = {dk_rng_int(R, 1, 8), dk_rng_int(R, 1, 8)}, axes[2] = {0, 3};
    int naxes = cls == 0 ? 2 : 1;
    if (cls == 1) axes[0] = -1;
    c->g->opset = 13;
    int ins[2] = {dk__op_case_input(c, "x", 2, xd, -1, 1),
                  dk__op_case_const_ints(c, "axes", 1, naxes, axes)};
    dk__op_case_node(c, DK_OP_UNSQUEEZE, ins, 2, 1);
    dk__op_case_desc(c, "x %s", dk__op_case_shape(2, xd));
    ints_desc(c, "axes", naxes, axes);
}

static void gen_concat(dk__op_case *c, int cls)
{
    int rank = cls == 0 ? 4 : (int)dk_rng_int(R, 1, 4);
    int axis = cls == 0 ? 1 : (int)dk_rng_int(R, 0, rank - 1);
    int count = (int)dk_rng_int(R, 2, 4), ins[4];
    int64_t base[4];
    for (int i = 0; i < rank; i++) base[i] = dk_rng_int(R, 1, 8);
    dk__op_case_desc(c, "axis=%d", axis);
    for (int k = 0; k < count; k++) {
        int64_t d[4];
        memcpy(d, base, sizeof d);
        d[axis] = dk_rng_int(R, 1, 8);
        char name[16];
        snprintf(name, sizeof name, "x%d", k);
        /* one operand may be a constant, but never all of them (that would fold) */
        ins[k] = k > 0 && dk_rng_chance(R, 0.25) ? dk__op_case_const(c, name, rank, d, -1, 1)
                                             : dk__op_case_input(c, name, rank, d, -1, 1);
        dk__op_case_desc(c, " %s", dk__op_case_shape(rank, d));
    }
    dk__op_case_node(c, DK_OP_CONCAT, ins, count, 1);
    dk__op_case_attr_int(c, "axis", axis);
}

static void gen_pad(dk__op_case *c, int cls)
{
    int64_t xd[4] = {dk_rng_int(R, 1, 2), dk_rng_int(R, 1, 6), dk_rng_int(R, 3, 10),
                     dk_rng_int(R, 3, 10)};
    int64_t pads[8] = {0};
    for (int i = 2; i < 4; i++) pads[i] = dk_rng_int(R, 0, 2), pads[4 + i] = dk_rng_int(R, 0, 2);
    const char *mode = cls == 0 ? "constant" : cls == 1 ? "reflect" : "edge";
    if (cls == 0 && dk_rng_chance(R, 0.5)) pads[3] = -1; /* cropping */
    c->g->opset = 13;
    int ins[3] = {dk__op_case_input(c, "x", 4, xd, -1, 1),
                  dk__op_case_const_ints(c, "pads", 1, 8, pads), -1};
    float value = (float)dk_rng_uniform(R, -2, 2);
    if (cls == 0) ins[2] = dk__op_case_scalar(c, "value", value, 0);
    dk__op_case_node(c, DK_OP_PAD, ins, cls == 0 ? 3 : 2, 1);
    dk__op_case_attr_string(c, "mode", mode);
    dk__op_case_desc(c, "x %s mode=%s", dk__op_case_shape(4, xd), mode);
    ints_desc(c, "pads", 8, pads);
    if (cls == 0) dk__op_case_desc(c, " value=%g", value);
}

static void gen_gather(dk__op_case *c, int cls)
{
    int rank = (int)dk_rng_int(R, 1, 3);
    int64_t xd[3];
    for (int i = 0; i < rank; i++) xd[i] = dk_rng_int(R, 1, 10);
    int axis = (int)dk_rng_int(R, 0, rank - 1);
    int64_t count = cls == 0 ? 1 : dk_rng_int(R, 1, 6), idx[6];
    for (int64_t i = 0; i < count; i++) idx[i] = dk_rng_int(R, -xd[axis], xd[axis] - 1);
    int ins[2] = {dk__op_case_input(c, "x", rank, xd, -1, 1),
                  dk__op_case_const_ints(c, "indices", cls == 0 ? 0 : 1, count, idx)};
    dk__op_case_node(c, DK_OP_GATHER, ins, 2, 1);
    dk__op_case_attr_int(c, "axis", axis);
    dk__op_case_desc(c, "x %s axis=%d", dk__op_case_shape(rank, xd), axis);
    ints_desc(c, cls == 0 ? "index" : "indices", (int)count, idx);
}

/* Slice of one axis of length d that keeps at least one element: a start
 * index, then an end past it in the step's direction; either may be written
 * from the end (negative) or beyond the axis (clamped). */
static void slice_range(dk__op_case *c, int64_t d, int64_t step, int negative, int64_t *start,
                        int64_t *end)
{
    int64_t s = dk_rng_int(R, 0, d - 1);
    int64_t e = step > 0 ? dk_rng_int(R, s + 1, d) : dk_rng_int(R, -1, s - 1);
    *start = negative && dk_rng_chance(R, 0.7) ? s - d : s;
    *end = e;
    if (negative && e >= 0 && e < d && dk_rng_chance(R, 0.7)) *end = e - d;
    if (step < 0 && e == -1) *end = INT64_MIN; /* "to the beginning", as exporters write it */
}

static void gen_slice(dk__op_case *c, int cls)
{
    int rank = cls == 0 ? 4 : (int)dk_rng_int(R, 1, 4);
    int64_t xd[4], starts[4], ends[4], axes[4], steps[4];
    for (int i = 0; i < rank; i++) xd[i] = dk_rng_int(R, 1, 10);
    int count = 1, with_axes = 1, with_steps = cls == 2 || cls == 3;
    switch (cls) {
    case 0: { /* ShuffleNetV2's channel split: one half of [N, 2C, H, W] */
        int64_t half = dk_rng_int(R, 1, 12), second = dk_rng_chance(R, 0.5);
        xd[1] = 2 * half;
        starts[0] = second ? half : 0, ends[0] = second ? 2 * half : half, axes[0] = 1;
        break;
    }
    case 4: /* ends past the axis: INT64_MAX, clamped */
        axes[0] = dk_rng_int(R, 0, rank - 1);
        starts[0] = dk_rng_int(R, 0, xd[axes[0]] - 1), ends[0] = INT64_MAX;
        break;
    case 5: /* default axes: a prefix of the dims */
        with_axes = 0;
        count = (int)dk_rng_int(R, 1, rank);
        for (int i = 0; i < count; i++) slice_range(c, xd[i], 1, 1, &starts[i], &ends[i]);
        break;
    default: /* 1 negative indices, 2 steps > 1, 3 negative steps, 6 opset 9: random axes */
        count = (int)dk_rng_int(R, 1, rank);
        for (int i = 0; i < count; i++) {
            axes[i] = (rank - count + i) - (dk_rng_chance(R, 0.5) ? rank : 0); /* maybe negative */
            steps[i] = cls == 2 ? dk_rng_int(R, 2, 3) : cls == 3 ? -dk_rng_int(R, 1, 3) : 1;
            int64_t d = xd[axes[i] < 0 ? axes[i] + rank : axes[i]];
            slice_range(c, d, steps[i], cls != 6, &starts[i], &ends[i]);
        }
        break;
    }
    int ins[5] = {dk__op_case_input(c, "x", rank, xd, -1, 1), -1, -1, -1, -1}, n_in = 1;
    dk__op_case_desc(c, "x %s", dk__op_case_shape(rank, xd));
    if (cls == 6) { /* opset 9: attributes, step 1 */
        c->g->opset = 9;
        dk__op_case_node(c, DK_OP_SLICE, ins, 1, 1);
        dk__op_case_attr_ints(c, "starts", count, starts);
        dk__op_case_attr_ints(c, "ends", count, ends);
        dk__op_case_attr_ints(c, "axes", count, axes);
    } else {
        c->g->opset = 13;
        ins[1] = dk__op_case_const_ints(c, "starts", 1, count, starts);
        ins[2] = dk__op_case_const_ints(c, "ends", 1, count, ends);
        n_in = with_steps ? 5 : with_axes ? 4 : 3;
        if (with_axes) ins[3] = dk__op_case_const_ints(c, "axes", 1, count, axes);
        if (with_steps) ins[4] = dk__op_case_const_ints(c, "steps", 1, count, steps);
        dk__op_case_node(c, DK_OP_SLICE, ins, n_in, 1);
    }
    ints_desc(c, "starts", count, starts);
    ints_desc(c, "ends", count, ends);
    if (with_axes) ints_desc(c, "axes", count, axes);
    if (with_steps) ints_desc(c, "steps", count, steps);
    dk__op_case_desc(c, " opset %lld", (long long)c->g->opset);
}

/* Expand: a per-channel tensor over NCHW, a shape of lower rank than the
 * input, and both ways at once (shape dims of 1 keep the input's). */
static void gen_expand(dk__op_case *c, int cls)
{
    int64_t full[4] = {dk_rng_int(R, 1, 3), dk_rng_int(R, 1, 16), dk_rng_int(R, 1, 9),
                       dk_rng_int(R, 1, 9)};
    int64_t xd[4] = {1, full[1], 1, 1}, shape[4];
    int rank = 4, count = 4;
    memcpy(shape, full, sizeof shape);
    if (cls == 1) { /* x [N, C, H, W] by shape [H, W]: an identity broadcast */
        memcpy(xd, full, sizeof xd);
        xd[0] = 1, shape[0] = full[2], shape[1] = full[3], count = 2;
    } else if (cls == 2) { /* x [C, 1] by [N, 1, W]: both ways */
        rank = 2, xd[0] = full[1], xd[1] = 1;
        shape[0] = full[0], shape[1] = 1, shape[2] = full[3], count = 3;
    }
    c->g->opset = 13;
    int ins[2] = {dk__op_case_input(c, "x", rank, xd, -1, 1),
                  dk__op_case_const_ints(c, "shape", 1, count, shape)};
    dk__op_case_node(c, DK_OP_EXPAND, ins, 2, 1);
    dk__op_case_desc(c, "x %s", dk__op_case_shape(rank, xd));
    ints_desc(c, "shape", count, shape);
}

/* Split: equal parts (opset 11), sizes as input 1 (opset 13), num_outputs
 * with a shorter last part (opset 18), the 'split' attribute (opset 11). The
 * suite compares output 0; the conformance tests check every output. */
static void gen_split(dk__op_case *c, int cls)
{
    int rank = (int)dk_rng_int(R, 1, 4), nout = (int)dk_rng_int(R, 2, 4);
    int64_t xd[4], sizes[4];
    for (int i = 0; i < rank; i++) xd[i] = dk_rng_int(R, 1, 8);
    int axis = (int)dk_rng_int(R, 0, rank - 1);
    int64_t dim;
    if (cls == 0) {
        xd[axis] = nout * dk_rng_int(R, 1, 4);
    } else if (cls == 2) {
        int64_t chunk = dk_rng_int(R, 2, 4);
        xd[axis] = chunk * (nout - 1) + dk_rng_int(R, 1, chunk - 1);
    } else {
        dim = 0;
        for (int i = 0; i < nout; i++) dim += sizes[i] = dk_rng_int(R, 1, 5);
        xd[axis] = dim;
    }
    int ins[2] = {dk__op_case_input(c, "x", rank, xd, -1, 1), -1};
    c->g->opset = cls == 1 ? 13 : cls == 2 ? 18 : 11;
    if (cls == 1) ins[1] = dk__op_case_const_ints(c, "split", 1, nout, sizes);
    dk__op_case_node(c, DK_OP_SPLIT, ins, cls == 1 ? 2 : 1, nout);
    dk__op_case_attr_int(c, "axis", axis - (dk_rng_chance(R, 0.5) ? rank : 0));
    if (cls == 2) dk__op_case_attr_int(c, "num_outputs", nout);
    if (cls == 3) dk__op_case_attr_ints(c, "split", nout, sizes);
    dk__op_case_desc(c, "x %s axis=%d outputs=%d opset %lld", dk__op_case_shape(rank, xd), axis,
                     nout, (long long)c->g->opset);
    if (cls == 1 || cls == 3) ints_desc(c, "split", nout, sizes);
}

/* Tile: NCHW repeated along a few dims, and any rank with repeats of 0 to 3. */
static void gen_tile(dk__op_case *c, int cls)
{
    int64_t xd[4], reps[4];
    int rank = act_shape(c, cls, xd);
    for (int i = 0; i < rank; i++) {
        xd[i] = xd[i] > 6 ? 6 : xd[i];
        reps[i] = dk_rng_int(R, cls ? 1 : 1, 3);
    }
    c->g->opset = 13;
    int ins[2] = {dk__op_case_input(c, "x", rank, xd, -1, 1),
                  dk__op_case_const_ints(c, "repeats", 1, rank, reps)};
    dk__op_case_node(c, DK_OP_TILE, ins, 2, 1);
    dk__op_case_desc(c, "x %s", dk__op_case_shape(rank, xd));
    ints_desc(c, "repeats", rank, reps);
}

/* DepthToSpace (DCR, CRD) and SpaceToDepth with blocksize 2 or 3. */
static void gen_space(dk__op_case *c, dk_op op, int cls)
{
    int64_t b = dk_rng_int(R, 2, 3);
    int64_t xd[4] = {dk_rng_int(R, 1, 2), dk_rng_int(R, 1, 6), dk_rng_int(R, 1, 6),
                     dk_rng_int(R, 1, 6)};
    if (op == DK_OP_DEPTHTOSPACE) xd[1] *= b * b;
    else xd[2] *= b, xd[3] *= b;
    c->g->opset = 13;
    int ins[1] = {dk__op_case_input(c, "x", 4, xd, -1, 1)};
    dk__op_case_node(c, op, ins, 1, 1);
    dk__op_case_attr_int(c, "blocksize", b);
    const char *mode = cls ? "CRD" : "DCR";
    if (op == DK_OP_DEPTHTOSPACE) dk__op_case_attr_string(c, "mode", mode);
    dk__op_case_desc(c, "x %s blocksize=%lld%s%s", dk__op_case_shape(4, xd), (long long)b,
                     op == DK_OP_DEPTHTOSPACE ? " mode=" : "", op == DK_OP_DEPTHTOSPACE ? mode : "");
}

static void gen_depthtospace(dk__op_case *c, int cls) { gen_space(c, DK_OP_DEPTHTOSPACE, cls); }
static void gen_spacetodepth(dk__op_case *c, int cls) { gen_space(c, DK_OP_SPACETODEPTH, cls); }

/* ArgMax over the last axis (a classifier's logits), any axis without
 * keepdims, and ties (values from a few integers) with select_last_index. */
static void gen_argmax(dk__op_case *c, int cls)
{
    int rank = (int)dk_rng_int(R, 2, 4);
    int64_t xd[4];
    for (int i = 0; i < rank; i++) xd[i] = dk_rng_int(R, 3, 6); /* enough outputs to trust */
    int axis = cls == 0 ? rank - 1 : (int)dk_rng_int(R, 0, rank - 1);
    xd[axis] = dk_rng_int(R, 6, 40);
    int x = dk__op_case_input(c, "x", rank, xd, -4, 4);
    if (cls == 2) {
        dk_tensor *t = dk__op_case_tensor(c, x);
        for (int64_t i = 0; t && i < dk_tensor_numel(t); i++)
            ((float *)t->data)[i] = floorf(((float *)t->data)[i]);
    }
    int ins[1] = {x};
    c->g->opset = 13;
    dk__op_case_node(c, DK_OP_ARGMAX, ins, 1, 1);
    dk__op_case_attr_int(c, "axis", axis);
    dk__op_case_attr_int(c, "keepdims", cls != 1);
    if (cls == 2) dk__op_case_attr_int(c, "select_last_index", 1);
    dk__op_case_desc(c, "x %s axis=%d keepdims=%d%s", dk__op_case_shape(rank, xd), axis, cls != 1,
                     cls == 2 ? " integer values, select_last_index=1" : "");
}

/* Mod: floats with fmod=1 (C's fmod) and fmod=0 (floor remainder), divisors
 * away from zero; int64 with both signs in either mode. */
static void gen_mod(dk__op_case *c, int cls)
{
    int64_t xd[4], bd[4];
    int rank = act_shape(c, cls % 2, xd), brank = rank;
    memcpy(bd, xd, sizeof bd);
    if (cls == 1) brank = 1, bd[0] = xd[rank - 1];
    int fmod_attr = cls == 0 || cls == 2;
    int ins[2];
    if (cls < 2) {
        ins[0] = dk__op_case_input(c, "a", rank, xd, -20, 20);
        ins[1] = dk__op_case_input(c, "b", brank, bd, -1, 1);
        dk__op_case_away_from_zero(c, ins[1], 0.5, 6, 1);
    } else {
        ins[0] = dk__op_case_input_typed(c, "a", DK_I64, rank, xd);
        ins[1] = dk__op_case_input_typed(c, "b", DK_I64, brank, bd);
        for (int k = 0; k < 2; k++) {
            dk_tensor *t = dk__op_case_tensor(c, ins[k]);
            for (int64_t i = 0; t && i < dk_tensor_numel(t); i++) {
                int64_t v = k ? dk_rng_int(R, 2, 9) : dk_rng_int(R, -1000, 1000);
                ((int64_t *)t->data)[i] = k && dk_rng_chance(R, 0.5) ? -v : v;
            }
        }
    }
    c->g->opset = 13;
    dk__op_case_node(c, DK_OP_MOD, ins, 2, 1);
    dk__op_case_attr_int(c, "fmod", fmod_attr);
    dk__op_case_desc(c, "%s a %s b %s fmod=%d", cls < 2 ? "float32" : "int64",
                     dk__op_case_shape(rank, xd), dk__op_case_shape(brank, bd), fmod_attr);
}

/* A bool graph input, true with probability one half. */
static int bool_input(dk__op_case *c, const char *name, int rank, const int64_t *dims)
{
    int v = dk__op_case_input_typed(c, name, DK_BOOL, rank, dims);
    dk_tensor *t = dk__op_case_tensor(c, v);
    for (int64_t i = 0; t && i < dk_tensor_numel(t); i++)
        ((uint8_t *)t->data)[i] = (uint8_t)dk_rng_chance(R, 0.5);
    return v;
}

static void gen_not(dk__op_case *c, int cls)
{
    int64_t xd[4];
    int rank = act_shape(c, cls, xd);
    if (xd[rank - 1] < 32) xd[rank - 1] = 32; /* enough outputs to trust */
    int ins[1] = {bool_input(c, "x", rank, xd)};
    dk__op_case_node(c, DK_OP_NOT, ins, 1, 1);
    dk__op_case_desc(c, "x %s bool", dk__op_case_shape(rank, xd));
}

/* Equal, Less, Greater: float32 values from a few integers ({0, 1} for
 * Equal, 0..15 for the orders: equal pairs occur and about half the outputs
 * are true), the same shape or b broadcast; int64 in class 2. */
static void gen_compare(dk__op_case *c, dk_op op, int cls)
{
    int64_t xd[4], bd[4];
    int rank = act_shape(c, cls == 1, xd), brank = rank;
    if (xd[rank - 1] < 32) xd[rank - 1] = 32; /* enough outputs to trust */
    memcpy(bd, xd, sizeof bd);
    if (cls == 1) brank = 1, bd[0] = xd[rank - 1];
    int ins[2];
    const dk_dtype dt = cls == 2 ? DK_I64 : DK_F32;
    ins[0] = dk__op_case_input_typed(c, "a", dt, rank, xd);
    ins[1] = dk__op_case_input_typed(c, "b", dt, brank, bd);
    for (int k = 0; k < 2; k++) {
        dk_tensor *t = dk__op_case_tensor(c, ins[k]);
        for (int64_t i = 0; t && i < dk_tensor_numel(t); i++)
            dk_tensor_set(t, i, (double)dk_rng_int(R, 0, op == DK_OP_EQUAL ? 1 : 15));
    }
    dk__op_case_node(c, op, ins, 2, 1);
    dk__op_case_desc(c, "%s a %s b %s in {0..%d}", dk_dtype_name(dt), dk__op_case_shape(rank, xd),
                     dk__op_case_shape(brank, bd), op == DK_OP_EQUAL ? 1 : 15);
}

static void gen_equal(dk__op_case *c, int cls) { gen_compare(c, DK_OP_EQUAL, cls); }
static void gen_less(dk__op_case *c, int cls) { gen_compare(c, DK_OP_LESS, cls); }
static void gen_greater(dk__op_case *c, int cls) { gen_compare(c, DK_OP_GREATER, cls); }

/* Where: a condition of X's shape, and one broadcast over a [1] y (the
 * masked_fill torch exports). */
static void gen_where(dk__op_case *c, int cls)
{
    int64_t xd[4], one[1] = {1};
    int rank = act_shape(c, cls, xd);
    int ins[3] = {bool_input(c, "cond", rank, xd), dk__op_case_input(c, "x", rank, xd, -1, 1),
                  cls ? dk__op_case_input(c, "y", 1, one, -100, 100)
                      : dk__op_case_input(c, "y", rank, xd, -1, 1)};
    dk__op_case_node(c, DK_OP_WHERE, ins, 3, 1);
    dk__op_case_desc(c, "cond, x %s y %s", dk__op_case_shape(rank, xd),
                     cls ? "[1]" : dk__op_case_shape(rank, xd));
}

/* ScatterND: whole rows of a matrix (k = 1), single elements of a 3-D tensor
 * (k = 3), with distinct indices, some written negative. */
static void gen_scatternd(dk__op_case *c, int cls)
{
    int64_t xd[3] = {dk_rng_int(R, 4, 10), dk_rng_int(R, 2, 6), dk_rng_int(R, 2, 6)};
    int rank = cls == 0 ? 2 : 3, k = cls == 0 ? 1 : 3;
    int64_t total = cls == 0 ? xd[0] : xd[0] * xd[1] * xd[2];
    int64_t rows = dk_rng_int(R, 1, total < 6 ? total : 6), idx[18], ud[3];
    int64_t picked[6];
    for (int64_t r = 0; r < rows; r++) {
        int64_t flat;
        int again;
        do { /* distinct rows: the order of duplicate writes is unspecified */
            flat = dk_rng_int(R, 0, total - 1);
            again = 0;
            for (int64_t q = 0; q < r; q++) again |= picked[q] == flat;
        } while (again);
        picked[r] = flat;
        for (int d = k - 1; d >= 0; d--) {
            int64_t v = flat % xd[d];
            flat /= xd[d];
            idx[r * k + d] = dk_rng_chance(R, 0.3) ? v - xd[d] : v;
        }
    }
    int64_t id[2] = {rows, k};
    int nud = 1;
    ud[0] = rows;
    if (cls == 0) ud[nud++] = xd[1];
    int ins[3] = {dk__op_case_input(c, "data", rank, xd, -1, 1), -1,
                  dk__op_case_input(c, "updates", nud, ud, 2, 3)};
    ins[1] = dk__op_case_const_ints(c, "indices", 1, rows * k, idx);
    dk_tensor *it = ins[1] >= 0 ? &c->g->values[ins[1]].t : NULL;
    if (it) it->ndim = 2, it->dims[0] = id[0], it->dims[1] = id[1];
    c->g->opset = 16;
    dk__op_case_node(c, DK_OP_SCATTERND, ins, 3, 1);
    dk__op_case_desc(c, "data %s indices [%lld,%d]", dk__op_case_shape(rank, xd), (long long)rows, k);
    ints_desc(c, "indices", (int)(rows * k), idx);
}

/* ---- the table -------------------------------------------------------------------- */

DK_OP_TABLE_VISITED(78, "the op suite's generators (drivers/selftest/selftest_cases.c)");
static const dk__op_gen generators[] = {
    {DK_OP_CONV, 12, gen_conv,
     "1x1;3x3;3x3/s2;grouped;depthwise;7x7/s2 stem;1x7|7x1;5x5|dilated|asymmetric pads;1x1/s2;"
     "1-D|3-D;auto_pad SAME;long reduction"},
    {DK_OP_CONVTRANSPOSE, 7, dk__gen_convtranspose,
     "2x2/s2;3x3/s1 p1;3x3/s2 output_padding;grouped 4x4/s2;dilated|asymmetric pads;1-D|3-D;"
     "output_shape|auto_pad SAME"},
    {DK_OP_RESIZE, 6, dk__gen_resize,
     "nearest asymmetric floor x2|x4|x8;nearest any mode, sizes;linear half_pixel x2;"
     "linear fractional scales;linear align_corners, sizes;opset 10"},
    {DK_OP_UPSAMPLE, 2, dk__gen_upsample, "nearest integer scales;linear"},
    {DK_OP_MAXPOOL, 6, gen_maxpool,
     "3x3/s2 p1;3x3/s2 ceil_mode;2x2/s2;3x3/s1 p1;ceil_mode+pads;1-D|dilated"},
    {DK_OP_AVGPOOL, 6, gen_avgpool,
     "3x3/s1 p1 exclude pad;3x3/s2 ceil_mode;2x2/s2;3x3/s1 p1 include pad;ceil_mode+pads;"
     "1-D|large window"},
    {DK_OP_GLOBALAVGPOOL, 3, gen_gap, "2-D;1-D;3-D"},
    {DK_OP_GLOBALMAXPOOL, 3, gen_gmp, "2-D;1-D;3-D"},
    {DK_OP_GEMM, 5, gen_gemm, "classifier transB;transA;C MxN;alpha/beta, C broadcast;no C"},
    {DK_OP_MATMUL, 5, gen_matmul, "2-D;batched 3-D;broadcast B;4-D broadcast;vector"},
    {DK_OP_EINSUM, 6, gen_einsum,
     "attention scores;attention values;ellipsis broadcast;diagonal, implicit;three inputs;"
     "one input summed"},
    {DK_OP_BATCHNORM, 3, gen_batchnorm, "NCHW;NC;NCL"},
    {DK_OP_INSTANCENORM, 3, dk__gen_instancenorm, "NCHW;NCL;mean far from 0"},
    {DK_OP_LRN, 3, gen_lrn, "AlexNet (5, 1e-4, 0.75, 1);size 3 random;random"},
    {DK_OP_LAYERNORM, 5, gen_layernorm,
     "ViT tokens;channels-last;Scale broadcast;no B, mean far from 0;whole tensor"},
    {DK_OP_SOFTMAX, 4, gen_softmax, "classifier;channels;any axis, wide range;opset 11 coerced"},
    {DK_OP_REDUCEMEAN, 5, gen_reducemean,
     "spatial;last axis;all axes;axes input (opset 18);random axes"},
    {DK_OP_REDUCEMAX, 5, gen_reducemax,
     "spatial;last axis;all axes;axes input (opset 18);random axes"},
    {DK_OP_REDUCESUM, 5, gen_reducesum,
     "spatial;last axis;all axes;axes input (opset 13);random axes"},
    {DK_OP_REDUCEL2, 5, gen_reducel2,
     "spatial;last axis;all axes;axes input (opset 18);random axes"},
    {DK_OP_ARGMAX, 3, gen_argmax, "last axis;any axis, keepdims=0;ties, select_last_index"},
    {DK_OP_ADD, 7, gen_add,
     "same shape;[C,1,1];[1,C,1,1];scalar;bidirectional;[N,C]+[C];smaller first"},
    {DK_OP_SUB, 7, gen_sub,
     "same shape;[C,1,1];[1,C,1,1];scalar;bidirectional;[N,C]+[C];smaller first"},
    {DK_OP_MUL, 7, gen_mul,
     "same shape;[C,1,1];[1,C,1,1];scalar;bidirectional;[N,C]+[C];smaller first"},
    {DK_OP_DIV, 7, gen_div,
     "same shape;[C,1,1];[1,C,1,1];scalar;bidirectional;[N,C]+[C];smaller first"},
    {DK_OP_SUM, 4, gen_sum, "same shape;per-channel terms;one input;all broadcast"},
    {DK_OP_MEAN, 4, gen_mean, "same shape;per-channel terms;one input;all broadcast"},
    {DK_OP_MAX, 4, gen_max, "same shape;per-channel terms;one input;all broadcast"},
    {DK_OP_MIN, 4, gen_min, "same shape;per-channel terms;one input;all broadcast"},
    {DK_OP_PRELU, 4, gen_prelu, "[C,1,1] constant;[1] constant;X's shape;[W] graph input"},
    {DK_OP_CAST, 6, gen_cast, "to float64;to int32;to int64;to uint8 (wrapping);to bool;to float32"},
    {DK_OP_POW, 5, gen_pow,
     "scalar 2;scalar 0.5;scalar 3;exponent [1,C,1,1];int64 scalar exponent"},
    {DK_OP_RELU, 2, gen_relu, "NCHW;any rank"},
    {DK_OP_LEAKYRELU, 2, gen_leakyrelu, "NCHW;any rank"},
    {DK_OP_SIGMOID, 2, gen_sigmoid, "NCHW [-4,4];any rank [-16,16]"},
    {DK_OP_HARDSIGMOID, 2, gen_hardsigmoid, "NCHW;any rank"},
    {DK_OP_HARDSWISH, 2, gen_hardswish, "NCHW;any rank"},
    {DK_OP_NEG, 2, gen_neg, "NCHW;any rank"},
    {DK_OP_SQRT, 2, gen_sqrt, "NCHW [0.01,4);any rank log-uniform [1e-4,1e2)"},
    {DK_OP_ERF, 2, gen_erf, "NCHW [-2,2];any rank [-6,6]"},
    {DK_OP_TANH, 2, gen_tanh, "NCHW [-3,3];any rank [-12,12]"},
    {DK_OP_ABS, 2, gen_abs, "NCHW;any rank"},
    {DK_OP_FLOOR, 2, gen_floor, "NCHW [-4,4];any rank [-1000,1000]"},
    {DK_OP_CEIL, 2, gen_ceil, "NCHW [-4,4];any rank [-1000,1000]"},
    {DK_OP_EXP, 2, gen_exp, "NCHW [-3,3];any rank [-20,20]"},
    {DK_OP_LOG, 2, gen_log, "NCHW [0.05,4);any rank log-uniform [1e-3,1e3)"},
    {DK_OP_RECIPROCAL, 2, gen_reciprocal,
     "NCHW |x| in [0.05,4);any rank log-uniform |x| in [1e-3,1e3)"},
    {DK_OP_SOFTPLUS, 2, gen_softplus, "NCHW [-4,4];any rank [-30,30]"},
    {DK_OP_ELU, 2, gen_elu, "NCHW [-3,3];any rank [-12,12]"},
    {DK_OP_CLIP, 5, gen_clip,
     "attributes (opset 6);constant min and max;min only;max only;bounds as graph inputs"},
    {DK_OP_FLATTEN, 2, gen_flatten, "NCHW;any rank"},
    {DK_OP_RESHAPE, 3, gen_reshape, "[N,-1];[0,C*H,W];[-1]"},
    {DK_OP_TRANSPOSE, 2, gen_transpose, "NCHW->NHWC;random"},
    {DK_OP_SQUEEZE, 2, gen_squeeze, "two axes;negative axis"},
    {DK_OP_UNSQUEEZE, 2, gen_unsqueeze, "two axes;negative axis"},
    {DK_OP_CONCAT, 2, gen_concat, "channels;any axis"},
    {DK_OP_PAD, 3, gen_pad, "constant (cropping);reflect;edge"},
    {DK_OP_GATHER, 2, gen_gather, "scalar index;index vector"},
    {DK_OP_EXPAND, 3, gen_expand, "[1,C,1,1] to NCHW;lower-rank shape;both ways"},
    {DK_OP_SLICE, 7, gen_slice,
     "channel split;negative indices;steps > 1;negative steps;ends INT64_MAX;default axes;"
     "opset 9 attributes"},
    {DK_OP_SPLIT, 4, gen_split, "equal parts;split input (opset 13);num_outputs (opset 18);"
     "split attribute"},
    {DK_OP_TILE, 2, gen_tile, "NCHW;any rank"},
    {DK_OP_DEPTHTOSPACE, 2, gen_depthtospace, "DCR;CRD"},
    {DK_OP_SPACETODEPTH, 1, gen_spacetodepth, "NCHW"},
    {DK_OP_MOD, 4, gen_mod, "float fmod=1;float fmod=0 broadcast;int64 fmod=1;int64 fmod=0"},
    {DK_OP_NOT, 2, gen_not, "NCHW;any rank"},
    {DK_OP_EQUAL, 3, gen_equal, "same shape;broadcast;int64"},
    {DK_OP_LESS, 3, gen_less, "same shape;broadcast;int64"},
    {DK_OP_GREATER, 3, gen_greater, "same shape;broadcast;int64"},
    {DK_OP_WHERE, 2, gen_where, "same shapes;y broadcast"},
    {DK_OP_SCATTERND, 2, gen_scatternd, "rows (k=1);elements (k=3)"},
};

const dk__op_gen *dk__op_gen_at(int i)
{
    return i >= 0 && i < (int)(sizeof generators / sizeof generators[0]) ? &generators[i] : NULL;
}

const dk__op_gen *dk__op_gen_find(const char *name)
{
    for (int i = 0; dk__op_gen_at(i); i++)
        if (!strcasecmp(dk_op_name(generators[i].op), name)) return &generators[i];
    return NULL;
}

const char *dk__op_gen_class_name(const dk__op_gen *gen, int cls, char *buf, size_t n)
{
    const char *p = gen->class_names;
    for (int i = 0; i < cls % gen->classes && p; i++) {
        p = strchr(p, ';');
        if (p) p++;
    }
    if (!p) p = "?";
    size_t len = strcspn(p, ";");
    if (len >= n) len = n - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return buf;
}
