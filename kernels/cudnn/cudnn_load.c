/* dlopen of the CUDA runtime, cuBLAS (with cuBLASLt) and cuDNN, and dlsym of
 * every function the backend calls (cudnn_symbols.h), once per process, on
 * the first probe or open. Each library is looked up by its soname first
 * (the loader's search: LD_LIBRARY_PATH, ld.so.cache), then at the path the
 * build found it (DK_CUDA_LIB_PATHS). cuBLASLt is loaded before cuBLAS so
 * that cuBLAS's dependency on it resolves to the copy already loaded. */
#define DK_CUDA_NO_REDIRECT
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "kernels/cudnn/cudnn_symbols.h"

dk_cuda_api dk__cuda;

#define DK_STR2(x) #x
#define DK_STR(x) DK_STR2(x) /* the name after the headers' macros */

/* soname, then the path found at build time; cuBLASLt has no symbols of ours */
static const char *const libs[][2] = {
    {DK_CUDART_SONAME, DK_CUDART_PATH},
    {DK_CUBLASLT_SONAME, DK_CUBLASLT_PATH},
    {DK_CUBLAS_SONAME, DK_CUBLAS_PATH},
    {DK_CUDNN_SONAME, DK_CUDNN_PATH},
};
static const int lib_of_role[DK_CU_LIBS] = {[DK_CU_CUDART] = 0, [DK_CU_CUBLAS] = 2, [DK_CU_CUDNN] = 3};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static dk_status outcome = DK_ERR_UNAVAILABLE;
static char why[512];

static void load_all(void)
{
    void *h[4] = {0};
    for (int i = 0; i < 4; i++) {
        h[i] = dlopen(libs[i][0], RTLD_NOW | RTLD_LOCAL);
        if (!h[i]) h[i] = dlopen(libs[i][1], RTLD_NOW | RTLD_LOCAL);
        if (!h[i]) {
            const char *e = dlerror();
            snprintf(why, sizeof why, "cannot load %s (nor %s): %s", libs[i][0], libs[i][1],
                     e ? e : "no reason given");
            return;
        }
    }
    /* memcpy: ISO C has no cast from dlsym's object pointer to a function pointer */
#define DK_CUDA_RESOLVE(lib, name)                                                         \
    sym = dlsym(h[lib_of_role[lib]], DK_STR(name));                                        \
    memcpy(&dk__cuda.name, &sym, sizeof sym);                                              \
    if (!sym) {                                                                            \
        snprintf(why, sizeof why, "%s has no %s (a cuDNN 9 / CUDA runtime other than the " \
                 "build's?)", libs[lib_of_role[lib]][0], DK_STR(name));                    \
        return;                                                                            \
    }
    void *sym;
    DK_CUDA_SYMBOLS(DK_CUDA_RESOLVE)
#undef DK_CUDA_RESOLVE
    outcome = DK_OK;
}

dk_status dk__cuda_load(char *reason, size_t n)
{
    pthread_once(&once, load_all);
    if (outcome != DK_OK && reason && n) snprintf(reason, n, "%s", why);
    return outcome;
}
