/* The deltakern command-line tool: shared declarations of its subcommands. */
#ifndef DK_TOOLS_CLI_H
#define DK_TOOLS_CLI_H

#include "deltakern/status.h"

/* Exit codes, documented in `deltakern --help` and the README. */
enum { DK_EXIT_OK = 0, DK_EXIT_FAILURE = 1, DK_EXIT_USAGE = 2 };

typedef struct dk_command {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv); /* argv[0] is the subcommand name */
} dk_command;

int dk_cmd_info(int argc, char **argv);
int dk_cmd_run(int argc, char **argv);
int dk_cmd_diff(int argc, char **argv);
int dk_cmd_backends(int argc, char **argv);
int dk_cmd_bench(int argc, char **argv);
int dk_cmd_compare(int argc, char **argv);
int dk_cmd_selftest(int argc, char **argv);
int dk_cmd_sweep(int argc, char **argv);
int dk_cmd_roofline(int argc, char **argv);
int dk_cmd_report(int argc, char **argv);
int dk_cmd_merge(int argc, char **argv);

/* Before anything else: sets what the libraries read once, when they load,
 * and executes the program again when anything was set; returns when nothing
 * is to be done or exec failed, with the environment as it was
 * (cli_restart.c). What is set: */
void dk_cli_restart_if_needed(char **argv);
/* OPENBLAS_CORETYPE where OpenBLAS loaded another kernel set than it should
 * (dk_openblas_better_core); 1 when set (cli_openblas_core.c) */
int dk_cli_want_openblas_core(char **argv);
/* glibc.malloc.hugetlb=1 in GLIBC_TUNABLES for the commands that build
 * sessions, where huge pages come on advice only; 1 when set
 * (cli_malloc_thp.c) */
int dk_cli_want_malloc_thp(char **argv);
/* Prints "deltakern: error: <message>" on one line to stderr (cli_options.c). */
void dk_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports the library's last error and returns the matching exit code. */
int dk_cli_fail(dk_status s);
/* The command line as one shell-quoted string, "deltakern " first; argv[0]
 * is the subcommand (malloc'ed; NULL when out of memory; cli_report.c). */
char *dk_cli_command_line(int argc, char **argv);
/* --report FILE of diff and bench: refused before the run when it exists
 * without --force; written from the result after it. */
int dk_cli_report_check(const char *cmd, const char *path, int force);
int dk_cli_report_after(const char *result, const char *path, int argc, char **argv);
/* Error for a bad or unknown option after getopt (exit code 2; cli_options.c). */
int dk_cli_bad_option(const char *cmd, int argc, char **argv);

#endif
