/* Internal: the image decoders behind dk_image_decode(). Each turns one file
 * format into 8-bit RGB (3 bytes a pixel, rows packed, *rgb malloc'ed). A
 * decoder compiled out (DK_WITH_PNG/JPEG=OFF or library missing) still exists
 * and returns DK_ERR_UNSUPPORTED, so callers never test for it. */
#ifndef DK_INPUT_IMAGE_CODEC_H
#define DK_INPUT_IMAGE_CODEC_H

#include "deltakern/status.h"

/* Images with a side longer than this are refused (DK_ERR_UNSUPPORTED) before
 * any pixel memory is allocated: a tiny corrupt header must not cost gigabytes. */
#define DK_IMAGE_MAX_SIDE 30000
/* ... and so are images of more pixels than this in all (8192x8192: 192 MiB
 * of RGB), which a small valid PNG of one colour can declare. */
#define DK_IMAGE_MAX_PIXELS ((long long)1 << 26)

/* DK_OK when a width x height image is within both limits, else the error
 * (DK_ERR_UNSUPPORTED) naming path and the size; called on the header,
 * before any pixel memory is allocated. */
dk_status dk__image_check_size(const char *path, unsigned long width, unsigned long height);

dk_status dk__png_decode(const char *path, unsigned char **rgb, int *width, int *height);
dk_status dk__jpeg_decode(const char *path, unsigned char **rgb, int *width, int *height);

#endif
