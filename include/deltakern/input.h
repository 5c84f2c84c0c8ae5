/* deltakern — model inputs: images (PNG, JPEG), NumPy .npy arrays and ONNX
 * TensorProto .pb files, with ImageNet-style preprocessing for images.
 *
 * Ownership: *out receives a newly allocated tensor the caller resets with
 * dk_tensor_reset(). As with dk_onnx_load_tensor_file(), *out is treated as
 * uninitialised: it is overwritten, not freed first (reset a tensor before
 * reusing it), and left zeroed on failure.
 *
 * Errors: missing or unreadable files DK_ERR_IO (path and strerror); corrupt,
 * truncated or unrecognised files DK_ERR_FORMAT ("<path>: corrupt JPEG: <the
 * library's message>"); valid files this build cannot take (images over 30000
 * pixels a side, Fortran-order or big-endian arrays, a decoder compiled out)
 * DK_ERR_UNSUPPORTED. Nothing is ever printed. */
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
    int resize;               /* shorter side before the crop; 0 = round(max(height,
                                 width) / 0.875): 256 for 224, 342 for 299 */
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

/* Detects the format from the file's first bytes (not its extension), except
 * for a TensorProto, which has no magic: a file ending in ".pb". */
dk_status dk_input_detect(const char *path, dk_input_format *fmt);

/* Decodes an image to 8-bit RGB, row major, 3 bytes a pixel (*rgb malloc'ed),
 * exactly as PIL's Image.open(path).convert("RGB") does: grey replicated,
 * palettes looked up, alpha dropped, CMYK JPEGs converted like PIL, EXIF
 * orientation ignored; 16-bit PNG samples keep their high byte (PIL clips
 * 16-bit grey instead). */
dk_status dk_image_decode(const char *path, unsigned char **rgb, int *width, int *height);

/* Turns an RGB image into a float32 1x3xHxW tensor following p (p->height and
 * p->width must be set, else DK_ERR_INVALID). Identical, bit for bit, to
 * torchvision's Resize(resize) + CenterCrop((H, W)) + ToTensor() + Normalize()
 * on a PIL image (DK_RESIZE_EXACT: Resize((H, W)) only): PIL's antialiased
 * bilinear resampling with its 8-bit rounding, torchvision's crop rounding and
 * zero padding when the crop is larger than the resized image. */
dk_status dk_image_preprocess(const unsigned char *rgb, int width, int height,
                              const dk_preprocess *p, dk_tensor *out);

/* Loads a .npy array (format versions 1.0 to 3.0, C order, little-endian:
 * f2/f4/f8, i1/i2/i4/i8, u1/u2/u4/u8, b1), keeping its dtype (float64 stays
 * float64). Fortran order and big-endian data are DK_ERR_UNSUPPORTED; data
 * shorter than the header announces is DK_ERR_FORMAT naming both sizes. */
dk_status dk_npy_load(const char *path, dk_tensor *out);
/* Writes a tensor as a version 1.0 .npy file, as numpy.save would, atomically
 * ("<path>.tmp.<pid>", fsync, rename). An existing file is replaced: refusing
 * to overwrite results is the caller's decision. */
dk_status dk_npy_save(const char *path, const dk_tensor *t);

/* Loads any supported input, detected by its first bytes (a .pb file by its
 * extension): images are decoded and preprocessed with p (p->height/width
 * must be set, else DK_ERR_INVALID); .npy arrays and ONNX TensorProto .pb
 * files are returned as stored, and p is not used. */
dk_status dk_input_load(const char *path, const dk_preprocess *p, dk_tensor *out);

/* Class names for printing labels: one name per line, line i is class i. */
typedef struct dk_labels {
    int n;
    char **names;
} dk_labels;

/* path NULL: the ImageNet labels shipped in data/ ($DELTAKERN_DATA overrides
 * the data directory). Errors name the file. */
dk_status dk_labels_load(const char *path, dk_labels *out);
void dk_labels_free(dk_labels *l);
/* Name of class i, or NULL when unknown. */
const char *dk_labels_name(const dk_labels *l, int i);

/* Adds the inputs a path names to the list *paths (malloc'ed, grown; *n
 * entries, each malloc'ed): a file as it is, a directory's images and
 * tensors (.png .jpg .jpeg .npy .pb) in name order. At most max entries in
 * all. Errors name the path: missing, unreadable, or a directory with no
 * inputs. Free with dk_input_list_free. */
dk_status dk_input_list_add(const char *path, char ***paths, int *n, int max);
void dk_input_list_free(char **paths, int n);

#ifdef __cplusplus
}
#endif
#endif
