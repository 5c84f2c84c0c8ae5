/* deltakern info: the layer table of a model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/graph.h"
#include "deltakern/onnx.h"
#include "deltakern/passes.h"
#include "deltakern/text.h"
#include "tools/cli.h"
#include "tools/cli_options.h"
#include "tools/cli_shapes.h"

static void print_value_list(const dk_graph *g, const char *what, const int *vals, int n)
{
    char shape[128];
    for (int i = 0; i < n; i++) {
        const dk_tensor *t = &g->values[vals[i]].t;
        printf("%-8s %s: %s %s\n", i ? "" : what, DK_ESC(t->name), dk_dtype_name(t->dtype),
               dk_shape_str(t->ndim, t->dims, shape, sizeof shape));
    }
}

/* The op types the model needs and deltakern lacks, as a table (the load
 * error names them on one line). Prints nothing when the failure is another. */
static void print_gaps(const char *model)
{
    dk_onnx_gap *gaps;
    int n;
    if (dk_onnx_gaps(model, &gaps, &n) == DK_OK && n > 0) {
        printf("model    %s: %d op type%s not supported\n\n%-24s %-16s %7s  %s\n", model, n,
               n == 1 ? " is" : "s are", "op", "domain", "nodes", "first node");
        for (int k = 0; k < n; k++)
            printf("%-24s %-16s %7d  %s\n", gaps[k].op, gaps[k].domain[0] ? gaps[k].domain : "ai.onnx",
                   gaps[k].count, gaps[k].first);
        printf("\n");
    }
    free(gaps);
}

int dk_cmd_info(int argc, char **argv)
{
    int opt = 0;
    const char *disable = NULL, *model = NULL;
    static dk_cli_shapes shapes;
    memset(&shapes, 0, sizeof shapes);
    shapes.cmd = "info";
    const dk_cli_opt opts[] = {
        {"opt", 0, DK_CLI_INT, &opt, "N", .help = "graph optimisation level 0-3 (default 0)",
         .flags = DK_CLI_USAGE, .max = DK_OPT_MAX},
        {"disable", 0, DK_CLI_STRING, &disable, "PASS+PASS", .help = "graph passes to skip, '+'-separated",
         .flags = DK_CLI_USAGE},
        DK_CLI_INPUT_SHAPE(&shapes),
        {0}};
    const dk_cli_spec spec = {
        .cmd = "info", .opts = opts, .args = "MODEL.onnx", .arg_name = "MODEL", .min_args = 1, .max_args = 1,
        .argv_out = &model,
        .about = "Loads the model (shape inference, constant folding, Identity/Dropout removed)\n"
                 "and prints one row per executed node: index, name, op, output shape, weight\n"
                 "parameters and MFLOPs (a multiply-add counts 2), then totals. A node that\n"
                 "graph passes made from several ONNX nodes lists them as name[+others]."};
    int rc = dk_cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    dk_graph *g;
    dk_status s = dk_onnx_load_with(model, dk_cli_load_options(&shapes, NULL), &g);
    if (s == DK_ERR_UNSUPPORTED) {
        char error[2048]; /* the load's error, printed after the table */
        snprintf(error, sizeof error, "%s", dk_last_error());
        print_gaps(model);
        dk_cli_error("%s", error);
        return DK_EXIT_USAGE;
    }
    if (s != DK_OK) return dk_cli_fail(s);
    if ((s = dk_graph_optimize(g, opt, disable)) != DK_OK) {
        dk_graph_destroy(g);
        return dk_cli_fail(s);
    }

    printf("model    %s (opset %lld, %d nodes)\n", model, (long long)g->opset, g->n_nodes);
    print_value_list(g, "inputs", g->inputs, g->n_inputs);
    print_value_list(g, "outputs", g->outputs, g->n_outputs);
    int w = 4; /* name column as wide as the longest name, within reason */
    for (int k = 0; k < g->n_nodes; k++) {
        int len = (int)strlen(DK_ESC(g->nodes[k].covers ? g->nodes[k].covers : g->nodes[k].name));
        if (len > w) w = len < 72 ? len : 72;
    }
    printf("\n%5s  %-*s %-18s %-18s %12s %10s\n", "index", w, "name", "op", "output shape", "params",
           "MFLOPs");
    char shape[128];
    for (int k = 0; k < g->n_nodes; k++) {
        const dk_node *n = &g->nodes[k];
        const dk_tensor *t = &g->values[n->outputs[0]].t;
        char covers[512];
        if (n->covers) { /* "a,b,c" -> "a[+b+c]": the node's own name first */
            snprintf(covers, sizeof covers, "%s", n->covers);
            for (char *p = covers; *p; p++)
                if (*p == ',') *p = '+';
        }
        printf("%5d  %-*s %-18s %-18s %12lld %10.2f\n", k, w, DK_ESC(n->covers ? covers : n->name), dk_op_name(n->op),
               dk_shape_str(t->ndim, t->dims, shape, sizeof shape), (long long)n->n_params,
               n->flops / 1e6);
    }
    double bytes = 0;
    for (int k = 0; k < g->n_nodes; k++) bytes += g->nodes[k].bytes;
    printf("\ntotal    %d nodes, %lld parameters, %.1f MFLOPs, %.1f MB moved\n", g->n_nodes,
           (long long)dk_graph_total_params(g), dk_graph_total_flops(g) / 1e6, bytes / 1e6);
    dk_graph_destroy(g);
    return DK_EXIT_OK;
}
