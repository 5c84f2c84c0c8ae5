/* Unit tests for the environment fingerprint (runtime/fingerprint.c): every
 * field a result needs is there, every backend compiled in is listed with
 * its version, and the variant carries all its options. */
#include <stdio.h>
#include <string.h>

#include "deltakern/backend.h"
#include "deltakern/variant.h"
#include "deltakern/fingerprint.h"
#include "test_util.h"

static const char *str(const cJSON *j, const char *key)
{
    const cJSON *e = cJSON_GetObjectItem(j, key);
    if (!cJSON_IsString(e)) fail_msg("%s: missing or not a string", key);
    return e->valuestring;
}

static void test_fingerprint_has_its_fields(void **state)
{
    (void)state;
    dk_variant v;
    tu_assert_status(dk_variant_parse("ref:threads=1", &v), DK_OK, NULL);
    cJSON *e = dk_environment_json(&v);
    assert_non_null(e);
    char *text = cJSON_Print(e);
    printf("%s\n", text);
    cJSON_free(text);
    assert_true(strlen(str(e, "deltakern")) > 0);
    assert_true(strlen(str(e, "compiler")) > 0);
    assert_true(strlen(str(e, "kernel")) > 0);
    assert_true(strlen(str(e, "cpu_model")) > 0);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(e, "isa")));
    const cJSON *libs = cJSON_GetObjectItem(e, "libraries");
    assert_true(strlen(str(libs, "cjson")) > 0);
    assert_true(strlen(str(libs, "counters")) > 0);
    assert_true(strlen(str(libs, "topology")) > 0);
    /* the variant with every option, defaults included */
    assert_non_null(strstr(str(e, "variant"), "threads=1"));
    assert_string_equal(str(cJSON_GetObjectItem(e, "options"), "threads"), "1");
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "options"), "opt"));
    /* every backend compiled in, with its version */
    const cJSON *backends = cJSON_GetObjectItem(e, "backends");
    assert_int_equal(cJSON_GetArraySize(backends), dk_backend_count());
    const cJSON *b;
    cJSON_ArrayForEach(b, backends) {
        assert_true(strlen(str(b, "name")) > 0);
        assert_true(strlen(str(b, "version")) > 0);
        if (strcmp(str(b, "name"), "openblas") == 0 && cJSON_IsTrue(cJSON_GetObjectItem(b, "available")))
            assert_non_null(strstr(str(b, "version"), "OpenBLAS")); /* openblas_get_config() */
    }
    cJSON_Delete(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_has_its_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
