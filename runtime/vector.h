/* DK_VECTOR_CLONES: a plain-C loop compiled for AVX-512, AVX2 and the x86-64
 * baseline, the best one the machine runs chosen at load time (GCC's
 * target_clones on x86-64 Linux; elsewhere, and under AddressSanitizer, whose
 * start-up the load-time choice would precede, one build for the baseline).
 * Only for loops whose results do not depend on the vector width: no sum is
 * reordered (no -ffast-math, and -std=c11, in which GCC never contracts
 * a*b + c into a fused multiply-add), each element computed in the same
 * order whatever the width. */
#ifndef DK_RUNTIME_VECTOR_H
#define DK_RUNTIME_VECTOR_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_ADDRESS__)
#define DK_VECTOR_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DK_VECTOR_CLONES
#endif

#endif
