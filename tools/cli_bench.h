/* deltakern bench's parsed command line and the steps that a run under
 * mpirun (tools/cli_bench_mpi.c) shares with a single one (cli_bench.c). */
#ifndef DK_TOOLS_CLI_BENCH_H
#define DK_TOOLS_CLI_BENCH_H

#include <stdio.h>

#include "deltakern/bench.h"
#include "deltakern/variant.h"
#include "tools/cli_shapes.h"

#define DK_CLI_BENCH_MAX_PATTERNS 64
#define DK_CLI_BENCH_MAX_VARIANTS 64

typedef struct dk_cli_bench {
    const char *patterns[DK_CLI_BENCH_MAX_PATTERNS];
    int n_patterns;
    const char *out, *trace, *report;
    int force;
    dk_bench_options o;
    dk_cli_shapes shapes;
    dk_variant variants[DK_CLI_BENCH_MAX_VARIANTS];
} dk_cli_bench;

/* Whether the output files may be written (before measuring): an exit
 * code, the error printed. */
int dk_cli_bench_check_outputs(const dk_cli_bench *c);

/* The variants expanded into c->o, and the load options set. */
dk_status dk_cli_bench_prepare(dk_cli_bench *c);

/* The notes and the end-to-end summary of every variant, as printed. */
void dk_cli_bench_print(FILE *f, const dk_bench *b, const char *model);

#endif
