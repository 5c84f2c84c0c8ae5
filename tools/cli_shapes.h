/* --input-shape NAME=DxDx..., shared by every command that loads a model:
 * declared once here (DK_CLI_INPUT_SHAPE), parsed into a dk_cli_shapes, and
 * the model loaded with them (dk_cli_load), notes going to stderr. */
#ifndef DK_TOOLS_CLI_SHAPES_H
#define DK_TOOLS_CLI_SHAPES_H

#include "deltakern/onnx.h"
#include "tools/cli_options.h"

#define DK_CLI_MAX_SHAPES 64

typedef struct dk_cli_shapes {
    const char *cmd; /* prefixes the option's errors */
    dk_input_shape v[DK_CLI_MAX_SHAPES];
    int n;
    dk_input_shape fill;  /* the input file's shape (dk_cli_load_options) */
    dk_onnx_options load; /* what dk_cli_load_options returns */
} dk_cli_shapes;

/* The CUSTOM parser behind DK_CLI_INPUT_SHAPE: opt->dest is a dk_cli_shapes. */
int dk_cli_parse_input_shape(const dk_cli_opt *opt, const char *arg);

#define DK_CLI_INPUT_SHAPE(shapes)                                                              \
    {"input-shape", 0, DK_CLI_CUSTOM, (shapes), "NAME=DxD...", .parse = dk_cli_parse_input_shape, \
     .flags = DK_CLI_REPEATS,                                                                   \
     .help = "graph input NAME's shape, e.g. x=1x3x48x320; repeatable"}

/* Prints "note: LINE" on stderr (a dk_onnx_options note callback). */
void dk_cli_note(const char *line, void *ctx);

/* The load options of a command: the shapes given, notes on stderr, and
 * where `input` is a .npy or .pb file (not NULL, not an image), the symbolic
 * dims of the model's first input taken from it. Points into s. */
const dk_onnx_options *dk_cli_load_options(dk_cli_shapes *s, const char *input);

#endif
