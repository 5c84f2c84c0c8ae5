/* Input format detection by magic bytes, and image decoding dispatch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "deltakern/input.h"
#include "input/image_codec.h"
#include "runtime/error.h"

static int has_extension(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcmp(path + n - e, ext) == 0;
}

dk_status dk_input_detect(const char *path, dk_input_format *fmt)
{
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char jpeg_magic[3] = {0xff, 0xd8, 0xff};
    static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

    if (!path || !fmt) return dk__error(DK_ERR_INVALID, "dk_input_detect: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f) return dk__error(DK_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char head[8];
    size_t n = fread(head, 1, sizeof head, f);
    int read_error = ferror(f) ? errno : 0;
    fclose(f);
    if (read_error) return dk__error(DK_ERR_IO, "%s: cannot read: %s", path, strerror(read_error));

    if (n >= sizeof png_magic && memcmp(head, png_magic, sizeof png_magic) == 0)
        *fmt = DK_INPUT_PNG;
    else if (n >= sizeof jpeg_magic && memcmp(head, jpeg_magic, sizeof jpeg_magic) == 0)
        *fmt = DK_INPUT_JPEG;
    else if (n >= sizeof npy_magic && memcmp(head, npy_magic, sizeof npy_magic) == 0)
        *fmt = DK_INPUT_NPY;
    else if (has_extension(path, ".pb")) /* a serialized TensorProto has no magic */
        *fmt = DK_INPUT_PB;
    else
        return dk__error(DK_ERR_FORMAT, "%s: not a PNG, JPEG, .npy or .pb file", path);
    return DK_OK;
}

dk_status dk_image_decode(const char *path, unsigned char **rgb, int *width, int *height)
{
    if (!path || !rgb || !width || !height)
        return dk__error(DK_ERR_INVALID, "dk_image_decode: NULL argument");
    dk_input_format fmt;
    DK_TRY(dk_input_detect(path, &fmt));
    switch (fmt) {
    case DK_INPUT_PNG: return dk__png_decode(path, rgb, width, height);
    case DK_INPUT_JPEG: return dk__jpeg_decode(path, rgb, width, height);
    default: return dk__error(DK_ERR_FORMAT, "%s: not a PNG or JPEG image", path);
    }
}

dk_status dk__image_check_size(const char *path, unsigned long width, unsigned long height)
{
    if (width > DK_IMAGE_MAX_SIDE || height > DK_IMAGE_MAX_SIDE)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: image is %lux%lu pixels; more than %d on a side is refused",
                         path, width, height, DK_IMAGE_MAX_SIDE);
    if ((long long)width * (long long)height > DK_IMAGE_MAX_PIXELS)
        return dk__error(DK_ERR_UNSUPPORTED,
                         "%s: image is %lux%lu pixels (%.1f megapixels, %.1f GiB as RGB); more than %lld pixels "
                         "(%.0f megapixels) is refused",
                         path, width, height, (double)width * (double)height / 1e6,
                         (double)width * (double)height * 3 / (1 << 30), DK_IMAGE_MAX_PIXELS,
                         (double)DK_IMAGE_MAX_PIXELS / 1e6);
    return DK_OK;
}
