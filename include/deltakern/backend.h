/* deltakern — backends: the kernel libraries a graph can run on.
 *
 * Every backend compiled in is listed, including those unusable on this
 * machine, which say why (dk_backend_probe). Backends are static tables; no
 * handle needs freeing. */
#ifndef DELTAKERN_BACKEND_H
#define DELTAKERN_BACKEND_H

#include <stddef.h>
#include "deltakern/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dk_backend_iface dk_backend_iface;

int dk_backend_count(void);
const dk_backend_iface *dk_backend_at(int i);
/* Wrappers: backends that run another one (option base=) with a change, such
 * as "fault" (a corrupted or slowed-down node). dk_backend_find finds them;
 * dk_backend_count/at list the kernel libraries only, so that loops over
 * "every backend" need not know about wrappers. */
int dk_wrapper_count(void);
const dk_backend_iface *dk_wrapper_at(int i);
/* NULL and an error naming the valid backends when the name is unknown. */
const dk_backend_iface *dk_backend_find(const char *name);

const char *dk_backend_name(const dk_backend_iface *b);
const char *dk_backend_description(const dk_backend_iface *b);
const char *dk_backend_version(const dk_backend_iface *b);
/* DK_OK when usable here; otherwise DK_ERR_UNAVAILABLE with the reason in
 * `reason` (and in dk_last_error()). */
dk_status dk_backend_probe(const dk_backend_iface *b, char *reason, size_t n);
/* One line on the device and libraries the backend runs on (for the
 * environment fingerprint); the version string when it has nothing more. */
dk_status dk_backend_describe(const dk_backend_iface *b, char *buf, size_t n);

/* OpenBLAS fixes its kernel set when it loads (environment OPENBLAS_CORETYPE).
 * The core this process should have loaded instead of the one it did, or NULL:
 * `wanted` (a variant's core= value; NULL or "auto" for none) where it names
 * a kernel set other than the loaded one, even against OPENBLAS_CORETYPE;
 * for auto, SkylakeX where OPENBLAS_CORETYPE is unset, the CPU has AVX-512
 * and OpenBLAS loaded older kernels (a CPU its detection does not know).
 * NULL when OpenBLAS is not built in. A program that wants it sets OPENBLAS_CORETYPE and
 * DK_OPENBLAS_CORETYPE_BY=deltakern and execs itself before anything else
 * (the deltakern CLI does); the backend's version string then says so. */
const char *dk_openblas_better_core(const char *wanted);

#ifdef __cplusplus
}
#endif
#endif
