/* Internal: .npy loading with the choice of following a symbolic link. */
#ifndef DK_INPUT_NPY_H
#define DK_INPUT_NPY_H

#include "deltakern/status.h"
#include "deltakern/tensor.h"

/* dk_npy_load; with nofollow a symbolic link is refused (files inside a
 * bundle). Anything but a regular file is refused either way. */
dk_status dk__npy_load_file(const char *path, int nofollow, dk_tensor *out);

#endif
