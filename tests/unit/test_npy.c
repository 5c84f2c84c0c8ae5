/* Unit tests for .npy loading and saving (input/npy.c): round trips of every
 * dtype, interoperability with numpy itself (numpy reads what we write, we read
 * what numpy writes in format versions 1.0, 2.0 and 3.0), hand-written headers
 * and every error path. Random data and random corruptions use a printed seed
 * (DK_TEST_SEED repeats a run). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deltakern/input.h"
#include "test_util.h"

/* ---- helpers --------------------------------------------------------------- */

/* Writes a .npy file from its parts: version, header text (padded here to the
 * 64-byte alignment numpy uses) and raw data. */
static void write_npy(const char *path, int major, const char *header, const void *data,
                      size_t n)
{
    size_t len_bytes = major == 1 ? 2 : 4, hlen = strlen(header);
    size_t total = 8 + len_bytes + hlen + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t full = hlen + pad + 1;
    unsigned char *buf = calloc(1, total + pad + n);
    assert_non_null(buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < len_bytes; i++) buf[8 + i] = (unsigned char)(full >> (8 * i));
    memcpy(buf + 8 + len_bytes, header, hlen);
    memset(buf + 8 + len_bytes + hlen, ' ', pad);
    buf[8 + len_bytes + hlen + pad] = '\n';
    if (n) memcpy(buf + total + pad, data, n);
    tu_write_file(path, buf, total + pad + n);
    free(buf);
}

/* No "<name>.tmp.<pid>" file may survive a save. */
static void assert_no_temp_files(void)
{
    DIR *d = opendir(tu_tmpdir());
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) fail_msg("temporary file left behind: %s", e->d_name);
    closedir(d);
}

/* A tensor of the given dtype and shape filled with random bytes (bool: 0/1). */
static void random_tensor(dk_tensor *t, dk_dtype dtype, int ndim, const int64_t *dims)
{
    assert_int_equal(dk_tensor_alloc(t, dtype, ndim, dims), DK_OK);
    unsigned char *b = t->data;
    for (size_t i = 0; i < dk_tensor_nbytes(t); i++)
        b[i] = dtype == DK_BOOL ? (unsigned char)(tu_rng_next() & 1) : (unsigned char)tu_rng_next();
}

static void assert_same_tensor(const dk_tensor *a, const dk_tensor *b)
{
    assert_int_equal(a->dtype, b->dtype);
    assert_int_equal(a->ndim, b->ndim);
    for (int i = 0; i < a->ndim; i++) assert_int_equal(a->dims[i], b->dims[i]);
    assert_memory_equal(a->data, b->data, dk_tensor_nbytes(a) ? dk_tensor_nbytes(a) : 1);
}

static const dk_dtype all_dtypes[] = {DK_F32, DK_F64, DK_F16, DK_I64, DK_I32, DK_I16,
                                      DK_I8,  DK_U8,  DK_U16, DK_U32, DK_U64, DK_BOOL};
#define N_DTYPES (sizeof all_dtypes / sizeof all_dtypes[0])

/* numpy's name for each of all_dtypes. */
static const char *numpy_name(dk_dtype t)
{
    return t == DK_BOOL ? "bool" : dk_dtype_name(t);
}

static const struct shape {
    int ndim;
    int64_t dims[8];
    const char *numpy; /* as input_refs.py writes it */
} shapes[] = {
    {0, {0}, "scalar"},
    {1, {5}, "5"},
    {4, {1, 3, 4, 2}, "1x3x4x2"},
    {8, {1, 2, 1, 2, 1, 2, 1, 3}, "1x2x1x2x1x2x1x3"},
    {2, {0, 3}, "0x3"},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

/* ---- tests ----------------------------------------------------------------- */

static void test_round_trip_every_dtype_and_shape(void **state)
{
    (void)state;
    for (size_t d = 0; d < N_DTYPES; d++) {
        for (size_t s = 0; s < N_SHAPES; s++) {
            dk_tensor t = {0}, back = {0};
            random_tensor(&t, all_dtypes[d], shapes[s].ndim, shapes[s].dims);
            const char *path = tu_tmp_path("round_trip.npy");
            assert_int_equal(dk_npy_save(path, &t), DK_OK);

            /* numpy's layout: version 1.0, data 64-byte aligned, header ends in '\n'. */
            size_t n;
            unsigned char *file = tu_read_file(path, &n);
            size_t data_at = 10 + (size_t)(file[8] | file[9] << 8);
            assert_int_equal(file[6], 1);
            assert_int_equal(data_at % 64, 0);
            assert_int_equal(file[data_at - 1], '\n');
            assert_int_equal(n - data_at, dk_tensor_nbytes(&t));
            free(file);

            assert_int_equal(dk_npy_load(path, &back), DK_OK);
            assert_same_tensor(&t, &back);
            dk_tensor_reset(&t);
            dk_tensor_reset(&back);
        }
    }
    assert_no_temp_files();
}

static void test_save_replaces_existing_file(void **state)
{
    (void)state;
    const char *path = tu_tmp_path("replace.npy");
    tu_write_file(path, "old contents", 12);
    dk_tensor t = {0}, back = {0};
    random_tensor(&t, DK_F32, 1, (int64_t[]){7});
    assert_int_equal(dk_npy_save(path, &t), DK_OK);
    assert_int_equal(dk_npy_load(path, &back), DK_OK);
    assert_same_tensor(&t, &back);
    dk_tensor_reset(&t);
    dk_tensor_reset(&back);
    assert_no_temp_files();
}

static void test_save_errors(void **state)
{
    (void)state;
    dk_tensor t = {0};
    random_tensor(&t, DK_F32, 1, (int64_t[]){3});
    tu_assert_status(dk_npy_save(tu_tmp_path("no/such/dir/x.npy"), &t), DK_ERR_IO, "no/such/dir");
    assert_no_temp_files();

    dk_tensor shape_only = {.dtype = DK_F32, .ndim = 1, .dims = {3}};
    tu_assert_status(dk_npy_save(tu_tmp_path("x.npy"), &shape_only), DK_ERR_INVALID, "no data");
    t.dtype = DK_DTYPE_UNDEFINED;
    tu_assert_status(dk_npy_save(tu_tmp_path("x.npy"), &t), DK_ERR_UNSUPPORTED, "undefined");
    t.dtype = DK_F32;
    dk_tensor_reset(&t);
}

static void test_numpy_interop(void **state)
{
    (void)state;
    if (!tu_python_has("numpy")) skip();
    dk_tensor originals[N_DTYPES];
    for (size_t d = 0; d < N_DTYPES; d++) {
        const struct shape *s = &shapes[d % N_SHAPES];
        memset(&originals[d], 0, sizeof originals[d]);
        random_tensor(&originals[d], all_dtypes[d], s->ndim, s->dims);
        char name[32];
        snprintf(name, sizeof name, "a_%02zu.npy", d);
        assert_int_equal(dk_npy_save(tu_tmp_path(name), &originals[d]), DK_OK);
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, TU_PYTHON " %s npy-interop %s", TU_REFS_TOOL, tu_tmpdir());
    assert_int_equal(system(cmd), 0);

    for (size_t d = 0; d < N_DTYPES; d++) {
        /* numpy saw the dtype and shape we wrote... */
        char name[32], want[64], got[64] = "";
        snprintf(name, sizeof name, "a_%02zu.txt", d);
        FILE *f = fopen(tu_tmp_path(name), "r");
        assert_non_null(f);
        assert_non_null(fgets(got, sizeof got, f));
        fclose(f);
        snprintf(want, sizeof want, "%s %s\n", numpy_name(all_dtypes[d]),
                 shapes[d % N_SHAPES].numpy);
        assert_string_equal(got, want);
        /* ...and the data numpy re-saved in each format version reads back the same. */
        for (int major = 1; major <= 3; major++) {
            dk_tensor back = {0};
            snprintf(name, sizeof name, "b_%02zu_v%d.npy", d, major);
            assert_int_equal(dk_npy_load(tu_tmp_path(name), &back), DK_OK);
            assert_same_tensor(&originals[d], &back);
            dk_tensor_reset(&back);
        }
        dk_tensor_reset(&originals[d]);
    }

    dk_tensor t = {0};
    tu_assert_status(dk_npy_load(tu_tmp_path("fortran.npy"), &t), DK_ERR_UNSUPPORTED, "Fortran");
    tu_assert_status(dk_npy_load(tu_tmp_path("bigendian.npy"), &t), DK_ERR_UNSUPPORTED, "'>f4'");
    assert_null(t.data);
}

static void test_handwritten_headers(void **state)
{
    (void)state;
    const int32_t values[6] = {1, -2, 3, -4, 5, -6};
    static const struct {
        int major;
        const char *header;
    } cases[] = {
        {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }"},
        {1, "{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<i4\"}"},
        {1, "{ 'fortran_order' : False , 'descr' : '<i4' , 'shape' : ( 2 , 3 , ) }"},
        {1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L), }"},
        {2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }"},
        {3, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_tensor t = {0};
        write_npy(tu_tmp_path("hand.npy"), cases[i].major, cases[i].header, values, sizeof values);
        if (dk_npy_load(tu_tmp_path("hand.npy"), &t) != DK_OK)
            fail_msg("header %s: %s", cases[i].header, dk_last_error());
        assert_int_equal(t.dtype, DK_I32);
        assert_int_equal(t.ndim, 2);
        assert_int_equal(t.dims[0], 2);
        assert_int_equal(t.dims[1], 3);
        assert_memory_equal(t.data, values, sizeof values);
        dk_tensor_reset(&t);
    }
}

static void test_bad_headers(void **state)
{
    (void)state;
    const float data[16] = {0};
    static const struct {
        int major;
        const char *header;
        dk_status status;
        const char *needle;
    } cases[] = {
        {1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", DK_ERR_UNSUPPORTED,
         "Fortran"},
        {1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", DK_ERR_UNSUPPORTED,
         "'<c8'"},
        {1, "{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", DK_ERR_UNSUPPORTED,
         "'>i8'"},
        {1, "{'descr': '<U4', 'fortran_order': False, 'shape': (2,), }", DK_ERR_UNSUPPORTED,
         "'<U4'"},
        {1, "{'descr': 'O', 'fortran_order': False, 'shape': (2,), }", DK_ERR_UNSUPPORTED, "'O'"},
        {1, "{'descr': '<f4', 'fortran_order': False, }", DK_ERR_FORMAT, "missing"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", DK_ERR_FORMAT,
         "'x'"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, -3), }", DK_ERR_FORMAT,
         "non-negative"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1 2), }", DK_ERR_FORMAT, "shape"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': 4, }", DK_ERR_FORMAT, "tuple"},
        {1, "{'descr': '<f4', 'fortran_order': No, 'shape': (4,), }", DK_ERR_FORMAT,
         "fortran_order"},
        {1, "{'descr': '<f4, 'fortran_order': False, 'shape': (4,), }", DK_ERR_FORMAT, "header"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,) ", DK_ERR_FORMAT, "header"},
        {1, "['descr', '<f4']", DK_ERR_FORMAT, "not a dict"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }",
         DK_ERR_UNSUPPORTED, "more than 8"},
        {1,
         "{'descr': '<f4', 'fortran_order': False, "
         "'shape': (4294967296, 4294967296, 4294967296), }",
         DK_ERR_FORMAT, "overflow"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
         DK_ERR_FORMAT, "too large"},
        {4, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", DK_ERR_UNSUPPORTED,
         "version 4.0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_tensor t = {0};
        const char *path = tu_tmp_path("bad.npy");
        write_npy(path, cases[i].major, cases[i].header, data, sizeof data);
        dk_status s = dk_npy_load(path, &t);
        if (s != cases[i].status || !strstr(dk_last_error(), cases[i].needle) ||
            !strstr(dk_last_error(), path))
            fail_msg("header %s: got %s '%s', expected %s mentioning '%s'", cases[i].header,
                     dk_status_name(s), dk_last_error(), dk_status_name(cases[i].status),
                     cases[i].needle);
        assert_null(t.data);
    }
}

static void test_truncated_files(void **state)
{
    (void)state;
    const char *path = tu_tmp_path("truncated.npy");
    dk_tensor t = {0};

    /* Data cut short: the message names the file, expected and actual bytes. */
    const float data[10] = {0};
    write_npy(path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }", data, 12);
    tu_assert_status(dk_npy_load(path, &t), DK_ERR_FORMAT, "expected 40 bytes, found 12");
    assert_non_null(strstr(dk_last_error(), path));

    /* Every shorter prefix of a valid file fails cleanly. */
    dk_tensor full = {0};
    random_tensor(&full, DK_F64, 2, (int64_t[]){3, 4});
    assert_int_equal(dk_npy_save(tu_tmp_path("full.npy"), &full), DK_OK);
    size_t n;
    unsigned char *bytes = tu_read_file(tu_tmp_path("full.npy"), &n);
    for (size_t len = 0; len < n; len++) {
        tu_write_file(path, bytes, len);
        dk_status s = dk_npy_load(path, &t);
        if (s != DK_ERR_FORMAT) fail_msg("prefix of %zu bytes: %s", len, dk_status_name(s));
        assert_null(t.data);
    }
    free(bytes);
    dk_tensor_reset(&full);

    /* A header length beyond reason is refused before anything is allocated. */
    unsigned char huge[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0x7f};
    tu_write_file(path, huge, sizeof huge);
    tu_assert_status(dk_npy_load(path, &t), DK_ERR_FORMAT, "implausible");
}

static void test_missing_and_foreign_files(void **state)
{
    (void)state;
    dk_tensor t = {0};
    tu_assert_status(dk_npy_load(tu_tmp_path("absent.npy"), &t), DK_ERR_IO,
                     "No such file or directory");
    assert_non_null(strstr(dk_last_error(), "absent.npy"));
    tu_write_file(tu_tmp_path("text.npy"), "hello, world", 12);
    tu_assert_status(dk_npy_load(tu_tmp_path("text.npy"), &t), DK_ERR_FORMAT, "not a .npy file");
    tu_assert_status(dk_npy_load(tu_tmpdir(), &t), DK_ERR_IO, "is a directory");
    tu_assert_status(dk_npy_load(NULL, &t), DK_ERR_INVALID, NULL);
    /* a FIFO with no writer would block an open for reading forever */
    const char *fifo = tu_tmp_path("fifo.npy");
    remove(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    tu_assert_status(dk_npy_load(fifo, &t), DK_ERR_IO, "not a regular file");
    remove(fifo);
}

/* Random headers and random bit flips must give an error or a tensor, never a
 * crash (run under -fsanitize=address,undefined to make that strict). */
static void test_random_corruption(void **state)
{
    (void)state;
    const char *path = tu_tmp_path("random.npy");
    dk_tensor valid = {0};
    random_tensor(&valid, DK_I16, 3, (int64_t[]){2, 3, 5});
    assert_int_equal(dk_npy_save(tu_tmp_path("valid.npy"), &valid), DK_OK);
    dk_tensor_reset(&valid);
    size_t n;
    unsigned char *good = tu_read_file(tu_tmp_path("valid.npy"), &n);
    unsigned char *buf = malloc(n + 300);
    assert_non_null(buf);

    for (int round = 0; round < 2000; round++) {
        size_t len;
        if (round % 2 == 0) { /* magic and version kept, the rest random */
            len = 8 + tu_rng_next() % 300;
            memcpy(buf, good, 8);
            buf[6] = (unsigned char)(1 + tu_rng_next() % 3);
            for (size_t i = 8; i < len; i++) buf[i] = (unsigned char)tu_rng_next();
        } else { /* a valid file with a few header bytes flipped */
            len = n;
            memcpy(buf, good, n);
            for (int k = 0; k < 3; k++) buf[6 + tu_rng_next() % 60] ^= (unsigned char)tu_rng_next();
        }
        tu_write_file(path, buf, len);
        dk_tensor t = {0};
        dk_status s = dk_npy_load(path, &t);
        if (s == DK_OK)
            assert_int_equal(dk_tensor_nbytes(&t) <= n, 1);
        else
            assert_true(s == DK_ERR_FORMAT || s == DK_ERR_UNSUPPORTED);
        dk_tensor_reset(&t);
    }
    free(buf);
    free(good);
}

int main(void)
{
    tu_init("test_npy");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_dtype_and_shape),
        cmocka_unit_test(test_save_replaces_existing_file),
        cmocka_unit_test(test_save_errors),
        cmocka_unit_test(test_numpy_interop),
        cmocka_unit_test(test_handwritten_headers),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_truncated_files),
        cmocka_unit_test(test_missing_and_foreign_files),
        cmocka_unit_test(test_random_corruption),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
