/* The ranks of a bench run under mpirun (the result's "nodes"): per rank
 * and variant its host, CPU and end-to-end statistics side by side, so that
 * the machines can be told apart at a glance (deltakern compare RUN.json#I
 * RUN.json#K tests two of them node by node). Tolerates anything: a field
 * missing or of the wrong type shows as "-". */
#include <math.h>
#include <stdio.h>

#include "drivers/report/report_internal.h"

static const cJSON *J(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

void dk__report_bench_ranks(dk_html *h, const cJSON *root)
{
    static const char *const hd[] = {"rank", "host", "CPU", "threads", "variant", "median ms",
                                     "p10 ms", "p90 ms", "CV", "node median sum ms", "host load"};
    const cJSON *nodes = J(root, "nodes"), *n, *v;
    if (!cJSON_IsArray(nodes)) return;
    dk__html_printf(h, "<h3>Ranks (mpirun): %d</h3>\n", cJSON_GetArraySize(nodes));
    dk__html_raw(h, "<p>Every rank's whole result is in the file's <code>nodes</code>; the sections above are "
                    "rank 0's. <code>deltakern compare RESULT.json#0 RESULT.json#1</code> compares two ranks.</p>\n");
    dk__html_table_begin(h, "sortable", hd, 11);
    cJSON_ArrayForEach(n, nodes) {
        const cJSON *result = J(n, "result"), *variants = J(result, "variants");
        cJSON_ArrayForEach(v, (cJSON_IsArray(variants) ? variants : NULL)) {
            const cJSON *env = J(v, "environment"), *st = J(J(v, "end_to_end"), "stats");
            dk__html_row_begin(h, NULL, NULL);
            dk__html_td_num(h, dk__j_num(n, "rank", NAN), 6);
            dk__html_td_text(h, dk__j_str(n, "host", "-"));
            dk__html_td_text(h, dk__j_str(env, "cpu_model", "-"));
            dk__html_td_num(h, dk__j_num(env, "threads", NAN), 4);
            dk__html_td_text(h, dk__j_str(v, "name", "-"));
            dk__html_td_num(h, dk__j_num(st, "median", NAN) * 1e3, 4);
            dk__html_td_num(h, dk__j_num(st, "p10", NAN) * 1e3, 4);
            dk__html_td_num(h, dk__j_num(st, "p90", NAN) * 1e3, 4);
            dk__html_td_num(h, dk__j_num(st, "cv", NAN), 3);
            dk__html_td_num(h, dk__j_num(v, "node_median_sum_s", NAN) * 1e3, 4);
            dk__html_raw(h, "<td>");
            dk__report_host_load(h, J(result, "host_load"));
            dk__html_raw(h, "</td>");
            dk__html_row_end(h);
        }
    }
    dk__html_table_end(h);
}
