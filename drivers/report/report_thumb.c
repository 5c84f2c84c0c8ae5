/* Thumbnails of input images: decoded as deltakern run decodes them,
 * shrunk by area averaging, written as PNG (libpng) into a data: URL. */
#include <stdlib.h>
#include <string.h>

#include "deltakern/input.h"
#include "drivers/report/report_internal.h"

#ifdef DK_HAVE_PNG
#include <png.h>
#endif

/* Area averaging: each output pixel is the mean of the source pixels its
 * footprint covers (at least one), so that shrinking does not alias. */
static unsigned char *shrink(const unsigned char *rgb, int w, int h, int max_side, int *ow, int *oh)
{
    double f = (double)max_side / (w > h ? w : h);
    if (f > 1) f = 1;
    *ow = (int)(w * f + 0.5);
    *oh = (int)(h * f + 0.5);
    if (*ow < 1) *ow = 1;
    if (*oh < 1) *oh = 1;
    unsigned char *out = malloc((size_t)*ow * (size_t)*oh * 3);
    if (!out) return NULL;
    for (int y = 0; y < *oh; y++) {
        int y0 = (int)((long long)y * h / *oh), y1 = (int)((long long)(y + 1) * h / *oh);
        if (y1 <= y0) y1 = y0 + 1;
        for (int x = 0; x < *ow; x++) {
            int x0 = (int)((long long)x * w / *ow), x1 = (int)((long long)(x + 1) * w / *ow);
            if (x1 <= x0) x1 = x0 + 1;
            for (int c = 0; c < 3; c++) {
                unsigned long long sum = 0;
                for (int yy = y0; yy < y1; yy++)
                    for (int xx = x0; xx < x1; xx++) sum += rgb[((size_t)yy * (size_t)w + (size_t)xx) * 3 + (size_t)c];
                size_t n = (size_t)(y1 - y0) * (size_t)(x1 - x0);
                out[((size_t)y * (size_t)*ow + (size_t)x) * 3 + (size_t)c] = (unsigned char)((sum + n / 2) / n);
            }
        }
    }
    return out;
}

static void base64(dk_html *h, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char quad[5] = {0};
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        quad[0] = tab[v >> 18 & 63];
        quad[1] = tab[v >> 12 & 63];
        quad[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        quad[3] = i + 2 < n ? tab[v & 63] : '=';
        dk__html_raw(h, quad);
    }
}

#ifdef DK_HAVE_PNG
typedef struct sink {
    unsigned char *data;
    size_t len, cap;
    int oom;
} sink;

static void sink_write(png_structp png, png_bytep data, png_size_t n)
{
    sink *s = png_get_io_ptr(png);
    if (s->oom) return;
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16384;
        while (cap < s->len + n) cap *= 2;
        unsigned char *d = realloc(s->data, cap);
        if (!d) {
            s->oom = 1;
            return;
        }
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, data, n);
    s->len += n;
}

static void sink_flush(png_structp png)
{
    (void)png;
}

/* Returns 0 on success; libpng reports errors by longjmp. */
static int encode_png(const unsigned char *rgb, int w, int h, sink *s)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, s, sink_write, sink_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(rgb + (size_t)y * (size_t)w * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return s->oom ? -1 : 0;
}
#endif

static void note(dk_html *h, const char *why)
{
    dk__html_raw(h, "<span class=\"muted\">");
    dk__html_text(h, why);
    dk__html_raw(h, "</span>");
}

dk_status dk__report_thumbnail(dk_html *h, const char *path, int max_side)
{
    dk_input_format fmt;
    if (dk_input_detect(path, &fmt) != DK_OK) {
        note(h, "(image not found)");
        return DK_OK;
    }
    if (fmt != DK_INPUT_PNG && fmt != DK_INPUT_JPEG) {
        note(h, "(a tensor, no picture)");
        return DK_OK;
    }
    unsigned char *rgb = NULL;
    int w, hh;
    if (dk_image_decode(path, &rgb, &w, &hh) != DK_OK) {
        note(h, "(unreadable image)");
        return DK_OK;
    }
    int tw, th;
    unsigned char *small = shrink(rgb, w, hh, max_side, &tw, &th);
    free(rgb);
    if (!small) return dk__error(DK_ERR_NOMEM, "report: out of memory making a thumbnail of %s", path);
#ifdef DK_HAVE_PNG
    sink s = {0};
    if (encode_png(small, tw, th, &s) == 0) {
        dk__html_printf(h, "<img class=\"thumb\" width=\"%d\" height=\"%d\" alt=\"", tw, th);
        dk__html_text(h, path);
        dk__html_raw(h, "\" src=\"data:image/png;base64,");
        base64(h, s.data, s.len);
        dk__html_raw(h, "\">");
    } else {
        note(h, "(thumbnail could not be encoded)");
    }
    free(s.data);
#else
    (void)base64;
    note(h, "(no thumbnail: this build has no libpng)");
#endif
    free(small);
    return DK_OK;
}
