/* Fuzz target: bytes -> dk_onnx_load_tensor_file (a TensorProto .pb). */
#include "deltakern/onnx.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dk_tensor t;
    if (dk_onnx_load_tensor_file(dk_fuzz_file("input.pb", data, size), &t) == DK_OK) dk_tensor_reset(&t);
    return 0;
}
