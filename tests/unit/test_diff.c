/* The differential harness's metrics, labels and summary, on random data
 * (seed printed), checked against independent computations in the test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "drivers/diff/diff_internal.h"
#include "tests/unit/test_util.h"

#define N_CLASSES 1000

static void logits(dk_tensor *t)
{
    int64_t dims[2] = {1, N_CLASSES};
    assert_int_equal(dk_tensor_alloc(t, DK_F32, 2, dims), DK_OK);
    tu_fill_uniform(t, -5, 5);
}

static const float *sort_key;
static int by_value_desc(const void *a, const void *b)
{
    float x = sort_key[*(const int *)a], y = sort_key[*(const int *)b];
    return (x < y) - (x > y);
}

/* The five largest classes by a full sort. */
static void top5_sorted(const dk_tensor *t, int out[5])
{
    int *idx = malloc(sizeof(int) * N_CLASSES);
    assert_non_null(idx);
    for (int i = 0; i < N_CLASSES; i++) idx[i] = i;
    sort_key = t->data;
    qsort(idx, N_CLASSES, sizeof(int), by_value_desc);
    memcpy(out, idx, 5 * sizeof(int));
    free(idx);
}

static void test_top5_matches_sort(void **state)
{
    (void)state;
    tu_init("diff_top5");
    for (int rep = 0; rep < 20; rep++) {
        dk_tensor a = {0};
        logits(&a);
        dk__diff_top top;
        dk__diff_top_of(&a, &top);
        int want[5];
        top5_sorted(&a, want);
        assert_int_equal(top.n, 5);
        for (int i = 0; i < 5; i++) assert_int_equal(top.idx[i], want[i]);
        dk_tensor_reset(&a);
    }
}

/* Kendall's tau-a of b's order of a's top-5, counted pair by pair. */
static double tau_by_pairs(const dk_tensor *a, const dk_tensor *b)
{
    int t[5];
    top5_sorted(a, t);
    const float *x = a->data, *y = b->data;
    int c = 0, d = 0;
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++) {
            double s = (x[t[i]] - x[t[j]]) * (double)(y[t[i]] - y[t[j]]);
            c += s > 0;
            d += s < 0;
        }
    return (c - d) / 10.0;
}

static void test_labels(void **state)
{
    (void)state;
    tu_init("diff_labels");
    dk_tensor a = {0}, b = {0};
    logits(&a);
    int t[5];
    top5_sorted(&a, t);
    dk__diff_labels lab;
    dk__diff_compare_labels(&a, &a, &lab);
    assert_true(lab.top1_agree);
    assert_true(lab.top5_overlap == 1.0 && lab.tau == 1.0);
    /* b: a's order turned upside down */
    assert_int_equal(dk_tensor_copy(&b, &a), DK_OK);
    float *y = b.data;
    for (int i = 0; i < N_CLASSES; i++) y[i] = -y[i];
    dk__diff_compare_labels(&a, &b, &lab);
    assert_false(lab.top1_agree);
    assert_true(lab.top5_overlap == 0.0);
    assert_true(lab.tau == -1.0);
    /* random perturbations of a's top-5 and a random class lifted into it */
    for (int rep = 0; rep < 50; rep++) {
        dk_tensor_reset(&b);
        assert_int_equal(dk_tensor_copy(&b, &a), DK_OK);
        y = b.data;
        for (int i = 0; i < 5; i++) y[t[i]] += (float)tu_rng_uniform(-1, 1);
        int lifted = (int)tu_rng_int(0, N_CLASSES - 1);
        y[lifted] = (float)tu_rng_uniform(0, 10);
        int tb[5];
        top5_sorted(&b, tb);
        int common = 0;
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++) common += t[i] == tb[j];
        dk__diff_compare_labels(&a, &b, &lab);
        assert_int_equal(lab.top1_agree, t[0] == tb[0]);
        assert_true(fabs(lab.top5_overlap - common / 5.0) < 1e-12);
        assert_true(fabs(lab.tau - tau_by_pairs(&a, &b)) < 1e-12);
    }
    dk_tensor_reset(&a);
    dk_tensor_reset(&b);
}

static void test_compare(void **state)
{
    (void)state;
    tu_init("diff_compare");
    int64_t dims[1] = {4096};
    dk_tensor ref = {0}, y = {0};
    assert_int_equal(dk_tensor_alloc(&ref, DK_F32, 1, dims), DK_OK);
    assert_int_equal(dk_tensor_alloc(&y, DK_F32, 1, dims), DK_OK);
    tu_fill_uniform(&ref, -3, 3);
    double *tol = malloc(sizeof(double) * 4096);
    assert_non_null(tol);
    float *r = ref.data, *c = y.data;
    double d2 = 0, r2 = 0, y2 = 0, ry = 0, worst = 0, max_abs = 0;
    for (int i = 0; i < 4096; i++) {
        tol[i] = tu_rng_uniform(1e-6, 1e-4);
        c[i] = r[i] + (float)tu_rng_uniform(-1e-3, 1e-3);
        double d = fabs((double)c[i] - r[i]);
        d2 += d * d;
        r2 += (double)r[i] * r[i];
        y2 += (double)c[i] * c[i];
        ry += (double)r[i] * c[i];
        if (d / (2 * tol[i]) > worst) worst = d / (2 * tol[i]);
        if (d > max_abs) max_abs = d;
    }
    dk__diff_err e;
    dk__diff_compare(&ref, &y, tol, 2.0, &e);
    assert_true(fabs(e.max_abs - max_abs) <= 1e-15);
    assert_true(fabs(e.rel_l2 - sqrt(d2 / r2)) <= 1e-12 * sqrt(d2 / r2));
    assert_true(fabs(e.cosine - ry / sqrt(r2 * y2)) <= 1e-12);
    assert_true(fabs(e.ratio - worst) <= 1e-12 * worst);
    dk__diff_compare(&ref, &ref, NULL, 1.0, &e);
    assert_true(e.max_abs == 0 && e.rel_l2 == 0 && isnan(e.ratio));
    assert_true(fabs(e.cosine - 1) < 1e-12);
    /* a NaN where the reference has a number is an infinite error */
    c[17] = NAN;
    dk__diff_compare(&ref, &y, tol, 1.0, &e);
    assert_true(isinf(e.max_abs) && isinf(e.ratio));
    free(tol);
    dk_tensor_reset(&ref);
    dk_tensor_reset(&y);
}

/* Outputs of many chunks (the metrics sum chunk by chunk, on any number of
 * threads): the worst ratio and the largest error exactly as a plain loop
 * finds them, wherever they lie; the sums as a plain loop's to rounding; the
 * same bits on 1, 2 and 3 threads; a matching NaN or infinity is no error, a
 * bound of 0 under a nonzero error an infinite ratio, an unmatched infinity
 * an infinite error. n is no multiple of the chunk or of its lanes. */
static void test_compare_chunks(void **state)
{
    (void)state;
    tu_init("diff_compare_chunks");
    const int64_t n = 5 * 16384 + 123;
    int64_t dims[1] = {n};
    dk_tensor ref = {0}, y = {0};
    assert_int_equal(dk_tensor_alloc(&ref, DK_F32, 1, dims), DK_OK);
    assert_int_equal(dk_tensor_alloc(&y, DK_F32, 1, dims), DK_OK);
    tu_fill_uniform(&ref, -3, 3);
    double *tol = malloc(sizeof(double) * (size_t)n);
    assert_non_null(tol);
    float *r = ref.data, *c = y.data;
    for (int64_t i = 0; i < n; i++) {
        tol[i] = tu_rng_uniform(1e-6, 1e-4);
        c[i] = r[i] + (float)tu_rng_uniform(-1e-3, 1e-3);
    }
    r[20000] = c[20000] = NAN;     /* the same NaN on both sides */
    r[40000] = c[40000] = INFINITY; /* the same infinity */
    int64_t worst_at = 3 * 16384 + (int64_t)tu_rng_uniform(0, 16000);
    c[worst_at] = r[worst_at] + 0.5f; /* far outside its bound, in a late chunk */
    for (int pass = 0; pass < 2; pass++) {
        double d2 = 0, r2 = 0, y2 = 0, ry = 0, worst = 0, max_abs = 0;
        for (int64_t i = 0; i < n; i++) {
            if (!isfinite(r[i])) continue;
            double d = fabs((double)c[i] - r[i]), t = 2 * tol[i];
            d2 += d * d;
            r2 += (double)r[i] * r[i];
            y2 += (double)c[i] * c[i];
            ry += (double)r[i] * c[i];
            if (d > 0 && (t > 0 ? d / t : INFINITY) > worst) worst = t > 0 ? d / t : INFINITY;
            if (d > max_abs) max_abs = d;
        }
        dk__diff_err e[3];
        for (int th = 1; th <= 3; th++) {
#ifdef _OPENMP
            omp_set_num_threads(th);
#endif
            dk__diff_compare(&ref, &y, tol, 2.0, &e[th - 1]);
        }
        assert_true(e[0].max_abs == max_abs);
        assert_true(e[0].ratio == worst);
        assert_true(fabs(e[0].rel_l2 - sqrt(d2 / r2)) <= 1e-12 * sqrt(d2 / r2));
        assert_true(fabs(e[0].cosine - ry / sqrt(r2 * y2)) <= 1e-12);
        assert_memory_equal(&e[0], &e[1], sizeof e[0]);
        assert_memory_equal(&e[0], &e[2], sizeof e[0]);
        tol[n - 1] = 0; /* second pass: a bound of 0 where the error is not */
        if (c[n - 1] == r[n - 1]) c[n - 1] = r[n - 1] + 1e-3f;
    }
    /* in the last chunk, an infinity against a number (in its partial group
     * of lanes) and infinities of opposite signs: infinite errors, on any
     * thread count */
    c[n - 2] = INFINITY;
    r[n - 5] = INFINITY, c[n - 5] = -INFINITY;
    for (int th = 1; th <= 3; th++) {
        dk__diff_err e;
#ifdef _OPENMP
        omp_set_num_threads(th);
#endif
        dk__diff_compare(&ref, &y, tol, 2.0, &e);
        assert_true(isinf(e.max_abs) && isinf(e.ratio) && isinf(e.rel_l2));
    }
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    free(tol);
    dk_tensor_reset(&ref);
    dk_tensor_reset(&y);
}

/* A record of two variants; variant 1 flips when flip is set. */
static cJSON *record(int flip, double overlap)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"image\":\"x.png\",\"variants\":["
             "{\"variant\":\"a\",\"nodes\":[{\"node\":\"n1\",\"op\":\"Conv\",\"shape\":\"1x2\",\"iso_ratio\":0.5,"
             "\"prop_rel_l2\":1e-7,\"amp\":null}],\"first_faulty\":null},"
             "{\"variant\":\"b\",\"nodes\":[{\"node\":\"n1\",\"op\":\"Conv\",\"shape\":\"1x2\",\"iso_ratio\":%s,"
             "\"prop_rel_l2\":1e-3,\"amp\":2}],\"first_faulty\":%s%s}],"
             "\"pairs\":[{\"top1_agree\":true,\"top5_overlap\":1,\"kendall_tau\":1},"
             "{\"top1_agree\":%s,\"top5_overlap\":%g,\"kendall_tau\":0.2},"
             "{\"top1_agree\":%s,\"top5_overlap\":%g,\"kendall_tau\":0.2}]}",
             flip ? "12" : "0.25", flip ? "{\"node\":\"n1\"}" : "null",
             flip ? ",\"flip\":{\"cause\":\"faulty_kernel\",\"blamed\":[\"n1\"],\"baseline_top1\":3,\"variant_top1\":4}" : "",
             flip ? "false" : "true", overlap, flip ? "false" : "true", overlap);
    cJSON *r = cJSON_Parse(text);
    assert_non_null(r);
    return r;
}

static void test_summary(void **state)
{
    (void)state;
    tu_init("diff_summary");
    cJSON *id = cJSON_Parse("{\"baseline\":\"ref\",\"variants\":[\"a\",\"b\"]}");
    dk_diff_summary *s;
    assert_int_equal(dk_diff_summary_create(id, &s), DK_OK);
    int n = (int)tu_rng_int(3, 12), flips = 0;
    double overlap_sum = 0;
    for (int i = 0; i < n; i++) {
        int f = tu_rng_int(0, 1) == 1;
        double ov = f ? 0.8 : 1.0;
        flips += f;
        overlap_sum += ov;
        cJSON *r = record(f, ov);
        assert_int_equal(dk_diff_summary_add(s, r), DK_OK);
        cJSON_Delete(r);
    }
    assert_int_equal(dk_diff_summary_write(s, tu_tmpdir(), 1, NULL), DK_OK);
    size_t len;
    char *buf = (char *)tu_read_file(tu_tmp_path("summary.json"), &len);
    buf[len] = 0;
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    assert_non_null(j);
    /* the CSV files exist beside it */
    unsigned char *csv = tu_read_file(tu_tmp_path("layers.csv"), &len);
    assert_non_null(strstr((char *)csv, "\"b\",\"n1\",Conv"));
    free(csv);
    cJSON *p1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "pairs"), 1); /* ref vs b */
    assert_string_equal(cJSON_GetObjectItem(p1, "b")->valuestring, "b");
    assert_int_equal(cJSON_GetObjectItem(p1, "label_differences")->valueint, flips);
    assert_true(fabs(cJSON_GetObjectItem(p1, "label_differences_pct")->valuedouble - 100.0 * flips / n) < 1e-9);
    assert_true(fabs(cJSON_GetObjectItem(p1, "mean_top5_overlap")->valuedouble - overlap_sum / n) < 1e-9);
    cJSON *vb = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "variants"), 1);
    assert_int_equal(cJSON_GetObjectItem(vb, "flips")->valueint, flips);
    assert_int_equal(cJSON_GetObjectItem(vb, "faulty_kernel_images")->valueint, flips);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "flips")), flips);
    if (flips) {
        cJSON *mb = cJSON_GetArrayItem(cJSON_GetObjectItem(vb, "most_blamed"), 0);
        assert_string_equal(cJSON_GetObjectItem(mb, "node")->valuestring, "n1");
        assert_int_equal(cJSON_GetObjectItem(mb, "blamed_for_flips")->valueint, flips);
    }
    char *table = dk_diff_summary_table(s);
    assert_non_null(table);
    assert_non_null(strstr(table, "ref vs b"));
    free(table);
    cJSON_Delete(j);
    cJSON_Delete(id);
    dk_diff_summary_destroy(s);
}

/* Non-finite outputs: never a class, never an unset index; labels of an
 * output with NaN or Inf are not comparable (NONFINITE), not a difference. */
static void test_nonfinite(void **state)
{
    (void)state;
    tu_init("test_diff.nonfinite");
    dk_tensor a = {0}, b = {0};
    logits(&a);
    logits(&b);
    float *x = a.data;
    for (int i = 0; i < N_CLASSES; i++) x[i] = NAN;
    dk__diff_top top;
    dk__diff_top_of(&a, &top);
    assert_int_equal(top.n, 0);
    for (int i = 0; i < 5; i++) assert_int_equal(top.idx[i], -1);
    assert_int_equal(dk__diff_count_nonfinite(&a), N_CLASSES);
    /* three finite classes among NaN and Inf: exactly those, largest first */
    int64_t keep[3] = {tu_rng_int(0, 299), tu_rng_int(300, 599), tu_rng_int(600, 999)};
    x[keep[0]] = 1, x[keep[1]] = 3, x[keep[2]] = 2;
    int64_t inf;
    do inf = tu_rng_int(0, N_CLASSES - 1);
    while (inf == keep[0] || inf == keep[1] || inf == keep[2]);
    x[inf] = INFINITY; /* larger than all, yet no class */
    dk__diff_top_of(&a, &top);
    assert_int_equal(top.n, 3);
    assert_int_equal(top.idx[0], keep[1]);
    assert_int_equal(top.idx[1], keep[2]);
    assert_int_equal(top.idx[2], keep[0]);
    assert_int_equal(top.idx[3], -1);
    dk__diff_labels lab;
    dk__diff_compare_labels(&a, &b, &lab);
    assert_false(lab.comparable);
    dk__diff_compare_labels(&b, &b, &lab);
    assert_true(lab.comparable);
    assert_true(lab.top1_agree);
    dk_tensor_reset(&a);
    dk_tensor_reset(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonfinite),
        cmocka_unit_test(test_top5_matches_sort),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_compare_chunks),
        cmocka_unit_test(test_summary),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
