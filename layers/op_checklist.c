/* The deliberate exemptions from the per-op tables (layers/op_table.h), in
 * one place. tests/unit/test_op_checklist.c holds every op to every table and
 * every exemption to being needed: an op that gains the row loses its
 * exemption here. */
#include "layers/op_table.h"

static const struct {
    dk_op op;
    dk_op_table_kind table;
    const char *why;
} exemptions[] = {
    {DK_OP_CONSTANT, DK_OPTAB_TOLERANCE, "no arithmetic: evaluated once at load (constant folding)"},
    {DK_OP_SHAPE, DK_OPTAB_TOLERANCE, "integer output, folded at load: nothing to round"},
    {DK_OP_CONSTANT, DK_OPTAB_OP_SUITE, "folded at load: never reaches a backend"},
    {DK_OP_SHAPE, DK_OPTAB_OP_SUITE, "folded at load: never reaches a backend"},
    {DK_OP_IDENTITY, DK_OPTAB_OP_SUITE, "removed at load: never reaches a backend"},
    {DK_OP_DROPOUT, DK_OPTAB_OP_SUITE, "removed at load (inference): never reaches a backend"},
    /* layers/op_fold.c: refused unless every input is a constant (the
     * output's shape is an input's value) */
    {DK_OP_CONSTANTOFSHAPE, DK_OPTAB_TOLERANCE, "evaluated at load only: nothing to compare"},
    {DK_OP_RANGE, DK_OPTAB_TOLERANCE, "evaluated at load only: nothing to compare"},
    {DK_OP_CONSTANTOFSHAPE, DK_OPTAB_OP_SUITE, "evaluated at load only: never reaches a backend"},
    {DK_OP_RANGE, DK_OPTAB_OP_SUITE, "evaluated at load only: never reaches a backend"},
};

const char *dk__op_exemption(dk_op op, dk_op_table_kind t)
{
    for (size_t i = 0; i < sizeof exemptions / sizeof exemptions[0]; i++)
        if (exemptions[i].op == op && exemptions[i].table == t) return exemptions[i].why;
    return NULL;
}

const char *dk__op_table_kind_name(dk_op_table_kind t)
{
    switch (t) {
    case DK_OPTAB_REF_KERNEL: return "reference kernel (kernels/ref/ref_backend.c)";
    case DK_OPTAB_TOLERANCE: return "tolerance row (check/tolerance.c)";
    case DK_OPTAB_OP_SUITE: return "op-suite generator (drivers/selftest/selftest_cases.c)";
    case DK_OPTAB_COUNT: break;
    }
    return "?";
}
