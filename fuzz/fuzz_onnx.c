/* Fuzz target: bytes -> dk_onnx_load (parse, shape inference, folding) ->
 * graph passes -> the `info` table, formatted into a buffer; the op gap list
 * when the model uses unsupported ops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/graph.h"
#include "deltakern/onnx.h"
#include "deltakern/passes.h"
#include "fuzz_util.h"

/* What `deltakern info` prints, row by row (tools/cli_info.c), without printing. */
static void info_table(const dk_graph *g)
{
    char row[1024], shape[128];
    for (int i = 0; i < g->n_inputs; i++) {
        const dk_tensor *t = &g->values[g->inputs[i]].t;
        snprintf(row, sizeof row, "%s: %s %s", t->name, dk_dtype_name(t->dtype),
                 dk_shape_str(t->ndim, t->dims, shape, sizeof shape));
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const dk_tensor *t = &g->values[g->outputs[i]].t;
        snprintf(row, sizeof row, "%s: %s %s", t->name, dk_dtype_name(t->dtype),
                 dk_shape_str(t->ndim, t->dims, shape, sizeof shape));
    }
    double bytes = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const dk_node *n = &g->nodes[k];
        const dk_tensor *t = &g->values[n->outputs[0]].t;
        snprintf(row, sizeof row, "%5d  %s %-18s %-18s %12lld %10.2f", k, n->covers ? n->covers : n->name,
                 dk_op_name(n->op), dk_shape_str(t->ndim, t->dims, shape, sizeof shape),
                 (long long)n->n_params, n->flops / 1e6);
        bytes += n->bytes;
    }
    snprintf(row, sizeof row, "total %d nodes, %lld parameters, %.1f MFLOPs, %.1f MB", g->n_nodes,
             (long long)dk_graph_total_params(g), dk_graph_total_flops(g) / 1e6, bytes / 1e6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = dk_fuzz_file("model.onnx", data, size);
    dk_graph *g;
    dk_status s = dk_onnx_load(path, &g);
    if (s == DK_ERR_UNSUPPORTED) {
        dk_onnx_gap *gaps;
        int n;
        if (dk_onnx_gaps(path, &gaps, &n) == DK_OK) free(gaps);
    }
    if (s != DK_OK) return 0;
    /* every optimisation level, chosen by the input's length */
    if (dk_graph_optimize(g, (int)(size % 4), NULL) == DK_OK) info_table(g);
    dk_graph_destroy(g);
    return 0;
}
