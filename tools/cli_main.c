/* deltakern: entry point and the table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "tools/cli.h"
#include "deltakern/status.h"

static const dk_command commands[] = {
    {"info", "print the layer table of a model: shapes, parameters, MFLOPs", dk_cmd_info},
    {"run", "run a model on images or tensors and print the top-k labels", dk_cmd_run},
    {"diff", "compare variants node by node on an image set and localise label flips", dk_cmd_diff},
    {"merge", "merge the shard results of one diff run (diff --shard K/N) into one", dk_cmd_merge},
    {"backends", "list the backends compiled in, their versions and availability", dk_cmd_backends},
    {"bench", "time every node and the whole network per variant, interleaved, into JSON", dk_cmd_bench},
    {"compare", "compare two bench results node by node; exit 1 on a regression", dk_cmd_compare},
    {"selftest", "check every backend against the reference: op suite and ONNX conformance", dk_cmd_selftest},
    {"sweep", "time and check every convolution under every algorithm a backend offers", dk_cmd_sweep},
    {"report", "write one self-contained HTML page from diff, bench and compare results", dk_cmd_report},
    {"roofline", "measure (once, then cached) the fp32 peak and memory bandwidth", dk_cmd_roofline},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

int dk_cli_fail(dk_status s)
{
    const char *msg = dk_last_error();
    dk_cli_error("%s", msg[0] ? msg : dk_status_name(s));
    return dk_status_is_user_error(s) ? DK_EXIT_USAGE : DK_EXIT_FAILURE;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: deltakern <command> [options]\n"
            "\n"
            "Runs image-recognition networks (ONNX) layer by layer on several kernel\n"
            "libraries and localises label divergences and latency regressions.\n"
            "\n"
            "commands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "`deltakern <command> --help` describes each command.\n"
            "\n"
            "exit codes:\n"
            "  0  success\n"
            "  1  internal failure (a bug, or a library failing on valid input)\n"
            "  2  bad usage or bad input (unknown option, missing or corrupt file,\n"
            "     unsupported operator, inconsistent shapes, unavailable backend)\n");
}

int main(int argc, char **argv)
{
#ifndef DK_CLI_NO_REEXEC
    dk_cli_restart_if_needed(argv);
#endif
    if (argc < 2) {
        usage(stderr);
        return DK_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return DK_EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("deltakern %s\n", DK_VERSION);
        return DK_EXIT_OK;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(cmd, commands[i].name)) return commands[i].main(argc - 1, argv + 1);
    char names[256] = ""; /* from the table, so that the list stays complete */
    for (int i = 0; i < N_COMMANDS; i++) {
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", commands[i].name);
    }
    dk_cli_error("unknown command '%s' (commands: %s; see deltakern --help)", cmd, names);
    return DK_EXIT_USAGE;
}
