/* The CUDA runtime, cuBLAS and cuDNN functions the cudnn backend calls,
 * loaded with dlopen when the backend is first probed or opened
 * (cudnn_load.c), not linked: merely linking cuBLAS costs every deltakern
 * process ~0.4 s of start-up (libcublasLt's 25,000 page faults), on
 * machines with no GPU too.
 *
 * Each name is a pointer in dk__cuda of exactly the header's type
 * (__typeof__), and the #defines below turn the backend's calls into calls
 * through those pointers, so the code reads as plain cuDNN. A call to a
 * function missing from the list is a direct call that fails to link: add
 * it here (under the name the headers' macros give it, e.g. cublasCreate_v2
 * for cublasCreate). Include after cublas_v2.h, cuda_runtime.h and cudnn.h. */
#ifndef DK_KERNELS_CUDNN_CUDNN_SYMBOLS_H
#define DK_KERNELS_CUDNN_CUDNN_SYMBOLS_H

#include <stddef.h>

#include "deltakern/status.h"

enum { DK_CU_CUDART, DK_CU_CUBLAS, DK_CU_CUDNN, DK_CU_LIBS };

#define DK_CUDA_SYMBOLS(X) \
    X(DK_CU_CUDART, cudaDeviceGetAttribute) \
    X(DK_CU_CUDART, cudaDriverGetVersion) \
    X(DK_CU_CUDART, cudaEventCreate) \
    X(DK_CU_CUDART, cudaEventDestroy) \
    X(DK_CU_CUDART, cudaEventElapsedTime) \
    X(DK_CU_CUDART, cudaEventRecord) \
    X(DK_CU_CUDART, cudaFree) \
    X(DK_CU_CUDART, cudaGetDeviceCount) \
    X(DK_CU_CUDART, cudaGetDeviceProperties) \
    X(DK_CU_CUDART, cudaGetErrorName) \
    X(DK_CU_CUDART, cudaGetErrorString) \
    X(DK_CU_CUDART, cudaMalloc) \
    X(DK_CU_CUDART, cudaMemcpy2DAsync) \
    X(DK_CU_CUDART, cudaMemcpyAsync) \
    X(DK_CU_CUDART, cudaMemsetAsync) \
    X(DK_CU_CUDART, cudaRuntimeGetVersion) \
    X(DK_CU_CUDART, cudaSetDevice) \
    X(DK_CU_CUDART, cudaStreamCreateWithFlags) \
    X(DK_CU_CUDART, cudaStreamDestroy) \
    X(DK_CU_CUDART, cudaStreamSynchronize) \
    X(DK_CU_CUBLAS, cublasCreate_v2) \
    X(DK_CU_CUBLAS, cublasDestroy_v2) \
    X(DK_CU_CUBLAS, cublasGemmStridedBatchedEx) \
    X(DK_CU_CUBLAS, cublasGetProperty) \
    X(DK_CU_CUBLAS, cublasGetStatusName) \
    X(DK_CU_CUBLAS, cublasGetStatusString) \
    X(DK_CU_CUBLAS, cublasSetAtomicsMode) \
    X(DK_CU_CUBLAS, cublasSetMathMode) \
    X(DK_CU_CUBLAS, cublasSetStream_v2) \
    X(DK_CU_CUDNN, cudnnActivationForward) \
    X(DK_CU_CUDNN, cudnnAddTensor) \
    X(DK_CU_CUDNN, cudnnBatchNormalizationForwardInference) \
    X(DK_CU_CUDNN, cudnnConvolutionBackwardData) \
    X(DK_CU_CUDNN, cudnnConvolutionBiasActivationForward) \
    X(DK_CU_CUDNN, cudnnConvolutionForward) \
    X(DK_CU_CUDNN, cudnnCreate) \
    X(DK_CU_CUDNN, cudnnCreateActivationDescriptor) \
    X(DK_CU_CUDNN, cudnnCreateConvolutionDescriptor) \
    X(DK_CU_CUDNN, cudnnCreateFilterDescriptor) \
    X(DK_CU_CUDNN, cudnnCreateLRNDescriptor) \
    X(DK_CU_CUDNN, cudnnCreateOpTensorDescriptor) \
    X(DK_CU_CUDNN, cudnnCreatePoolingDescriptor) \
    X(DK_CU_CUDNN, cudnnCreateReduceTensorDescriptor) \
    X(DK_CU_CUDNN, cudnnCreateTensorDescriptor) \
    X(DK_CU_CUDNN, cudnnDestroy) \
    X(DK_CU_CUDNN, cudnnDestroyActivationDescriptor) \
    X(DK_CU_CUDNN, cudnnDestroyConvolutionDescriptor) \
    X(DK_CU_CUDNN, cudnnDestroyFilterDescriptor) \
    X(DK_CU_CUDNN, cudnnDestroyLRNDescriptor) \
    X(DK_CU_CUDNN, cudnnDestroyOpTensorDescriptor) \
    X(DK_CU_CUDNN, cudnnDestroyPoolingDescriptor) \
    X(DK_CU_CUDNN, cudnnDestroyReduceTensorDescriptor) \
    X(DK_CU_CUDNN, cudnnDestroyTensorDescriptor) \
    X(DK_CU_CUDNN, cudnnFindConvolutionBackwardDataAlgorithmEx) \
    X(DK_CU_CUDNN, cudnnFindConvolutionForwardAlgorithmEx) \
    X(DK_CU_CUDNN, cudnnGetConvolutionBackwardDataAlgorithm_v7) \
    X(DK_CU_CUDNN, cudnnGetConvolutionBackwardDataWorkspaceSize) \
    X(DK_CU_CUDNN, cudnnGetConvolutionForwardAlgorithm_v7) \
    X(DK_CU_CUDNN, cudnnGetConvolutionForwardWorkspaceSize) \
    X(DK_CU_CUDNN, cudnnGetConvolutionNdForwardOutputDim) \
    X(DK_CU_CUDNN, cudnnGetErrorString) \
    X(DK_CU_CUDNN, cudnnGetLastErrorString) \
    X(DK_CU_CUDNN, cudnnGetPoolingNdForwardOutputDim) \
    X(DK_CU_CUDNN, cudnnGetReductionWorkspaceSize) \
    X(DK_CU_CUDNN, cudnnGetVersion) \
    X(DK_CU_CUDNN, cudnnLRNCrossChannelForward) \
    X(DK_CU_CUDNN, cudnnOpTensor) \
    X(DK_CU_CUDNN, cudnnPoolingForward) \
    X(DK_CU_CUDNN, cudnnReduceTensor) \
    X(DK_CU_CUDNN, cudnnSetActivationDescriptor) \
    X(DK_CU_CUDNN, cudnnSetConvolutionGroupCount) \
    X(DK_CU_CUDNN, cudnnSetConvolutionMathType) \
    X(DK_CU_CUDNN, cudnnSetConvolutionNdDescriptor) \
    X(DK_CU_CUDNN, cudnnSetFilterNdDescriptor) \
    X(DK_CU_CUDNN, cudnnSetLRNDescriptor) \
    X(DK_CU_CUDNN, cudnnSetOpTensorDescriptor) \
    X(DK_CU_CUDNN, cudnnSetPoolingNdDescriptor) \
    X(DK_CU_CUDNN, cudnnSetReduceTensorDescriptor) \
    X(DK_CU_CUDNN, cudnnSetStream) \
    X(DK_CU_CUDNN, cudnnSetTensor) \
    X(DK_CU_CUDNN, cudnnSetTensorNdDescriptor) \
    X(DK_CU_CUDNN, cudnnSoftmaxForward) \
    X(DK_CU_CUDNN, cudnnTransformTensor)

typedef struct dk_cuda_api {
#define DK_CUDA_MEMBER(lib, name) __typeof__(name) *name;
    DK_CUDA_SYMBOLS(DK_CUDA_MEMBER)
#undef DK_CUDA_MEMBER
} dk_cuda_api;

extern dk_cuda_api dk__cuda;

/* Loads the libraries and every symbol once (later calls return the first
 * outcome). DK_OK, or DK_ERR_UNAVAILABLE with the library or symbol that
 * failed and dlerror's words in reason. */
dk_status dk__cuda_load(char *reason, size_t n);

#ifndef DK_CUDA_NO_REDIRECT
#define cudaDeviceGetAttribute (dk__cuda.cudaDeviceGetAttribute)
#define cudaDriverGetVersion (dk__cuda.cudaDriverGetVersion)
#define cudaEventCreate (dk__cuda.cudaEventCreate)
#define cudaEventDestroy (dk__cuda.cudaEventDestroy)
#define cudaEventElapsedTime (dk__cuda.cudaEventElapsedTime)
#define cudaEventRecord (dk__cuda.cudaEventRecord)
#define cudaFree (dk__cuda.cudaFree)
#define cudaGetDeviceCount (dk__cuda.cudaGetDeviceCount)
#define cudaGetDeviceProperties (dk__cuda.cudaGetDeviceProperties)
#define cudaGetErrorName (dk__cuda.cudaGetErrorName)
#define cudaGetErrorString (dk__cuda.cudaGetErrorString)
#define cudaMalloc (dk__cuda.cudaMalloc)
#define cudaMemcpy2DAsync (dk__cuda.cudaMemcpy2DAsync)
#define cudaMemcpyAsync (dk__cuda.cudaMemcpyAsync)
#define cudaMemsetAsync (dk__cuda.cudaMemsetAsync)
#define cudaRuntimeGetVersion (dk__cuda.cudaRuntimeGetVersion)
#define cudaSetDevice (dk__cuda.cudaSetDevice)
#define cudaStreamCreateWithFlags (dk__cuda.cudaStreamCreateWithFlags)
#define cudaStreamDestroy (dk__cuda.cudaStreamDestroy)
#define cudaStreamSynchronize (dk__cuda.cudaStreamSynchronize)
#define cublasCreate_v2 (dk__cuda.cublasCreate_v2)
#define cublasDestroy_v2 (dk__cuda.cublasDestroy_v2)
#define cublasGemmStridedBatchedEx (dk__cuda.cublasGemmStridedBatchedEx)
#define cublasGetProperty (dk__cuda.cublasGetProperty)
#define cublasGetStatusName (dk__cuda.cublasGetStatusName)
#define cublasGetStatusString (dk__cuda.cublasGetStatusString)
#define cublasSetAtomicsMode (dk__cuda.cublasSetAtomicsMode)
#define cublasSetMathMode (dk__cuda.cublasSetMathMode)
#define cublasSetStream_v2 (dk__cuda.cublasSetStream_v2)
#define cudnnActivationForward (dk__cuda.cudnnActivationForward)
#define cudnnAddTensor (dk__cuda.cudnnAddTensor)
#define cudnnBatchNormalizationForwardInference (dk__cuda.cudnnBatchNormalizationForwardInference)
#define cudnnConvolutionBackwardData (dk__cuda.cudnnConvolutionBackwardData)
#define cudnnConvolutionBiasActivationForward (dk__cuda.cudnnConvolutionBiasActivationForward)
#define cudnnConvolutionForward (dk__cuda.cudnnConvolutionForward)
#define cudnnCreate (dk__cuda.cudnnCreate)
#define cudnnCreateActivationDescriptor (dk__cuda.cudnnCreateActivationDescriptor)
#define cudnnCreateConvolutionDescriptor (dk__cuda.cudnnCreateConvolutionDescriptor)
#define cudnnCreateFilterDescriptor (dk__cuda.cudnnCreateFilterDescriptor)
#define cudnnCreateLRNDescriptor (dk__cuda.cudnnCreateLRNDescriptor)
#define cudnnCreateOpTensorDescriptor (dk__cuda.cudnnCreateOpTensorDescriptor)
#define cudnnCreatePoolingDescriptor (dk__cuda.cudnnCreatePoolingDescriptor)
#define cudnnCreateReduceTensorDescriptor (dk__cuda.cudnnCreateReduceTensorDescriptor)
#define cudnnCreateTensorDescriptor (dk__cuda.cudnnCreateTensorDescriptor)
#define cudnnDestroy (dk__cuda.cudnnDestroy)
#define cudnnDestroyActivationDescriptor (dk__cuda.cudnnDestroyActivationDescriptor)
#define cudnnDestroyConvolutionDescriptor (dk__cuda.cudnnDestroyConvolutionDescriptor)
#define cudnnDestroyFilterDescriptor (dk__cuda.cudnnDestroyFilterDescriptor)
#define cudnnDestroyLRNDescriptor (dk__cuda.cudnnDestroyLRNDescriptor)
#define cudnnDestroyOpTensorDescriptor (dk__cuda.cudnnDestroyOpTensorDescriptor)
#define cudnnDestroyPoolingDescriptor (dk__cuda.cudnnDestroyPoolingDescriptor)
#define cudnnDestroyReduceTensorDescriptor (dk__cuda.cudnnDestroyReduceTensorDescriptor)
#define cudnnDestroyTensorDescriptor (dk__cuda.cudnnDestroyTensorDescriptor)
#define cudnnFindConvolutionBackwardDataAlgorithmEx (dk__cuda.cudnnFindConvolutionBackwardDataAlgorithmEx)
#define cudnnFindConvolutionForwardAlgorithmEx (dk__cuda.cudnnFindConvolutionForwardAlgorithmEx)
#define cudnnGetConvolutionBackwardDataAlgorithm_v7 (dk__cuda.cudnnGetConvolutionBackwardDataAlgorithm_v7)
#define cudnnGetConvolutionBackwardDataWorkspaceSize (dk__cuda.cudnnGetConvolutionBackwardDataWorkspaceSize)
#define cudnnGetConvolutionForwardAlgorithm_v7 (dk__cuda.cudnnGetConvolutionForwardAlgorithm_v7)
#define cudnnGetConvolutionForwardWorkspaceSize (dk__cuda.cudnnGetConvolutionForwardWorkspaceSize)
#define cudnnGetConvolutionNdForwardOutputDim (dk__cuda.cudnnGetConvolutionNdForwardOutputDim)
#define cudnnGetErrorString (dk__cuda.cudnnGetErrorString)
#define cudnnGetLastErrorString (dk__cuda.cudnnGetLastErrorString)
#define cudnnGetPoolingNdForwardOutputDim (dk__cuda.cudnnGetPoolingNdForwardOutputDim)
#define cudnnGetReductionWorkspaceSize (dk__cuda.cudnnGetReductionWorkspaceSize)
#define cudnnGetVersion (dk__cuda.cudnnGetVersion)
#define cudnnLRNCrossChannelForward (dk__cuda.cudnnLRNCrossChannelForward)
#define cudnnOpTensor (dk__cuda.cudnnOpTensor)
#define cudnnPoolingForward (dk__cuda.cudnnPoolingForward)
#define cudnnReduceTensor (dk__cuda.cudnnReduceTensor)
#define cudnnSetActivationDescriptor (dk__cuda.cudnnSetActivationDescriptor)
#define cudnnSetConvolutionGroupCount (dk__cuda.cudnnSetConvolutionGroupCount)
#define cudnnSetConvolutionMathType (dk__cuda.cudnnSetConvolutionMathType)
#define cudnnSetConvolutionNdDescriptor (dk__cuda.cudnnSetConvolutionNdDescriptor)
#define cudnnSetFilterNdDescriptor (dk__cuda.cudnnSetFilterNdDescriptor)
#define cudnnSetLRNDescriptor (dk__cuda.cudnnSetLRNDescriptor)
#define cudnnSetOpTensorDescriptor (dk__cuda.cudnnSetOpTensorDescriptor)
#define cudnnSetPoolingNdDescriptor (dk__cuda.cudnnSetPoolingNdDescriptor)
#define cudnnSetReduceTensorDescriptor (dk__cuda.cudnnSetReduceTensorDescriptor)
#define cudnnSetStream (dk__cuda.cudnnSetStream)
#define cudnnSetTensor (dk__cuda.cudnnSetTensor)
#define cudnnSetTensorNdDescriptor (dk__cuda.cudnnSetTensorNdDescriptor)
#define cudnnSoftmaxForward (dk__cuda.cudnnSoftmaxForward)
#define cudnnTransformTensor (dk__cuda.cudnnTransformTensor)
#endif

#endif
