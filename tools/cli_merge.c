/* deltakern merge: the shard results of one diff run (diff --shard K/N)
 * into the result a single run writes (drivers/diff/diff_merge.c), and
 * with --bundle/--save their bundles into the bundle a single run saves
 * (drivers/diff/diff_bundle_merge.c). */
#include <stdio.h>
#include <stdlib.h>

#include "deltakern/diff.h"
#include "tools/cli.h"
#include "tools/cli_options.h"

#define MAX_SHARDS 4096

int dk_cmd_merge(int argc, char **argv)
{
    static const char *shards[MAX_SHARDS], *bundles[MAX_SHARDS];
    const char *out = NULL, *report = NULL, *save = NULL;
    int force = 0, partial = 0, quiet = 0, n = 0, n_bundles = 0;
    for (int i = 0; i < MAX_SHARDS; i++) shards[i] = NULL;
    const dk_cli_opt opts[] = {
        {"out", 'o', DK_CLI_STRING, &out, "OUTDIR", .flags = DK_CLI_REQUIRED,
         .missing = "no output directory (use -o OUTDIR)", .help = "where the merged result goes"},
        {"force", 0, DK_CLI_FLAG, &force, .help = "overwrite the results in OUTDIR (and --report, --save)"},
        {"partial", 0, DK_CLI_FLAG, &partial,
         .help = "merge the shards that are there (missing or unfinished\n"
                 "ones are named in the notes) instead of refusing"},
        {"bundle", 0, DK_CLI_LIST, bundles, "DIR", .count = &n_bundles, .max = MAX_SHARDS,
         .help = "a shard's bundle (its diff --save DIR), one per shard;\n"
                 "repeatable, any order (needs --save)"},
        {"save", 0, DK_CLI_STRING, &save, "MERGED", .flags = DK_CLI_NONEMPTY,
         .help = "merge the --bundle directories into the bundle a single\n"
                 "run with --save writes (hard links, else copies)"},
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
                 "(rerun it alone with --resume).\n"
                 "\n"
                 "With --bundle DIR per shard (each shard's diff --save DIR) and --save MERGED,\n"
                 "their bundles become the bundle a single run with --save writes: folders\n"
                 "renumbered in the input order, every file the same bytes, manifest.json last.\n"
                 "Bundles of another model, baseline, values or split, a shard's bundle twice\n"
                 "or missing, images that are not the shard's inputs, an unfinished bundle\n"
                 "(without --partial) and MERGED holding a bundle (without --force) are\n"
                 "refused before anything is written.",
        .epilog = "exit codes: 0 merged, 2 bad usage or shards that do not make one run."};
    int rc = dk_cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    while (n < MAX_SHARDS && shards[n]) n++;
    if ((rc = dk_cli_report_check("merge", report, force)) != DK_EXIT_OK) return rc;
    if (!n_bundles != !save) {
        dk_cli_error("merge: %s", save ? "--save MERGED needs the shards' bundles (--bundle DIR, one per shard)"
                                       : "--bundle needs --save MERGED (where the merged bundle goes)");
        return DK_EXIT_USAGE;
    }
    /* the bundles are checked before the results are written: a refusal
     * leaves nothing half-written */
    dk_diff_bundle_merge *plan = NULL;
    dk_diff_bundle_merge_options bo = {.shards = shards, .n_shards = n, .bundles = bundles,
                                       .n_bundles = n_bundles, .out = save, .force = force, .partial = partial};
    dk_status st = save ? dk_diff_bundle_merge_check(&bo, &plan) : DK_OK;
    if (st != DK_OK) return dk_cli_fail(st);
    char *command = dk_cli_command_line(argc, argv);
    dk_diff_merge_options o = {.shards = shards, .n_shards = n, .out = out, .force = force, .partial = partial,
                               .command = command};
    dk_diff_merge_result r;
    st = dk_diff_merge(&o, &r);
    free(command);
    int saved = 0;
    if (st == DK_OK && plan && (st = dk_diff_bundle_merge_write(plan, &saved)) != DK_OK) free(r.table);
    dk_diff_bundle_merge_free(plan);
    if (st != DK_OK) return dk_cli_fail(st);
    if (r.table && !quiet) fputs(r.table, stdout);
    free(r.table);
    printf("merged %d of %d inputs from %d shard(s) into %s", r.images, r.total, n, out);
    if (r.missing_shards || r.unfinished_shards)
        printf(" (partial: %d shard(s) missing, %d unfinished)", r.missing_shards, r.unfinished_shards);
    printf("\n");
    if (save) printf("merged %d bundle image(s) from %d bundle(s) into %s\n", saved, n_bundles, save);
    return report ? dk_cli_report_after(out, report, argc, argv) : DK_EXIT_OK;
}
