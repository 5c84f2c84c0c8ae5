# The op suite through `deltakern selftest --no-conformance`: every op on
# random shapes and data, on the reference and on every backend, judged with
# the tolerance table (check/tolerance.c). The suite and its cases live in
# drivers/selftest/. Seeds are printed; rerun a case with the repro line the
# suite prints for it.
set(DK_OPS_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/ops/expect_summary.sh)
set(DK_CLI $<TARGET_FILE:deltakern_cli>)

# Every backend compiled in, default options; unavailable ones are reported
# SKIPPED with their reason.
add_test(NAME ops.suite COMMAND deltakern_cli selftest --no-conformance)
# Every option value of every backend (one at a time, threads=1 too), each
# variant in its own process.
add_test(NAME ops.options
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ops/each_variant.sh ${DK_CLI} --cases 8)
# The reference against itself: bit-identical (ratio 0) on every case.
add_test(NAME ops.ref COMMAND deltakern_cli selftest --no-conformance --backend ref --max-ratio 0)
# Teeth: one element moved to 10x its bound must fail every case ...
add_test(NAME ops.inject
  COMMAND bash ${DK_OPS_EXPECT} all-fail ${DK_CLI} selftest --no-conformance --backend ref --inject 10
          --cases 6)
# ... and one moved to 0.9x its bound must pass every case (the line is where
# the table puts it, not lower).
add_test(NAME ops.inject_below
  COMMAND bash ${DK_OPS_EXPECT} all-pass ${DK_CLI} selftest --no-conformance --backend ref --inject 0.9
          --cases 6)
set_tests_properties(ops.suite ops.options ops.ref ops.inject ops.inject_below PROPERTIES
                     TIMEOUT 900)
