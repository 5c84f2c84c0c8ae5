/* Fuzz target: bytes as a bundle's manifest.json -> the bundle reader
 * (deltakern diff --against). */
#include "drivers/diff/diff_internal.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dk_fuzz_file("manifest.json", data, size);
    dk__bundle b;
    dk__bundle_open(dk_fuzz_dir(), &b);
    dk__bundle_free(&b);
    return 0;
}
