/* The option layer of the deltakern command: a command declares each option
 * once, in a table (name, short letter, kind, where the value goes, metavar,
 * help), and dk_cli_parse() builds the getopt_long arrays from it, stores and
 * checks the values, and writes --help from the same table, so that the help,
 * the parser and the error messages cannot drift apart.
 *
 * Built on glibc's getopt_long. A library such as popt (Debian libpopt-dev)
 * was considered, but getopt_long under a table needs no new dependency and
 * keeps the command line as it was: argument permutation, unique prefixes of
 * long names, clustered short flags and the error wording the tests check.
 *
 * Errors are one line on stderr (dk_cli_error) and exit code 2:
 *   deltakern: error: CMD: --opt 'VALUE': expected WHAT     (a bad value)
 *   deltakern: error: CMD: option '--x' is unknown or needs a value (see ...)
 */
#ifndef DK_TOOLS_CLI_OPTIONS_H
#define DK_TOOLS_CLI_OPTIONS_H

#include <stdio.h>

typedef enum dk_cli_kind {
    DK_CLI_END = 0,     /* ends the table: {0} */
    DK_CLI_HEADING,     /* not an option: .help is a section heading in --help */
    DK_CLI_ALIAS,       /* the option above under another name (hidden in --help) */
    DK_CLI_FLAG,        /* no value: *(int *)dest = 1 (0 with DK_CLI_CLEAR) */
    DK_CLI_STRING,      /* *(const char **)dest = the argument */
    DK_CLI_LIST,        /* ((const char **)dest)[(*count)++] = the argument; at most .max */
    DK_CLI_INT,         /* *(int *)dest, .min to .max */
    DK_CLI_U64,         /* *(uint64_t *)dest, a non-negative decimal integer */
    DK_CLI_DOUBLE,      /* *(double *)dest, .lo to .hi */
    DK_CLI_FLOAT,       /* *(float *)dest, .lo to .hi */
    DK_CLI_CHOICE,      /* *(int *)dest = the argument's index in .choices "a|b|c" */
    DK_CLI_CHOICE_STR,  /* *(const char **)dest = the argument, one of .choices */
    DK_CLI_CUSTOM,      /* .parse(opt, argument): "N or HxW", "R,G,B", ... */
} dk_cli_kind;

enum {
    DK_CLI_CLEAR = 1 << 0,    /* FLAG: stores 0 (--no-x options) */
    DK_CLI_NONEMPTY = 1 << 1, /* STRING: "" is a bad value */
    DK_CLI_OPEN_LO = 1 << 2,  /* DOUBLE, FLOAT: .lo itself is out of bounds */
    DK_CLI_OPEN_HI = 1 << 3,  /* DOUBLE, FLOAT: .hi itself is out of bounds */
    DK_CLI_USAGE = 1 << 4,    /* shown in the usage line as [--x N] */
    DK_CLI_REQUIRED = 1 << 5, /* shown in the usage line as -x N (see .missing) */
    DK_CLI_REPEATS = 1 << 6,  /* CUSTOM: may be repeated, "..." in the usage line (as a LIST) */
};

/* A CUSTOM parser's answer besides DK_EXIT_OK: the layer then reports
 * "expected <.expect>". A positive exit code means the parser has printed
 * its own error. */
#define DK_CLI_BAD (-1)

typedef struct dk_cli_opt {
    const char *name;     /* long name without "--"; NULL for END and HEADING */
    char short_name;      /* 0: long form only */
    dk_cli_kind kind;
    void *dest;           /* where the value goes (see the kinds) */
    const char *metavar;  /* "FILE", "N"; default: .choices for a choice, else VALUE */
    const char *help;     /* '\n' breaks the line; continuations are aligned */
    unsigned flags;       /* DK_CLI_* above */
    long long min, max;   /* INT: inclusive bounds; LIST: the most values */
    double lo, hi;        /* DOUBLE, FLOAT: bounds (inclusive unless DK_CLI_OPEN_*) */
    const char *choices;  /* CHOICE, CHOICE_STR: "a|b|c" */
    int *count;           /* LIST: values stored so far */
    int (*parse)(const struct dk_cli_opt *opt, const char *arg); /* CUSTOM */
    const char *expect;   /* "expected ..." wording; default: from the kind and bounds */
    const char *missing;  /* the option is required: the error without it */
} dk_cli_opt;

/* A command: its table, its positional arguments and the text of its help. */
typedef struct dk_cli_spec {
    const char *cmd;         /* "run": prefixes every error */
    const dk_cli_opt *opts;  /* ends with {0} */
    const char *args;        /* positionals in the usage line: "MODEL.onnx" (NULL: none) */
    const char *arg_name;    /* in errors: "missing MODEL argument" */
    int min_args, max_args;
    const char **argv_out;   /* receives the positionals (room for max_args) */
    const char *extra_hint;  /* "(inputs go after -i)" after "unexpected argument 'x'" */
    const char *about;       /* the paragraph after the usage line */
    const char *epilog;      /* after the options (NULL: none) */
} dk_cli_spec;

/* Parses argv (argv[0] is the command name). Returns -1 to go on with the
 * values stored, DK_EXIT_OK after printing --help, or an exit code after
 * printing one error line. Values of options not given are left as set
 * before the call: set defaults first. */
int dk_cli_parse(const dk_cli_spec *spec, int argc, char **argv);

/* Writes the --help text generated from the spec. */
void dk_cli_help(const dk_cli_spec *spec, FILE *f);

#endif
