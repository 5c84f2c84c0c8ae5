/* The op suite's generators for the upsampling ops of segmentation and text
 * detection heads: ConvTranspose, Resize, Upsample, and the
 * InstanceNormalization of style and GAN models (see selftest_cases.c). */
#include "drivers/selftest/selftest_cases.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define R (&c->rng)

/* ---- ConvTranspose ---------------------------------------------------------------- */

void dk__gen_convtranspose(dk__op_case *c, int cls)
{
    int64_t N = dk_rng_int(R, 1, 2), C = dk_rng_int(R, 2, 24), M = dk_rng_int(R, 2, 24), group = 1;
    int ns = 2;
    int64_t k[3] = {2, 2, 2}, s[3] = {2, 2, 2}, d[3] = {1, 1, 1}, op[3] = {0, 0, 0};
    int64_t pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0};
    int64_t sp[3] = {dk_rng_int(R, 3, 14), dk_rng_int(R, 3, 14), dk_rng_int(R, 2, 6)};
    const char *auto_pad = NULL;
    int out_shape = 0;
    switch (cls) {
    case 0: break; /* 2x2 stride 2: the text detectors' upsampling */
    case 1: /* 3x3 stride 1 pad 1 */
        k[0] = k[1] = 3, s[0] = s[1] = 1, pb[0] = pb[1] = pe[0] = pe[1] = 1;
        break;
    case 2: /* 3x3 stride 2 pad 1 output_padding 1 (exact 2x) */
        k[0] = k[1] = 3, pb[0] = pb[1] = pe[0] = pe[1] = 1, op[0] = op[1] = 1;
        break;
    case 3: /* grouped, 4x4 stride 2 pad 1 */
        group = dk_rng_chance(R, 0.5) ? 2 : 4;
        C = group * dk_rng_int(R, 1, 6), M = group * dk_rng_int(R, 1, 6);
        k[0] = k[1] = 4, pb[0] = pb[1] = pe[0] = pe[1] = 1;
        break;
    case 4: /* dilated, asymmetric pads */
        k[0] = k[1] = 3, s[0] = 1, s[1] = 2, d[0] = d[1] = 2;
        pb[0] = dk_rng_int(R, 0, 2), pe[0] = dk_rng_int(R, 0, 2);
        pb[1] = dk_rng_int(R, 0, 2), pe[1] = dk_rng_int(R, 0, 2);
        break;
    case 5: /* 1-D or 3-D */
        ns = dk_rng_chance(R, 0.5) ? 1 : 3;
        if (ns == 1) sp[0] = dk_rng_int(R, 4, 30), k[0] = dk_rng_int(R, 1, 5), s[0] = dk_rng_int(R, 1, 3);
        else C = dk_rng_int(R, 2, 8), M = dk_rng_int(R, 2, 8);
        break;
    default: /* output_shape or auto_pad SAME */
        k[0] = k[1] = 3;
        if (dk_rng_chance(R, 0.5)) out_shape = 1;
        else auto_pad = dk_rng_chance(R, 0.5) ? "SAME_UPPER" : "SAME_LOWER";
        break;
    }
    int bias = dk_rng_chance(R, 0.7);
    int64_t xd[5] = {N, C}, wd[5] = {C, M / group}, p[6], os[3];
    for (int i = 0; i < ns; i++) {
        xd[2 + i] = sp[i], wd[2 + i] = k[i];
        p[i] = pb[i], p[ns + i] = pe[i];
        os[i] = s[i] * sp[i] + dk_rng_int(R, 0, 1); /* natural size s (D-1) + k = s D + 1 */
    }
    int ins[3] = {dk__op_case_input(c, "x", ns + 2, xd, -1, 1),
                  dk__op_case_const(c, "w", ns + 2, wd, -1, 1), -1};
    if (bias) ins[2] = dk__op_case_const(c, "b", 1, &M, -1, 1);
    dk__op_case_node(c, DK_OP_CONVTRANSPOSE, ins, bias ? 3 : 2, 1);
    dk__op_case_attr_ints(c, "kernel_shape", ns, k);
    dk__op_case_attr_ints(c, "strides", ns, s);
    dk__op_case_attr_ints(c, "dilations", ns, d);
    if (group != 1) dk__op_case_attr_int(c, "group", group);
    if (auto_pad) dk__op_case_attr_string(c, "auto_pad", auto_pad);
    else if (out_shape) dk__op_case_attr_ints(c, "output_shape", ns, os);
    else dk__op_case_attr_ints(c, "pads", 2 * ns, p);
    if (cls == 2) dk__op_case_attr_ints(c, "output_padding", ns, op);
    dk__op_case_desc(c, "x %s w %s group=%lld s=%lld%s%s", dk__op_case_shape(ns + 2, xd),
                     dk__op_case_shape(ns + 2, wd), (long long)group, (long long)s[0],
                     auto_pad ? " auto_pad=" : out_shape ? " output_shape" : "",
                     auto_pad ? auto_pad : "");
}

/* ---- Resize and Upsample ------------------------------------------------------------ */

/* A float32 constant holding v[0..count). */
static int const_floats(dk__op_case *c, const char *name, int64_t count, const float *v)
{
    int id = dk__op_case_const(c, name, 1, &count, 0, 1);
    dk_tensor *t = dk__op_case_tensor(c, id);
    if (t)
        for (int64_t i = 0; i < count; i++) ((float *)t->data)[i] = v[i];
    return id;
}

void dk__gen_resize(dk__op_case *c, int cls)
{
    static const char *const coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                         "asymmetric", "tf_half_pixel_for_nearest"};
    static const char *const rounds[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    int64_t xd[4] = {dk_rng_int(R, 1, 2), dk_rng_int(R, 1, 16), dk_rng_int(R, 2, 12),
                     dk_rng_int(R, 2, 12)};
    float sc[4] = {1, 1, 2, 2};
    int64_t sizes[4] = {xd[0], xd[1], xd[2], xd[3]};
    const char *mode = "nearest", *coord = "asymmetric", *round = "floor";
    int use_sizes = 0;
    c->g->opset = 13;
    switch (cls) {
    case 0: /* nearest asymmetric floor x2/x4/x8 (text detectors' FPN) */
        sc[2] = sc[3] = (float)(1 << dk_rng_int(R, 1, 3));
        break;
    case 1: /* nearest, any coordinates and rounding, sizes */
        use_sizes = 1;
        coord = coords[dk_rng_int(R, 0, 4)], round = rounds[dk_rng_int(R, 0, 3)];
        sizes[2] = dk_rng_int(R, 1, 30), sizes[3] = dk_rng_int(R, 1, 30);
        break;
    case 2: /* linear half_pixel x2 (bilinear upsampling) */
        mode = "linear", coord = "half_pixel";
        break;
    case 3: /* linear, any coordinates, fractional scales */
        mode = "linear", coord = coords[dk_rng_int(R, 0, 3)];
        /* at least one output row and column: floor(in * scale) >= 1 */
        for (int i = 2; i < 4; i++)
            sc[i] = (float)dk_rng_uniform(R, fmax(0.4, 1.0 / (double)xd[i] + 0.01), 3.0);
        break;
    case 4: /* linear align_corners, sizes */
        mode = "linear", coord = "align_corners", use_sizes = 1;
        sizes[2] = dk_rng_int(R, 1, 30), sizes[3] = dk_rng_int(R, 1, 30);
        break;
    default: /* opset 10: asymmetric, scales */
        c->g->opset = 10;
        mode = dk_rng_chance(R, 0.5) ? "nearest" : "linear";
        sc[2] = (float)dk_rng_int(R, 1, 4), sc[3] = (float)dk_rng_uniform(R, 1.0, 3.0);
        break;
    }
    int ins[4] = {dk__op_case_input(c, "x", 4, xd, -1, 1), -1, -1, -1};
    int n_in = 3;
    if (c->g->opset == 10) {
        ins[1] = const_floats(c, "scales", 4, sc);
        n_in = 2;
    } else if (use_sizes) {
        ins[3] = dk__op_case_const_ints(c, "sizes", 1, 4, sizes);
        n_in = 4;
    } else {
        ins[2] = const_floats(c, "scales", 4, sc);
    }
    dk__op_case_node(c, DK_OP_RESIZE, ins, n_in, 1);
    dk__op_case_attr_string(c, "mode", mode);
    if (c->g->opset > 10) {
        dk__op_case_attr_string(c, "coordinate_transformation_mode", coord);
        if (!strcmp(mode, "nearest")) dk__op_case_attr_string(c, "nearest_mode", round);
    }
    if (use_sizes)
        dk__op_case_desc(c, "x %s sizes %s %s %s", dk__op_case_shape(4, xd),
                         dk__op_case_shape(4, sizes), mode, coord);
    else
        dk__op_case_desc(c, "x %s scales %g,%g %s %s opset %lld", dk__op_case_shape(4, xd),
                         (double)sc[2], (double)sc[3], mode, c->g->opset > 10 ? coord : "",
                         (long long)c->g->opset);
    if (!strcmp(mode, "nearest") && c->g->opset > 10) dk__op_case_desc(c, " %s", round);
}

void dk__gen_upsample(dk__op_case *c, int cls)
{
    int64_t xd[4] = {dk_rng_int(R, 1, 2), dk_rng_int(R, 1, 16), dk_rng_int(R, 2, 12),
                     dk_rng_int(R, 2, 12)};
    float sc[4] = {1, 1, (float)dk_rng_int(R, 1, 4), (float)dk_rng_int(R, 1, 4)};
    const char *mode = cls == 0 ? "nearest" : "linear";
    if (cls == 1) sc[2] = (float)dk_rng_uniform(R, 1.0, 3.0);
    c->g->opset = 9;
    int ins[2] = {dk__op_case_input(c, "x", 4, xd, -1, 1), const_floats(c, "scales", 4, sc)};
    dk__op_case_node(c, DK_OP_UPSAMPLE, ins, 2, 1);
    dk__op_case_attr_string(c, "mode", mode);
    dk__op_case_desc(c, "x %s scales %g,%g %s", dk__op_case_shape(4, xd), (double)sc[2],
                     (double)sc[3], mode);
}

/* ---- InstanceNormalization ------------------------------------------------------------ */

void dk__gen_instancenorm(dk__op_case *c, int cls)
{
    int64_t C = dk_rng_int(R, 1, 32), xd[5] = {dk_rng_int(R, 1, 2), C};
    int rank = cls == 1 ? 3 : 4;
    for (int i = 2; i < rank; i++) xd[i] = dk_rng_int(R, 1, 24);
    double lo = cls == 2 ? 3 : -2, hi = cls == 2 ? 5 : 2;
    int ins[3] = {dk__op_case_input(c, "x", rank, xd, lo, hi),
                  dk__op_case_const(c, "scale", 1, &C, -1.5, 1.5),
                  dk__op_case_const(c, "B", 1, &C, -1, 1)};
    dk__op_case_away_from_zero(c, ins[1], 0.5, 1.5, 1);
    dk__op_case_node(c, DK_OP_INSTANCENORM, ins, 3, 1);
    float eps = cls == 2 ? 1e-5f : (float)dk_rng_uniform(R, 1e-6, 1e-3);
    dk__op_case_attr_float(c, "epsilon", eps);
    dk__op_case_desc(c, "x %s in [%g,%g] epsilon=%g", dk__op_case_shape(rank, xd), lo, hi,
                     (double)eps);
}
