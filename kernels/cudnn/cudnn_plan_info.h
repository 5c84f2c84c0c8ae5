/* Internal to kernels/cudnn and its tests: what a plan of the cudnn backend
 * says about itself. Every plan starts with this struct, so a plan pointer is
 * also a pointer to its info; the header needs no CUDA, so tests compile
 * where CUDA is absent (they then skip). */
#ifndef DK_KERNELS_CUDNN_CUDNN_PLAN_INFO_H
#define DK_KERNELS_CUDNN_CUDNN_PLAN_INFO_H

typedef struct dk_cudnn_plan_info {
    int host;        /* no GPU path: the reference kernel runs on the host copies */
    char note[192];  /* the cuDNN/cuBLAS call and algorithm, or why it runs on the host */
} dk_cudnn_plan_info;

#endif
