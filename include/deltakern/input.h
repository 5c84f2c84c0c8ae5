/* deltakern — model inputs: images (PNG, JPEG), NumPy .npy arrays and ONNX
 * TensorProto .pb files, with ImageNet-style preprocessing for images.
 *
 * Ownership: *out receives a newly allocated tensor the caller resets with
 * dk_tensor_reset(). */
#ifndef DELTAKERN_INPUT_H
#define DELTAKERN_INPUT_H

#include "deltakern/status.h"
#include "deltakern/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dk_resize_mode {
    DK_RESIZE_SHORTER = 0, /* scale so the shorter side is `resize`, then centre-crop */
    DK_RESIZE_EXACT        /* scale straight to height x width (aspect not kept), no crop */
} dk_resize_mode;

typedef enum dk_channel_order { DK_CHANNELS_RGB = 0, DK_CHANNELS_BGR } dk_channel_order;

typedef struct dk_preprocess {
    int height, width;        /* network input size; 0 = take from the model */
    int resize;               /* shorter side before the crop; 0 = round(size / 0.875) */
    dk_resize_mode resize_mode;
    float scale;              /* pixel multiplier before mean/std, default 1/255 */
    float mean[3], std[3];    /* per channel, in the output channel order */
    dk_channel_order order;
} dk_preprocess;

/* ImageNet defaults: shorter side round(size/0.875), centre crop, bilinear
 * (antialiased when shrinking), scale 1/255, mean (0.485, 0.456, 0.406),
 * std (0.229, 0.224, 0.225), RGB. */
void dk_preprocess_default(dk_preprocess *p);

typedef enum dk_input_format {
    DK_INPUT_AUTO = 0, DK_INPUT_PNG, DK_INPUT_JPEG, DK_INPUT_NPY, DK_INPUT_PB
} dk_input_format;

/* Detects the format from the file's first bytes (not its extension). */
dk_status dk_input_detect(const char *path, dk_input_format *fmt);

/* Decodes an image to 8-bit RGB, row major, 3 bytes a pixel (*rgb malloc'ed). */
dk_status dk_image_decode(const char *path, unsigned char **rgb, int *width, int *height);

/* Turns an RGB image into a float32 1x3xHxW tensor following p (p->height and
 * p->width must be set). */
dk_status dk_image_preprocess(const unsigned char *rgb, int width, int height,
                              const dk_preprocess *p, dk_tensor *out);

/* Loads a .npy array (little-endian float32/float64/int64/int32/uint8, C order;
 * float64 is kept as float64). */
dk_status dk_npy_load(const char *path, dk_tensor *out);
/* Writes a tensor as .npy, atomically (temporary file, then rename). */
dk_status dk_npy_save(const char *path, const dk_tensor *t);

/* Loads any supported input: images are decoded and preprocessed with p;
 * arrays and .pb tensors are returned as stored. */
dk_status dk_input_load(const char *path, const dk_preprocess *p, dk_tensor *out);

#ifdef __cplusplus
}
#endif
#endif
