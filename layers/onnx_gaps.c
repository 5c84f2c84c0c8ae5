/* What a model needs that deltakern lacks: every op type it does not know,
 * with its node count and first node, gathered before any node is built, so
 * that one error names the whole gap at once rather than one op per try. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/onnx_internal.h"
#include "runtime/error.h"
#include "runtime/text.h"

int dk__onnx_default_domain(const char *d) { return !d || !d[0] || strcmp(d, "ai.onnx") == 0; }

dk_status dk__onnx_gaps(const Onnx__GraphProto *gp, dk_onnx_gap **out, int *n_out)
{
    *out = NULL;
    *n_out = 0;
    dk_onnx_gap *gaps = NULL;
    int n = 0;
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        const char *op = np->op_type ? np->op_type : "";
        int known = dk__onnx_default_domain(np->domain) && dk_op_from_name(op) != DK_OP_NONE;
        if (known) continue;
        char key[sizeof gaps->op], dom[sizeof gaps->domain];
        dk_escape(op, key, sizeof key);
        dk_escape(dk__onnx_default_domain(np->domain) ? "" : np->domain, dom, sizeof dom);
        int k = 0;
        while (k < n && !(strcmp(gaps[k].op, key) == 0 && strcmp(gaps[k].domain, dom) == 0)) k++;
        if (k == n) {
            dk_onnx_gap *grown = realloc(gaps, sizeof *gaps * (size_t)(n + 1));
            if (!grown) {
                free(gaps);
                return dk__error(DK_ERR_NOMEM, "out of memory");
            }
            gaps = grown;
            memset(&gaps[n], 0, sizeof gaps[n]);
            memcpy(gaps[n].op, key, sizeof key);
            memcpy(gaps[n].domain, dom, sizeof dom);
            if (np->name && np->name[0])
                dk_escape(np->name, gaps[n].first, sizeof gaps[n].first);
            else
                snprintf(gaps[n].first, sizeof gaps[n].first, "%s_%zu", key, i);
            n++;
        }
        gaps[k].count++;
    }
    *out = gaps;
    *n_out = n;
    return DK_OK;
}

dk_status dk__onnx_gaps_error(const char *path, const dk_onnx_gap *g, int n)
{
    int nodes = 0;
    char list[1024] = "";
    for (int k = 0; k < n; k++) {
        nodes += g[k].count;
        dk_joinf(list, sizeof list, ", ", "%s%s%s x%d (first '%s')", g[k].domain, g[k].domain[0] ? "::" : "",
                 g[k].op, g[k].count, g[k].first);
    }
    return dk__error(DK_ERR_UNSUPPORTED, "%s: %d op type%s not supported (%d node%s): %s (`deltakern info` lists them)",
                     path, n, n == 1 ? " is" : "s are", nodes, nodes == 1 ? "" : "s", list);
}
