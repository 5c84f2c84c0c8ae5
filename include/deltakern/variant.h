/* deltakern — variants: a backend and its settings, named by a string
 * "backend:key=value,key=value" (e.g. "onednn:fpmath=bf16,threads=2").
 *
 * Parsing checks the backend name and every key and value against what the
 * backend declares (dk_backend_option_at) plus the keys every backend
 * accepts; an error lists what is valid. Defaults are filled in, so a parsed
 * variant names its full configuration (dk_variant_canonical). Plain structs,
 * nothing to free. */
#ifndef DELTAKERN_VARIANT_H
#define DELTAKERN_VARIANT_H

#include "deltakern/backend.h"
#include "deltakern/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DK_VARIANT_MAX_OPTIONS 24 /* a wrapper's own, its base's and the common ones */
#define DK_VARIANT_KEY_MAX 32
#define DK_VARIANT_VALUE_MAX 128   /* node names of exported models reach ~60 */

/* What an option decides, declared beside it in the backend's option table
 * so that code outside the backend never names a backend's keys: the
 * tolerance table reads the precision; sweep varies precision, convolution
 * implementation and layout. */
typedef enum dk_option_role {
    DK_ROLE_NONE = 0,
    DK_ROLE_PRECISION, /* values name precisions (fp32, bf16, tf32, fp16); any other
                          value (oneDNN's "strict") means float32 */
    DK_ROLE_CONV_IMPL, /* how a convolution is computed: algorithm, lowering */
    DK_ROLE_LAYOUT,    /* the memory layout of activations and weights */
} dk_option_role;

typedef struct dk_variant {
    const dk_backend_iface *backend;
    int n_options;
    struct {
        char key[DK_VARIANT_KEY_MAX];
        char value[DK_VARIANT_VALUE_MAX];
        int is_default;      /* 1 when not given in the string */
        dk_option_role role; /* from the option's spec */
    } options[DK_VARIANT_MAX_OPTIONS];
} dk_variant;

/* One option a backend (or every backend) accepts. `values` is a
 * '|'-separated list ("blocked|plain"), "int:LO..HI", "str" (any text
 * without ',', checked by the option's user), "name" (the same, but taken
 * literally by dk_variant_expand: '/' in a node name does not expand) or
 * "backend" (the backend a wrapper runs, e.g. fault:base=onednn: the wrapped
 * backend's options are then accepted too, with their defaults). `def` NULL
 * marks an option that must be given. */
typedef struct dk_option_spec {
    const char *key;
    const char *values;
    const char *def;
    const char *help;
    dk_option_role role;
} dk_option_spec;

/* Options every backend accepts (threads, opt, disable), NULL-terminated by key. */
const dk_option_spec *dk_common_options(void);

/* Option i of backend b, NULL past the end. */
const dk_option_spec *dk_backend_option_at(const dk_backend_iface *b, int i);

dk_status dk_variant_parse(const char *text, dk_variant *out);

/* dk_backend_probe for the variant: its backend and, for a wrapper such as
 * fault:base=cudnn, the backend it wraps. DK_ERR_UNAVAILABLE with the reason
 * when either cannot run here. */
dk_status dk_variant_probe(const dk_variant *v, char *reason, size_t n);

/* The value of key (given or default), NULL for a key the variant lacks. */
const char *dk_variant_get(const dk_variant *v, const char *key);
/* The value of an integer option, or def when absent. */
long dk_variant_get_int(const dk_variant *v, const char *key, long def);
/* The value of the variant's option with this role (given or default; for a
 * wrapper such as fault:base=onednn, the wrapped backend's), NULL when its
 * backend declares none. */
const char *dk_variant_get_role(const dk_variant *v, dk_option_role role);

/* Expands a variant pattern into variant strings: a value written as a/b/c
 * stands for each of a, b and c, so "onednn:fpmath=strict/bf16,layout=blocked/plain"
 * names four variants (the product, last key varying fastest). Each result is
 * parsed and validated. Writes at most max variants into out; *n receives the
 * count; more than max is an error. */
dk_status dk_variant_expand(const char *pattern, dk_variant *out, int max, int *n);

/* Reads a matrix file: one pattern per line (expanded as above), blank lines
 * and '#' comments ignored. Errors name the file and line. */
dk_status dk_variant_read_matrix(const char *path, dk_variant *out, int max, int *n);

/* "backend" followed by the options given explicitly ("ref", "onednn:fpmath=bf16");
 * with all=1 every option including defaults. Returns buf. */
const char *dk_variant_canonical(const dk_variant *v, int all, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
