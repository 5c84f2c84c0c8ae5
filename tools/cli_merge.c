/* deltakern merge: the shard results of one diff run (diff --shard K/N)
 * into the result a single run writes (drivers/diff/diff_merge.c). */
#include <stdio.h>
#include <stdlib.h>

#include "deltakern/diff.h"
#include "tools/cli.h"
#include "tools/cli_options.h"

#define MAX_SHARDS 4096

int dk_cmd_merge(int argc, char **argv)
{
    static const char *shards[MAX_SHARDS];
    const char *out = NULL, *report = NULL;
    int force = 0, partial = 0, quiet = 0, n = 0;
    for (int i = 0; i < MAX_SHARDS; i++) shards[i] = NULL;
    const dk_cli_opt opts[] = {
        {"out", 'o', DK_CLI_STRING, &out, "OUTDIR", .flags = DK_CLI_REQUIRED,
         .missing = "no output directory (use -o OUTDIR)", .help = "where the merged result goes"},
        {"force", 0, DK_CLI_FLAG, &force, .help = "overwrite the results in OUTDIR (and --report)"},
        {"partial", 0, DK_CLI_FLAG, &partial,
         .help = "merge the shards that are there (missing or unfinished\n"
                 "ones are named in the notes) instead of refusing"},
        {"report", 0, DK_CLI_STRING, &report, "FILE", .help = "also write the HTML page (deltakern report)"},
        {"quiet", 'q', DK_CLI_FLAG, &quiet, .help = "no dataset table"},
        {0}};
    const dk_cli_spec spec = {
        .cmd = "merge", .opts = opts, .args = "SHARD_DIR...", .arg_name = "shard directories", .min_args = 1,
        .max_args = MAX_SHARDS, .argv_out = shards,
        .about = "Merges the OUTDIRs of `deltakern diff ... --shard K/N` runs (K = 0..N-1; each\n"
                 "processed the inputs whose index is K modulo N) into OUTDIR: the same\n"
                 "state.jsonl, summary.json, summary.csv, layers.csv and flips.csv a single run\n"
                 "writes, but for the timing, and environment.json listing every shard's host.\n"
                 "Shards of different runs are refused; a missing or unfinished shard is named\n"
                 "(rerun it alone with --resume).",
        .epilog = "exit codes: 0 merged, 2 bad usage or shards that do not make one run."};
    int rc = dk_cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    while (n < MAX_SHARDS && shards[n]) n++;
    if ((rc = dk_cli_report_check("merge", report, force)) != DK_EXIT_OK) return rc;
    char *command = dk_cli_command_line(argc, argv);
    dk_diff_merge_options o = {.shards = shards, .n_shards = n, .out = out, .force = force, .partial = partial,
                               .command = command};
    dk_diff_merge_result r;
    dk_status st = dk_diff_merge(&o, &r);
    free(command);
    if (st != DK_OK) return dk_cli_fail(st);
    if (r.table && !quiet) fputs(r.table, stdout);
    free(r.table);
    printf("merged %d of %d inputs from %d shard(s) into %s", r.images, r.total, n, out);
    if (r.missing_shards || r.unfinished_shards)
        printf(" (partial: %d shard(s) missing, %d unfinished)", r.missing_shards, r.unfinished_shards);
    printf("\n");
    return report ? dk_cli_report_after(out, report, argc, argv) : DK_EXIT_OK;
}
