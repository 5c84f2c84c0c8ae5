/* Internal: DK_OMP(directive) is `#pragma omp directive` in an OpenMP build
 * and nothing otherwise (no unknown-pragma warnings without OpenMP). */
#ifndef DK_KERNELS_REF_REF_OMP_H
#define DK_KERNELS_REF_REF_OMP_H

#ifdef _OPENMP
#define DK_STRINGIFY(x) #x
#define DK_OMP(directive) _Pragma(DK_STRINGIFY(omp directive))
#else
#define DK_OMP(directive)
#endif

#endif
