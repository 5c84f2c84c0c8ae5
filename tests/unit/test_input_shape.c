/* Unit tests for dk_input_shape_parse (layers/input_shape.c), the text of
 * --input-shape: valid shapes, names holding '=' or 'x', and every malformed
 * form refused with DK_ERR_INVALID and a message quoting the text. */
#include <stdint.h>
#include <string.h>

#include "deltakern/onnx.h"
#include "test_util.h"

static void test_valid(void **state)
{
    (void)state;
    dk_input_shape s;
    assert_int_equal(dk_input_shape_parse("x=1x3x48x320", &s), DK_OK);
    assert_string_equal(s.name, "x");
    assert_int_equal(s.ndim, 4);
    assert_true(s.dims[0] == 1 && s.dims[1] == 3 && s.dims[2] == 48 && s.dims[3] == 320);

    assert_int_equal(dk_input_shape_parse("input=7", &s), DK_OK);
    assert_string_equal(s.name, "input");
    assert_int_equal(s.ndim, 1);
    assert_true(s.dims[0] == 7);

    /* the name runs to the last '=' and may hold an 'x' */
    assert_int_equal(dk_input_shape_parse("a=b:x=2x5", &s), DK_OK);
    assert_string_equal(s.name, "a=b:x");
    assert_int_equal(s.ndim, 2);
    assert_true(s.dims[0] == 2 && s.dims[1] == 5);

    /* 2^40 itself is the largest dimension */
    assert_int_equal(dk_input_shape_parse("x=1099511627776", &s), DK_OK);
    assert_true(s.dims[0] == ((int64_t)1 << 40));

    /* eight dimensions, the most a tensor has */
    assert_int_equal(dk_input_shape_parse("t=1x2x3x4x5x6x7x8", &s), DK_OK);
    assert_int_equal(s.ndim, 8);
    assert_true(s.dims[7] == 8);
}

static void expect_bad(const char *text, const char *want)
{
    dk_input_shape s;
    assert_int_equal(dk_input_shape_parse(text, &s), DK_ERR_INVALID);
    if (!strstr(dk_last_error(), want)) fail_msg("'%s': error '%s' lacks '%s'", text, dk_last_error(), want);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_bad("x=1x3x", "axis 2 is not a positive integer");
    expect_bad("x=1x-3x4x4", "axis 1 is not a positive integer");
    expect_bad("x=", "no dimensions");
    expect_bad("=1x3", "no input name");
    expect_bad("1x3x4", "no input name");
    expect_bad("", "no input name");
    expect_bad("x=0x3", "axis 0 is out of range");
    expect_bad("x=1x1099511627777", "axis 1 is out of range");
    expect_bad("x=99999999999999999999999999999", "axis 0 is out of range");
    expect_bad("x=1x3 ", "unexpected character 0x20 after axis 1");
    expect_bad("x=1,3", "unexpected character 0x2c after axis 0");
    expect_bad("x=+1", "axis 0 is not a positive integer");
    expect_bad("x=1x2x3x4x5x6x7x8x9", "more than 8 dimensions");
    expect_bad("x=1xx2", "axis 1 is not a positive integer");
}

static void test_long_name(void **state)
{
    (void)state;
    char text[400];
    memset(text, 'n', 300);
    strcpy(text + 300, "=1x2");
    expect_bad(text, "input name longer than 255 bytes");
    memset(text, 'n', 255);
    strcpy(text + 255, "=1x2");
    dk_input_shape s;
    assert_int_equal(dk_input_shape_parse(text, &s), DK_OK);
    assert_int_equal((int)strlen(s.name), 255);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_long_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
