/* Variant strings: parsing, defaults, canonical form and every error path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "deltakern/variant.h"

static void test_defaults_and_canonical(void **state)
{
    (void)state;
    dk_variant v;
    char buf[256];
    assert_int_equal(dk_variant_parse("ref", &v), DK_OK);
    assert_string_equal(dk_backend_name(v.backend), "ref");
    assert_string_equal(dk_variant_get(&v, "threads"), "0"); /* default filled in */
    assert_string_equal(dk_variant_canonical(&v, 0, buf, sizeof buf), "ref");
    assert_string_equal(dk_variant_canonical(&v, 1, buf, sizeof buf), "ref:threads=0,opt=0,disable=");
    assert_null(dk_variant_get(&v, "nosuch"));
}

static void test_given_options(void **state)
{
    (void)state;
    dk_variant v;
    char buf[256];
    assert_int_equal(dk_variant_parse("ref:threads=2", &v), DK_OK);
    assert_int_equal(dk_variant_get_int(&v, "threads", -1), 2);
    assert_string_equal(dk_variant_canonical(&v, 0, buf, sizeof buf), "ref:threads=2");
}

static void expect_error(const char *text, const char *needle)
{
    dk_variant v;
    assert_int_equal(dk_variant_parse(text, &v), DK_ERR_INVALID);
    printf("    %s -> %s\n", text, dk_last_error());
    assert_non_null(strstr(dk_last_error(), needle));
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("nosuch", "unknown backend 'nosuch' (available: ref");
    expect_error("nosuch:threads=1", "unknown backend");
    expect_error("ref:frob=1", "no option 'frob' (options: threads");
    expect_error("ref:threads=abc", "threads=abc is not valid (allowed: 0..1024)");
    expect_error("ref:threads=5000", "threads=5000 is not valid");
    expect_error("ref:threads=-1", "is not valid");
    expect_error("ref:threads", "'threads' is not key=value");
    expect_error("ref:=3", "is not key=value");
    expect_error("ref:threads=1,threads=2", "given twice");
    expect_error("ref:opt=4", "opt=4 is not valid (allowed: 0..3)");
    expect_error("ref:disable=fold_batchnorm+nosuch", "disable=nosuch names no graph pass (passes: fold_batchnorm");
}

static void test_expand(void **state)
{
    (void)state;
    dk_variant v[8];
    char buf[256];
    int n;
    assert_int_equal(dk_variant_expand("ref:threads=1/2,opt=0/1", v, 8, &n), DK_OK);
    assert_int_equal(n, 4);
    const char *want[4] = {"ref:threads=1,opt=0", "ref:threads=1,opt=1", "ref:threads=2,opt=0",
                           "ref:threads=2,opt=1"};
    for (int i = 0; i < 4; i++) assert_string_equal(dk_variant_canonical(&v[i], 0, buf, sizeof buf), want[i]);
    assert_int_equal(dk_variant_expand("ref", v, 8, &n), DK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(dk_variant_expand("ref:threads=1/2/3", v, 2, &n), DK_ERR_INVALID);
    assert_int_equal(dk_variant_expand("ref:threads=1/x", v, 8, &n), DK_ERR_INVALID);
    assert_non_null(strstr(dk_last_error(), "threads=x"));
}

static void test_matrix_file(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/dk_test_matrix_%d.txt", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs("# CPU matrix\nref\n\n  ref:threads=1/2   # two\n", f);
    fclose(f);
    dk_variant v[8];
    int n;
    assert_int_equal(dk_variant_read_matrix(path, v, 8, &n), DK_OK);
    assert_int_equal(n, 3);
    f = fopen(path, "w");
    fputs("ref\nref:frob=1\n", f);
    fclose(f);
    assert_int_equal(dk_variant_read_matrix(path, v, 8, &n), DK_ERR_INVALID);
    printf("    %s\n", dk_last_error());
    assert_non_null(strstr(dk_last_error(), ":2: "));
    unlink(path);
    assert_int_equal(dk_variant_read_matrix(path, v, 8, &n), DK_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_canonical),
        cmocka_unit_test(test_given_options),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_matrix_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
