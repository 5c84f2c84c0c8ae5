/* The fault wrapper's target: the node named by node=, found by its name or
 * by an ONNX node it covers after graph passes; an unknown name is reported
 * with the closest names in the model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault_internal.h"
#include "runtime/error.h"
#include "runtime/text.h"

#define CLOSEST 3

/* Edit distance between a and b (names are short: one row of DP). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = malloc((lb + 1) * sizeof *row);
    if (!row) return la + lb;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

/* Is name one of the comma-separated names in list? */
static int in_list(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t plen = comma ? (size_t)(comma - p) : strlen(p);
        if (plen == len && !strncmp(p, name, len)) return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

static dk_status not_found(const fault_ctx *c, const dk_graph *g)
{
    int best[CLOSEST];
    size_t dist[CLOSEST];
    int found = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        /* names that contain what was given come first ("conv1" -> "/conv1/Conv") */
        size_t d = distance(c->node, g->nodes[k].name) + (strstr(g->nodes[k].name, c->node) ? 0 : (size_t)1 << 20);
        int pos = found < CLOSEST ? found++ : CLOSEST;
        while (pos > 0 && dist[pos - 1] > d) {
            if (pos < CLOSEST) {
                best[pos] = best[pos - 1];
                dist[pos] = dist[pos - 1];
            }
            pos--;
        }
        if (pos < CLOSEST) {
            best[pos] = k;
            dist[pos] = d;
        }
    }
    char names[256] = "";
    for (int i = 0; i < found; i++) dk_join(names, sizeof names, ", ", g->nodes[best[i]].name);
    return dk__error(DK_ERR_INVALID, "node=%s: %s has no node of that name (closest: %s)", c->node,
                     g->source ? g->source : "the model", found ? names : "the model has no nodes");
}

/* The kinds that rewrite values need an output 0 they can rewrite. */
static dk_status check_kind(const fault_ctx *c, const dk_graph *g, const dk_node *n)
{
    if (c->kind == FAULT_SLOW) return DK_OK;
    if (n->n_outputs < 1 || n->outputs[0] < 0)
        return dk__error(DK_ERR_INVALID, "node=%s: the node has no output 0 to corrupt", c->node);
    const dk_tensor *y = &g->values[n->outputs[0]].t;
    if ((c->kind == FAULT_NOISE || c->kind == FAULT_BIAS || c->kind == FAULT_FLAKY || c->kind == FAULT_NAN) &&
        y->dtype != DK_F32)
        return dk__error(DK_ERR_UNSUPPORTED, "node=%s (%s): kind=%s needs a float32 output, it is %s",
                         c->node, dk_op_name(n->op), c->kind_name, dk_dtype_name(y->dtype));
    if (c->kind == FAULT_SWAP && (y->ndim < 2 || y->dims[1] < 2)) {
        char shape[96];
        return dk__error(DK_ERR_UNSUPPORTED,
                         "node=%s (%s): kind=swap-channels needs an output with 2 or more channels "
                         "(axis 1), it is %s", c->node, dk_op_name(n->op),
                         dk_shape_str(y->ndim, y->dims, shape, sizeof shape));
    }
    return DK_OK;
}

dk_status dk__fault_find_target(fault_ctx *c, const dk_graph *g)
{
    c->target = -1;
    for (int k = 0; k < g->n_nodes && c->target < 0; k++)
        if (!strcmp(g->nodes[k].name, c->node)) c->target = k;
    for (int k = 0; k < g->n_nodes && c->target < 0; k++)
        if (in_list(g->nodes[k].covers, c->node)) c->target = k;
    if (c->target < 0) return not_found(c, g);
    return check_kind(c, g, &g->nodes[c->target]);
}
