/* Unit tests for Gemm and MatMul: shape inference (layers/op_dense.c) and
 * reference kernels (kernels/ref/ref_dense.c) against naive triple loops.
 *
 * Tolerance: kernel and naive loop both accumulate in double and round the
 * result to float32 once, so they differ by at most one float rounding
 * (relative 6e-8); 1e-6 relative (plus 1e-9 absolute for near-zero sums,
 * which cancellation makes less accurate) leaves room for a different
 * summation order. */
#include <math.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"
#include "test_util.h"

/* ---- Gemm ----------------------------------------------------------------- */

/* Y = alpha * op(A) op(B) + beta * C straight from the spec, in double. */
static void check_gemm_result(const dk_tensor *a, const dk_tensor *b, const dk_tensor *c,
                              int ta, int tb, double alpha, double beta, const dk_tensor *y)
{
    const int64_t m_len = y->dims[0], n_len = y->dims[1], k_len = a->dims[ta ? 0 : 1];
    for (int64_t i = 0; i < m_len; i++)
        for (int64_t j = 0; j < n_len; j++) {
            double s = 0;
            for (int64_t k = 0; k < k_len; k++) {
                double av = dk_tensor_get(a, ta ? k * m_len + i : i * k_len + k);
                double bv = dk_tensor_get(b, tb ? j * k_len + k : k * n_len + j);
                s += av * bv;
            }
            double want = alpha * s;
            if (c) {
                /* unidirectional broadcast of C onto MxN */
                int64_t ci = 0;
                if (c->ndim == 2) ci = (c->dims[0] == 1 ? 0 : i) * c->dims[1] + (c->dims[1] == 1 ? 0 : j);
                if (c->ndim == 1) ci = c->dims[0] == 1 ? 0 : j;
                want += beta * dk_tensor_get(c, ci);
            }
            double got = dk_tensor_get(y, i * n_len + j);
            /* double accumulation in both: only the last float rounding may differ */
            if (!(fabs(got - want) <= 1e-6 * (fabs(want) + 1e-3)))
                fail_msg("Gemm y[%lld][%lld] = %.9g, want %.9g", (long long)i, (long long)j,
                         got, want);
        }
}

typedef struct gemm_case {
    int64_t m, n, k;
    int ta, tb;
    float alpha, beta;   /* NaN: attribute absent (default 1) */
    int c_ndim;          /* -1: no C */
    int64_t c_dims[2];
    int64_t opset;
} gemm_case;

static void run_gemm_case(const gemm_case *gc)
{
    dk_graph *g = tu_new_graph(gc->opset);
    int64_t ad[2] = {gc->ta ? gc->k : gc->m, gc->ta ? gc->m : gc->k};
    int64_t bd[2] = {gc->tb ? gc->n : gc->k, gc->tb ? gc->k : gc->n};
    int ins[3] = {tu_add_input(g, "a", DK_F32, 2, ad, -1, 1),
                  tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 2, bd, -1, 1), -1};
    if (gc->c_ndim >= 0)
        ins[2] = tu_add_value(g, "c", DK_VALUE_CONSTANT, DK_F32, gc->c_ndim, gc->c_dims, -1, 1);
    int k = tu_add_node(g, DK_OP_GEMM, ins, gc->c_ndim >= 0 ? 3 : 2, 1);
    if (gc->ta) tu_attr_int(g, k, "transA", 1);
    if (gc->tb) tu_attr_int(g, k, "transB", 1);
    if (!isnan(gc->alpha)) tu_attr_float(g, k, "alpha", gc->alpha);
    if (!isnan(gc->beta)) tu_attr_float(g, k, "beta", gc->beta);
    if (gc->opset < 7 && gc->c_ndim >= 0) tu_attr_int(g, k, "broadcast", 1);
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
    const int64_t yd[2] = {gc->m, gc->n};
    tu_assert_shape(tu_output(g, k, 0), 2, yd);
    assert_true(g->nodes[k].flops == 2.0 * (double)(gc->m * gc->n * gc->k));
    assert_int_equal(g->nodes[k].p.gemm.has_c, gc->c_ndim >= 0);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_gemm, &y, 1), DK_OK);
    check_gemm_result(&g->values[ins[0]].t, &g->values[ins[1]].t,
                      ins[2] >= 0 ? &g->values[ins[2]].t : NULL, gc->ta, gc->tb,
                      isnan(gc->alpha) ? 1.0 : gc->alpha, isnan(gc->beta) ? 1.0 : gc->beta, &y);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_gemm(void **state)
{
    (void)state;
    const gemm_case cases[] = {
        {3, 4, 5, 0, 0, NAN, NAN, -1, {0, 0}, 13},
        {3, 4, 5, 1, 0, 0.5f, NAN, 2, {3, 4}, 13},
        {3, 4, 5, 0, 1, NAN, 0.25f, 1, {4, 0}, 13},
        {3, 4, 5, 1, 1, 0.25f, 0.35f, 2, {1, 4}, 13},
        {3, 4, 5, 0, 0, NAN, NAN, 2, {3, 1}, 13},
        {3, 4, 5, 0, 0, NAN, 2.0f, 0, {0, 0}, 13},
        {2, 3, 7, 0, 0, NAN, NAN, 1, {1, 0}, 13},
        {37, 29, 53, 0, 1, 1.5f, -0.5f, 1, {29, 0}, 11},  /* several threads */
        {4, 8, 10, 0, 1, 1.0f, 1.0f, 1, {8, 0}, 6},       /* opset 6 Linear, broadcast=1 */
        {1, 1000, 2048, 0, 1, NAN, NAN, 1, {1000, 0}, 13}, /* classifier fc */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_gemm_case(&cases[i]);
}

static void test_gemm_errors(void **state)
{
    (void)state;
    const int64_t a[2] = {3, 5}, b[2] = {4, 6}, b3[3] = {1, 5, 6}, c_bad[2] = {2, 6};
    const int64_t b_ok[2] = {5, 6}, c_full[1] = {6};
    /* K mismatch */
    dk_graph *g = tu_new_graph(13);
    int ins[3] = {tu_add_input(g, "a", DK_F32, 2, a, 1, 0),
                  tu_add_input(g, "b", DK_F32, 2, b, 1, 0), -1};
    tu_add_node(g, DK_OP_GEMM, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "K=5");
    dk_graph_destroy(g);
    /* B not a matrix */
    g = tu_new_graph(13);
    ins[0] = tu_add_input(g, "a", DK_F32, 2, a, 1, 0);
    ins[1] = tu_add_input(g, "b", DK_F32, 3, b3, 1, 0);
    tu_add_node(g, DK_OP_GEMM, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "1x5x6");
    dk_graph_destroy(g);
    /* C that does not broadcast to 3x6 */
    g = tu_new_graph(13);
    ins[0] = tu_add_input(g, "a", DK_F32, 2, a, 1, 0);
    ins[1] = tu_add_input(g, "b", DK_F32, 2, b_ok, 1, 0);
    ins[2] = tu_add_input(g, "c", DK_F32, 2, c_bad, 1, 0);
    tu_add_node(g, DK_OP_GEMM, ins, 3, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "2x6");
    dk_graph_destroy(g);
    /* opset 6 without broadcast=1: C must be exactly MxN */
    g = tu_new_graph(6);
    ins[0] = tu_add_input(g, "a", DK_F32, 2, a, 1, 0);
    ins[1] = tu_add_input(g, "b", DK_F32, 2, b_ok, 1, 0);
    ins[2] = tu_add_input(g, "c", DK_F32, 1, c_full, 1, 0);
    tu_add_node(g, DK_OP_GEMM, ins, 3, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "broadcast=0");
    dk_graph_destroy(g);
    /* float64 is not supported */
    g = tu_new_graph(13);
    ins[0] = tu_add_input(g, "a", DK_F64, 2, a, 1, 0);
    ins[1] = tu_add_input(g, "b", DK_F64, 2, b_ok, 1, 0);
    tu_add_node(g, DK_OP_GEMM, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "float64");
    dk_graph_destroy(g);
}

/* ---- MatMul ---------------------------------------------------------------- */

/* numpy matmul, written out: promote 1-D operands, broadcast batch dims. */
static void check_matmul_result(const dk_tensor *a, const dk_tensor *b, const dk_tensor *y)
{
    int64_t m_len = a->ndim >= 2 ? a->dims[a->ndim - 2] : 1, k_len = a->dims[a->ndim - 1];
    int64_t n_len = b->ndim >= 2 ? b->dims[b->ndim - 1] : 1;
    int a_batch = a->ndim > 2 ? a->ndim - 2 : 0, b_batch = b->ndim > 2 ? b->ndim - 2 : 0;
    int nb = a_batch > b_batch ? a_batch : b_batch;
    int64_t batches = 1, bdims[DK_MAX_DIMS];
    for (int d = 0; d < nb; d++) {
        bdims[d] = y->dims[d];
        batches *= bdims[d];
    }
    for (int64_t bi = 0; bi < batches; bi++) {
        int64_t idx[DK_MAX_DIMS], r = bi;
        for (int d = nb - 1; d >= 0; d--) {
            idx[d] = r % bdims[d];
            r /= bdims[d];
        }
        int64_t a_mat = 0, b_mat = 0;
        for (int d = 0; d < a_batch; d++) {
            int64_t dim = a->dims[d];
            a_mat = a_mat * dim + (dim == 1 ? 0 : idx[d + nb - a_batch]);
        }
        for (int d = 0; d < b_batch; d++) {
            int64_t dim = b->dims[d];
            b_mat = b_mat * dim + (dim == 1 ? 0 : idx[d + nb - b_batch]);
        }
        for (int64_t i = 0; i < m_len; i++)
            for (int64_t j = 0; j < n_len; j++) {
                double s = 0;
                for (int64_t k = 0; k < k_len; k++)
                    s += dk_tensor_get(a, a_mat * m_len * k_len + i * k_len + k) *
                         dk_tensor_get(b, b_mat * k_len * n_len + k * n_len + j);
                double got = dk_tensor_get(y, (bi * m_len + i) * n_len + j);
                if (!(fabs(got - s) <= 1e-6 * (fabs(s) + 1e-3)))
                    fail_msg("MatMul batch %lld y[%lld][%lld] = %.9g, want %.9g", (long long)bi,
                             (long long)i, (long long)j, got, s);
            }
    }
}

typedef struct matmul_case {
    int na, nb, ny;
    int64_t a[4], b[4], y[4];
} matmul_case;

static void test_matmul(void **state)
{
    (void)state;
    const matmul_case cases[] = {
        {2, 2, 2, {3, 4}, {4, 3}, {3, 3}},
        {3, 3, 3, {2, 3, 4}, {2, 4, 3}, {2, 3, 3}},
        {4, 4, 4, {1, 2, 3, 4}, {1, 2, 4, 3}, {1, 2, 3, 3}},
        {4, 3, 4, {2, 1, 3, 4}, {5, 4, 6}, {2, 5, 3, 6}},   /* batch broadcast both ways */
        {2, 3, 3, {3, 4}, {2, 4, 5}, {2, 3, 5}},            /* 2-D A against a batch */
        {1, 2, 1, {4}, {4, 3}, {3}},                        /* 1-D A */
        {3, 1, 2, {2, 3, 4}, {4}, {2, 3}},                  /* 1-D B */
        {1, 1, 0, {4}, {4}, {0}},                           /* dot product: scalar */
        {2, 2, 2, {64, 33}, {33, 40}, {64, 40}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dk_graph *g = tu_new_graph(13);
        int ins[2] = {tu_add_input(g, "a", DK_F32, cases[c].na, cases[c].a, -1, 1),
                      tu_add_input(g, "b", DK_F32, cases[c].nb, cases[c].b, -1, 1)};
        int k = tu_add_node(g, DK_OP_MATMUL, ins, 2, 1);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("case %zu: %s", c, dk_last_error());
        tu_assert_shape(tu_output(g, k, 0), cases[c].ny, cases[c].y);
        const dk_tensor *a = &g->values[ins[0]].t, *b = &g->values[ins[1]].t;
        double k_len = (double)a->dims[a->ndim - 1];
        assert_true(g->nodes[k].flops == 2.0 * k_len * (double)dk_tensor_numel(tu_output(g, k, 0)));
        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, k, dk_ref_matmul, &y, 1), DK_OK);
        check_matmul_result(a, b, &y);
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
}

static void test_matmul_errors(void **state)
{
    (void)state;
    const int64_t a[3] = {2, 3, 4}, b[3] = {2, 5, 3}, b2[3] = {3, 4, 3};
    dk_graph *g = tu_new_graph(13);
    int ins[2] = {tu_add_input(g, "a", DK_F32, 3, a, 1, 0),
                  tu_add_input(g, "b", DK_F32, 3, b, 1, 0)};
    tu_add_node(g, DK_OP_MATMUL, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "K=4");
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    ins[0] = tu_add_input(g, "a", DK_F32, 3, a, 1, 0);
    ins[1] = tu_add_input(g, "b", DK_F32, 3, b2, 1, 0);
    tu_add_node(g, DK_OP_MATMUL, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "batch");
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("test_dense");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_gemm_errors),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_matmul_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
