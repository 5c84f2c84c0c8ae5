/* Unit tests for model inputs (input/image_*.c, preprocess.c, input.c):
 * format detection; PNG decoding of every colour type, bit depth, palette,
 * tRNS and interlacing against pixels computed independently by
 * tests/tools/input_refs.py; JPEG decoding (grey, CMYK, progressive) and the
 * photos in data/images against PIL; corrupt, truncated, random and oversized
 * files (errors, never crashes, nothing printed by libpng/libjpeg); and the
 * preprocessing against PIL + torchvision's ImageNet transforms.
 *
 * Tolerance for preprocessing: none. The resampling reproduces PIL's
 * fixed-point weights and uint8 rounding, JPEGs are decoded by the same
 * libjpeg with PIL's settings, and ToTensor/Normalize are the same float32
 * operations (x / 255, - mean, / std), so the tensors are identical; even a
 * last-bit difference (x * (1/255) instead of x / 255) is a regression here.
 * The max difference per case is printed.
 *
 * Parts needing /usr/bin/python3 with numpy, PIL (and torchvision, onnx for
 * their parts) are skipped with a reason when it is missing. */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deltakern/input.h"
#include "deltakern/onnx.h"
#include "test_util.h"

#define PHOTO_DIR DK_SOURCE_DIR "/data/images"
#define RELU_PB "/usr/share/libonnx-testdata/data/node/test_relu/test_data_set_0/input_0.pb"
#define PREPROCESS_TOLERANCE 0.0

/* ---- helpers --------------------------------------------------------------- */

static int have_refs; /* input_refs.py variants ran: DIR/variants.txt exists */
static int have_png, have_jpeg; /* decoders compiled in (probed in setup) */

/* Paths of the photos in data/images (NULL-terminated, static storage). */
static const char **photos(void)
{
    static char names[64][512];
    static const char *list[65];
    int n = 0;
    DIR *d = opendir(PHOTO_DIR);
    struct dirent *e;
    while (d && n < 64 && (e = readdir(d))) {
        const char *dot = strrchr(e->d_name, '.');
        if (!dot || (strcmp(dot, ".png") && strcmp(dot, ".jpg") && strcmp(dot, ".jpeg")))
            continue;
        snprintf(names[n], sizeof names[n], "%s/%s", PHOTO_DIR, e->d_name);
        list[n] = names[n];
        n++;
    }
    if (d) closedir(d);
    list[n] = NULL;
    return list;
}

/* One "<image> <expected.npy>" line of the variants manifest (0 at the end). */
static int next_variant(FILE *f, char *image, char *expected)
{
    return fscanf(f, "%511s %511s", image, expected) == 2;
}

/* ---- decoding with stderr watched ------------------------------------------ */

/* Decodes path with fd 2 redirected to a file; returns the status and stores
 * how many bytes the libraries printed (must be none). */
static dk_status decode_quietly(const char *path, unsigned char **rgb, int *w, int *h,
                                long *printed)
{
    char log[512];
    snprintf(log, sizeof log, "%s", tu_tmp_path("stderr.txt"));
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    dk_status s = dk_image_decode(path, rgb, w, h);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat st;
    *printed = stat(log, &st) == 0 ? (long)st.st_size : -1;
    return s;
}

/* Decoding path must fail with DK_ERR_FORMAT or DK_ERR_UNSUPPORTED, name the
 * file, and print nothing. When `must_fail` is 0 success is allowed too. */
static void expect_rejected(const char *path_arg, int must_fail)
{
    char path[512]; /* path_arg may live in tmp_path's ring, reused below */
    snprintf(path, sizeof path, "%s", path_arg);
    unsigned char *rgb = NULL;
    int w = 0, h = 0;
    long printed = 0;
    dk_status s = decode_quietly(path, &rgb, &w, &h, &printed);
    if (printed != 0) fail_msg("%s: the image library printed %ld bytes to stderr", path, printed);
    if (s == DK_OK) {
        if (must_fail) fail_msg("%s: corrupt file decoded without error", path);
        assert_true(w > 0 && h > 0);
        free(rgb);
        return;
    }
    if (s != DK_ERR_FORMAT && s != DK_ERR_UNSUPPORTED)
        fail_msg("%s: status %s (%s)", path, dk_status_name(s), dk_last_error());
    if (!strstr(dk_last_error(), path)) fail_msg("message '%s' lacks the path", dk_last_error());
}

/* A compiled-out decoder answers DK_ERR_UNSUPPORTED whatever the file holds;
 * a real one calls this junk corrupt. */
static int decoder_present(const char *name, const unsigned char *magic, size_t n)
{
    unsigned char junk[64] = {0};
    memcpy(junk, magic, n);
    tu_write_file(tu_tmp_path(name), junk, sizeof junk);
    unsigned char *rgb = NULL;
    int w, h;
    dk_status s = dk_image_decode(tu_tmp_path(name), &rgb, &w, &h);
    free(rgb);
    return s != DK_ERR_UNSUPPORTED;
}

static int can_decode(const char *path)
{
    return strstr(path, ".png") ? have_png : have_jpeg;
}

/* ---- fixtures ---------------------------------------------------------------- */

static int setup(void **state)
{
    if (tu_tmpdir_setup(state) != 0) return -1;
    have_png = decoder_present("probe.png", (const unsigned char *)"\x89PNG\r\n\x1a\n", 8);
    have_jpeg = decoder_present("probe.jpg", (const unsigned char *)"\xff\xd8\xff", 3);
    if (!have_png || !have_jpeg)
        printf("test_input: decoders compiled in: PNG %s, JPEG %s; checks needing the others "
               "are skipped\n", have_png ? "yes" : "no", have_jpeg ? "yes" : "no");
    if (tu_python_has("numpy, PIL")) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, TU_PYTHON " %s variants %s", TU_REFS_TOOL, tu_tmpdir());
        have_refs = system(cmd) == 0;
        if (!have_refs) printf("test_input: %s variants failed\n", TU_REFS_TOOL);
    } else {
        printf("test_input: " TU_PYTHON " with numpy and PIL missing: reference checks skipped\n");
    }
    return 0;
}

/* ---- tests: defaults and detection ------------------------------------------ */

static void test_preprocess_defaults(void **state)
{
    (void)state;
    dk_preprocess p;
    memset(&p, 0x5a, sizeof p);
    dk_preprocess_default(&p);
    assert_int_equal(p.height, 0);
    assert_int_equal(p.width, 0);
    assert_int_equal(p.resize, 0);
    assert_int_equal(p.resize_mode, DK_RESIZE_SHORTER);
    assert_int_equal(p.order, DK_CHANNELS_RGB);
    assert_true(p.scale == 1.0f / 255.0f);
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; c++) {
        assert_true(p.mean[c] == mean[c]);
        assert_true(p.std[c] == std[c]);
    }
}

static void test_detect(void **state)
{
    (void)state;
    dk_input_format fmt;
    for (const char **ph = photos(); *ph; ph++) {
        assert_int_equal(dk_input_detect(*ph, &fmt), DK_OK);
        assert_int_equal(fmt, strstr(*ph, ".png") ? DK_INPUT_PNG : DK_INPUT_JPEG);
    }
    dk_tensor t = {0};
    assert_int_equal(dk_tensor_alloc(&t, DK_F32, 1, (int64_t[]){4}), DK_OK);
    assert_int_equal(dk_npy_save(tu_tmp_path("a.npy"), &t), DK_OK);
    dk_tensor_reset(&t);
    assert_int_equal(dk_input_detect(tu_tmp_path("a.npy"), &fmt), DK_OK);
    assert_int_equal(fmt, DK_INPUT_NPY);

    /* A TensorProto has no magic: only its extension tells. */
    tu_write_file(tu_tmp_path("x.pb"), "\x08\x01\x10\x01", 4);
    assert_int_equal(dk_input_detect(tu_tmp_path("x.pb"), &fmt), DK_OK);
    assert_int_equal(fmt, DK_INPUT_PB);
    tu_write_file(tu_tmp_path("x.bin"), "\x08\x01\x10\x01", 4);
    tu_assert_status(dk_input_detect(tu_tmp_path("x.bin"), &fmt), DK_ERR_FORMAT,
                     "not a PNG, JPEG, .npy or .pb file");
    assert_non_null(strstr(dk_last_error(), "x.bin"));
    tu_write_file(tu_tmp_path("empty.png"), "", 0);
    tu_assert_status(dk_input_detect(tu_tmp_path("empty.png"), &fmt), DK_ERR_FORMAT, "empty.png");

    tu_assert_status(dk_input_detect(tu_tmp_path("absent.jpg"), &fmt), DK_ERR_IO,
                     "No such file or directory");
    assert_non_null(strstr(dk_last_error(), "absent.jpg"));
    tu_assert_status(dk_input_detect(tu_tmpdir(), &fmt), DK_ERR_IO, "Is a directory");
}

static void test_decode_errors_simple(void **state)
{
    (void)state;
    unsigned char *rgb = NULL;
    int w, h;
    tu_assert_status(dk_image_decode(tu_tmp_path("absent.png"), &rgb, &w, &h), DK_ERR_IO,
                     "No such file or directory");
    assert_non_null(strstr(dk_last_error(), "absent.png"));
    dk_tensor t = {0};
    assert_int_equal(dk_tensor_alloc(&t, DK_U8, 1, (int64_t[]){4}), DK_OK);
    assert_int_equal(dk_npy_save(tu_tmp_path("b.npy"), &t), DK_OK);
    dk_tensor_reset(&t);
    tu_assert_status(dk_image_decode(tu_tmp_path("b.npy"), &rgb, &w, &h), DK_ERR_FORMAT,
                     "not a PNG or JPEG");
    assert_null(rgb);
}

/* ---- tests: decoding against independent references ------------------------- */

static void test_decode_matches_reference(void **state)
{
    (void)state;
    if (!have_refs || (!have_png && !have_jpeg)) skip();
    FILE *list = fopen(tu_tmp_path("variants.txt"), "r");
    assert_non_null(list);
    char image[512], expected[512];
    int n = 0;
    while (next_variant(list, image, expected)) {
        if (!can_decode(image)) continue;
        unsigned char *rgb = NULL;
        int w = 0, h = 0;
        long printed = 0;
        dk_status s = decode_quietly(image, &rgb, &w, &h, &printed);
        if (s != DK_OK) fail_msg("%s: %s", image, dk_last_error());
        if (printed) fail_msg("%s: %ld bytes printed to stderr", image, printed);
        dk_tensor ref = {0};
        assert_int_equal(dk_npy_load(expected, &ref), DK_OK);
        assert_int_equal(ref.dtype, DK_U8);
        assert_int_equal(ref.ndim, 3);
        if (ref.dims[0] != h || ref.dims[1] != w || ref.dims[2] != 3)
            fail_msg("%s: decoded %dx%d, expected %lldx%lld", image, w, h,
                     (long long)ref.dims[1], (long long)ref.dims[0]);
        size_t n_bytes = (size_t)w * h * 3, diffs = 0;
        for (size_t i = 0; i < n_bytes; i++) diffs += rgb[i] != ((unsigned char *)ref.data)[i];
        if (diffs)
            fail_msg("%s: %zu of %zu bytes differ from the reference", image, diffs, n_bytes);
        free(rgb);
        dk_tensor_reset(&ref);
        n++;
    }
    fclose(list);
    printf("test_input: %d images decoded identically to their references\n", n);
    assert_true(n > 0);
}

/* Extra bytes between JPEG markers only earn a libjpeg warning: the image
 * must still decode, identically, and silently. */
static void test_jpeg_harmless_warning_is_silent(void **state)
{
    (void)state;
    if (!have_refs || !have_jpeg) skip();
    size_t n;
    unsigned char *jpg = tu_read_file(tu_tmp_path("rgb444.jpg"), &n);
    size_t sof = 2;
    while (sof + 1 < n && !(jpg[sof] == 0xff && jpg[sof + 1] == 0xc0)) sof++;
    assert_true(sof + 1 < n);
    unsigned char *patched = malloc(n + 2);
    assert_non_null(patched);
    memcpy(patched, jpg, sof);
    patched[sof] = 0x12;
    patched[sof + 1] = 0x34;
    memcpy(patched + sof + 2, jpg + sof, n - sof);
    tu_write_file(tu_tmp_path("extraneous.jpg"), patched, n + 2);

    unsigned char *a = NULL, *b = NULL;
    int wa, ha, wb, hb;
    long printed = 0;
    assert_int_equal(dk_image_decode(tu_tmp_path("rgb444.jpg"), &a, &wa, &ha), DK_OK);
    assert_int_equal(decode_quietly(tu_tmp_path("extraneous.jpg"), &b, &wb, &hb, &printed), DK_OK);
    assert_int_equal(printed, 0);
    assert_int_equal(wa, wb);
    assert_int_equal(ha, hb);
    assert_memory_equal(a, b, (size_t)wa * ha * 3);
    free(a);
    free(b);
    free(patched);
    free(jpg);
}

static void test_compiled_out_decoders_say_so(void **state)
{
    (void)state;
    if (have_png && have_jpeg) skip();
    unsigned char *rgb = NULL;
    int w, h;
    if (!have_png)
        tu_assert_status(dk_image_decode(tu_tmp_path("probe.png"), &rgb, &w, &h),
                         DK_ERR_UNSUPPORTED, "PNG support not compiled in");
    if (!have_jpeg)
        tu_assert_status(dk_image_decode(tu_tmp_path("probe.jpg"), &rgb, &w, &h),
                         DK_ERR_UNSUPPORTED, "JPEG support not compiled in");
}

/* ---- tests: bad input --------------------------------------------------------- */

/* Index just past the end of the image data proper (IEND chunk or the last
 * JPEG EOI marker): any cut before it loses data. */
static size_t end_of_image(const unsigned char *b, size_t n, int is_png)
{
    if (is_png) return n;
    for (size_t i = n - 1; i > 0; i--)
        if (b[i - 1] == 0xff && b[i] == 0xd9) return i + 1;
    return n;
}

static void check_truncations(const char *path)
{
    if (!can_decode(path)) return;
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    int is_png = b[0] == 0x89;
    size_t end = end_of_image(b, n, is_png);
    size_t cuts[] = {0,       1,       2,       3,         8,        20,      33,
                     50,      100,     300,     end / 4,   end / 2,  end * 3 / 4,
                     end - 12, end - 4, end - 2, end - 1};
    char out[512];
    snprintf(out, sizeof out, "%s", tu_tmp_path(is_png ? "cut.png" : "cut.jpg"));
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        if (cuts[i] >= end) continue;
        tu_write_file(out, b, cuts[i]);
        expect_rejected(out, 1);
        size_t magic = is_png ? 8 : 3;
        const char *kind = is_png ? "corrupt PNG: " : "corrupt JPEG: ";
        if (cuts[i] >= magic && !strstr(dk_last_error(), kind))
            fail_msg("%s cut to %zu bytes: message '%s' lacks '%s'", path, cuts[i],
                     dk_last_error(), kind);
    }
    free(b);
}

static void test_truncated_images(void **state)
{
    (void)state;
    int n = 0;
    for (const char **ph = photos(); *ph; ph++, n++) check_truncations(*ph);
    if (have_refs) {
        const char *generated[] = {"rgb8_interlaced.png", "palette2.png", "grey16.png",
                                   "progressive.jpg", "cmyk.jpg", "grey.jpg"};
        for (size_t i = 0; i < sizeof generated / sizeof generated[0]; i++, n++)
            check_truncations(tu_tmp_path(generated[i]));
    }
    if (n == 0) skip();
}

/* Random bytes behind a valid magic, and random byte flips in real files. */
static void test_random_and_flipped_bytes(void **state)
{
    (void)state;
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char jpeg_magic[3] = {0xff, 0xd8, 0xff};
    unsigned char buf[4096];
    for (int round = 0; round < 200; round++) {
        int png = round % 2 == 0;
        size_t len = 8 + tu_rng_next() % (sizeof buf - 8);
        for (size_t i = 0; i < len; i++) buf[i] = (unsigned char)tu_rng_next();
        memcpy(buf, png ? png_magic : jpeg_magic, png ? 8 : 3);
        char path[512];
        snprintf(path, sizeof path, "%s", tu_tmp_path(png ? "random.png" : "random.jpg"));
        tu_write_file(path, buf, len);
        expect_rejected(path, 1);
    }
    for (const char **ph = photos(); *ph; ph++) {
        size_t n;
        unsigned char *b = tu_read_file(*ph, &n);
        int is_png = b[0] == 0x89;
        char path[512];
        snprintf(path, sizeof path, "%s", tu_tmp_path(is_png ? "flipped.png" : "flipped.jpg"));
        for (int round = 0; round < 6; round++) {
            unsigned char *copy = malloc(n);
            assert_non_null(copy);
            memcpy(copy, b, n);
            for (int k = 0; k < 4; k++) {
                size_t at = 3 + tu_rng_next() % (n - 3);
                copy[at] ^= (unsigned char)(1 + tu_rng_next() % 255);
            }
            tu_write_file(path, copy, n);
            /* A flipped PNG byte breaks a CRC; a flipped JPEG byte may just
             * change pixels, so success is allowed there. */
            expect_rejected(path, 0);
            free(copy);
        }
        free(b);
    }
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static size_t put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return 4;
}

/* A PNG chunk (length, tag, data, CRC) at p; returns its size. */
static size_t put_chunk(unsigned char *p, const char *tag, const unsigned char *data, size_t n)
{
    size_t at = put_be32(p, (uint32_t)n);
    memcpy(p + at, tag, 4);
    if (n) memcpy(p + at + 4, data, n);
    at += 4 + n;
    at += put_be32(p + at, crc32_of(p + 4, 4 + n));
    return at;
}

static void write_png_header_only(const char *path, uint32_t w, uint32_t h)
{
    unsigned char file[128], ihdr[13] = {0};
    memcpy(file, "\x89PNG\r\n\x1a\n", 8);
    put_be32(ihdr, w);
    put_be32(ihdr + 4, h);
    ihdr[8] = 8; /* bit depth */
    ihdr[9] = 2; /* RGB */
    size_t n = 8;
    n += put_chunk(file + n, "IHDR", ihdr, sizeof ihdr);
    n += put_chunk(file + n, "IDAT", NULL, 0);
    n += put_chunk(file + n, "IEND", NULL, 0);
    tu_write_file(path, file, n);
}

static void test_oversized_images(void **state)
{
    (void)state;
    unsigned char *rgb = NULL;
    int w, h;
    if (!have_png) goto jpeg;
    write_png_header_only(tu_tmp_path("wide.png"), 40000, 10);
    tu_assert_status(dk_image_decode(tu_tmp_path("wide.png"), &rgb, &w, &h), DK_ERR_UNSUPPORTED,
                     "40000x10");
    assert_non_null(strstr(dk_last_error(), "30000"));
    write_png_header_only(tu_tmp_path("tall.png"), 10, 2000000000u);
    tu_assert_status(dk_image_decode(tu_tmp_path("tall.png"), &rgb, &w, &h), DK_ERR_UNSUPPORTED,
                     "10x2000000000");

jpeg:
    /* A real JPEG whose frame header claims 40000 pixels a side. */
    if (!have_jpeg) return;
    const char **ph = photos();
    while (*ph && !strstr(*ph, ".jpg")) ph++;
    if (!*ph) return;
    size_t n;
    unsigned char *b = tu_read_file(*ph, &n);
    size_t sof = 2;
    while (sof + 9 < n && !(b[sof] == 0xff && (b[sof + 1] == 0xc0 || b[sof + 1] == 0xc2))) sof++;
    assert_true(sof + 9 < n);
    b[sof + 7] = 40000 >> 8; /* FF Cx, length(2), precision(1), height(2), width(2) */
    b[sof + 8] = 40000 & 0xff;
    tu_write_file(tu_tmp_path("wide.jpg"), b, n);
    free(b);
    tu_assert_status(dk_image_decode(tu_tmp_path("wide.jpg"), &rgb, &w, &h), DK_ERR_UNSUPPORTED,
                     "more than 30000");
    assert_null(rgb);
}

/* ---- tests: preprocessing against torchvision ------------------------------- */

typedef struct prep_case {
    const char *image; /* file name in data/images, or "@name" for one in tmpdir */
    int height, width;
    int resize;        /* given to deltakern (0 = default) */
    int torch_resize;  /* given to torchvision */
    dk_resize_mode mode;
    dk_channel_order order;
    float mean[3], std[3];
} prep_case;

#define IMAGENET_MEAN {0.485f, 0.456f, 0.406f}
#define IMAGENET_STD {0.229f, 0.224f, 0.225f}

static void case_image_path(const prep_case *c, char *buf, size_t n)
{
    if (c->image[0] == '@')
        snprintf(buf, n, "%s/%s", tu_tmpdir(), c->image + 1);
    else
        snprintf(buf, n, "%s/%s", PHOTO_DIR, c->image);
}

/* Builds the cases: every photo under several settings, plus generated images
 * ("@name", in tmpdir) chosen for awkward sizes and decoder paths. */
static int build_cases(prep_case *cases, int cap)
{
    static char names[64][256];
    int n = 0, k = 0;
    for (const char **ph = photos(); *ph && k < 64; ph++, k++) {
        if (!can_decode(*ph)) continue;
        snprintf(names[k], sizeof names[k], "%s", strrchr(*ph, '/') + 1);
        const prep_case per_photo[] = {
            /* ImageNet defaults: 224 after 256, 299 after 342 */
            {names[k], 224, 224, 0, 256, DK_RESIZE_SHORTER, DK_CHANNELS_RGB, IMAGENET_MEAN,
             IMAGENET_STD},
            {names[k], 299, 299, 0, 342, DK_RESIZE_SHORTER, DK_CHANNELS_RGB, IMAGENET_MEAN,
             IMAGENET_STD},
            {names[k], 224, 224, 0, 0, DK_RESIZE_EXACT, DK_CHANNELS_RGB, IMAGENET_MEAN,
             IMAGENET_STD},
            {names[k], 200, 160, 181, 181, DK_RESIZE_SHORTER, DK_CHANNELS_BGR,
             {0.5f, 0.4f, 0.3f}, {0.2f, 0.3f, 0.25f}},
            /* resize smaller than the crop: torchvision pads with zeros */
            {names[k], 224, 224, 150, 150, DK_RESIZE_SHORTER, DK_CHANNELS_RGB, IMAGENET_MEAN,
             IMAGENET_STD},
        };
        for (size_t i = 0; i < sizeof per_photo / sizeof per_photo[0] && n < cap; i++)
            cases[n++] = per_photo[i];
    }
    if (!have_refs) return n;
    const prep_case generated[] = {
        {"@noise_7x5.png", 224, 224, 0, 256, DK_RESIZE_SHORTER, DK_CHANNELS_RGB, IMAGENET_MEAN,
         IMAGENET_STD},
        {"@noise_17x300.png", 64, 64, 73, 73, DK_RESIZE_SHORTER, DK_CHANNELS_RGB, IMAGENET_MEAN,
         IMAGENET_STD},
        {"@noise_1000x37.png", 64, 64, 75, 75, DK_RESIZE_SHORTER, DK_CHANNELS_RGB,
         IMAGENET_MEAN, IMAGENET_STD},
        {"@noise_1000x37.png", 32, 500, 0, 0, DK_RESIZE_EXACT, DK_CHANNELS_RGB, IMAGENET_MEAN,
         IMAGENET_STD},
        {"@noise_224x224.png", 224, 224, 224, 224, DK_RESIZE_SHORTER, DK_CHANNELS_RGB,
         IMAGENET_MEAN, IMAGENET_STD},
        {"@noise_224x224.png", 224, 224, 0, 256, DK_RESIZE_SHORTER, DK_CHANNELS_RGB,
         IMAGENET_MEAN, IMAGENET_STD},
        {"@noise_255x257.png", 97, 101, 103, 103, DK_RESIZE_SHORTER, DK_CHANNELS_BGR,
         IMAGENET_MEAN, IMAGENET_STD},
        {"@noise_900x2.png", 224, 224, 0, 256, DK_RESIZE_SHORTER, DK_CHANNELS_RGB,
         IMAGENET_MEAN, IMAGENET_STD},
        {"@noise_900x2.png", 299, 299, 0, 0, DK_RESIZE_EXACT, DK_CHANNELS_RGB, IMAGENET_MEAN,
         IMAGENET_STD},
        {"@grey8.png", 32, 32, 40, 40, DK_RESIZE_SHORTER, DK_CHANNELS_RGB, IMAGENET_MEAN,
         IMAGENET_STD},
        {"@palette4_interlaced.png", 20, 20, 0, 23, DK_RESIZE_SHORTER, DK_CHANNELS_RGB,
         IMAGENET_MEAN, IMAGENET_STD},
        {"@progressive.jpg", 24, 24, 27, 27, DK_RESIZE_SHORTER, DK_CHANNELS_RGB, IMAGENET_MEAN,
         IMAGENET_STD},
        {"@cmyk.jpg", 24, 24, 30, 30, DK_RESIZE_SHORTER, DK_CHANNELS_RGB, IMAGENET_MEAN,
         IMAGENET_STD},
        {"@tiny.jpg", 224, 224, 0, 256, DK_RESIZE_SHORTER, DK_CHANNELS_RGB, IMAGENET_MEAN,
         IMAGENET_STD},
    };
    for (size_t i = 0; i < sizeof generated / sizeof generated[0] && n < cap; i++)
        if (can_decode(generated[i].image)) cases[n++] = generated[i];
    return n;
}

static void write_torch_spec(const prep_case *cases, int n, const char *spec)
{
    FILE *f = fopen(spec, "w");
    assert_non_null(f);
    for (int i = 0; i < n; i++) {
        const prep_case *c = &cases[i];
        char image[512], out[64];
        case_image_path(c, image, sizeof image);
        snprintf(out, sizeof out, "torch_%03d.npy", i);
        /* %.9g: the float32 constants reach torch unchanged */
        fprintf(f, "%s %s %d %d %d %s %s %.9g %.9g %.9g %.9g %.9g %.9g\n", image, tu_tmp_path(out),
                c->height, c->width, c->torch_resize,
                c->mode == DK_RESIZE_EXACT ? "exact" : "shorter",
                c->order == DK_CHANNELS_BGR ? "bgr" : "rgb", c->mean[0], c->mean[1], c->mean[2],
                c->std[0], c->std[1], c->std[2]);
    }
    fclose(f);
}

static void test_preprocess_matches_torchvision(void **state)
{
    (void)state;
    if (!tu_python_has("numpy, PIL, torchvision")) {
        printf("test_input: torchvision missing: preprocessing comparison skipped\n");
        skip();
    }
    prep_case cases[128];
    int n = build_cases(cases, 128);
    if (n == 0) skip();
    write_torch_spec(cases, n, tu_tmp_path("torch_spec.txt"));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, TU_PYTHON " %s preprocess %s", TU_REFS_TOOL,
             tu_tmp_path("torch_spec.txt"));
    assert_int_equal(system(cmd), 0);

    double worst = 0.0;
    for (int i = 0; i < n; i++) {
        const prep_case *c = &cases[i];
        dk_preprocess p;
        dk_preprocess_default(&p);
        p.height = c->height;
        p.width = c->width;
        p.resize = c->resize;
        p.resize_mode = c->mode;
        p.order = c->order;
        memcpy(p.mean, c->mean, sizeof p.mean);
        memcpy(p.std, c->std, sizeof p.std);

        char image[512], ref_name[64];
        case_image_path(c, image, sizeof image);
        snprintf(ref_name, sizeof ref_name, "torch_%03d.npy", i);
        dk_tensor ours = {0}, ref = {0};
        if (dk_input_load(image, &p, &ours) != DK_OK) fail_msg("%s: %s", image, dk_last_error());
        assert_int_equal(dk_npy_load(tu_tmp_path(ref_name), &ref), DK_OK);
        assert_int_equal(ours.dtype, DK_F32);
        assert_int_equal(ours.ndim, 4);
        assert_int_equal(ref.ndim, 4);
        for (int d = 0; d < 4; d++) assert_int_equal(ours.dims[d], ref.dims[d]);
        assert_int_equal(ours.dims[2], c->height);
        assert_int_equal(ours.dims[3], c->width);

        const float *a = ours.data, *b = ref.data;
        double max_diff = 0.0;
        int64_t n_diff = 0;
        for (int64_t j = 0; j < dk_tensor_numel(&ours); j++) {
            double d = fabs((double)a[j] - (double)b[j]);
            if (!(d <= max_diff)) max_diff = d; /* NaN propagates */
            n_diff += a[j] != b[j];
        }
        printf("test_input: %-22s %3dx%-3d resize %3d %-7s %s: max |diff| %.3g (%lld of %lld "
               "values differ)\n",
               strrchr(image, '/') + 1, c->height, c->width, c->torch_resize,
               c->mode == DK_RESIZE_EXACT ? "exact" : "shorter",
               c->order == DK_CHANNELS_BGR ? "BGR" : "RGB", max_diff, (long long)n_diff,
               (long long)dk_tensor_numel(&ours));
        if (!(max_diff <= worst)) worst = max_diff;
        dk_tensor_reset(&ours);
        dk_tensor_reset(&ref);
    }
    printf("test_input: preprocessing vs PIL + torchvision, %d cases: max |diff| %.3g\n", n,
           worst);
    assert_true(worst <= PREPROCESS_TOLERANCE);
}

static void test_preprocess_argument_errors(void **state)
{
    (void)state;
    const unsigned char rgb[2 * 2 * 3] = {0};
    dk_preprocess p;
    dk_tensor t = {0};
    dk_preprocess_default(&p);
    tu_assert_status(dk_image_preprocess(rgb, 2, 2, &p, &t), DK_ERR_INVALID, "not set");
    p.height = p.width = 4;
    tu_assert_status(dk_image_preprocess(rgb, 0, 2, &p, &t), DK_ERR_INVALID, "0x2");
    p.std[1] = 0;
    tu_assert_status(dk_image_preprocess(rgb, 2, 2, &p, &t), DK_ERR_INVALID, "std");
    p.std[1] = 0.224f;
    p.resize = -1;
    tu_assert_status(dk_image_preprocess(rgb, 2, 2, &p, &t), DK_ERR_INVALID, "resize");
    p.resize = 0;
    p.resize_mode = (dk_resize_mode)7;
    tu_assert_status(dk_image_preprocess(rgb, 2, 2, &p, &t), DK_ERR_INVALID, "resize mode");
    p.resize_mode = DK_RESIZE_EXACT;
    p.scale = NAN;
    tu_assert_status(dk_image_preprocess(rgb, 2, 2, &p, &t), DK_ERR_INVALID, "scale");
    assert_null(t.data);
    p.scale = 1.0f / 255.0f;
    assert_int_equal(dk_image_preprocess(rgb, 2, 2, &p, &t), DK_OK);
    assert_int_equal(t.dims[2], 4);
    dk_tensor_reset(&t);
}

/* ---- tests: dk_input_load --------------------------------------------------- */

static void test_input_load_dispatch(void **state)
{
    (void)state;
    dk_tensor t = {0}, u = {0};
    dk_preprocess p;
    dk_preprocess_default(&p);

    /* Images need the network input size. */
    const char **ph = photos();
    if (*ph) {
        tu_assert_status(dk_input_load(*ph, &p, &t), DK_ERR_INVALID, *ph);
        tu_assert_status(dk_input_load(*ph, NULL, &t), DK_ERR_INVALID, "height");
        assert_null(t.data);
    }

    /* .npy files come back as stored. */
    assert_int_equal(dk_tensor_alloc(&u, DK_I64, 2, (int64_t[]){2, 3}), DK_OK);
    for (int i = 0; i < 6; i++) ((int64_t *)u.data)[i] = (int64_t)(tu_rng_next() >> 1);
    assert_int_equal(dk_npy_save(tu_tmp_path("in.npy"), &u), DK_OK);
    assert_int_equal(dk_input_load(tu_tmp_path("in.npy"), &p, &t), DK_OK);
    assert_int_equal(t.dtype, DK_I64);
    assert_memory_equal(t.data, u.data, 6 * sizeof(int64_t));
    dk_tensor_reset(&t);
    dk_tensor_reset(&u);

    tu_assert_status(dk_input_load(tu_tmp_path("absent.npy"), &p, &t), DK_ERR_IO, "absent.npy");
    tu_write_file(tu_tmp_path("junk.dat"), "junk", 4);
    tu_assert_status(dk_input_load(tu_tmp_path("junk.dat"), &p, &t), DK_ERR_FORMAT,
                     "not a PNG, JPEG, .npy or .pb file");

    /* .pb files go to the ONNX tensor loader: same result as calling it. */
    if (access(RELU_PB, R_OK) != 0) {
        printf("test_input: %s missing: .pb dispatch not checked\n", RELU_PB);
        return;
    }
    dk_status direct = dk_onnx_load_tensor_file(RELU_PB, &u);
    dk_status via = dk_input_load(RELU_PB, &p, &t);
    assert_int_equal(via, direct);
    if (direct == DK_OK) {
        assert_int_equal(t.dtype, u.dtype);
        assert_int_equal(t.ndim, u.ndim);
        assert_memory_equal(t.data, u.data, dk_tensor_nbytes(&u));
        if (tu_python_has("numpy, onnx")) {
            char cmd[1024];
            snprintf(cmd, sizeof cmd, TU_PYTHON " %s pb %s %s", TU_REFS_TOOL, RELU_PB,
                     tu_tmp_path("relu.npy"));
            assert_int_equal(system(cmd), 0);
            dk_tensor ref = {0};
            assert_int_equal(dk_npy_load(tu_tmp_path("relu.npy"), &ref), DK_OK);
            assert_int_equal(ref.dtype, t.dtype);
            assert_int_equal(ref.ndim, t.ndim);
            assert_memory_equal(ref.data, t.data, dk_tensor_nbytes(&ref));
            dk_tensor_reset(&ref);
        }
    }
    dk_tensor_reset(&t);
    dk_tensor_reset(&u);
}

int main(void)
{
    tu_init("test_input");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preprocess_defaults),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_decode_errors_simple),
        cmocka_unit_test(test_decode_matches_reference),
        cmocka_unit_test(test_jpeg_harmless_warning_is_silent),
        cmocka_unit_test(test_compiled_out_decoders_say_so),
        cmocka_unit_test(test_truncated_images),
        cmocka_unit_test(test_random_and_flipped_bytes),
        cmocka_unit_test(test_oversized_images),
        cmocka_unit_test(test_preprocess_matches_torchvision),
        cmocka_unit_test(test_preprocess_argument_errors),
        cmocka_unit_test(test_input_load_dispatch),
    };
    return cmocka_run_group_tests(tests, setup, tu_tmpdir_teardown);
}
