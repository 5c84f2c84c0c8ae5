/* The checklist of an op (docs/adding-an-op.md), held for every op: a row in
 * the op table, a reference kernel, a tolerance row, op-suite cases and a
 * mention in the README's list of supported operators, unless exempt
 * (layers/op_checklist.c); and every exemption is needed (the op really has
 * no such row). The build's _Static_assert beside each table
 * (DK_OP_TABLE_VISITED) makes sure each table is visited when an op is added;
 * this test makes sure the visit left a row. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deltakern/tolerance.h"
#include "drivers/selftest/selftest_cases.h"
#include "kernels/ref/ref_kernels.h"
#include "layers/op_table.h"

static int has_row(dk_op op, dk_op_table_kind t)
{
    dk_tolerance tol;
    switch (t) {
    case DK_OPTAB_REF_KERNEL: return dk_ref_kernel_for(op) != NULL;
    case DK_OPTAB_TOLERANCE: return dk_tolerance_typical(op, DK_PREC_FP32, 1, &tol) == DK_OK;
    case DK_OPTAB_OP_SUITE: return dk__op_gen_find(dk_op_name(op)) != NULL;
    case DK_OPTAB_COUNT: break;
    }
    return 0;
}

static void test_op_table(void **state)
{
    (void)state;
    for (int op = DK_OP_NONE + 1; op < DK_OP_COUNT; op++) {
        const dk_op_info *info = dk__op_info((dk_op)op);
        if (!info) fail_msg("op %d has no row in the op table (layers/op_table.c)", op);
        assert_int_equal(info->op, op);
        assert_non_null(info->name);
        if (!info->infer) fail_msg("%s has no shape inference", info->name);
        if (dk_op_from_name(info->name) != (dk_op)op) fail_msg("%s: two ops share the name", info->name);
        assert_true(info->min_inputs <= info->max_inputs && info->min_outputs <= info->max_outputs);
    }
}

static void test_tables(void **state)
{
    (void)state;
    int rows = 0, exempt = 0;
    for (int op = DK_OP_NONE + 1; op < DK_OP_COUNT; op++)
        for (int t = 0; t < DK_OPTAB_COUNT; t++) {
            const char *why = dk__op_exemption((dk_op)op, (dk_op_table_kind)t);
            int has = has_row((dk_op)op, (dk_op_table_kind)t);
            if (!has && !why)
                fail_msg("%s has no %s (add one, or an exemption with its reason in layers/op_checklist.c)",
                         dk_op_name((dk_op)op), dk__op_table_kind_name((dk_op_table_kind)t));
            if (has && why)
                fail_msg("%s has a %s but is listed as exempt (\"%s\"): remove the exemption",
                         dk_op_name((dk_op)op), dk__op_table_kind_name((dk_op_table_kind)t), why);
            if (why) {
                printf("  exempt: %-12s %-55s %s\n", dk_op_name((dk_op)op),
                       dk__op_table_kind_name((dk_op_table_kind)t), why);
                exempt++;
            } else {
                rows++;
            }
        }
    printf("  %d ops x %d tables: %d rows, %d exemptions\n", DK_OP_COUNT - 1, DK_OPTAB_COUNT, rows, exempt);
}

/* The README's "What is supported" section names every op. */
static void test_readme(void **state)
{
    (void)state;
    FILE *f = fopen(DK_SOURCE_DIR "/README.md", "r");
    assert_non_null(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *start = strstr(text, "## What is supported");
    assert_non_null(start);
    char *end = strstr(start + 1, "\n## ");
    if (end) *end = '\0';
    for (int op = DK_OP_NONE + 1; op < DK_OP_COUNT; op++) {
        const char *name = dk_op_name((dk_op)op);
        size_t len = strlen(name);
        int found = 0;
        for (const char *p = strstr(start, name); p && !found; p = strstr(p + 1, name))
            found = !isalnum((unsigned char)p[-1]) && !isalnum((unsigned char)p[len]);
        if (!found) fail_msg("README.md's \"What is supported\" does not name %s", name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_table),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_readme),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
