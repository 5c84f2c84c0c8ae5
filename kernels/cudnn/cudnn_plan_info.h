/* Internal to kernels/cudnn and its tests: what a plan of the cudnn backend
 * says about itself. Every plan starts with this struct, so a plan pointer is
 * also a pointer to its info; the header needs no CUDA, so tests compile
 * where CUDA is absent (they then skip). */
#ifndef DK_KERNELS_CUDNN_CUDNN_PLAN_INFO_H
#define DK_KERNELS_CUDNN_CUDNN_PLAN_INFO_H

typedef struct dk_cudnn_plan_info {
    int host;        /* no GPU path: the reference kernel runs on the host copies */
    char note[192];  /* the cuDNN/cuBLAS call and algorithm, or why it runs on the host */
    /* the algorithm cuDNN chose is one it marks non-deterministic (atomics),
     * which deterministic=off allows */
    int nondeterministic;
    /* another run may give other bits: the algorithm is non-deterministic,
     * or it was chosen by timing (algo=find, opt=3), which another plan of
     * the same node may decide otherwise */
    int may_differ;
    /* a transform-based algorithm (Winograd, FFT): its error is not bounded
     * by the tolerance table's direct-summation row */
    int transform;
} dk_cudnn_plan_info;

#endif
