/* CUDA, cuDNN and cuBLAS return codes -> dk_status and a message naming the
 * call that failed and the library's own description of the code. */
#include <stdio.h>
#include <string.h>

#include "kernels/cudnn/cudnn_internal.h"

/* "cudnnConvolutionForward(ctx->cudnn, ...)" -> "cudnnConvolutionForward" */
static void call_name(const char *call, char *buf, size_t n)
{
    size_t len = strcspn(call, "(");
    if (len >= n) len = n - 1;
    memcpy(buf, call, len);
    buf[len] = '\0';
}

dk_status dk__cuda_status(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return DK_OK;
    case cudaErrorMemoryAllocation: return DK_ERR_NOMEM;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
    case cudaErrorDevicesUnavailable:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice: return DK_ERR_UNAVAILABLE;
    case cudaErrorInvalidValue: return DK_ERR_INVALID;
    default: return DK_ERR_INTERNAL;
    }
}

dk_status dk__cuda_check(cudaError_t e, const char *call)
{
    if (e == cudaSuccess) return DK_OK;
    char name[96];
    call_name(call, name, sizeof name);
    return dk__error(dk__cuda_status(e), "%s: %s: %s", name, cudaGetErrorName(e), cudaGetErrorString(e));
}

/* cuDNN 9 codes are grouped by thousands: 2xxx bad parameter, 3xxx not
 * supported, 4xxx internal error, 5xxx execution failed. */
dk_status dk__cudnn_status(cudnnStatus_t s)
{
    if (s == CUDNN_STATUS_SUCCESS) return DK_OK;
    if (s == CUDNN_STATUS_NOT_INITIALIZED) return DK_ERR_UNAVAILABLE;
    if (s == CUDNN_STATUS_ALLOC_FAILED) return DK_ERR_NOMEM;
    switch ((int)s / 1000) {
    case 2: return DK_ERR_INVALID;
    case 3: return DK_ERR_UNSUPPORTED;
    default: return DK_ERR_INTERNAL;
    }
}

dk_status dk__cudnn_check(cudnnStatus_t s, const char *call)
{
    if (s == CUDNN_STATUS_SUCCESS) return DK_OK;
    char name[96], detail[256];
    call_name(call, name, sizeof name);
    /* cuDNN 9 keeps a message on the failure's cause (e.g. which parameter) */
    cudnnGetLastErrorString(detail, sizeof detail);
    size_t len = strlen(detail);
    while (len && (detail[len - 1] == '\n' || detail[len - 1] == ' ')) detail[--len] = '\0';
    for (char *c = detail; *c; c++)
        if (*c == '\n') *c = ' ';
    if (detail[0])
        return dk__error(dk__cudnn_status(s), "%s: %s (%s)", name, cudnnGetErrorString(s), detail);
    return dk__error(dk__cudnn_status(s), "%s: %s", name, cudnnGetErrorString(s));
}

dk_status dk__cublas_status(cublasStatus_t s)
{
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return DK_OK;
    case CUBLAS_STATUS_NOT_INITIALIZED: return DK_ERR_UNAVAILABLE;
    case CUBLAS_STATUS_ALLOC_FAILED: return DK_ERR_NOMEM;
    case CUBLAS_STATUS_INVALID_VALUE: return DK_ERR_INVALID;
    case CUBLAS_STATUS_ARCH_MISMATCH:
    case CUBLAS_STATUS_NOT_SUPPORTED: return DK_ERR_UNSUPPORTED;
    default: return DK_ERR_INTERNAL;
    }
}

dk_status dk__cublas_check(cublasStatus_t s, const char *call)
{
    if (s == CUBLAS_STATUS_SUCCESS) return DK_OK;
    char name[96];
    call_name(call, name, sizeof name);
    return dk__error(dk__cublas_status(s), "%s: %s: %s", name, cublasGetStatusName(s),
                     cublasGetStatusString(s));
}
