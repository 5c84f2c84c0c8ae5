/* ImageNet preprocessing as torchvision's evaluation transforms do it on PIL
 * images, reproduced to the bit:
 *   Resize(resize)       PIL's bilinear resampling, antialiased when shrinking,
 *                        8-bit fixed-point weights, result rounded to uint8;
 *   CenterCrop(h, w)     torchvision's rounding (Python's round, half to even)
 *                        and zero padding when the crop exceeds the image;
 *   ToTensor, Normalize  x / 255, then (x - mean) / std, in float32.
 * Only the part of the resized image that survives the crop is computed. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/input.h"
#include "input/image_codec.h"
#include "runtime/error.h"

void dk_preprocess_default(dk_preprocess *p)
{
    static const dk_preprocess imagenet = {
        .height = 0,
        .width = 0,
        .resize = 0,
        .resize_mode = DK_RESIZE_SHORTER,
        .scale = 1.0f / 255.0f,
        .mean = {0.485f, 0.456f, 0.406f},
        .std = {0.229f, 0.224f, 0.225f},
        .order = DK_CHANNELS_RGB,
    };
    *p = imagenet;
}

/* ---- resampling ---------------------------------------------------------- */

/* PIL keeps the filter weights as integers with this many fraction bits: the
 * sums of 8-bit samples times weights then fit in 32 bits. */
#define WEIGHT_BITS 22
#define WEIGHT_HALF (1 << (WEIGHT_BITS - 1))

/* Filter weights along one axis, for the outputs [begin, end) only. Output o
 * reads inputs first[o'] .. first[o'] + count[o'] - 1 (o' = o - begin) with
 * weights w[o' * stride ...]. */
typedef struct axis_filter {
    int begin, end;
    int stride;
    int *first, *count;
    int32_t *w;
} axis_filter;

static void axis_filter_free(axis_filter *f)
{
    free(f->first);
    free(f->count);
    free(f->w);
}

static double triangle(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

static int32_t to_fixed(double w)
{
    double scaled = w * (1 << WEIGHT_BITS);
    return (int32_t)(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
}

/* Weights for resampling in_size samples to out_size. Output o is centred on
 * input coordinate (o + 0.5) * scale. When shrinking, the triangle is widened
 * by the scale factor so every input sample contributes (that is PIL's
 * antialiasing); when enlarging it is one input sample wide, i.e. plain
 * bilinear interpolation. Each output's weights are normalised to sum to 1.
 * The arithmetic follows PIL's step by step so the rounding matches. */
static dk_status axis_filter_init(axis_filter *f, int in_size, int out_size, int begin, int end)
{
    double scale = (double)in_size / out_size;
    double widen = scale > 1.0 ? scale : 1.0;
    double support = widen; /* the triangle reaches 1 sample, widened */
    double inv_widen = 1.0 / widen;
    int n_out = end - begin;

    memset(f, 0, sizeof *f);
    f->begin = begin;
    f->end = end;
    f->stride = (int)ceil(support) * 2 + 1;
    f->first = malloc(sizeof *f->first * (size_t)n_out);
    f->count = malloc(sizeof *f->count * (size_t)n_out);
    f->w = malloc(sizeof *f->w * (size_t)n_out * (size_t)f->stride);
    double *real = malloc(sizeof *real * (size_t)f->stride);
    if (!f->first || !f->count || !f->w || !real) {
        free(real);
        axis_filter_free(f);
        return dk__error(DK_ERR_NOMEM, "cannot allocate resampling weights for %d samples",
                         n_out);
    }

    for (int o = begin; o < end; o++) {
        double center = (o + 0.5) * scale;
        int lo = (int)(center - support + 0.5);
        int hi = (int)(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in_size) hi = in_size;
        int n = hi - lo;
        if (n > f->stride) n = f->stride; /* cannot happen; keeps writes in bounds */

        double sum = 0.0;
        for (int j = 0; j < n; j++) {
            real[j] = triangle(((double)(lo + j) - center + 0.5) * inv_widen);
            sum += real[j];
        }
        int32_t *w = f->w + (size_t)(o - begin) * f->stride;
        for (int j = 0; j < n; j++) w[j] = to_fixed(sum != 0.0 ? real[j] / sum : real[j]);
        f->first[o - begin] = lo;
        f->count[o - begin] = n;
    }
    free(real);
    return DK_OK;
}

static unsigned char round_to_u8(int32_t acc)
{
    if (acc < 0) return 0;
    acc >>= WEIGHT_BITS;
    return (unsigned char)(acc > 255 ? 255 : acc);
}

/* Horizontal pass: rows [row0, row1) of src (src_w pixels wide) filtered along
 * x into dst, which is (f->end - f->begin) pixels wide. */
static void filter_rows(const unsigned char *src, int src_w, int row0, int row1,
                        const axis_filter *f, unsigned char *dst)
{
    int dst_w = f->end - f->begin;
    for (int y = row0; y < row1; y++) {
        const unsigned char *in = src + (size_t)y * src_w * 3;
        unsigned char *out = dst + (size_t)(y - row0) * dst_w * 3;
        for (int x = 0; x < dst_w; x++) {
            const int32_t *w = f->w + (size_t)x * f->stride;
            const unsigned char *px = in + (size_t)f->first[x] * 3;
            int32_t r = WEIGHT_HALF, g = WEIGHT_HALF, b = WEIGHT_HALF;
            for (int j = 0; j < f->count[x]; j++, px += 3) {
                r += px[0] * w[j];
                g += px[1] * w[j];
                b += px[2] * w[j];
            }
            out[x * 3 + 0] = round_to_u8(r);
            out[x * 3 + 1] = round_to_u8(g);
            out[x * 3 + 2] = round_to_u8(b);
        }
    }
}

/* Vertical pass: src holds rows starting at input row src_row0, each width
 * pixels; every output row of f is filtered along y into dst. */
static dk_status filter_columns(const unsigned char *src, int width, int src_row0,
                                const axis_filter *f, unsigned char *dst)
{
    size_t row_bytes = (size_t)width * 3;
    int32_t *acc = malloc(sizeof *acc * row_bytes);
    if (!acc)
        return dk__error(DK_ERR_NOMEM, "cannot allocate a resampling row of %d pixels", width);
    for (int y = 0; y < f->end - f->begin; y++) {
        const int32_t *w = f->w + (size_t)y * f->stride;
        for (size_t i = 0; i < row_bytes; i++) acc[i] = WEIGHT_HALF;
        for (int j = 0; j < f->count[y]; j++) {
            const unsigned char *in = src + (size_t)(f->first[y] + j - src_row0) * row_bytes;
            for (size_t i = 0; i < row_bytes; i++) acc[i] += in[i] * w[j];
        }
        unsigned char *out = dst + (size_t)y * row_bytes;
        for (size_t i = 0; i < row_bytes; i++) out[i] = round_to_u8(acc[i]);
    }
    free(acc);
    return DK_OK;
}

/* The pixels [x0, x1) x [y0, y1) of src (src_w x src_h) resized to
 * out_w x out_h, into dst ((x1 - x0) x (y1 - y0) x 3). Like PIL: horizontal
 * pass first, an axis whose size does not change is not filtered, and the
 * intermediate image is rounded to 8 bits. */
static dk_status resize_region(const unsigned char *src, int src_w, int src_h, int out_w,
                               int out_h, int x0, int x1, int y0, int y1, unsigned char *dst)
{
    axis_filter fx = {0}, fy = {0};
    unsigned char *mid = NULL;
    int w = x1 - x0;
    dk_status s = DK_OK;

    if (out_w != src_w) s = axis_filter_init(&fx, src_w, out_w, x0, x1);
    if (s == DK_OK && out_h != src_h) s = axis_filter_init(&fy, src_h, out_h, y0, y1);
    if (s != DK_OK) goto done;

    /* Input rows the vertical pass reads (its windows move monotonically). */
    int row0 = y0, row1 = y1;
    if (out_h != src_h) {
        row0 = fy.first[0];
        row1 = fy.first[y1 - y0 - 1] + fy.count[y1 - y0 - 1];
    }
    mid = malloc((size_t)(row1 - row0) * w * 3);
    if (!mid) {
        s = dk__error(DK_ERR_NOMEM, "cannot allocate a %dx%d resampling buffer", w, row1 - row0);
        goto done;
    }
    if (out_w != src_w) {
        filter_rows(src, src_w, row0, row1, &fx, mid);
    } else {
        for (int y = row0; y < row1; y++)
            memcpy(mid + (size_t)(y - row0) * w * 3, src + ((size_t)y * src_w + x0) * 3,
                   (size_t)w * 3);
    }
    if (out_h != src_h)
        s = filter_columns(mid, w, row0, &fy, dst);
    else
        memcpy(dst, mid, (size_t)(y1 - y0) * w * 3);

done:
    free(mid);
    axis_filter_free(&fx);
    axis_filter_free(&fy);
    return s;
}

/* ---- geometry ------------------------------------------------------------ */

static int max_int(int a, int b) { return a > b ? a : b; }
static int min_int(int a, int b) { return a < b ? a : b; }

/* Shorter side before the crop: the configured one, or the crop / 0.875 that
 * ImageNet evaluation uses (256 for 224, 342 for 299). For a non-square crop
 * the longer crop side decides, so the crop fits inside the resized image. */
static int resize_target(const dk_preprocess *p)
{
    if (p->resize > 0) return p->resize;
    return (int)lround(max_int(p->height, p->width) / 0.875);
}

/* torchvision's Resize(int): the shorter side becomes `target`, the longer
 * one int(target * long / short) (truncated, computed in double as Python). */
static void resized_size(int width, int height, int target, int *rw, int *rh)
{
    if (width <= height) {
        *rw = target;
        *rh = (int)((double)((int64_t)target * height) / width);
    } else {
        *rh = target;
        *rw = (int)((double)((int64_t)target * width) / height);
    }
}

/* Python's round(d / 2.0): halves go to the even neighbour. */
static int half_rounded_to_even(int d)
{
    int q = d / 2;
    if (d % 2 != 0 && q % 2 != 0) q++;
    return q;
}

/* Offset of the crop window in the resized image along one axis (negative
 * when the crop is larger and torchvision pads: (crop - size) // 2 before). */
static int crop_offset(int size, int crop)
{
    if (crop > size) return -((crop - size) / 2);
    return half_rounded_to_even(size - crop);
}

/* ---- float conversion ---------------------------------------------------- */

/* Value of each byte after ToTensor and Normalize, for one output channel.
 * ToTensor divides by 255, and x / 255 and x * (1/255) differ in the last bit
 * for half of the byte values, so a scale that is the reciprocal of an integer
 * is applied as that division; every step is float32 as in PyTorch. */
static void channel_table(float scale, float mean, float std, float table[256])
{
    double divisor = nearbyint(1.0 / scale);
    int divide = divisor >= 1.0 && fabs(1.0 / scale - divisor) <= 1e-6 * divisor;
    for (int v = 0; v < 256; v++) {
        float x = divide ? (float)v / (float)divisor : (float)v * scale;
        float centred = x - mean;
        table[v] = centred / std;
    }
}

/* ---- entry point --------------------------------------------------------- */

static dk_status check_arguments(const unsigned char *rgb, int width, int height,
                                 const dk_preprocess *p, const dk_tensor *out)
{
    if (!rgb || !p || !out) return dk__error(DK_ERR_INVALID, "dk_image_preprocess: NULL argument");
    if (width < 1 || height < 1 || width > DK_IMAGE_MAX_SIDE || height > DK_IMAGE_MAX_SIDE)
        return dk__error(DK_ERR_INVALID, "image size %dx%d is outside 1..%d", width, height,
                         DK_IMAGE_MAX_SIDE);
    if (p->height < 1 || p->width < 1 || p->height > DK_IMAGE_MAX_SIDE ||
        p->width > DK_IMAGE_MAX_SIDE)
        return dk__error(DK_ERR_INVALID,
                         "network input size %dx%d is not set or outside 1..%d (height x width)",
                         p->height, p->width, DK_IMAGE_MAX_SIDE);
    if (p->resize < 0 || p->resize > DK_IMAGE_MAX_SIDE)
        return dk__error(DK_ERR_INVALID, "resize %d is outside 0..%d", p->resize,
                         DK_IMAGE_MAX_SIDE);
    if (p->resize_mode != DK_RESIZE_SHORTER && p->resize_mode != DK_RESIZE_EXACT)
        return dk__error(DK_ERR_INVALID, "unknown resize mode %d", (int)p->resize_mode);
    if (p->order != DK_CHANNELS_RGB && p->order != DK_CHANNELS_BGR)
        return dk__error(DK_ERR_INVALID, "unknown channel order %d", (int)p->order);
    if (!isfinite(p->scale) || p->scale <= 0)
        return dk__error(DK_ERR_INVALID, "pixel scale %g is not a positive number", p->scale);
    for (int c = 0; c < 3; c++)
        if (!isfinite(p->mean[c]) || !isfinite(p->std[c]) || p->std[c] == 0)
            return dk__error(DK_ERR_INVALID, "channel %d: mean %g / std %g is not usable", c,
                             p->mean[c], p->std[c]);
    return DK_OK;
}

dk_status dk_image_preprocess(const unsigned char *rgb, int width, int height,
                              const dk_preprocess *p, dk_tensor *out)
{
    if (out) memset(out, 0, sizeof *out);
    DK_TRY(check_arguments(rgb, width, height, p, out));
    int crop_h = p->height, crop_w = p->width;

    /* Resized image size, and where the crop window sits in it. */
    int rw = crop_w, rh = crop_h, top = 0, left = 0;
    if (p->resize_mode == DK_RESIZE_SHORTER) {
        resized_size(width, height, resize_target(p), &rw, &rh);
        top = crop_offset(rh, crop_h);
        left = crop_offset(rw, crop_w);
    }
    /* The part of the crop window covered by the image; the rest is padding. */
    int y0 = max_int(top, 0), y1 = min_int(top + crop_h, rh);
    int x0 = max_int(left, 0), x1 = min_int(left + crop_w, rw);

    unsigned char *region = malloc((size_t)(x1 - x0) * (y1 - y0) * 3);
    if (!region) return dk__error(DK_ERR_NOMEM, "cannot allocate a %dx%d image", x1 - x0, y1 - y0);
    dk_status s = resize_region(rgb, width, height, rw, rh, x0, x1, y0, y1, region);
    if (s != DK_OK) {
        free(region);
        return s;
    }

    dk_tensor t = {0};
    int64_t dims[4] = {1, 3, crop_h, crop_w};
    s = dk_tensor_alloc(&t, DK_F32, 4, dims);
    if (s != DK_OK) {
        free(region);
        return s;
    }
    float *data = t.data;
    for (int c = 0; c < 3; c++) {
        float table[256];
        channel_table(p->scale, p->mean[c], p->std[c], table);
        int src_c = p->order == DK_CHANNELS_BGR ? 2 - c : c;
        float *plane = data + (size_t)c * crop_h * crop_w;
        for (int y = 0; y < crop_h; y++) {
            int ry = top + y; /* row in the resized image */
            for (int x = 0; x < crop_w; x++) {
                int rx = left + x;
                int inside = ry >= y0 && ry < y1 && rx >= x0 && rx < x1;
                unsigned char v =
                    inside ? region[((size_t)(ry - y0) * (x1 - x0) + (rx - x0)) * 3 + src_c] : 0;
                plane[(size_t)y * crop_w + x] = table[v];
            }
        }
    }
    free(region);
    *out = t;
    return DK_OK;
}
