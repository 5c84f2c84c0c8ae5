/* PNG decoding with libpng. Every colour type and bit depth becomes 8-bit RGB
 * the way PIL's convert("RGB") does it: palettes looked up, grey replicated,
 * alpha and tRNS dropped (not composited), 16-bit samples cut to their high
 * byte. (PIL clips 16-bit grey to 0..255 instead; the high byte is the
 * meaningful reading, so we differ from PIL for that one rare kind.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/image_codec.h"
#include "runtime/error.h"

#ifdef DK_HAVE_PNG

#include <png.h>
#include <setjmp.h>

/* Everything the decoder touches lives here, outside the function that calls
 * setjmp, so its values stay defined after libpng longjmps out of an error. */
typedef struct png_job {
    const char *path;
    FILE *file;
    png_structp png;
    png_infop info;
    png_uint_32 width, height;
    unsigned char *pixels;
    png_bytep *rows;
    char message[256]; /* libpng's error text */
} png_job;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_job *job = png_get_error_ptr(png);
    snprintf(job->message, sizeof job->message, "%s", msg);
    png_longjmp(png, 1);
}

/* Warnings (bad ancillary chunks, odd colour profiles) change no pixel we use;
 * the library must not print them. */
static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* Asks libpng to deliver 8-bit RGB rows whatever the file stores. */
static void request_rgb8(png_structp png, png_infop info)
{
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);

    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);
    /* Unconditional: palette expansion may add an alpha channel from tRNS. */
    png_set_strip_alpha(png);
    if (!(color & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

static dk_status read_png(png_job *job)
{
    if (setjmp(png_jmpbuf(job->png)))
        return dk__error(DK_ERR_FORMAT, "%s: corrupt PNG: %s", job->path, job->message);

    png_init_io(job->png, job->file);
    /* Our own size check below gives the clearer message. */
    png_set_user_limits(job->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_read_info(job->png, job->info);
    job->width = png_get_image_width(job->png, job->info);
    job->height = png_get_image_height(job->png, job->info);
    DK_TRY(dk__image_check_size(job->path, job->width, job->height));

    request_rgb8(job->png, job->info);
    if (png_get_channels(job->png, job->info) != 3 || png_get_bit_depth(job->png, job->info) != 8 ||
        png_get_rowbytes(job->png, job->info) != (size_t)job->width * 3)
        return dk__error(DK_ERR_INTERNAL, "%s: libpng did not deliver 8-bit RGB rows", job->path);

    size_t row_bytes = (size_t)job->width * 3;
    job->pixels = malloc(row_bytes * job->height);
    job->rows = malloc(sizeof *job->rows * job->height);
    if (!job->pixels || !job->rows)
        return dk__error(DK_ERR_NOMEM, "%s: cannot allocate %lux%lu RGB pixels", job->path,
                         (unsigned long)job->width, (unsigned long)job->height);
    for (png_uint_32 y = 0; y < job->height; y++) job->rows[y] = job->pixels + row_bytes * y;

    png_read_image(job->png, job->rows);
    /* Reads up to IEND, so a file cut after the pixel data is caught too. */
    png_read_end(job->png, NULL);
    return DK_OK;
}

dk_status dk__png_decode(const char *path, unsigned char **rgb, int *width, int *height)
{
    png_job job = {.path = path};
    job.file = fopen(path, "rb");
    if (!job.file) return dk__error(DK_ERR_IO, "%s: cannot open: %s", path, strerror(errno));

    dk_status s;
    job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, on_png_error, on_png_warning);
    if (job.png) job.info = png_create_info_struct(job.png);
    if (job.png && job.info)
        s = read_png(&job);
    else
        s = dk__error(DK_ERR_NOMEM, "%s: cannot create a libpng reader", path);

    png_destroy_read_struct(&job.png, &job.info, NULL);
    fclose(job.file);
    free(job.rows);
    if (s != DK_OK) {
        free(job.pixels);
        return s;
    }
    *rgb = job.pixels;
    *width = (int)job.width;
    *height = (int)job.height;
    return DK_OK;
}

#else /* !DK_HAVE_PNG */

dk_status dk__png_decode(const char *path, unsigned char **rgb, int *width, int *height)
{
    (void)rgb;
    (void)width;
    (void)height;
    return dk__error(DK_ERR_UNSUPPORTED,
                     "%s: PNG support not compiled in (DK_WITH_PNG=OFF or libpng not found)",
                     path);
}

#endif
