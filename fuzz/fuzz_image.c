/* Fuzz target: bytes -> dk_image_decode (PNG or JPEG, by magic) -> a small
 * ImageNet-style preprocessing of the decoded pixels. */
#include <stdlib.h>

#include "deltakern/input.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *rgb = NULL;
    int w, h;
    if (dk_image_decode(dk_fuzz_file("image", data, size), &rgb, &w, &h) != DK_OK) return 0;
    if ((long long)w * h <= 1 << 20) { /* resizing a huge image is slow, not a finding */
        dk_preprocess p;
        dk_preprocess_default(&p);
        p.height = 7;
        p.width = 5;
        p.resize_mode = size % 2 ? DK_RESIZE_EXACT : DK_RESIZE_SHORTER;
        dk_tensor t;
        if (dk_image_preprocess(rgb, w, h, &p, &t) == DK_OK) dk_tensor_reset(&t);
    }
    free(rgb);
    return 0;
}
