/* deltakern report: one self-contained HTML page from diff, bench and
 * compare results (drivers/report/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deltakern/report.h"
#include "tools/cli.h"
#include "tools/cli_options.h"

#define MAX_RESULTS 64

/* An argument as the shell reads it back: bare when it holds only safe
 * characters, else in single quotes (a quote inside becomes '\''). */
static size_t quote(char *dst, const char *a)
{
    size_t n = 0;
    int bare = a[0] != 0;
    for (const char *p = a; *p && bare; p++)
        bare = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:@%", *p) != NULL;
    if (bare) {
        n = strlen(a);
        if (dst) memcpy(dst, a, n);
        return n;
    }
    if (dst) dst[n] = '\'';
    n++;
    for (const char *p = a; *p; p++) {
        if (*p == '\'') {
            if (dst) memcpy(dst + n, "'\\''", 4);
            n += 4;
        } else {
            if (dst) dst[n] = *p;
            n++;
        }
    }
    if (dst) dst[n] = '\'';
    return n + 1;
}

char *dk_cli_command_line(int argc, char **argv)
{
    size_t n = strlen("deltakern") + 1;
    for (int i = 0; i < argc; i++) n += quote(NULL, argv[i]) + 1;
    char *s = malloc(n);
    if (!s) return NULL;
    size_t at = (size_t)sprintf(s, "deltakern");
    for (int i = 0; i < argc; i++) {
        s[at++] = ' ';
        at += quote(s + at, argv[i]);
    }
    s[at] = 0;
    return s;
}

int dk_cli_report_check(const char *cmd, const char *path, int force)
{
    struct stat st;
    if (path && !force && stat(path, &st) == 0) {
        dk_cli_error("%s: --report %s exists (use --force to overwrite)", cmd, path);
        return DK_EXIT_USAGE;
    }
    return DK_EXIT_OK;
}

int dk_cli_report_after(const char *result, const char *path, int argc, char **argv)
{
    char *command = dk_cli_command_line(argc, argv);
    const char *inputs[1] = {result};
    dk_report_options o = {.inputs = inputs, .n_inputs = 1, .out = path, .force = 1, .command = command};
    dk_status st = dk_report_write(&o);
    free(command);
    if (st != DK_OK) return dk_cli_fail(st);
    printf("wrote %s\n", path);
    return DK_EXIT_OK;
}

int dk_cmd_report(int argc, char **argv)
{
    const char *out = NULL, *inputs[MAX_RESULTS] = {0};
    int force = 0, n = 0;
    const dk_cli_opt opts[] = {
        {"out", 'o', DK_CLI_STRING, &out, "FILE", .flags = DK_CLI_REQUIRED,
         .missing = "no output file (use -o report.html)", .help = "the HTML page to write"},
        {"force", 0, DK_CLI_FLAG, &force, .help = "overwrite an existing page"},
        {0}};
    const dk_cli_spec spec = {
        .cmd = "report", .opts = opts, .args = "RESULT...", .arg_name = "results", .min_args = 1,
        .max_args = MAX_RESULTS, .argv_out = inputs,
        .about = "Writes one HTML page from any mix of diff output directories, bench results\n"
                 "and compare --json files: the environment, the dataset table, per-node error\n"
                 "against depth per variant, the flips with thumbnails, per-node times with\n"
                 "whiskers, the roofline, the comparison's story and waterfall. The page is\n"
                 "complete in itself (inline CSS, SVG and script; nothing is fetched) and opens\n"
                 "offline.",
        .epilog = "exit codes: 0 written, 2 bad usage or a result that cannot be read (no page is\n"
                  "left behind)."};
    int rc = dk_cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    while (n < MAX_RESULTS && inputs[n]) n++;
    dk_report_options o = {.inputs = inputs, .n_inputs = n, .out = out, .force = force};
    dk_status st = dk_report_write(&o);
    if (st != DK_OK) return dk_cli_fail(st);
    printf("wrote %s\n", out);
    return DK_EXIT_OK;
}
