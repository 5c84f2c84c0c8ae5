/* JPEG decoding with libjpeg(-turbo), with the settings PIL uses (libjpeg's
 * defaults: integer IDCT, fancy upsampling), so pixels match PIL's exactly.
 * Grey and YCbCr become RGB inside libjpeg; CMYK and YCCK are converted here
 * as PIL does. EXIF orientation is ignored, as PIL and torchvision do. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/image_codec.h"
#include "runtime/error.h"

#ifdef DK_HAVE_JPEG

#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>

/* Everything the decoder touches lives here, outside the function that calls
 * setjmp, so its values stay defined after the error handler longjmps. */
typedef struct jpeg_job {
    const char *path;
    FILE *file;
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr errors;
    jmp_buf on_error;
    char message[JMSG_LENGTH_MAX]; /* libjpeg's error text */
    int width, height;
    unsigned char *pixels;
    unsigned char *cmyk_row;
} jpeg_job;

static void on_jpeg_error(j_common_ptr cinfo)
{
    jpeg_job *job = cinfo->client_data;
    cinfo->err->format_message(cinfo, job->message);
    longjmp(job->on_error, 1);
}

/* libjpeg reports damaged data only as warnings and goes on with grey blocks.
 * Warnings that mean lost pixels become errors; the harmless ones (extra
 * bytes between markers, unknown JFIF revision, odd ICC chunks) stay silent. */
static int warning_loses_pixels(int code)
{
    switch (code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
        return 1;
    default:
        return 0;
    }
}

static void on_jpeg_message(j_common_ptr cinfo, int level)
{
    if (level < 0 && warning_loses_pixels(cinfo->err->msg_code)) cinfo->err->error_exit(cinfo);
}

static void on_jpeg_output(j_common_ptr cinfo) { (void)cinfo; }

/* PIL reads every CMYK JPEG as Adobe-inverted ("CMYK;I") and converts with
 * R = (255 - K) - C * (255 - K) / 255, rounded (no colour management). With
 * the stored, inverted values c' = 255 - C and k' = 255 - K that is
 * R = k' - (255 - c') * k' / 255. */
static void cmyk_to_rgb(const unsigned char *cmyk, unsigned char *rgb, int width)
{
    for (int x = 0; x < width; x++, cmyk += 4, rgb += 3) {
        int not_black = cmyk[3];
        for (int c = 0; c < 3; c++) {
            int ink = 255 - cmyk[c];
            /* Exact rounding of ink * not_black / 255 (no ties: 255 is odd). */
            rgb[c] = (unsigned char)(not_black - (ink * not_black + 127) / 255);
        }
    }
}

static dk_status read_jpeg(jpeg_job *job)
{
    struct jpeg_decompress_struct *cinfo = &job->cinfo;

    if (setjmp(job->on_error))
        return dk__error(DK_ERR_FORMAT, "%s: corrupt JPEG: %s", job->path, job->message);

    jpeg_create_decompress(cinfo);
    jpeg_stdio_src(cinfo, job->file);
    jpeg_read_header(cinfo, TRUE);
    DK_TRY(dk__image_check_size(job->path, cinfo->image_width, cinfo->image_height));

    int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
    cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(cinfo);
    if (cinfo->output_components != (cmyk ? 4 : 3))
        return dk__error(DK_ERR_INTERNAL, "%s: libjpeg delivered %d components, expected %d",
                         job->path, cinfo->output_components, cmyk ? 4 : 3);

    job->width = (int)cinfo->output_width;
    job->height = (int)cinfo->output_height;
    size_t row_bytes = (size_t)job->width * 3;
    job->pixels = malloc(row_bytes * (size_t)job->height);
    if (cmyk) job->cmyk_row = malloc((size_t)job->width * 4);
    if (!job->pixels || (cmyk && !job->cmyk_row))
        return dk__error(DK_ERR_NOMEM, "%s: cannot allocate %dx%d RGB pixels", job->path,
                         job->width, job->height);

    while (cinfo->output_scanline < cinfo->output_height) {
        unsigned char *rgb_row = job->pixels + row_bytes * cinfo->output_scanline;
        JSAMPROW row = cmyk ? job->cmyk_row : rgb_row;
        /* A stdio source never suspends, so each call delivers one line. */
        if (jpeg_read_scanlines(cinfo, &row, 1) != 1)
            return dk__error(DK_ERR_INTERNAL, "%s: libjpeg returned no scanline", job->path);
        if (cmyk) cmyk_to_rgb(job->cmyk_row, rgb_row, job->width);
    }
    /* Reads up to EOI, so a file cut after the last scan is caught too. */
    jpeg_finish_decompress(cinfo);
    return DK_OK;
}

dk_status dk__jpeg_decode(const char *path, unsigned char **rgb, int *width, int *height)
{
    /* Zeroed so that jpeg_destroy_decompress is safe even if creation failed. */
    jpeg_job job;
    memset(&job, 0, sizeof job);
    job.path = path;
    job.file = fopen(path, "rb");
    if (!job.file) return dk__error(DK_ERR_IO, "%s: cannot open: %s", path, strerror(errno));

    job.cinfo.err = jpeg_std_error(&job.errors);
    job.errors.error_exit = on_jpeg_error;
    job.errors.emit_message = on_jpeg_message;
    job.errors.output_message = on_jpeg_output;
    job.cinfo.client_data = &job;

    dk_status s = read_jpeg(&job);

    jpeg_destroy_decompress(&job.cinfo);
    fclose(job.file);
    free(job.cmyk_row);
    if (s != DK_OK) {
        free(job.pixels);
        return s;
    }
    *rgb = job.pixels;
    *width = job.width;
    *height = job.height;
    return DK_OK;
}

#else /* !DK_HAVE_JPEG */

dk_status dk__jpeg_decode(const char *path, unsigned char **rgb, int *width, int *height)
{
    (void)rgb;
    (void)width;
    (void)height;
    return dk__error(DK_ERR_UNSUPPORTED,
                     "%s: JPEG support not compiled in (DK_WITH_JPEG=OFF or libjpeg not found)",
                     path);
}

#endif
