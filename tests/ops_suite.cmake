# The op suite: every float32 op of the reference on random shapes and data,
# on the reference and on every backend, judged with the tolerance table
# (harness/tolerance.c). The suite and its cases live in the library
# (harness/selftest_ops.c, harness/selftest_cases.c), shared with `deltakern
# selftest`; tests/ops/dk_ops_suite.c is its command line. Seeds are printed;
# rerun a case with the repro line the suite prints for it.
add_executable(dk_ops_suite ops/dk_ops_suite.c)
target_include_directories(dk_ops_suite PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(dk_ops_suite PRIVATE _POSIX_C_SOURCE=200809L)
target_link_libraries(dk_ops_suite PRIVATE deltakern m)

set(DK_OPS_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/ops/expect_summary.sh)

# Every backend compiled in, default options; unavailable ones are reported
# SKIPPED with their reason.
add_test(NAME ops.suite COMMAND dk_ops_suite)
# Every option value of every backend (one at a time, threads=1 too), each
# variant in its own process.
add_test(NAME ops.options
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ops/each_variant.sh $<TARGET_FILE:dk_ops_suite>
          --cases 8)
# The reference against itself: bit-identical (ratio 0) on every case.
add_test(NAME ops.ref COMMAND dk_ops_suite --variant ref --max-ratio 0)
# Teeth: one element moved to 10x its bound must fail every case ...
add_test(NAME ops.inject
  COMMAND bash ${DK_OPS_EXPECT} all-fail $<TARGET_FILE:dk_ops_suite> --variant ref --inject 10
          --cases 6)
# ... and one moved to 0.9x its bound must pass every case (the line is where
# the table puts it, not lower).
add_test(NAME ops.inject_below
  COMMAND bash ${DK_OPS_EXPECT} all-pass $<TARGET_FILE:dk_ops_suite> --variant ref --inject 0.9
          --cases 6)
set_tests_properties(ops.suite ops.options ops.ref ops.inject ops.inject_below PROPERTIES LABELS ops
                     TIMEOUT 900)
