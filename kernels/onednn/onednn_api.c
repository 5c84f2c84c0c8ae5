/* The oneDNN 2.x specific calls of the onednn backend; see onednn_api.h. */
#include "kernels/onednn/onednn_api.h"

#include <stdio.h>
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#endif
#include <string.h>

#include <dnnl_debug.h>

#include "runtime/error.h"

/* ---- errors --------------------------------------------------------------- */

const char *dk_dnnl_status_str(dnnl_status_t s) { return dnnl_status2str(s); }

dk_status dk_dnnl_error(dnnl_status_t s, const dk_node *n, const char *what)
{
    dk_status code = s == dnnl_out_of_memory ? DK_ERR_NOMEM
                     : s == dnnl_unimplemented ? DK_ERR_UNSUPPORTED
                                               : DK_ERR_INTERNAL;
    if (n)
        return dk__error(code, "node '%s' (%s): %s: oneDNN %s", n->name, dk_op_name(n->op), what,
                         dnnl_status2str(s));
    return dk__error(code, "%s: oneDNN %s", what, dnnl_status2str(s));
}

/* ---- memory descriptors ------------------------------------------------------- */

static int clamp_dims(int ndims, const int64_t *dims, dnnl_dims_t out)
{
    memset(out, 0, sizeof(dnnl_dims_t));
    if (ndims == 0) {
        out[0] = 1;
        return 1;
    }
    for (int d = 0; d < ndims && d < DNNL_MAX_NDIMS; d++) out[d] = dims[d];
    return ndims;
}

dnnl_status_t dk_dnnl_md_plain(dk_dnnl_md *md, int ndims, const int64_t *dims)
{
    return dk_dnnl_md_plain_dt(md, ndims, dims, dnnl_f32);
}

dnnl_status_t dk_dnnl_md_plain_dt(dk_dnnl_md *md, int ndims, const int64_t *dims,
                                  dnnl_data_type_t dt)
{
    if (ndims < 0 || ndims > DNNL_MAX_NDIMS) return dnnl_invalid_arguments;
    dnnl_dims_t d, s;
    int k = clamp_dims(ndims, dims, d);
    memset(s, 0, sizeof s);
    int64_t stride = 1;
    for (int i = k - 1; i >= 0; i--) {
        s[i] = stride;
        stride *= d[i] > 0 ? d[i] : 1;
    }
    return dnnl_memory_desc_init_by_strides(&md->d, k, d, dt, s);
}

dnnl_status_t dk_dnnl_md_strided(dk_dnnl_md *md, int ndims, const int64_t *dims,
                                 const int64_t *strides, dnnl_data_type_t dt)
{
    if (ndims < 1 || ndims > DNNL_MAX_NDIMS) return dnnl_invalid_arguments;
    dnnl_dims_t d, s;
    clamp_dims(ndims, dims, d);
    clamp_dims(ndims, strides, s);
    return dnnl_memory_desc_init_by_strides(&md->d, ndims, d, dt, s);
}

dnnl_status_t dk_dnnl_md_any(dk_dnnl_md *md, int ndims, const int64_t *dims,
                             dnnl_data_type_t dt)
{
    if (ndims < 1 || ndims > DNNL_MAX_NDIMS) return dnnl_invalid_arguments;
    dnnl_dims_t d;
    clamp_dims(ndims, dims, d);
    return dnnl_memory_desc_init_by_tag(&md->d, ndims, d, dt, dnnl_format_tag_any);
}

dnnl_status_t dk_dnnl_md_blocked16(dk_dnnl_md *md, int ndims, const int64_t *dims,
                                   dnnl_data_type_t dt)
{
    return dk_dnnl_md_blocked(md, ndims, dims, dt, 16);
}

dnnl_status_t dk_dnnl_md_blocked(dk_dnnl_md *md, int ndims, const int64_t *dims,
                                 dnnl_data_type_t dt, int block)
{
    dnnl_format_tag_t tag;
    switch (ndims * 100 + block) {
    case 316: tag = dnnl_nCw16c; break;
    case 416: tag = dnnl_nChw16c; break;
    case 516: tag = dnnl_nCdhw16c; break;
    case 308: tag = dnnl_nCw8c; break;
    case 408: tag = dnnl_nChw8c; break;
    case 508: tag = dnnl_nCdhw8c; break;
    default: return dnnl_invalid_arguments;
    }
    dnnl_dims_t d;
    clamp_dims(ndims, dims, d);
    return dnnl_memory_desc_init_by_tag(&md->d, ndims, d, dt, tag);
}

void dk_dnnl_pd_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what, int index, dk_dnnl_md *out)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, what, index);
    if (md)
        out->d = *md;
    else
        memset(&out->d, 0, sizeof out->d); /* the zero descriptor: size 0 */
}

int dk_dnnl_md_equal(const dk_dnnl_md *a, const dk_dnnl_md *b)
{
    return dnnl_memory_desc_equal(&a->d, &b->d);
}

size_t dk_dnnl_md_size(const dk_dnnl_md *md) { return dnnl_memory_desc_get_size(&md->d); }

void dk_dnnl_md_fini(dk_dnnl_md *md) { (void)md; /* a value in 2.x: nothing to free */ }

dnnl_status_t dk_dnnl_memory(dnnl_engine_t engine, const dk_dnnl_md *md, void *handle,
                             dnnl_memory_t *mem)
{
    return dnnl_memory_create(mem, &md->d, engine, handle);
}

/* ---- attributes ------------------------------------------------------------------ */

static dnnl_alg_kind_t act_alg(dk_dnnl_act act)
{
    switch (act) {
    case DK_DNNL_RELU: return dnnl_eltwise_relu;
    case DK_DNNL_LINEAR: return dnnl_eltwise_linear;
    case DK_DNNL_CLIP: return dnnl_eltwise_clip_v2; /* clip_v2: bounds inclusive both sides */
    case DK_DNNL_LOGISTIC: return dnnl_eltwise_logistic;
    case DK_DNNL_HARDSWISH: return dnnl_eltwise_hardswish;
    case DK_DNNL_SQRT: return dnnl_eltwise_sqrt;
    case DK_DNNL_TANH: return dnnl_eltwise_tanh;
    case DK_DNNL_POW: return dnnl_eltwise_pow;
    case DK_DNNL_ABS: return dnnl_eltwise_abs;
    case DK_DNNL_EXP: return dnnl_eltwise_exp;
    case DK_DNNL_ELU: return dnnl_eltwise_elu;
    }
    return dnnl_alg_kind_undef;
}

dnnl_status_t dk_dnnl_attr(dnnl_primitive_attr_t *attr, int bf16, const dk_dnnl_postop *post,
                           int n_post)
{
    dnnl_status_t s = dnnl_primitive_attr_create(attr);
    if (s != dnnl_success) return s;
    s = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (s == dnnl_success && bf16) s = dnnl_primitive_attr_set_fpmath_mode(*attr, dnnl_fpmath_mode_bf16);
    if (s == dnnl_success && n_post > 0) {
        dnnl_post_ops_t po;
        s = dnnl_post_ops_create(&po);
        if (s == dnnl_success) {
            for (int i = 0; i < n_post && s == dnnl_success; i++) {
                if (post[i].kind == DK_DNNL_POST_ELTWISE)
                    s = dnnl_post_ops_append_eltwise(po, 1.0f, act_alg(post[i].act),
                                                      post[i].alpha, post[i].beta);
                else if (post[i].kind == DK_DNNL_POST_SUM)
                    s = dnnl_post_ops_append_sum(po, 1.0f);
                else
                    s = dnnl_post_ops_append_binary(po, post[i].binary, &post[i].src1->d);
            }
            if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(*attr, po);
            dnnl_post_ops_destroy(po);
        }
    }
    if (s != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
    }
    return s;
}

/* ---- primitive descriptors ------------------------------------------------------- */

static void to_dims(const int64_t *v, int n, dnnl_dims_t out)
{
    memset(out, 0, sizeof(dnnl_dims_t));
    for (int i = 0; i < n && i < DNNL_MAX_NDIMS; i++) out[i] = v[i];
}

static int spatial_dims(const dk_dnnl_md *src) { return src->d.ndims - 2; }

dnnl_status_t dk_dnnl_conv_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                              dnnl_alg_kind_t alg, const dk_dnnl_md *src, const dk_dnnl_md *wei,
                              const dk_dnnl_md *bias, const dk_dnnl_md *dst,
                              const int64_t *strides, const int64_t *dilation,
                              const int64_t *padding_l, const int64_t *padding_r,
                              const_dnnl_primitive_attr_t attr)
{
    int k = spatial_dims(src);
    dnnl_dims_t st, di, pl, pr;
    to_dims(strides, k, st);
    to_dims(dilation, k, di);
    to_dims(padding_l, k, pl);
    to_dims(padding_r, k, pr);
    dnnl_convolution_desc_t cd;
    dnnl_status_t s = dnnl_dilated_convolution_forward_desc_init(
        &cd, dnnl_forward_inference, alg, &src->d, &wei->d, bias ? &bias->d : NULL, &dst->d, st,
        di, pl, pr);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &cd, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_deconv_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                const dk_dnnl_md *src, const dk_dnnl_md *wei,
                                const dk_dnnl_md *bias, const dk_dnnl_md *dst,
                                const int64_t *strides, const int64_t *dilation,
                                const int64_t *padding_l, const int64_t *padding_r,
                                const_dnnl_primitive_attr_t attr)
{
    int k = spatial_dims(src);
    dnnl_dims_t st, di, pl, pr;
    to_dims(strides, k, st);
    to_dims(dilation, k, di);
    to_dims(padding_l, k, pl);
    to_dims(padding_r, k, pr);
    dnnl_deconvolution_desc_t dd;
    dnnl_status_t s = dnnl_dilated_deconvolution_forward_desc_init(
        &dd, dnnl_forward_inference, dnnl_deconvolution_direct, &src->d, &wei->d,
        bias ? &bias->d : NULL, &dst->d, st, di, pl, pr);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &dd, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_resampling_nearest_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                            const dk_dnnl_md *src, const dk_dnnl_md *dst,
                                            const_dnnl_primitive_attr_t attr)
{
    dnnl_resampling_desc_t rd;
    dnnl_status_t s = dnnl_resampling_forward_desc_init(&rd, dnnl_forward_inference,
                                                        dnnl_resampling_nearest, NULL, &src->d,
                                                        &dst->d);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &rd, attr, engine, NULL);
}

dnnl_alg_kind_t dk_dnnl_conv_alg(const_dnnl_primitive_desc_t pd)
{
    const dnnl_convolution_desc_t *cd = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_convolution_d, 0, &cd) != dnnl_success || !cd)
        return dnnl_alg_kind_undef;
    return cd->alg_kind;
}

dnnl_status_t dk_dnnl_pool_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, int max,
                              int include_pad, const dk_dnnl_md *src, const dk_dnnl_md *dst,
                              const int64_t *strides, const int64_t *kernel,
                              const int64_t *dilation, const int64_t *padding_l,
                              const int64_t *padding_r, const_dnnl_primitive_attr_t attr)
{
    int k = spatial_dims(src);
    dnnl_dims_t st, ke, di, pl, pr;
    to_dims(strides, k, st);
    to_dims(kernel, k, ke);
    to_dims(dilation, k, di);
    to_dims(padding_l, k, pl);
    to_dims(padding_r, k, pr);
    dnnl_alg_kind_t alg = max           ? dnnl_pooling_max
                          : include_pad ? dnnl_pooling_avg_include_padding
                                        : dnnl_pooling_avg_exclude_padding;
    dnnl_pooling_v2_desc_t d;
    dnnl_status_t s = dnnl_pooling_v2_forward_desc_init(&d, dnnl_forward_inference, alg,
                                                        &src->d, &dst->d, st, ke, di, pl, pr);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &d, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_eltwise_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                 dk_dnnl_act act, float alpha, float beta,
                                 const dk_dnnl_md *data, const_dnnl_primitive_attr_t attr)
{
    dnnl_eltwise_desc_t d;
    dnnl_status_t s = dnnl_eltwise_forward_desc_init(&d, dnnl_forward_inference, act_alg(act),
                                                     &data->d, alpha, beta);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &d, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_binary_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                dnnl_alg_kind_t alg, const dk_dnnl_md *src0,
                                const dk_dnnl_md *src1, const dk_dnnl_md *dst,
                                const_dnnl_primitive_attr_t attr)
{
    dnnl_binary_desc_t d;
    dnnl_status_t s = dnnl_binary_desc_init(&d, alg, &src0->d, &src1->d, &dst->d);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &d, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_bnorm_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                               const dk_dnnl_md *data, float epsilon,
                               const_dnnl_primitive_attr_t attr)
{
    dnnl_batch_normalization_desc_t d;
    /* 2.x names: separate scale and shift tensors (use_scaleshift packs them) */
    unsigned flags = dnnl_use_global_stats | dnnl_use_scale | dnnl_use_shift;
    dnnl_status_t s = dnnl_batch_normalization_forward_desc_init(&d, dnnl_forward_inference,
                                                                 &data->d, epsilon, flags);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &d, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_bnorm_stats_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                     const dk_dnnl_md *data, float epsilon,
                                     const_dnnl_primitive_attr_t attr)
{
    dnnl_batch_normalization_desc_t d;
    unsigned flags = dnnl_use_scale | dnnl_use_shift; /* no global stats: computed */
    dnnl_status_t s = dnnl_batch_normalization_forward_desc_init(&d, dnnl_forward_training,
                                                                 &data->d, epsilon, flags);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &d, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_prelu_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                               const dk_dnnl_md *data, const dk_dnnl_md *weights,
                               const_dnnl_primitive_attr_t attr)
{
    dnnl_prelu_desc_t d;
    dnnl_status_t s = dnnl_prelu_forward_desc_init(&d, dnnl_forward_inference, &data->d,
                                                   &weights->d);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &d, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_lnorm_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                               const dk_dnnl_md *data, float epsilon, int has_shift,
                               const_dnnl_primitive_attr_t attr)
{
    dnnl_layer_normalization_desc_t d;
    unsigned flags = dnnl_use_scale | (has_shift ? dnnl_use_shift : 0U);
    /* no stat_desc: the statistics are computed, not given */
    dnnl_status_t s = dnnl_layer_normalization_forward_desc_init(&d, dnnl_forward_inference,
                                                                 &data->d, NULL, epsilon, flags);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &d, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_lrn_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                             const dk_dnnl_md *data, int64_t size, float alpha, float beta,
                             float k, const_dnnl_primitive_attr_t attr)
{
    dnnl_lrn_desc_t d;
    dnnl_status_t s = dnnl_lrn_forward_desc_init(&d, dnnl_forward_inference,
                                                 dnnl_lrn_across_channels, &data->d, size, alpha,
                                                 beta, k);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &d, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_softmax_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                 const dk_dnnl_md *src, const dk_dnnl_md *dst, int axis,
                                 const_dnnl_primitive_attr_t attr)
{
    dnnl_softmax_v2_desc_t d;
    dnnl_status_t s = dnnl_softmax_v2_forward_desc_init(&d, dnnl_forward_inference,
                                                        dnnl_softmax_accurate, &src->d, &dst->d,
                                                        axis);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &d, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_concat_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                const dk_dnnl_md *dst, int n, int axis, const dk_dnnl_md *srcs,
                                const_dnnl_primitive_attr_t attr)
{
    /* dk_dnnl_md is a struct holding one dnnl_memory_desc_t: an array of them
     * is an array of descriptors (checked below at compile time) */
    _Static_assert(sizeof(dk_dnnl_md) == sizeof(dnnl_memory_desc_t), "dk_dnnl_md must wrap one descriptor");
    return dnnl_concat_primitive_desc_create(pd, &dst->d, n, axis, &srcs[0].d, attr, engine);
}

dnnl_status_t dk_dnnl_matmul_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                const dk_dnnl_md *src, const dk_dnnl_md *wei,
                                const dk_dnnl_md *bias, const dk_dnnl_md *dst,
                                const_dnnl_primitive_attr_t attr)
{
    dnnl_matmul_desc_t d;
    dnnl_status_t s = dnnl_matmul_desc_init(&d, &src->d, &wei->d, bias ? &bias->d : NULL, &dst->d);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &d, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_reduce_mean_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                     const dk_dnnl_md *src, const dk_dnnl_md *dst,
                                     const_dnnl_primitive_attr_t attr)
{
    dnnl_reduction_desc_t d;
    dnnl_status_t s = dnnl_reduction_desc_init(&d, dnnl_reduction_mean, &src->d, &dst->d, 0.0f, 0.0f);
    if (s != dnnl_success) return s;
    return dnnl_primitive_desc_create(pd, &d, attr, engine, NULL);
}

dnnl_status_t dk_dnnl_reorder_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                 const dk_dnnl_md *src, const dk_dnnl_md *dst,
                                 const_dnnl_primitive_attr_t attr)
{
    return dnnl_reorder_primitive_desc_create(pd, &src->d, engine, &dst->d, engine, attr);
}

const char *dk_dnnl_impl_str(const_dnnl_primitive_desc_t pd)
{
    const char *s = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s) != dnnl_success || !s)
        return "?";
    return s;
}

/* ---- library and CPU ISA ------------------------------------------------------------ */

const char *dk_dnnl_library_version(char *buf, size_t n)
{
    const dnnl_version_t *v = dnnl_version();
    const char *rt = v->cpu_runtime == DNNL_RUNTIME_OMP          ? "OpenMP"
                     : v->cpu_runtime == DNNL_RUNTIME_TBB        ? "TBB"
                     : v->cpu_runtime == DNNL_RUNTIME_SEQ        ? "sequential"
                     : v->cpu_runtime == DNNL_RUNTIME_THREADPOOL ? "threadpool"
                                                                 : "other";
    snprintf(buf, n, "%d.%d.%d (git %s, %s runtime)", v->major, v->minor, v->patch,
             v->hash && *v->hash ? v->hash : "unknown", rt);
    return buf;
}

static const struct {
    const char *name;
    dnnl_cpu_isa_t isa;
} isa_names[] = {
    {"all", dnnl_cpu_isa_all},
    {"sse41", dnnl_cpu_isa_sse41},
    {"avx", dnnl_cpu_isa_avx},
    {"avx2", dnnl_cpu_isa_avx2},
    {"avx2_vnni", dnnl_cpu_isa_avx2_vnni},
    {"avx512_core", dnnl_cpu_isa_avx512_core},
    {"avx512_core_vnni", dnnl_cpu_isa_avx512_core_vnni},
    {"avx512_core_bf16", dnnl_cpu_isa_avx512_core_bf16},
    {"avx512_core_amx", dnnl_cpu_isa_avx512_core_amx},
    {"avx512_mic", dnnl_cpu_isa_avx512_mic},
    {"avx512_mic_4ops", dnnl_cpu_isa_avx512_mic_4ops},
};

dnnl_status_t dk_dnnl_set_max_isa(const char *name)
{
    for (size_t i = 0; i < sizeof isa_names / sizeof isa_names[0]; i++)
        if (!strcmp(isa_names[i].name, name)) return dnnl_set_max_cpu_isa(isa_names[i].isa);
    return dnnl_invalid_arguments;
}

const char *dk_dnnl_effective_isa(void)
{
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    for (size_t i = 0; i < sizeof isa_names / sizeof isa_names[0]; i++)
        if (isa_names[i].isa == isa) return isa_names[i].name;
    return "unknown";
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
/* AMX tiles with bf16, and the OS saving the tile state (XCR0 bits 17, 18);
 * by cpuid, as clang 14's __builtin_cpu_supports has no AMX names. Linux
 * also wants a per-process request, which oneDNN makes. */
static int amx_bf16_usable(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 22)) || !(d & (1u << 24))) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* OSXSAVE: xgetbv allowed */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & (3u << 17)) == (3u << 17);
}
#endif

const char *dk_dnnl_detected_isa(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    /* __builtin_cpu_supports also checks that the OS saves the registers */
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    if (avx512 && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bf16"))
        return amx_bf16_usable() ? "avx512_core_amx" : "avx512_core_bf16";
    if (avx512 && __builtin_cpu_supports("avx512vnni")) return "avx512_core_vnni";
    if (avx512) return "avx512_core";
    if (__builtin_cpu_supports("avx2")) return "avx2";
    if (__builtin_cpu_supports("avx")) return "avx";
    if (__builtin_cpu_supports("sse4.1")) return "sse41";
#endif
    return "unknown";
}
