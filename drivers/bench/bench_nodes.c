/* Results of a benchmark run by several processes (mpirun deltakern bench):
 * one file holding rank 0's result as a single run writes it, so every
 * reader of "deltakern-bench/1" still works, plus "nodes", every rank's
 * whole result with its rank and host; and the selection of one rank's
 * result from such a file (compare FILE#K). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/bench/bench_compare_internal.h"
#include "drivers/bench/bench_internal.h"
#include "runtime/error.h"

static int is_bench_result(const cJSON *o)
{
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(o, "schema");
    return cJSON_IsObject(o) && cJSON_IsString(schema) && !strcmp(schema->valuestring, "deltakern-bench/1");
}

static cJSON *parse_result(const dk_bench_node *nd, const char *path, dk_status *st)
{
    cJSON *r = nd->json ? cJSON_Parse(nd->json) : NULL;
    if (is_bench_result(r)) return r;
    cJSON_Delete(r);
    *st = dk__error(DK_ERR_FORMAT, "%s: the result of rank %d is no bench result", path, nd->rank);
    return NULL;
}

dk_status dk_bench_write_nodes(const char *path, const dk_bench_node *nodes, int n, int force)
{
    if (n < 1) return dk__error(DK_ERR_INVALID, "%s: no rank's result to write", path);
    dk_status st = DK_OK;
    cJSON *root = parse_result(&nodes[0], path, &st);
    if (!root) return st;
    /* a result that holds nodes itself would nest runs: not one of ours */
    if (cJSON_GetObjectItemCaseSensitive(root, "nodes")) {
        cJSON_Delete(root);
        return dk__error(DK_ERR_FORMAT, "%s: the result of rank %d already has \"nodes\"", path, nodes[0].rank);
    }
    cJSON *arr = cJSON_AddArrayToObject(root, "nodes");
    for (int i = 0; arr && i < n && st == DK_OK; i++) {
        cJSON *result = parse_result(&nodes[i], path, &st);
        cJSON *e = result ? cJSON_CreateObject() : NULL;
        if (!e) {
            cJSON_Delete(result);
            if (st == DK_OK) st = dk__error(DK_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        cJSON_AddNumberToObject(e, "rank", nodes[i].rank);
        cJSON_AddStringToObject(e, "host", nodes[i].host ? nodes[i].host : "");
        cJSON_AddItemToObject(e, "result", result);
        cJSON_AddItemToArray(arr, e);
    }
    char *text = st == DK_OK && arr ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (st != DK_OK) return st;
    if (!text) return dk__error(DK_ERR_NOMEM, "%s: out of memory formatting the result", path);
    st = dk__bench_write_text(path, text, force);
    free(text);
    return st;
}

dk_status dk__bench_split_rank(const char *arg, char *file, size_t size, long *rank)
{
    *rank = -1;
    const char *hash = strrchr(arg, '#');
    /* a file named so itself is read as it is, and so is a '#' in a directory's name */
    if (!hash || strchr(hash, '/') || access(arg, F_OK) == 0) {
        if ((size_t)snprintf(file, size, "%s", arg) >= size) return dk__error(DK_ERR_INVALID, "%s: path too long", arg);
        return DK_OK;
    }
    const char *k = hash + 1;
    size_t digits = strspn(k, "0123456789");
    if (!*k || k[digits] || digits > 9)
        return dk__error(DK_ERR_INVALID, "%s: '#%s' is no rank number (FILE#K selects rank K's result of a run "
                         "under mpirun)", arg, k);
    if ((size_t)(hash - arg) >= size) return dk__error(DK_ERR_INVALID, "%s: path too long", arg);
    snprintf(file, size, "%.*s", (int)(hash - arg), arg);
    *rank = strtol(k, NULL, 10);
    return DK_OK;
}

dk_status dk__bench_select_rank(cJSON **root, long rank, const char *arg, char *host, size_t host_size)
{
    cJSON *nodes = cJSON_GetObjectItemCaseSensitive(*root, "nodes");
    if (!cJSON_IsArray(nodes))
        return dk__error(DK_ERR_INVALID, "%s: the file holds no \"nodes\" (only a run under mpirun has them), so "
                         "'#%ld' selects nothing", arg, rank);
    cJSON *e, *found = NULL;
    int n = 0;
    cJSON_ArrayForEach(e, nodes)
    {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "rank");
        if (cJSON_IsNumber(r) && r->valuedouble == (double)rank) found = e;
        n++;
    }
    if (!found) return dk__error(DK_ERR_INVALID, "%s: no rank %ld (the run had %d rank%s)", arg, rank, n, n == 1 ? "" : "s");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(found, "host");
    snprintf(host, host_size, "%s", cJSON_IsString(h) ? h->valuestring : "");
    cJSON *result = cJSON_DetachItemFromObjectCaseSensitive(found, "result");
    if (!is_bench_result(result)) {
        cJSON_Delete(result);
        return dk__error(DK_ERR_FORMAT, "%s: malformed result: rank %ld's \"result\" is no bench result", arg, rank);
    }
    cJSON_Delete(*root);
    *root = result;
    return DK_OK;
}
