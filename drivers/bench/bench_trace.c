/* Chrome trace-event JSON of a benchmark (loads in Perfetto and
 * chrome://tracing): one complete event ("ph": "X") per node per repetition,
 * one track per variant, arguments naming the op, the ONNX nodes covered,
 * the shapes and the FLOPs. Streamed into memory, then written atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/bench/bench_internal.h"
#include "runtime/error.h"

/* A JSON string literal of s. */
static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static void put_shape(FILE *f, const dk_graph *g, int value)
{
    char buf[128];
    if (value < 0) fputs("null", f);
    else put_string(f, dk_shape_str(g->values[value].t.ndim, g->values[value].t.dims, buf, sizeof buf));
}

/* The arguments of node k, the same in every repetition. */
static void put_args(FILE *f, const dk_graph *g, int k, int rep)
{
    const dk_node *n = &g->nodes[k];
    char desc[160];
    dk__bench_node_desc(g, n, desc, sizeof desc);
    fputs("{\"op\":", f);
    put_string(f, dk_op_name(n->op));
    fputs(",\"desc\":", f);
    put_string(f, desc);
    fputs(",\"covers\":", f);
    put_string(f, n->covers ? n->covers : n->name);
    fputs(",\"input_shape\":", f);
    put_shape(f, g, n->n_inputs > 0 ? n->inputs[0] : -1);
    fputs(",\"shape\":", f);
    put_shape(f, g, n->n_outputs > 0 ? n->outputs[0] : -1);
    fprintf(f, ",\"flops\":%.17g,\"bytes\":%.17g,\"rep\":%d}", n->flops, n->bytes, rep);
}

static void put_trace(FILE *f, const dk_bench *b)
{
    fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"model\":", f);
    put_string(f, b->model_path);
    fputs(",\"generator\":\"deltakern bench " DK_VERSION "\"},\"traceEvents\":[\n", f);
    fputs("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":", f);
    put_string(f, b->model_name && b->model_name[0] ? b->model_name : b->model_path);
    fputs("}}", f);
    for (int i = 0; i < b->n_variants; i++) {
        fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":", i + 1);
        put_string(f, b->v[i].name);
        fputs("}}", f);
    }
    for (int r = 0; r < b->reps; r++)
        for (int i = 0; i < b->n_variants; i++) {
            const dk_bench_variant *bv = &b->v[i];
            for (int k = 0; k < bv->n_nodes; k++) {
                size_t at = (size_t)r * bv->n_nodes + k;
                fputs(",\n{\"name\":", f);
                put_string(f, bv->g->nodes[k].name);
                fputs(",\"cat\":", f);
                put_string(f, dk_op_name(bv->g->nodes[k].op));
                /* microseconds, as the format wants */
                fprintf(f, ",\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"args\":", i + 1,
                        bv->node_start[at] * 1e6, bv->node_s[at] * 1e6);
                put_args(f, bv->g, k, r);
                fputc('}', f);
            }
        }
    fputs("\n]}", f);
}

dk_status dk_bench_write_trace(const dk_bench *b, const char *path, int force)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return dk__error(DK_ERR_NOMEM, "%s: out of memory for the trace", path);
    put_trace(f, b);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || !text) {
        free(text);
        return dk__error(DK_ERR_NOMEM, "%s: out of memory for the trace", path);
    }
    dk_status st = dk__bench_write_text(path, text, force);
    free(text);
    return st;
}
