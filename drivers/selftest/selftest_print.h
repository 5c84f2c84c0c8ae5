/* Internal: the report of deltakern selftest (drivers/selftest/selftest_print.c). */
#ifndef DK_DRIVERS_SELFTEST_SELFTEST_PRINT_H
#define DK_DRIVERS_SELFTEST_SELFTEST_PRINT_H

#include <stdio.h>

#include "deltakern/selftest.h"
#include "drivers/selftest/selftest.h"

/* The seed and the variants with their full options and precision. */
void dk__selftest_print_header(const dk_selftest_options *o, FILE *out, const dk__st_target *t, int n);
/* One row per variant (PASS, FAIL or SKIPPED with the reason), the op
 * suite's summary line, with verbose the per-op tables, and the closing
 * "selftest: PASS" or "selftest: FAIL". ops / conf NULL: that suite did not run. */
void dk__selftest_print_report(const dk_selftest_options *o, FILE *out, const dk__st_target *t, int n,
                               const dk__ops_result *ops, const dk__conf_result *conf,
                               const dk_selftest_summary *sum);

#endif
