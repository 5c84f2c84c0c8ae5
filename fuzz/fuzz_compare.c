/* Fuzz target: bench result JSON -> dk_compare_files and every accessor of
 * the comparison. The input is the base result and, after its first NUL
 * byte, the candidate (no NUL: the base compared with itself). */
#include <string.h>

#include "deltakern/bench.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t nb = nul ? (size_t)(nul - data) : size;
    const char *base = dk_fuzz_file("base.json", data, nb);
    const char *cand = nul ? dk_fuzz_file("cand.json", nul + 1, size - nb - 1) : base;
    dk_compare_options o;
    dk_compare_options_default(&o);
    dk_compare *c;
    if (dk_compare_files(base, cand, &o, &c) != DK_OK) return 0;
    volatile double sink = dk_compare_common_factor(c) + dk_compare_end_to_end(c)->ratio;
    for (int i = 0; i < dk_compare_row_count(c); i++) sink += dk_compare_row_at(c, i)->share;
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < dk_compare_unmatched_count(c, side); i++) sink += (double)strlen(dk_compare_unmatched_at(c, side, i));
    sink += (double)strlen(dk_compare_story(c)) + dk_compare_regressions(c);
    (void)sink;
    dk_compare_destroy(c);
    return 0;
}
