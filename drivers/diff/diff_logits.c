/* Differential harness: a variant's output logits carried in its record, for
 * rank groups that run different variants (mpirun ... diff --rank-variant).
 * The merge compares variants of different groups from these, with the same
 * code a single run compares them with, so the merged pairs are the single
 * run's. Raw bytes as hex: exact for every dtype, and the records stay JSON. */
#include <stdlib.h>
#include <string.h>

#include "drivers/diff/diff_engine.h"
#include "runtime/error.h"

#define LOGITS_KEY "logits"

static cJSON *logits_json(const dk_tensor *t)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = dk_tensor_nbytes(t);
    char *hex = n < ((size_t)1 << 30) ? malloc(2 * n + 1) : NULL;
    if (!hex) return NULL;
    const unsigned char *p = t->data;
    for (size_t i = 0; i < n; i++) hex[2 * i] = digits[p[i] >> 4], hex[2 * i + 1] = digits[p[i] & 15];
    hex[2 * n] = 0;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "dtype", dk_dtype_name(t->dtype));
    cJSON *shape = cJSON_AddArrayToObject(j, "shape");
    for (int d = 0; d < t->ndim; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->dims[d]));
    cJSON_AddStringToObject(j, "hex", hex);
    free(hex);
    return j;
}

dk_status dk__diff_add_logits(const dk_diff *d, cJSON *record)
{
    cJSON *vars = cJSON_GetObjectItemCaseSensitive(record, "variants");
    if (cJSON_GetArraySize(vars) != d->n) return dk__error(DK_ERR_INTERNAL, "diff: a record without its variants");
    for (int i = 0; i < d->n; i++) {
        const dk_tensor *t = &d->v[i].logits;
        cJSON *j = t->data ? logits_json(t) : cJSON_CreateNull();
        if (!j) return dk__error(DK_ERR_NOMEM, "diff: out of memory");
        cJSON_AddItemToObject(cJSON_GetArrayItem(vars, i), LOGITS_KEY, j);
    }
    return DK_OK;
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

dk_status dk__diff_take_logits(cJSON *variant, dk_tensor *t)
{
    cJSON *j = cJSON_DetachItemFromObjectCaseSensitive(variant, LOGITS_KEY);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(j, "hex");
    dk_status st = DK_OK;
    dk_dtype type = DK_DTYPE_UNDEFINED;
    for (int k = 1; cJSON_IsString(dtype) && k < 64 && !type; k++)
        if (dk_dtype_size((dk_dtype)k) && !strcmp(dk_dtype_name((dk_dtype)k), dtype->valuestring)) type = (dk_dtype)k;
    int64_t dims[DK_MAX_DIMS];
    int ndim = cJSON_GetArraySize(shape);
    if (!type || !cJSON_IsArray(shape) || ndim > DK_MAX_DIMS || !cJSON_IsString(hex))
        st = dk__error(DK_ERR_FORMAT, "a variant's record has no logits (not a --rank-variant rank's state)");
    /* the bytes the shape needs must be the bytes there, before allocating */
    double want = st == DK_OK ? (double)dk_dtype_size(type) : 0;
    for (int d = 0; st == DK_OK && d < ndim; d++) {
        const cJSON *v = cJSON_GetArrayItem(shape, d);
        dims[d] = cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e12 ? (int64_t)v->valuedouble : -1;
        want *= (double)dims[d];
    }
    size_t n = st == DK_OK ? strlen(hex->valuestring) / 2 : 0;
    if (st == DK_OK && (want < 0 || want != (double)n || strlen(hex->valuestring) != 2 * n))
        st = dk__error(DK_ERR_FORMAT, "a variant's logits hold %zu bytes, not what their dtype and shape say", n);
    if (st == DK_OK) st = dk_tensor_alloc(t, type, ndim, dims);
    unsigned char *p = t->data;
    for (size_t i = 0; st == DK_OK && i < n; i++) {
        int hi = hex_value(hex->valuestring[2 * i]), lo = hex_value(hex->valuestring[2 * i + 1]);
        if (hi < 0 || lo < 0) st = dk__error(DK_ERR_FORMAT, "a variant's logits are not hex");
        else p[i] = (unsigned char)(hi << 4 | lo);
    }
    cJSON_Delete(j);
    return st;
}
