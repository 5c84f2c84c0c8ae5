/* Unit tests for Einsum: the equation parser and shape inference
 * (layers/op_einsum.c) and the reference kernel (kernels/ref/ref_einsum.c).
 *
 * Results: each equation under test comes with a twin written with letters
 * only and an explicit output (implicit outputs, ellipses spelled out), which
 * a naive loop over every combination of the letters evaluates in double, an
 * axis of size 1 broadcast. Kernel and loop both accumulate in double and
 * round once, so tu_assert_close's one float rounding applies.
 *
 * Errors: every malformed equation, rank or size mismatch and unsupported
 * input is refused by shape inference with one message naming the node and
 * the reason, never a crash (the sanitizer build runs these too). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/graph.h"
#include "deltakern/text.h"
#include "kernels/ref/ref_kernels.h"
#include "test_util.h"

#define MAX_IN 3

typedef struct es_case {
    const char *eq;      /* under test */
    const char *twin;    /* letters only, explicit output */
    int n_in;
    int rank[MAX_IN];
    int64_t dims[MAX_IN][DK_MAX_DIMS];
    int out_rank;
    int64_t out_dims[DK_MAX_DIMS];
} es_case;

/* The twin's value at every output element, by brute force. */
static void naive(const char *twin, const dk_tensor *const *x, int n_in, const dk_tensor *y)
{
    const char *arrow = strstr(twin, "->");
    assert_non_null(arrow);
    const char *terms[MAX_IN];
    int len[MAX_IN];
    const char *s = twin;
    for (int i = 0; i < n_in; i++) {
        const char *end = strchr(s, ',');
        if (!end || end > arrow) end = arrow;
        terms[i] = s, len[i] = (int)(end - s);
        s = end + 1;
    }
    const char *out = arrow + 2;
    int64_t size[128] = {0};
    char letters[64];
    int n_letters = 0;
    for (int i = 0; i < n_in; i++)
        for (int a = 0; a < len[i]; a++) {
            int c = terms[i][a];
            if (!size[c]) letters[n_letters++] = (char)c;
            if (x[i]->dims[a] > size[c]) size[c] = x[i]->dims[a];
        }
    const int64_t count = dk_tensor_numel(y);
    double *want = calloc((size_t)count + 1, sizeof(double));
    double *scale = calloc((size_t)count + 1, sizeof(double));
    int64_t at[128] = {0};
    for (;;) {
        double v = 1, av = 1;
        for (int i = 0; i < n_in; i++) {
            int64_t off = 0;
            for (int a = 0; a < len[i]; a++)
                off = off * x[i]->dims[a] + (x[i]->dims[a] == 1 ? 0 : at[(int)terms[i][a]]);
            v *= dk_tensor_get(x[i], off);
            av *= fabs(dk_tensor_get(x[i], off));
        }
        int64_t o = 0;
        for (const char *c = out; *c; c++) o = o * size[(int)*c] + at[(int)*c];
        want[o] += v;
        scale[o] += av;
        int l = n_letters - 1;
        for (; l >= 0; l--) {
            if (++at[(int)letters[l]] < size[(int)letters[l]]) break;
            at[(int)letters[l]] = 0;
        }
        if (l < 0) break;
    }
    for (int64_t o = 0; o < count; o++)
        tu_assert_close(twin, o, dk_tensor_get(y, o), want[o], scale[o]);
    free(want);
    free(scale);
}

static void run_case(const es_case *ec, dk_dtype dt)
{
    dk_graph *g = tu_new_graph(13);
    int ins[MAX_IN];
    for (int i = 0; i < ec->n_in; i++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", i);
        ins[i] = tu_add_input(g, name, dt, ec->rank[i], ec->dims[i], -1, 1);
    }
    int k = tu_add_node(g, DK_OP_EINSUM, ins, ec->n_in, 1);
    tu_attr_string(g, k, "equation", ec->eq);
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s: %s", ec->eq, dk_last_error());
    tu_assert_shape(tu_output(g, k, 0), ec->out_rank, ec->out_dims);
    assert_int_equal(tu_output(g, k, 0)->dtype, dt);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_einsum, &y, 1), DK_OK);
    const dk_tensor *x[MAX_IN];
    for (int i = 0; i < ec->n_in; i++) x[i] = &g->values[ins[i]].t;
    naive(ec->twin, x, ec->n_in, &y);
    /* the reference is deterministic: a second run gives the same bits */
    dk_tensor y2 = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_einsum, &y2, 1), DK_OK);
    assert_memory_equal(y.data, y2.data, dk_dtype_size(dt) * (size_t)dk_tensor_numel(&y));
    dk_tensor_reset(&y);
    dk_tensor_reset(&y2);
    dk_graph_destroy(g);
}

static const es_case cases[] = {
    /* MaxViT's attention, as PyTorch exports it (capitals, spaces) */
    {"B G H I D, B G H J D -> B G H I J", "bghid,bghjd->bghij", 2, {5, 5},
     {{1, 3, 2, 7, 16}, {1, 3, 2, 5, 16}}, 5, {1, 3, 2, 7, 5}},
    {"bghij,bghjd->bghid", "bghij,bghjd->bghid", 2, {5, 5},
     {{2, 2, 2, 7, 5}, {2, 2, 2, 5, 8}}, 5, {2, 2, 2, 7, 8}},
    /* implicit output: the letters once, in ASCII order */
    {"ij,jk", "ij,jk->ik", 2, {2, 2}, {{3, 4}, {4, 5}}, 2, {3, 5}},
    {"ba", "ba->ab", 1, {2}, {{3, 4}}, 2, {4, 3}},
    {"Ab,bA", "Ab,bA->", 2, {2, 2}, {{3, 4}, {4, 3}}, 0, {0}},
    {"jB,ja", "jB,ja->Ba", 2, {2, 2}, {{3, 4}, {3, 2}}, 2, {4, 2}},
    /* diagonals: trace, diagonal, batch diagonal (ONNX's node test) */
    {"ii", "ii->", 1, {2}, {{5, 5}}, 0, {0}},
    {"ii->i", "ii->i", 1, {2}, {{5, 5}}, 1, {5}},
    {"...ii ->...i", "abii->abi", 1, {4}, {{2, 3, 4, 4}}, 3, {2, 3, 4}},
    {"iij,jk->ik", "iij,jk->ik", 2, {3, 2}, {{3, 3, 4}, {4, 2}}, 2, {3, 2}},
    /* ellipses broadcast, aligned right; an ellipsis missing in the output
     * is summed */
    {"...ij,...jk->...ik", "abij,bjk->abik", 2, {4, 3}, {{2, 3, 4, 5}, {1, 5, 2}}, 4,
     {2, 3, 4, 2}},
    {"...ij,jk", "abij,jk->abik", 2, {4, 2}, {{2, 3, 4, 5}, {5, 2}}, 4, {2, 3, 4, 2}},
    {"i...,i...->...", "iab,ib->ab", 2, {3, 2}, {{4, 2, 3}, {4, 3}}, 2, {2, 3}},
    {"...i->i", "abi->i", 1, {3}, {{2, 3, 4}}, 1, {4}},
    {"i...j->j...i", "iabj->jabi", 1, {4}, {{2, 3, 4, 5}}, 4, {5, 3, 4, 2}},
    {"...,...->...", "ab,b->ab", 2, {2, 1}, {{3, 4}, {4}}, 2, {3, 4}},
    /* letters of size 1 broadcast against n */
    {"ij,ij->ij", "ij,ij->ij", 2, {2, 2}, {{1, 4}, {3, 4}}, 2, {3, 4}},
    /* sums, outer products, scalars, three inputs */
    {"ij->", "ij->", 1, {2}, {{3, 4}}, 0, {0}},
    {"i,j->ij", "i,j->ij", 2, {1, 1}, {{3}, {4}}, 2, {3, 4}},
    {",i->i", ",i->i", 2, {0, 1}, {{0}, {4}}, 1, {4}},
    {"ij,jk,kl->il", "ij,jk,kl->il", 3, {2, 2, 2}, {{3, 4}, {4, 5}, {5, 2}}, 2, {3, 2}},
    {"i,i,i", "i,i,i->", 3, {1, 1, 1}, {{6}, {6}, {6}}, 0, {0}},
    {"abc,cd->dba", "abc,cd->dba", 2, {3, 2}, {{2, 3, 4}, {4, 5}}, 3, {5, 3, 2}},
};

static void test_einsum_results(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        run_case(&cases[c], DK_F32);
        run_case(&cases[c], DK_F64);
    }
}

/* A zero-size summed label: every output element is 0; a zero-size output
 * label: nothing to compute. */
static void test_einsum_empty(void **state)
{
    (void)state;
    const int64_t a[2] = {3, 0}, b[2] = {0, 2};
    dk_graph *g = tu_new_graph(13);
    int ins[2] = {tu_add_input(g, "a", DK_F32, 2, a, -1, 1), tu_add_input(g, "b", DK_F32, 2, b, -1, 1)};
    int k = tu_add_node(g, DK_OP_EINSUM, ins, 2, 1);
    tu_attr_string(g, k, "equation", "ij,jk->ik");
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const int64_t yd[2] = {3, 2};
    tu_assert_shape(tu_output(g, k, 0), 2, yd);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_einsum, &y, 1), DK_OK);
    for (int i = 0; i < 6; i++) assert_true(((const float *)y.data)[i] == 0.0f);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

/* One malformed or unsupported node: finalize must refuse it with want and
 * a message containing fragment. */
typedef struct es_error {
    const char *eq;      /* NULL: no equation attribute */
    int n_in;
    int rank[4];
    int64_t dims[4][DK_MAX_DIMS];
    dk_status want;
    const char *fragment;
} es_error;

static const es_error errors[] = {
    {NULL, 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "attribute 'equation' is required"},
    {"", 1, {2}, {{2, 2}}, DK_ERR_SHAPE, "input 0 has shape 2x2 (rank 2) but its term names 0 axes"},
    {"ij->i->j", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "more than one '->'"},
    {"ij-i", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "'-' at position 2 is not a letter"},
    {"ij>i", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "'>' at position 2 is not a letter"},
    {"i j - > i", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "'-' at position 4"},
    {"i1", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "'1' at position 1 is not a letter"},
    {"i\xc3\xa9", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "byte 0xc3 at position 1"},
    {"i.j", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "a '.' at position 1 is not part of an ellipsis"},
    {"ij..", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "a '.' at position 2 is not part of an ellipsis"},
    {"...i...", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "the term of input 0 has more than one ellipsis"},
    {"i->...i...", 1, {1}, {{2}}, DK_ERR_FORMAT, "the output has more than one ellipsis"},
    {"ij,jk->ik", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "more terms than the node's 1 input"},
    {"ij->ij", 2, {2, 2}, {{2, 2}, {2, 2}}, DK_ERR_FORMAT, "1 term for 2 inputs"},
    {"ij,jk->i,k", 2, {2, 2}, {{2, 2}, {2, 2}}, DK_ERR_FORMAT, "a ',' after '->'"},
    {"ijk", 1, {2}, {{2, 2}}, DK_ERR_SHAPE, "input 0 has shape 2x2 (rank 2) but its term names 3 axes"},
    {"i", 1, {2}, {{2, 2}}, DK_ERR_SHAPE, "but its term names 1 axis"},
    {"ijk...", 1, {2}, {{2, 2}}, DK_ERR_SHAPE, "names 3 axes and an ellipsis"},
    {"abcdefghi", 1, {2}, {{2, 2}}, DK_ERR_SHAPE, "the term of input 0 names more than 8 axes"},
    {"ij,jk->ik", 2, {2, 2}, {{2, 3}, {4, 5}}, DK_ERR_SHAPE,
     "letter 'j' has size 4 in input 1 (axis 0) but 3 in an earlier input"},
    {"...i,...i", 2, {3, 3}, {{2, 3, 4}, {3, 3, 4}}, DK_ERR_SHAPE,
     "ellipsis axis 0 has size 3 in input 1 (axis 0) but 2"},
    {"ii", 1, {2}, {{2, 3}}, DK_ERR_SHAPE, "letter 'i' repeats within input 0 with sizes 2 and 3"},
    {"ij->ii", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "the output names letter 'i' twice"},
    {"ij->k", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "the output's letter 'k' is in no input"},
    {"ij->i j-", 1, {2}, {{2, 2}}, DK_ERR_FORMAT, "'-' at position 7"},
    {"ij->abcdefghi", 1, {2}, {{2, 2}}, DK_ERR_SHAPE, "the output names more than 8 axes"},
    {"abcde,fghij", 2, {5, 5}, {{1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}}, DK_ERR_UNSUPPORTED,
     "the output has rank 10 (supported: at most 8)"},
};

static void test_einsum_errors(void **state)
{
    (void)state;
    for (size_t e = 0; e < sizeof errors / sizeof errors[0]; e++) {
        const es_error *ee = &errors[e];
        dk_graph *g = tu_new_graph(13);
        int ins[4];
        for (int i = 0; i < ee->n_in; i++) {
            char name[16];
            snprintf(name, sizeof name, "x%d", i);
            ins[i] = tu_add_input(g, name, DK_F32, ee->rank[i], ee->dims[i], -1, 1);
        }
        int k = tu_add_node(g, DK_OP_EINSUM, ins, ee->n_in, 1);
        if (ee->eq) tu_attr_string(g, k, "equation", ee->eq);
        printf("  %-26s -> %s\n", ee->eq ? DK_ESC(ee->eq) : "(none)", ee->fragment);
        tu_expect_finalize_error(g, ee->want, ee->fragment);
        dk_graph_destroy(g);
    }
}

/* A node of n_in inputs of type dt[i] (dt[0] for all when dt[1] is 0), each
 * 1-D of n elements (shapes only), refused by finalize with want and a
 * message containing fragment; int_attr names an INT attribute to add. */
static void expect_refusal(int64_t opset, int n_in, const dk_dtype *dt, int64_t n, const char *eq,
                           const char *int_attr, dk_status want, const char *fragment)
{
    dk_graph *g = tu_new_graph(opset);
    int ins[DK_EINSUM_MAX_INPUTS + 1];
    for (int i = 0; i < n_in; i++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", i);
        ins[i] = tu_add_input(g, name, dt[1] ? dt[i] : dt[0], 1, &n, 1, 0);
    }
    int k = tu_add_node(g, DK_OP_EINSUM, ins, n_in, 1);
    tu_attr_string(g, k, "equation", eq);
    if (int_attr) tu_attr_int(g, k, int_attr, 1);
    tu_expect_finalize_error(g, want, fragment);
    dk_graph_destroy(g);
}

/* Inputs and attributes the op refuses. */
static void test_einsum_refusals(void **state)
{
    (void)state;
    const dk_dtype f32[2] = {DK_F32}, i64[2] = {DK_I64}, mixed[2] = {DK_F32, DK_F64};
    expect_refusal(13, 1, i64, 2, "i->i", NULL, DK_ERR_UNSUPPORTED,
                   "input 0 has element type int64 (supported: float32, float64)");
    expect_refusal(13, 2, mixed, 2, "i,i->i", NULL, DK_ERR_FORMAT,
                   "input 1 has element type float64, input 0 float32");
    expect_refusal(13, 9, f32, 2, "i,i,i,i,i,i,i,i,i->i", NULL, DK_ERR_UNSUPPORTED,
                   "9 inputs (supported: at most 8)");
    /* a contraction longer than int64 counts: eight axes of 2^40 summed */
    expect_refusal(13, 8, f32, INT64_C(1) << 40, "a,b,c,d,e,f,g,h->", NULL, DK_ERR_SHAPE,
                   "the contraction's length overflows int64");
    expect_refusal(11, 1, f32, 2, "i->i", NULL, DK_ERR_FORMAT, "Einsum does not exist in opset 11");
    /* an attribute Einsum does not have */
    expect_refusal(13, 1, f32, 2, "i->i", "axis", DK_ERR_UNSUPPORTED, "axis");
}

int main(void)
{
    tu_init("test_einsum");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_einsum_results),
        cmocka_unit_test(test_einsum_empty),
        cmocka_unit_test(test_einsum_errors),
        cmocka_unit_test(test_einsum_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
