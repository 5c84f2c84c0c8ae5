/* dk_input_load: one entry point for every kind of model input. */
#include <stdlib.h>
#include <string.h>

#include "deltakern/input.h"
#include "deltakern/onnx.h"
#include "runtime/error.h"

static dk_status load_image(const char *path, const dk_preprocess *p, dk_tensor *out)
{
    if (!p || p->height <= 0 || p->width <= 0)
        return dk__error(DK_ERR_INVALID,
                         "%s: the network input size (height x width) must be known to "
                         "preprocess an image",
                         path);
    unsigned char *rgb = NULL;
    int width = 0, height = 0;
    DK_TRY(dk_image_decode(path, &rgb, &width, &height));
    dk_status s = dk_image_preprocess(rgb, width, height, p, out);
    free(rgb);
    if (s != DK_OK) return dk__error_prefix(s, "%s", path);
    return DK_OK;
}

dk_status dk_input_load(const char *path, const dk_preprocess *p, dk_tensor *out)
{
    if (!path || !out) return dk__error(DK_ERR_INVALID, "dk_input_load: NULL argument");
    memset(out, 0, sizeof *out);
    dk_input_format fmt;
    DK_TRY(dk_input_detect(path, &fmt));
    switch (fmt) {
    case DK_INPUT_PNG:
    case DK_INPUT_JPEG: return load_image(path, p, out);
    case DK_INPUT_NPY: return dk_npy_load(path, out);
    case DK_INPUT_PB: return dk_onnx_load_tensor_file(path, out);
    case DK_INPUT_AUTO: break;
    }
    return dk__error(DK_ERR_INTERNAL, "%s: format detection returned no format", path);
}
