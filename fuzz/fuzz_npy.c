/* Fuzz target: bytes -> dk_npy_load (.npy header and data). */
#include "deltakern/input.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dk_tensor t;
    if (dk_npy_load(dk_fuzz_file("input.npy", data, size), &t) == DK_OK) dk_tensor_reset(&t);
    return 0;
}
