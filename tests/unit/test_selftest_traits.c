/* The op suite (drivers/selftest/selftest_ops.c) against backends whose plans
 * declare traits (plan_traits), as cuDNN's do: the reference's kernels with
 * a planted change.
 *  - shaky: the last bit of one output element flipped on every second call.
 *    Undeclared, each case FAILS as nondeterministic; declared
 *    DK_PLAN_MAY_DIFFER (an algorithm cuDNN marks non-deterministic, or one
 *    chosen by timing), the cases pass, judged on their first run, and are
 *    counted as differed.
 *  - off: the largest output element moved by a relative 2^-14 (Add: the
 *    error is 2^10 u S, far over the table's bound, within the transform
 *    bound of 2^12 u S), or by 2^-6 (2^18 u S, over both). Undeclared both
 *    FAIL; declared DK_PLAN_TRANSFORM (a Winograd or FFT convolution) the
 *    small one passes with a note and the large one still FAILS. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "drivers/selftest/selftest.h"
#include "kernels/backend_iface.h"
#include "test_util.h"

static const dk_backend_iface *ref_iface;
static dk_backend_iface planted; /* the reference's entries, execute and plan_traits replaced */
static unsigned declared;        /* what plan_traits answers */
static enum { SHAKY, OFF } kind;
static double offset;            /* OFF: relative change of the largest element */
static long calls;

static dk_status planted_execute(void *ctx, void *plan, const dk_graph *g, const dk_node *n,
                                 const dk_tensor *const *in, dk_tensor *const *out)
{
    dk_status st = ref_iface->execute(ctx, plan, g, n, in, out);
    if (st != DK_OK) return st;
    if (!out[0] || out[0]->dtype != DK_F32 || dk_tensor_numel(out[0]) == 0) return DK_OK;
    float *y = out[0]->data;
    if (kind == SHAKY) {
        if (calls++ % 2 == 1) {
            unsigned char *b = out[0]->data;
            b[0] ^= 1; /* the last bit of the first element's mantissa */
        }
        return DK_OK;
    }
    int64_t big = 0;
    for (int64_t i = 1, count = dk_tensor_numel(out[0]); i < count; i++)
        if (fabsf(y[i]) > fabsf(y[big])) big = i;
    y[big] = (float)((double)y[big] * (1.0 + offset));
    return DK_OK;
}

static unsigned planted_traits(void *ctx, void *plan)
{
    (void)ctx, (void)plan;
    return declared;
}

static void collect(void *user, const char *line)
{
    int *notes = user;
    if (!strncmp(line, "NOTE ", 5)) ++*notes;
    if (!strncmp(line, "NOTE ", 5) || !strncmp(line, "FAILED ", 7)) printf("    %.160s\n", line);
}

/* The suite on op (three cases) with the planted backend: its totals. */
static void run_suite(const char *op, dk__ops_stats *sum, int *notes)
{
    dk__st_target ref, t;
    assert_int_equal(dk__st_target_open(&ref, "ref"), DK_OK);
    assert_int_equal(dk__st_target_open(&t, "ref"), DK_OK);
    assert_true(ref.available && t.available);
    t.b = &planted;
    dk__ops_config cfg;
    dk__ops_config_default(&cfg);
    cfg.seed = tu_rng_next();
    cfg.cases = 3;
    cfg.ops[cfg.n_ops++] = dk__op_gen_find(op);
    assert_non_null(cfg.ops[0]);
    cfg.log = collect;
    cfg.log_user = notes;
    *notes = 0;
    calls = 0;
    dk__ops_result r;
    assert_int_equal(dk__ops_run(&cfg, &ref, &t, 1, &r), DK_OK);
    dk__ops_totals(&r, 0, sum);
    assert_true(sum->cases >= 3);
    assert_int_equal(sum->skipped, 0);
    dk__ops_result_free(&r);
    t.b = ref_iface; /* closed by the backend that opened it */
    dk__st_target_close(&t);
    dk__st_target_close(&ref);
}

static void test_undeclared_difference_fails(void **state)
{
    (void)state;
    kind = SHAKY, declared = 0;
    dk__ops_stats sum;
    int notes;
    run_suite("Relu", &sum, &notes);
    assert_int_equal(sum.failed, sum.cases);
    assert_int_equal(sum.differed, 0);
    assert_int_equal(notes, 0);
}

static void test_declared_difference_is_a_note(void **state)
{
    (void)state;
    kind = SHAKY, declared = DK_PLAN_MAY_DIFFER;
    dk__ops_stats sum;
    int notes;
    run_suite("Relu", &sum, &notes);
    assert_int_equal(sum.failed, 0);
    assert_int_equal(sum.passed + sum.mistrusted, sum.cases);
    assert_int_equal(sum.differed, sum.cases);
    assert_int_equal(notes, sum.cases);
}

static void test_transform_bound(void **state)
{
    (void)state;
    dk__ops_stats sum;
    int notes;
    assert_true(ldexp(1.0, 10) < dk_tolerance_transform_norm_limit(DK_PREC_FP32));
    assert_true(ldexp(1.0, 18) > dk_tolerance_transform_norm_limit(DK_PREC_FP32));
    kind = OFF;
    /* 2^-14: over the table's bound, within the transform bound */
    offset = ldexp(1.0, -14);
    declared = 0;
    run_suite("Add", &sum, &notes);
    assert_int_equal(sum.failed, sum.cases);
    declared = DK_PLAN_TRANSFORM;
    run_suite("Add", &sum, &notes);
    assert_int_equal(sum.failed, 0);
    assert_int_equal(sum.transform, sum.cases);
    assert_int_equal(notes, sum.cases);
    /* 2^-6: over both */
    offset = ldexp(1.0, -6);
    run_suite("Add", &sum, &notes);
    assert_int_equal(sum.failed, sum.cases);
    assert_int_equal(sum.transform, 0);
}

int main(void)
{
    tu_init("test_selftest_traits");
    ref_iface = dk_backend_find("ref");
    if (!ref_iface) return 1;
    planted = *ref_iface;
    planted.execute = planted_execute;
    planted.plan_traits = planted_traits;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_undeclared_difference_fails),
        cmocka_unit_test(test_declared_difference_is_a_note),
        cmocka_unit_test(test_transform_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
