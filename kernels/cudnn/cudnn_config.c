/* The cudnn backend's options and their decoding into a dk_cudnn_config, and
 * the forward-algorithm names of the algo option. */
#include <stdlib.h>
#include <string.h>

#include "kernels/cudnn/cudnn_internal.h"

const dk_option_spec dk__cudnn_options[] = {
    {"device", "int:0..63", "0", "CUDA device ordinal", DK_ROLE_NONE},
    {"algo",
     "heuristic|find|IMPLICIT_GEMM|IMPLICIT_PRECOMP_GEMM|GEMM|DIRECT|FFT|FFT_TILING|WINOGRAD|"
     "WINOGRAD_NONFUSED",
     "heuristic",
     "convolution forward algorithm: cuDNN's heuristics, a timed search at plan time (find), or "
     "one by name for every convolution (a layer it does not support fails, naming the node); "
     "ConvTranspose runs cudnnConvolutionBackwardData, by heuristics or find, never a named forward "
     "algorithm", DK_ROLE_CONV_IMPL},
    {"math", "fp32|tf32|fp16", "fp32",
     "fp32: FMA kernels only; tf32: tensor cores on float32 (operands rounded to TF32); fp16: "
     "convolution operands converted to float16, Gemm/MatMul with float16 tensor cores, "
     "float32 accumulation (ConvTranspose then runs on the host)", DK_ROLE_PRECISION},
    {"layout", "nchw|nhwc", "nchw", "device layout of 4-D float32 activations and filters", DK_ROLE_LAYOUT},
    {"fuse", "on|off", "off",
     "on: a convolution's bias, its fused residual and Relu (opt=2) run with it as one "
     "cudnnConvolutionBiasActivationForward call (without a Relu, only with IMPLICIT_PRECOMP_GEMM); "
     "off: separate cuDNN calls", DK_ROLE_NONE},
    {"deterministic", "on|off", "off",
     "on: only algorithms cuDNN marks deterministic, no atomics in cuBLAS", DK_ROLE_NONE},
    {0},
};

static const struct {
    const char *name;
    int algo;
} algo_names[] = {
    {"heuristic", DK_CUDNN_ALGO_HEURISTIC},
    {"find", DK_CUDNN_ALGO_FIND},
    {"IMPLICIT_GEMM", CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM},
    {"IMPLICIT_PRECOMP_GEMM", CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM},
    {"GEMM", CUDNN_CONVOLUTION_FWD_ALGO_GEMM},
    {"DIRECT", CUDNN_CONVOLUTION_FWD_ALGO_DIRECT},
    {"FFT", CUDNN_CONVOLUTION_FWD_ALGO_FFT},
    {"FFT_TILING", CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING},
    {"WINOGRAD", CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD},
    {"WINOGRAD_NONFUSED", CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED},
};
#define N_ALGO_NAMES ((int)(sizeof algo_names / sizeof algo_names[0]))

const char *dk__cudnn_algo_name(int algo)
{
    for (int i = 0; i < N_ALGO_NAMES; i++)
        if (algo_names[i].algo == algo) return algo_names[i].name;
    return "?";
}

int dk__cudnn_algo_from_name(const char *name)
{
    for (int i = 0; name && i < N_ALGO_NAMES; i++)
        if (!strcmp(algo_names[i].name, name)) return algo_names[i].algo;
    return DK_CUDNN_ALGO_UNKNOWN;
}

const char *dk__cudnn_math_name(dk_cudnn_math m)
{
    return m == DK_CUDNN_MATH_TF32 ? "tf32" : m == DK_CUDNN_MATH_FP16 ? "fp16" : "fp32";
}

/* on|off option; the variant parser has already checked the value. */
static int flag(const dk_variant *v, const char *key)
{
    const char *s = dk_variant_get(v, key);
    return s && !strcmp(s, "on");
}

dk_status dk__cudnn_config_read(const dk_variant *v, dk_cudnn_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->device = (int)dk_variant_get_int(v, "device", 0);
    const char *algo = dk_variant_get(v, "algo");
    cfg->algo = algo ? dk__cudnn_algo_from_name(algo) : DK_CUDNN_ALGO_HEURISTIC;
    if (cfg->algo == DK_CUDNN_ALGO_UNKNOWN)
        return dk__error(DK_ERR_INVALID, "cudnn: option algo=%s: not one of %s", algo,
                         dk__cudnn_options[1].values);
    const char *math = dk_variant_get(v, "math");
    if (!math || !strcmp(math, "fp32")) cfg->math = DK_CUDNN_MATH_FP32;
    else if (!strcmp(math, "tf32")) cfg->math = DK_CUDNN_MATH_TF32;
    else if (!strcmp(math, "fp16")) cfg->math = DK_CUDNN_MATH_FP16;
    else return dk__error(DK_ERR_INVALID, "cudnn: option math=%s: not one of fp32, tf32, fp16", math);
    const char *layout = dk_variant_get(v, "layout");
    cfg->nhwc = layout && !strcmp(layout, "nhwc");
    cfg->fuse = flag(v, "fuse");
    cfg->deterministic = flag(v, "deterministic");
    return DK_OK;
}
