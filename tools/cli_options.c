/* The option layer (cli_options.h): getopt_long under a table, values
 * stored and checked, --help generated; and the error lines every command
 * shares. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/cli_options.h"

#define MAX_OPTS 64    /* table entries; the longest table has about 20 */
#define HELP_COLUMN 25 /* where help text starts, unless all names are shorter */

void dk_cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("deltakern: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int dk_cli_bad_option(const char *cmd, int argc, char **argv)
{
    /* getopt leaves the offending word at optind - 1 */
    const char *word = optind - 1 < argc && optind >= 1 ? argv[optind - 1] : "?";
    if (optopt && word[0] == '-' && word[1] != '-')
        dk_cli_error("%s: option '-%c' is unknown or needs a value (see deltakern %s --help)", cmd,
                     optopt, cmd);
    else
        dk_cli_error("%s: option '%s' is unknown or needs a value (see deltakern %s --help)", cmd,
                     word, cmd);
    return DK_EXIT_USAGE;
}

/* The entry that stores an entry's values: itself, or for an alias the
 * option above it. */
static const dk_cli_opt *target(const dk_cli_opt *opts, int i)
{
    while (i > 0 && opts[i].kind == DK_CLI_ALIAS) i--;
    return &opts[i];
}

static int is_option(const dk_cli_opt *o) { return o->kind != DK_CLI_HEADING && o->kind != DK_CLI_ALIAS; }

static const char *metavar(const dk_cli_opt *o)
{
    return o->metavar ? o->metavar : o->choices ? o->choices : "VALUE";
}

/* "a|b|c" as "a, b or c". */
static void choice_words(const char *choices, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    for (const char *p = choices; *p && used + 1 < n;) {
        size_t len = strcspn(p, "|");
        const char *sep = p[len] == 0 ? "" : strchr(p + len + 1, '|') ? ", " : " or ";
        used += (size_t)snprintf(buf + used, n - used, "%.*s%s", (int)len, p, sep);
        p += len + (p[len] != 0);
    }
}

/* The WHAT of "expected WHAT" for a bad value of o. */
static void expected(const dk_cli_opt *o, char *buf, size_t n)
{
    if (o->expect) {
        snprintf(buf, n, "%s", o->expect);
        return;
    }
    switch (o->kind) {
    case DK_CLI_INT: snprintf(buf, n, "an integer from %lld to %lld", o->min, o->max); break;
    case DK_CLI_U64: snprintf(buf, n, "a non-negative integer"); break;
    case DK_CLI_DOUBLE:
    case DK_CLI_FLOAT:
        if (isinf(o->hi))
            snprintf(buf, n, "a number %s %g", o->flags & DK_CLI_OPEN_LO ? ">" : ">=", o->lo);
        else
            snprintf(buf, n, "a number in %c%g, %g%c", o->flags & DK_CLI_OPEN_LO ? '(' : '[', o->lo, o->hi,
                     o->flags & DK_CLI_OPEN_HI ? ')' : ']');
        break;
    case DK_CLI_CHOICE:
    case DK_CLI_CHOICE_STR: choice_words(o->choices, buf, n); break;
    case DK_CLI_LIST:
        if (o->short_name) snprintf(buf, n, "at most %lld -%c options", o->max, o->short_name);
        else snprintf(buf, n, "at most %lld --%s options", o->max, o->name);
        break;
    default: snprintf(buf, n, o->kind == DK_CLI_STRING ? "a non-empty value" : "a valid value"); break;
    }
}

static int in_bounds(const dk_cli_opt *o, double v)
{
    int lo_ok = o->flags & DK_CLI_OPEN_LO ? v > o->lo : v >= o->lo;
    int hi_ok = o->flags & DK_CLI_OPEN_HI ? v < o->hi : v <= o->hi;
    return lo_ok && hi_ok; /* false for NaN */
}

/* Index of arg in "a|b|c", or -1. */
static int choice_index(const char *choices, const char *arg)
{
    size_t n = strlen(arg);
    for (int i = 0; *choices; i++) {
        size_t len = strcspn(choices, "|");
        if (len == n && !strncmp(choices, arg, n)) return i;
        choices += len + (choices[len] != 0);
    }
    return -1;
}

/* Stores arg in o's destination. Returns DK_EXIT_OK or an exit code after
 * an error. */
static int store(const dk_cli_spec *s, const dk_cli_opt *o, const char *arg)
{
    char *end;
    errno = 0;
    switch (o->kind) {
    case DK_CLI_FLAG: *(int *)o->dest = !(o->flags & DK_CLI_CLEAR); return DK_EXIT_OK;
    case DK_CLI_STRING:
        if ((o->flags & DK_CLI_NONEMPTY) && !arg[0]) break;
        *(const char **)o->dest = arg;
        return DK_EXIT_OK;
    case DK_CLI_LIST:
        if (*o->count >= o->max) break;
        ((const char **)o->dest)[(*o->count)++] = arg;
        return DK_EXIT_OK;
    case DK_CLI_INT: {
        long long v = strtoll(arg, &end, 10);
        if (end == arg || *end || errno || v < o->min || v > o->max) break;
        *(int *)o->dest = (int)v;
        return DK_EXIT_OK;
    }
    case DK_CLI_U64: {
        unsigned long long v = strtoull(arg, &end, 10);
        if (!isdigit((unsigned char)arg[0]) || *end || errno) break; /* strtoull takes "-1" */
        *(uint64_t *)o->dest = v;
        return DK_EXIT_OK;
    }
    case DK_CLI_DOUBLE: {
        double v = strtod(arg, &end);
        if (end == arg || *end || !in_bounds(o, v)) break;
        *(double *)o->dest = v;
        return DK_EXIT_OK;
    }
    case DK_CLI_FLOAT: { /* checked as a float: 1e-50 is 0 there */
        float v = strtof(arg, &end);
        if (end == arg || *end || !in_bounds(o, v)) break;
        *(float *)o->dest = v;
        return DK_EXIT_OK;
    }
    case DK_CLI_CHOICE:
    case DK_CLI_CHOICE_STR: {
        int i = choice_index(o->choices, arg);
        if (i < 0) break;
        if (o->kind == DK_CLI_CHOICE) *(int *)o->dest = i;
        else *(const char **)o->dest = arg;
        return DK_EXIT_OK;
    }
    case DK_CLI_CUSTOM: {
        int rc = o->parse(o, arg);
        if (rc != DK_CLI_BAD) return rc;
        break;
    }
    default: dk_cli_error("%s: --%s: bad option table", s->cmd, o->name); return DK_EXIT_FAILURE;
    }
    char want[256];
    expected(o, want, sizeof want);
    dk_cli_error("%s: --%s '%s': expected %s", s->cmd, o->name, arg, want);
    return DK_EXIT_USAGE;
}

/* Wrong number of positional arguments: n of them, from args. */
static int bad_args(const dk_cli_spec *s, int n, char **args)
{
    const char *extra = n > s->max_args ? args[s->max_args] : "";
    if (s->max_args <= 1 && n < s->min_args)
        dk_cli_error("%s: missing %s argument (see deltakern %s --help)", s->cmd, s->arg_name, s->cmd);
    else if (s->max_args <= 1 && s->extra_hint)
        dk_cli_error("%s: unexpected argument '%s' (%s)", s->cmd, extra, s->extra_hint);
    else if (s->max_args <= 1)
        dk_cli_error("%s: unexpected argument '%s' (see deltakern %s --help)", s->cmd, extra, s->cmd);
    else if (s->min_args == s->max_args)
        dk_cli_error("%s: expected %d %s %s, got %d (see deltakern %s --help)", s->cmd, s->min_args, s->arg_name,
                     s->args, n, s->cmd);
    else
        dk_cli_error("%s: expected %d to %d %s %s, got %d (see deltakern %s --help)", s->cmd, s->min_args,
                     s->max_args, s->arg_name, s->args, n, s->cmd);
    return DK_EXIT_USAGE;
}

int dk_cli_parse(const dk_cli_spec *s, int argc, char **argv)
{
    struct option longopts[MAX_OPTS + 2];
    char shorts[2 * MAX_OPTS + 2] = "h";
    int given[MAX_OPTS] = {0}, n, k = 0;
    size_t ns = 1;
    for (n = 0; s->opts[n].kind != DK_CLI_END; n++) {
        const dk_cli_opt *o = &s->opts[n];
        if (n == MAX_OPTS) {
            dk_cli_error("%s: more than %d entries in the option table", s->cmd, MAX_OPTS);
            return DK_EXIT_FAILURE;
        }
        if (o->kind == DK_CLI_HEADING) continue;
        int has_arg = target(s->opts, n)->kind == DK_CLI_FLAG ? no_argument : required_argument;
        longopts[k++] = (struct option){o->name, has_arg, NULL, 256 + n}; /* 256+: no letter */
        if (o->short_name) {
            shorts[ns++] = o->short_name;
            if (has_arg) shorts[ns++] = ':';
        }
    }
    longopts[k++] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[k] = (struct option){0};
    shorts[ns] = 0;
    opterr = 0; /* our own one-line errors */
    optind = 0; /* 0, not 1: glibc then resets its state from an earlier scan */
    int c;
    while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
        if (c == 'h') {
            dk_cli_help(s, stdout);
            return DK_EXIT_OK;
        }
        int i = c >= 256 ? c - 256 : -1;
        for (int j = 0; i < 0 && c != '?' && j < n; j++)
            if (s->opts[j].short_name == c) i = j;
        if (i < 0) return dk_cli_bad_option(s->cmd, argc, argv);
        const dk_cli_opt *o = target(s->opts, i);
        int rc = store(s, o, optarg);
        if (rc != DK_EXIT_OK) return rc;
        given[o - s->opts] = 1;
    }
    int n_args = argc - optind;
    if (n_args < s->min_args || n_args > s->max_args) return bad_args(s, n_args, argv + optind);
    for (int i = 0; i < n_args; i++) s->argv_out[i] = argv[optind + i];
    for (int i = 0; i < n; i++)
        if (s->opts[i].missing && !given[i]) {
            dk_cli_error("%s: %s", s->cmd, s->opts[i].missing);
            return DK_EXIT_USAGE;
        }
    return -1;
}

/* "-i INPUT", "--force": how the usage line shows an option. */
static void synopsis(FILE *f, const dk_cli_opt *o)
{
    char form[128];
    int n = o->short_name ? snprintf(form, sizeof form, "-%c", o->short_name)
                          : snprintf(form, sizeof form, "--%s", o->name);
    if (o->kind != DK_CLI_FLAG) snprintf(form + n, sizeof form - (size_t)n, " %s", metavar(o));
    const char *more = o->kind == DK_CLI_LIST || (o->flags & DK_CLI_REPEATS) ? "..." : "";
    if (o->flags & DK_CLI_REQUIRED) fprintf(f, " %s", form);
    if ((o->flags & DK_CLI_REQUIRED) && *more) fprintf(f, " [%s]%s", form, more);
    if (!(o->flags & DK_CLI_REQUIRED)) fprintf(f, " [%s]%s", form, more);
}

/* "  -i, --input INPUT" or "      --force": the name column of the help. */
static int name_column(const dk_cli_opt *o, char *buf, size_t n)
{
    char letter[8] = "    ";
    if (o->short_name) snprintf(letter, sizeof letter, "-%c, ", o->short_name);
    return snprintf(buf, n, "  %s--%s%s%s", letter, o->name, o->kind == DK_CLI_FLAG ? "" : " ",
                    o->kind == DK_CLI_FLAG ? "" : metavar(o));
}

/* text, then a newline unless it ends with one. */
static void put_block(FILE *f, const char *text)
{
    size_t n = strlen(text);
    fputs(text, f);
    if (!n || text[n - 1] != '\n') fputc('\n', f);
}

void dk_cli_help(const dk_cli_spec *s, FILE *f)
{
    fprintf(f, "usage: deltakern %s%s%s", s->cmd, s->args ? " " : "", s->args ? s->args : "");
    int others = 0, width = 0;
    char name[160];
    for (const dk_cli_opt *o = s->opts; o->kind != DK_CLI_END; o++) {
        if (!is_option(o)) continue;
        if (o->flags & (DK_CLI_USAGE | DK_CLI_REQUIRED)) synopsis(f, o);
        else others = 1;
        int w = name_column(o, name, sizeof name);
        if (w > width) width = w;
    }
    fputs(others ? " [options]\n" : "\n", f);
    if (s->about) {
        fputc('\n', f);
        put_block(f, s->about);
    }
    int column = width + 2 < HELP_COLUMN ? width + 2 : HELP_COLUMN;
    if (width) fputs("\noptions:\n", f);
    for (const dk_cli_opt *o = s->opts; o->kind != DK_CLI_END; o++) {
        if (o->kind == DK_CLI_HEADING) put_block(f, o->help);
        if (!is_option(o)) continue;
        int w = name_column(o, name, sizeof name);
        fprintf(f, "%s%*s", name, w + 2 > column ? 2 : column - w, "");
        /* the help's lines, the later ones indented to the column */
        for (const char *line = o->help ? o->help : ""; *line;) {
            size_t len = strcspn(line, "\n");
            fprintf(f, "%.*s\n", (int)len, line);
            line += len + (line[len] == '\n');
            if (*line) fprintf(f, "%*s", column, "");
        }
        if (!o->help || !o->help[0]) fputc('\n', f);
    }
    if (s->epilog) {
        fputc('\n', f);
        put_block(f, s->epilog);
    }
}
