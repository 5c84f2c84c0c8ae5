/* --input-shape for every command that loads a model (cli_shapes.h). */
#include <stdio.h>
#include <string.h>

#include "deltakern/input.h"
#include "tools/cli.h"
#include "tools/cli_shapes.h"

int dk_cli_parse_input_shape(const dk_cli_opt *opt, const char *arg)
{
    dk_cli_shapes *s = opt->dest;
    const char *cmd = s->cmd ? s->cmd : "deltakern";
    if (s->n == DK_CLI_MAX_SHAPES) {
        dk_cli_error("%s: more than %d --input-shape options", cmd, DK_CLI_MAX_SHAPES);
        return DK_EXIT_USAGE;
    }
    dk_input_shape v;
    if (dk_input_shape_parse(arg, &v) != DK_OK) {
        dk_cli_error("%s: --input-shape: %s", cmd, dk_last_error());
        return DK_EXIT_USAGE;
    }
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, v.name) == 0) {
            dk_cli_error("%s: --input-shape gives '%s' twice", cmd, v.name);
            return DK_EXIT_USAGE;
        }
    s->v[s->n++] = v;
    return DK_EXIT_OK;
}

/* Prints each note once: commands that load per variant would repeat it. */
void dk_cli_note(const char *line, void *ctx)
{
    static char last[512];
    (void)ctx;
    if (strcmp(last, line) == 0) return;
    snprintf(last, sizeof last, "%s", line);
    fprintf(stderr, "note: %s\n", line);
}

/* The shape of a .npy or .pb file; 0 for anything else or an unreadable
 * file (whose error comes when it is fed). */
static int tensor_file_shape(const char *path, dk_input_shape *out)
{
    dk_input_format fmt;
    if (!path || dk_input_detect(path, &fmt) != DK_OK || (fmt != DK_INPUT_NPY && fmt != DK_INPUT_PB)) return 0;
    dk_preprocess pre;
    dk_preprocess_default(&pre);
    dk_tensor t = {0};
    int ok = dk_input_load(path, &pre, &t) == DK_OK;
    if (ok) {
        memset(out, 0, sizeof *out);
        out->ndim = t.ndim;
        memcpy(out->dims, t.dims, sizeof t.dims);
    }
    dk_tensor_reset(&t);
    return ok;
}

const dk_onnx_options *dk_cli_load_options(dk_cli_shapes *s, const char *input)
{
    s->load = (dk_onnx_options){.shapes = s->v, .n_shapes = s->n, .note = dk_cli_note};
    if (tensor_file_shape(input, &s->fill)) s->load.fill = &s->fill;
    return &s->load;
}
