/* deltakern — the environment fingerprint attached to every result: CPU
 * model and ISA extensions, kernel, compiler, deltakern version, every
 * backend's library versions and device (OpenBLAS configuration, oneDNN,
 * cuDNN/CUDA when compiled in), how memory is paged (transparent huge
 * pages) and the variant with all its options.
 *
 * Ownership: the returned cJSON object belongs to the caller (cJSON_Delete);
 * NULL only when out of memory. v may be NULL (no variant fields). */
#ifndef DELTAKERN_FINGERPRINT_H
#define DELTAKERN_FINGERPRINT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "deltakern/variant.h"

#ifdef __cplusplus
extern "C" {
#endif

cJSON *dk_environment_json(const dk_variant *v);

/* How the kernel hands out transparent huge pages: "always", "madvise",
 * "never", or "unknown" (Linux's /sys/kernel/mm/transparent_hugepage/enabled). */
const char *dk_transparent_huge_pages(void);

/* The CPU's model name from /proc/cpuinfo ("unknown" when absent). Returns buf. */
const char *dk_cpu_model(char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
