/* NumPy .npy files: format versions 1.0, 2.0 and 3.0, little-endian, C order.
 *
 * Layout: "\x93NUMPY", major, minor, header length (2 bytes little-endian in
 * 1.0, 4 bytes in 2.0 and 3.0), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }
 * padded with spaces and a newline, then the raw array data. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deltakern/input.h"
#include "input/npy.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/text.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* Longer headers than this are refused rather than read (numpy's own reader
 * stops at 10000 bytes). */
#define NPY_MAX_HEADER (1 << 20)
/* numpy aligns the data to this many bytes. */
#define NPY_ALIGN 64

/* ---- dtypes -------------------------------------------------------------- */

/* The descr type codes we map, e.g. 'f' 4 = '<f4'. */
static const struct npy_type {
    char kind;
    int size;
    dk_dtype dtype;
} npy_types[] = {
    {'f', 4, DK_F32}, {'f', 8, DK_F64}, {'f', 2, DK_F16}, {'i', 8, DK_I64},
    {'i', 4, DK_I32}, {'i', 2, DK_I16}, {'i', 1, DK_I8},  {'u', 1, DK_U8},
    {'u', 2, DK_U16}, {'u', 4, DK_U32}, {'u', 8, DK_U64}, {'b', 1, DK_BOOL},
};

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* '<f4' -> DK_F32. Big-endian and unknown descrs are unsupported. */
static dk_status dtype_from_descr(const char *path, const char *descr, dk_dtype *dtype)
{
    char order = descr[0], kind = descr[0] ? descr[1] : '\0';
    char *end = NULL;
    long size = kind ? strtol(descr + 2, &end, 10) : 0;
    int known_order = order == '<' || order == '>' || order == '|' || order == '=';
    if (known_order && kind && end && *end == '\0') {
        for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++) {
            if (npy_types[i].kind != kind || npy_types[i].size != size) continue;
            if (order == '>' && size > 1) break;
            *dtype = npy_types[i].dtype;
            return DK_OK;
        }
    }
    return dk__error(DK_ERR_UNSUPPORTED,
                     "%s: .npy dtype '%s' is not supported (little-endian f2/f4/f8, i1-i8, "
                     "u1-u8 and b1 are)",
                     path, DK_ESC(descr));
}

/* DK_F32 -> '<f4' (one-byte types have no byte order: '|u1'). */
static int descr_from_dtype(dk_dtype dtype, char *descr, size_t n)
{
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++) {
        if (npy_types[i].dtype != dtype) continue;
        snprintf(descr, n, "%c%c%d", npy_types[i].size == 1 ? '|' : '<', npy_types[i].kind,
                 npy_types[i].size);
        return 1;
    }
    return 0;
}

/* ---- header parsing ------------------------------------------------------ */

typedef struct npy_header {
    char descr[32];
    int fortran_order;
    int ndim;
    int64_t dims[DK_MAX_DIMS];
} npy_header;

typedef struct cursor {
    const char *p, *end;
    const char *path;
} cursor;

static dk_status malformed(const cursor *c, const char *what)
{
    return dk__error(DK_ERR_FORMAT, "%s: malformed .npy header: %s", c->path, what);
}

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* Skips spaces, then consumes ch if it comes next. */
static int accept(cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted Python string without escapes: 'descr' or "descr". */
static dk_status parse_string(cursor *c, char *buf, size_t n)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return malformed(c, "expected a string");
    char quote = *c->p++;
    size_t len = 0;
    while (c->p < c->end && *c->p != quote) {
        if (len + 1 >= n) return malformed(c, "string too long");
        buf[len++] = *c->p++;
    }
    if (c->p >= c->end) return malformed(c, "unterminated string");
    c->p++;
    buf[len] = '\0';
    return DK_OK;
}

static dk_status parse_bool(cursor *c, int *value)
{
    skip_space(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && memcmp(c->p, "True", 4) == 0) {
        c->p += 4;
        *value = 1;
    } else if (left >= 5 && memcmp(c->p, "False", 5) == 0) {
        c->p += 5;
        *value = 0;
    } else {
        return malformed(c, "fortran_order is neither True nor False");
    }
    return DK_OK;
}

static dk_status parse_dim(cursor *c, int64_t *dim)
{
    skip_space(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return malformed(c, "shape holds something other than non-negative integers");
    int64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (v > (INT64_MAX - 9) / 10) return malformed(c, "dimension too large");
        v = v * 10 + (*c->p++ - '0');
    }
    if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 long literal */
    *dim = v;
    return DK_OK;
}

/* A tuple of integers: (), (5,), (1, 3, 224, 224). */
static dk_status parse_shape(cursor *c, npy_header *h)
{
    if (!accept(c, '(')) return malformed(c, "shape is not a tuple");
    h->ndim = 0;
    if (accept(c, ')')) return DK_OK;
    for (;;) {
        int64_t dim = 0;
        DK_TRY(parse_dim(c, &dim));
        if (h->ndim == DK_MAX_DIMS)
            return dk__error(DK_ERR_UNSUPPORTED, "%s: .npy array has more than %d dimensions",
                             c->path, DK_MAX_DIMS);
        h->dims[h->ndim++] = dim;
        int comma = accept(c, ',');
        if (accept(c, ')')) return DK_OK;
        if (!comma) return malformed(c, "shape tuple lacks a ',' or ')'");
    }
}

static dk_status parse_header(const char *path, const char *text, size_t len, npy_header *h)
{
    cursor c = {text, text + len, path};
    int seen_descr = 0, seen_order = 0, seen_shape = 0;

    memset(h, 0, sizeof *h);
    if (!accept(&c, '{')) return malformed(&c, "not a dict");
    while (!accept(&c, '}')) {
        char key[32];
        DK_TRY(parse_string(&c, key, sizeof key));
        if (!accept(&c, ':')) return malformed(&c, "expected ':' after a key");
        if (strcmp(key, "descr") == 0) {
            DK_TRY(parse_string(&c, h->descr, sizeof h->descr));
            seen_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            DK_TRY(parse_bool(&c, &h->fortran_order));
            seen_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            DK_TRY(parse_shape(&c, h));
            seen_shape = 1;
        } else {
            return dk__error(DK_ERR_FORMAT, "%s: malformed .npy header: unexpected key '%s'",
                             path, DK_ESC(key));
        }
        if (!accept(&c, ',')) {
            if (!accept(&c, '}')) return malformed(&c, "expected ',' or '}'");
            break;
        }
    }
    if (!seen_descr || !seen_order || !seen_shape)
        return malformed(&c, "'descr', 'fortran_order' or 'shape' is missing");
    return DK_OK;
}

/* ---- loading ------------------------------------------------------------- */

static uint32_t read_le(const unsigned char *b, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

/* Reads the preamble and header text; leaves f at the start of the data. */
static dk_status read_header(const char *path, FILE *f, npy_header *h)
{
    unsigned char pre[12];
    size_t got = fread(pre, 1, 8, f);
    if (ferror(f)) return dk__error(DK_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    if (got != 8 || memcmp(pre, npy_magic, sizeof npy_magic) != 0)
        return dk__error(DK_ERR_FORMAT, "%s: not a .npy file (no \\x93NUMPY magic)", path);
    int major = pre[6], minor = pre[7];
    int len_bytes = major == 1 ? 2 : 4;
    if (major < 1 || major > 3 || minor != 0)
        return dk__error(DK_ERR_UNSUPPORTED,
                         "%s: .npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)",
                         path, major, minor);
    if (fread(pre + 8, 1, (size_t)len_bytes, f) != (size_t)len_bytes)
        return dk__error(DK_ERR_FORMAT, "%s: truncated .npy header", path);
    uint32_t len = read_le(pre + 8, len_bytes);
    if (len > NPY_MAX_HEADER)
        return dk__error(DK_ERR_FORMAT, "%s: .npy header of %" PRIu32 " bytes is implausible",
                         path, len);

    char *text = malloc(len + 1u);
    if (!text) return dk__error(DK_ERR_NOMEM, "%s: cannot allocate the .npy header", path);
    dk_status s = DK_OK;
    if (fread(text, 1, len, f) != len)
        s = dk__error(DK_ERR_FORMAT, "%s: truncated .npy header", path);
    else
        s = parse_header(path, text, len, h);
    free(text);
    return s;
}

/* Number of data bytes the header announces, with overflow checks. */
static dk_status data_size(const char *path, const npy_header *h, size_t elem, uint64_t *bytes)
{
    uint64_t n = elem;
    for (int i = 0; i < h->ndim; i++) {
        uint64_t d = (uint64_t)h->dims[i];
        if (d != 0 && n > (UINT64_MAX / 2) / d)
            return dk__error(DK_ERR_FORMAT, "%s: .npy shape overflows", path);
        n *= d;
    }
    *bytes = n;
    return DK_OK;
}

static dk_status read_data(const char *path, FILE *f, const npy_header *h, dk_tensor *t)
{
    dk_dtype dtype = DK_DTYPE_UNDEFINED;
    DK_TRY(dtype_from_descr(path, h->descr, &dtype));
    if (h->fortran_order)
        return dk__error(DK_ERR_UNSUPPORTED,
                         "%s: .npy array is in Fortran order; save it with "
                         "numpy.ascontiguousarray()",
                         path);
    uint64_t expected = 0;
    DK_TRY(data_size(path, h, dk_dtype_size(dtype), &expected));

    /* Compare with the file size first: a bogus header must not make us
     * allocate gigabytes. */
    struct stat st;
    long pos = ftell(f);
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && pos >= 0) {
        uint64_t size = (uint64_t)st.st_size, start = (uint64_t)pos;
        uint64_t available = size > start ? size - start : 0;
        if (available < expected)
            return dk__error(DK_ERR_FORMAT,
                             "%s: truncated .npy data: expected %" PRIu64 " bytes, found %" PRIu64,
                             path, expected, available);
    }
    if (expected > SIZE_MAX) return dk__error(DK_ERR_NOMEM, "%s: .npy array too large", path);

    DK_TRY(dk_tensor_alloc(t, dtype, h->ndim, h->dims));
    size_t got = fread(t->data, 1, (size_t)expected, f);
    if (got != expected)
        return dk__error(DK_ERR_FORMAT,
                         "%s: truncated .npy data: expected %" PRIu64 " bytes, found %zu", path,
                         expected, got);
    if (dtype == DK_BOOL) { /* any non-zero byte reads as True, as in numpy */
        unsigned char *b = t->data;
        for (size_t i = 0; i < got; i++) b[i] = b[i] != 0;
    }
    return DK_OK;
}

dk_status dk_npy_load(const char *path, dk_tensor *out) { return dk__npy_load_file(path, 0, out); }

dk_status dk__npy_load_file(const char *path, int nofollow, dk_tensor *out)
{
    if (!path || !out) return dk__error(DK_ERR_INVALID, "dk_npy_load: NULL argument");
    memset(out, 0, sizeof *out);
    if (!host_is_little_endian())
        return dk__error(DK_ERR_UNSUPPORTED, "%s: .npy files need a little-endian host", path);
    FILE *f;
    DK_TRY(dk__open_regular(path, nofollow, &f));

    npy_header h;
    dk_tensor t = {0};
    dk_status s = read_header(path, f, &h);
    if (s == DK_OK) s = read_data(path, f, &h, &t);
    fclose(f);
    if (s != DK_OK) {
        dk_tensor_reset(&t);
        return s;
    }
    *out = t;
    return DK_OK;
}

/* ---- saving -------------------------------------------------------------- */

/* The version 1.0 preamble and header, padded so the data starts on a
 * 64-byte boundary, exactly as numpy.save writes it. Returns its length. */
static size_t format_header(const dk_tensor *t, const char *descr, char *buf, size_t n)
{
    char dict[512];
    size_t len = (size_t)snprintf(dict, sizeof dict,
                                  "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < t->ndim; i++)
        len += (size_t)snprintf(dict + len, sizeof dict - len, "%s%lld", i ? ", " : "",
                                (long long)t->dims[i]);
    len += (size_t)snprintf(dict + len, sizeof dict - len, "%s), }", t->ndim == 1 ? "," : "");

    size_t unpadded = sizeof npy_magic + 2 + 2 + len + 1; /* + the final newline */
    size_t padding = (NPY_ALIGN - unpadded % NPY_ALIGN) % NPY_ALIGN;
    size_t header_len = len + padding + 1;
    if (sizeof npy_magic + 4 + header_len > n) return 0;

    memcpy(buf, npy_magic, sizeof npy_magic);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)(header_len & 0xff);
    buf[9] = (char)(header_len >> 8);
    memcpy(buf + 10, dict, len);
    memset(buf + 10 + len, ' ', padding);
    buf[10 + len + padding] = '\n';
    return 10 + header_len;
}

dk_status dk_npy_save(const char *path, const dk_tensor *t)
{
    if (!path || !t) return dk__error(DK_ERR_INVALID, "dk_npy_save: NULL argument");
    if (!t->data) return dk__error(DK_ERR_INVALID, "%s: tensor has no data to save", path);
    if (!host_is_little_endian())
        return dk__error(DK_ERR_UNSUPPORTED, "%s: .npy files need a little-endian host", path);
    if (t->ndim < 0 || t->ndim > DK_MAX_DIMS)
        return dk__error(DK_ERR_INVALID, "%s: tensor rank %d is out of range", path, t->ndim);
    char descr[8];
    if (!descr_from_dtype(t->dtype, descr, sizeof descr))
        return dk__error(DK_ERR_UNSUPPORTED, "%s: cannot save %s tensors as .npy", path,
                         dk_dtype_name(t->dtype));
    char header[640];
    size_t header_len = format_header(t, descr, header, sizeof header);
    if (header_len == 0) return dk__error(DK_ERR_INTERNAL, "%s: .npy header too long", path);

    const void *parts[2] = {header, t->data};
    size_t sizes[2] = {header_len, dk_tensor_nbytes(t)};
    return dk__file_write_parts(path, parts, sizes, 2);
}
