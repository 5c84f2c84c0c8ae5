/* Unit tests for the CLI option layer (tools/cli_options.c): every argument
 * kind stores its value, bad values and wrong counts give the one error line
 * the CLI tests expect (exit 2), and --help is generated from the table. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli.h"
#include "tools/cli_options.h"
#include "tools/cli_shapes.h"
#include "test_util.h"

typedef struct values {
    int flag, on, count, mode;
    const char *name, *bind, *items[2], *args[2];
    int n_items, pair[2];
    uint64_t seed;
    double ratio;
    float scale;
} values;
static values v;

/* "AxB"; "fail" reports its own error with exit code 1. */
static int parse_pair(const dk_cli_opt *opt, const char *arg)
{
    int *p = opt->dest;
    char extra;
    if (!strcmp(arg, "fail")) {
        dk_cli_error("t: the pair failed");
        return DK_EXIT_FAILURE;
    }
    return sscanf(arg, "%dx%d%c", &p[0], &p[1], &extra) == 2 ? DK_EXIT_OK : DK_CLI_BAD;
}

static const dk_cli_opt opts[] = {
    {"flag", 'f', DK_CLI_FLAG, &v.flag, .flags = DK_CLI_USAGE, .help = "a flag"},
    {"no-on", 0, DK_CLI_FLAG, &v.on, .flags = DK_CLI_CLEAR, .help = "clears on"},
    {"name", 'n', DK_CLI_STRING, &v.name, "NAME", .flags = DK_CLI_NONEMPTY | DK_CLI_REQUIRED,
     .missing = "no name given (use -n NAME)", .help = "a name;\nits second line"},
    {"item", 'I', DK_CLI_LIST, v.items, "ITEM", .count = &v.n_items, .max = 2, .help = "an item; repeatable"},
    {.kind = DK_CLI_HEADING, .help = "numbers:"},
    {"count", 'c', DK_CLI_INT, &v.count, "N", .min = 1, .max = 10, .help = "a count"},
    {"seed", 0, DK_CLI_U64, &v.seed, "S", .help = "a seed"},
    {"ratio", 0, DK_CLI_DOUBLE, &v.ratio, "R", .lo = 0, .hi = 1, .flags = DK_CLI_OPEN_LO, .help = "a ratio"},
    {"scale", 0, DK_CLI_FLOAT, &v.scale, "X", .lo = 0, .hi = INFINITY, .flags = DK_CLI_OPEN_LO, .help = "a scale"},
    {"mode", 0, DK_CLI_CHOICE, &v.mode, .choices = "fast|slow|exact", .help = "a mode"},
    {"bind", 0, DK_CLI_CHOICE_STR, &v.bind, .choices = "core|none", .help = "a binding"},
    {"pair", 0, DK_CLI_CUSTOM, v.pair, "AxB", .parse = parse_pair, .expect = "two integers AxB", .help = "a pair"},
    {"twin", .kind = DK_CLI_ALIAS},
    {0}};

static const dk_cli_spec spec = {.cmd = "t", .opts = opts, .args = "IN", .arg_name = "IN", .min_args = 1,
                                 .max_args = 1, .argv_out = v.args, .about = "Tests the layer.",
                                 .epilog = "The end."};

static const dk_cli_opt no_opts[] = {{0}};
static const dk_cli_spec two_args = {.cmd = "t2", .opts = no_opts, .args = "A B", .arg_name = "files",
                                     .min_args = 2, .max_args = 2, .argv_out = v.args};

static char err[4096], out[8192];

/* Reads what fd wrote into tmp, then gives fd back. */
static void restore(int fd, int saved, FILE *tmp, char *buf, size_t n)
{
    fflush(fd == 1 ? stdout : stderr);
    dup2(saved, fd);
    close(saved);
    rewind(tmp);
    buf[fread(buf, 1, n - 1, tmp)] = 0;
    fclose(tmp);
}

/* Parses the space-separated words of line with stdout and stderr captured
 * in out and err; values reset first (on = 1). */
static int parse(const dk_cli_spec *s, const char *line)
{
    static char words[1024];
    char *argv[64];
    int argc = 0;
    snprintf(words, sizeof words, "%s", line);
    for (char *w = strtok(words, " "); w && argc < 63; w = strtok(NULL, " ")) argv[argc++] = w;
    argv[argc] = NULL;
    memset(&v, 0, sizeof v);
    v.on = 1;
    fflush(stdout);
    fflush(stderr);
    FILE *o = tmpfile(), *e = tmpfile();
    assert_non_null(o);
    assert_non_null(e);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fileno(o), 1);
    dup2(fileno(e), 2);
    int rc = dk_cli_parse(s, argc, argv);
    restore(1, saved_out, o, out, sizeof out);
    restore(2, saved_err, e, err, sizeof err);
    return rc;
}

/* line fails with exit code 2 and exactly the error line want. */
static void expect_error(const dk_cli_spec *s, const char *line, const char *want)
{
    char full[512];
    snprintf(full, sizeof full, "deltakern: error: %s\n", want);
    int rc = parse(s, line);
    if (rc != DK_EXIT_USAGE || strcmp(err, full))
        fail_msg("'%s': exit %d, stderr '%s', wanted '%s'", line, rc, err, full);
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p++) n++;
    return n;
}

static void test_every_kind_stores_its_value(void **state)
{
    (void)state;
    assert_int_equal(parse(&spec, "t -f --no-on -n abc -I x -I y -c 10 --seed 18446744073709551615 --ratio 1 "
                                  "--scale 0.5 --mode exact --bind none --pair 3x4 in"),
                     -1);
    assert_string_equal(err, "");
    assert_int_equal(v.flag, 1);
    assert_int_equal(v.on, 0);
    assert_string_equal(v.name, "abc");
    assert_int_equal(v.n_items, 2);
    assert_string_equal(v.items[0], "x");
    assert_string_equal(v.items[1], "y");
    assert_int_equal(v.count, 10);
    assert_true(v.seed == UINT64_MAX);
    assert_true(v.ratio == 1.0);
    assert_true(v.scale == 0.5f);
    assert_int_equal(v.mode, 2);
    assert_string_equal(v.bind, "none");
    assert_int_equal(v.pair[0], 3);
    assert_int_equal(v.pair[1], 4);
    assert_string_equal(v.args[0], "in");
}

/* What getopt_long gives for free stays: clustered short flags, values
 * glued to letters, --x=v, unique prefixes, options after the arguments;
 * an alias stores where its option does. */
static void test_getopt_forms_and_aliases(void **state)
{
    (void)state;
    assert_int_equal(parse(&spec, "t in -fnabc -c3 --cou=4 --twin 5x6"), -1);
    assert_int_equal(v.flag, 1);
    assert_string_equal(v.name, "abc");
    assert_int_equal(v.count, 4);
    assert_int_equal(v.pair[0], 5);
    assert_int_equal(v.pair[1], 6);
    assert_string_equal(v.args[0], "in");
    assert_int_equal(v.on, 1); /* not given: left as it was */
}

static void test_bad_values_name_option_value_and_expectation(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"t in -n a -c 0", "t: --count '0': expected an integer from 1 to 10"},
        {"t in -n a --count 11", "t: --count '11': expected an integer from 1 to 10"},
        {"t in -n a -c x", "t: --count 'x': expected an integer from 1 to 10"},
        {"t in -n a -c 3x", "t: --count '3x': expected an integer from 1 to 10"},
        {"t in -n a -c 99999999999999999999", "t: --count '99999999999999999999': expected an integer from 1 to 10"},
        {"t in -n a --seed -1", "t: --seed '-1': expected a non-negative integer"},
        {"t in -n a --seed 18446744073709551616", "t: --seed '18446744073709551616': expected a non-negative integer"},
        {"t in -n a --ratio 0", "t: --ratio '0': expected a number in (0, 1]"},
        {"t in -n a --ratio 1.5", "t: --ratio '1.5': expected a number in (0, 1]"},
        {"t in -n a --ratio nan", "t: --ratio 'nan': expected a number in (0, 1]"},
        {"t in -n a --scale 0", "t: --scale '0': expected a number > 0"},
        {"t in -n a --scale 1e-50", "t: --scale '1e-50': expected a number > 0"}, /* 0 as a float */
        {"t in -n a --mode quick", "t: --mode 'quick': expected fast, slow or exact"},
        {"t in -n a --mode fas", "t: --mode 'fas': expected fast, slow or exact"},
        {"t in -n a --bind socket", "t: --bind 'socket': expected core or none"},
        {"t in --name=", "t: --name '': expected a non-empty value"},
        {"t in -n a --pair 3", "t: --pair '3': expected two integers AxB"},
        {"t in -n a --twin 3", "t: --pair '3': expected two integers AxB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) expect_error(&spec, cases[i][0], cases[i][1]);
}

static void test_custom_parser_reports_its_own_error(void **state)
{
    (void)state;
    assert_int_equal(parse(&spec, "t in -n a --pair fail"), DK_EXIT_FAILURE);
    assert_string_equal(err, "deltakern: error: t: the pair failed\n");
}

static void test_list_keeps_its_limit(void **state)
{
    (void)state;
    expect_error(&spec, "t in -n a -I a -I b -I c", "t: --item 'c': expected at most 2 -I options");
    assert_int_equal(v.n_items, 2);
}

static void test_unknown_option_and_missing_value(void **state)
{
    (void)state;
    expect_error(&spec, "t in -n a --nope", "t: option '--nope' is unknown or needs a value (see deltakern t --help)");
    expect_error(&spec, "t in -n a -z", "t: option '-z' is unknown or needs a value (see deltakern t --help)");
    expect_error(&spec, "t in -n a --count", "t: option '--count' is unknown or needs a value (see deltakern t --help)");
    expect_error(&spec, "t in -n a -c", "t: option '-c' is unknown or needs a value (see deltakern t --help)");
    expect_error(&spec, "t in -n a --flag=1", "t: option '--flag=1' is unknown or needs a value (see deltakern t --help)");
    expect_error(&two_args, "t2 a b --x", "t2: option '--x' is unknown or needs a value (see deltakern t2 --help)");
}

static void test_positional_counts(void **state)
{
    (void)state;
    expect_error(&spec, "t -n a", "t: missing IN argument (see deltakern t --help)");
    expect_error(&spec, "t -n a x y z", "t: unexpected argument 'y' (see deltakern t --help)");
    dk_cli_spec hinted = spec;
    hinted.extra_hint = "inputs go after -i";
    expect_error(&hinted, "t x -n a y", "t: unexpected argument 'y' (inputs go after -i)");
    expect_error(&two_args, "t2 a", "t2: expected 2 files A B, got 1 (see deltakern t2 --help)");
    expect_error(&two_args, "t2 a b c", "t2: expected 2 files A B, got 3 (see deltakern t2 --help)");
    assert_int_equal(parse(&two_args, "t2 a b"), -1);
    assert_string_equal(v.args[0], "a");
    assert_string_equal(v.args[1], "b");
}

static void test_required_option(void **state)
{
    (void)state;
    expect_error(&spec, "t in", "t: no name given (use -n NAME)");
    expect_error(&spec, "t -f", "t: missing IN argument (see deltakern t --help)"); /* arguments first */
}

/* The column where an option line's help starts. */
static int help_column(const char *help, const char *first_words)
{
    const char *p = strstr(help, first_words);
    assert_non_null(p);
    const char *line = p;
    while (line > help && line[-1] != '\n') line--;
    return (int)(p - line);
}

/* --input-shape (tools/cli_shapes.c): repeatable, each shape parsed, a
 * malformed one or a name given twice is one error line. */
static dk_cli_shapes shapes;
static const dk_cli_opt shape_opts[] = {DK_CLI_INPUT_SHAPE(&shapes), {0}};
static const dk_cli_spec shape_spec = {.cmd = "s", .opts = shape_opts, .args = "IN", .arg_name = "IN",
                                       .min_args = 1, .max_args = 1, .argv_out = v.args};

static void test_input_shape_option(void **state)
{
    (void)state;
    memset(&shapes, 0, sizeof shapes);
    shapes.cmd = "s";
    assert_int_equal(parse(&shape_spec, "s --input-shape x=1x3x48x320 --input-shape=y=2 m.onnx"), -1);
    assert_int_equal(shapes.n, 2);
    assert_string_equal(shapes.v[0].name, "x");
    assert_int_equal(shapes.v[0].ndim, 4);
    assert_true(shapes.v[0].dims[2] == 48 && shapes.v[0].dims[3] == 320);
    assert_string_equal(shapes.v[1].name, "y");
    assert_true(shapes.v[1].ndim == 1 && shapes.v[1].dims[0] == 2);
    const dk_onnx_options *o = dk_cli_load_options(&shapes, NULL);
    assert_true(o->shapes == shapes.v && o->n_shapes == 2 && o->fill == NULL && o->note != NULL);

    memset(&shapes, 0, sizeof shapes);
    shapes.cmd = "s";
    expect_error(&shape_spec, "s --input-shape x=1x3x m.onnx",
                 "s: --input-shape: input shape 'x=1x3x': axis 2 is not a positive integer "
                 "(expected NAME=DxDx...xD, e.g. x=1x3x224x224)");
    memset(&shapes, 0, sizeof shapes);
    shapes.cmd = "s";
    expect_error(&shape_spec, "s --input-shape x=1 --input-shape x=2 m.onnx", "s: --input-shape gives 'x' twice");
    memset(&shapes, 0, sizeof shapes);
    assert_int_equal(parse(&shape_spec, "s --help"), DK_EXIT_OK);
    assert_non_null(strstr(out, "      --input-shape NAME=DxD...  graph input NAME's shape, e.g. x=1x3x48x320; repeatable\n"));
}

static void test_help_is_generated_from_the_table(void **state)
{
    (void)state;
    char *help = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&help, &size);
    assert_non_null(f);
    dk_cli_help(&spec, f);
    fclose(f);
    printf("%s", help);
    assert_true(!strncmp(help, "usage: deltakern t IN [-f] -n NAME [options]\n\nTests the layer.\n\noptions:\n",
                         strlen("usage: deltakern t IN [-f] -n NAME [options]\n\nTests the layer.\n\noptions:\n")));
    /* every option once, with its metavar (a choice's default metavar: the choices) */
    static const char *names[] = {"--flag  ", "--no-on  ", "--name NAME ", "--item ITEM ", "--count N ",
                                  "--seed S ", "--ratio R ", "--scale X ", "--mode fast|slow|exact ",
                                  "--bind core|none ", "--pair AxB "};
    int options = 0;
    for (const dk_cli_opt *o = opts; o->kind != DK_CLI_END; o++) options += o->kind != DK_CLI_HEADING && o->kind != DK_CLI_ALIAS;
    assert_int_equal(options, (int)(sizeof names / sizeof names[0]));
    for (int i = 0; i < options; i++)
        if (count(help, names[i]) != 1) fail_msg("'%s' appears %d times in:\n%s", names[i], count(help, names[i]), help);
    assert_int_equal(count(help, "  -f, --flag"), 1);
    assert_int_equal(count(help, "  -I, --item ITEM"), 1);
    assert_int_equal(count(help, "\n      --seed S"), 1); /* no letter: the letter column stays */
    assert_int_equal(count(help, "twin"), 0);              /* aliases are named by their option's help */
    assert_int_equal(count(help, "\nnumbers:\n"), 1);
    /* aligned: the longest name is past the cap, so column 25, continuations too */
    assert_int_equal(help_column(help, "a flag"), 25);
    assert_int_equal(help_column(help, "a name;"), 25);
    assert_int_equal(help_column(help, "its second line"), 25);
    assert_int_equal(help_column(help, "a mode"), (int)strlen("      --mode fast|slow|exact  "));
    assert_true(strlen(help) > 10 && !strcmp(help + strlen(help) - 10, "\nThe end.\n"));

    /* --help and -h print the same text to stdout and succeed */
    assert_int_equal(parse(&spec, "t --help"), DK_EXIT_OK);
    assert_string_equal(out, help);
    assert_string_equal(err, "");
    assert_int_equal(parse(&spec, "t -h"), DK_EXIT_OK);
    assert_string_equal(out, help);
    free(help);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_stores_its_value),
        cmocka_unit_test(test_getopt_forms_and_aliases),
        cmocka_unit_test(test_bad_values_name_option_value_and_expectation),
        cmocka_unit_test(test_custom_parser_reports_its_own_error),
        cmocka_unit_test(test_list_keeps_its_limit),
        cmocka_unit_test(test_unknown_option_and_missing_value),
        cmocka_unit_test(test_positional_counts),
        cmocka_unit_test(test_required_option),
        cmocka_unit_test(test_help_is_generated_from_the_table),
        cmocka_unit_test(test_input_shape_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
