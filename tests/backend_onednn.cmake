# Tests of the oneDNN backend (included from tests/CMakeLists.txt). Each skips
# (exit 77) when the backend is unavailable in this build. The unit test
# (tests/unit/test_onednn.c) covers every op in all 18 layout x fpmath x algo
# combinations against the reference with the tolerance table.

# ONNX node conformance, same required families as the reference. Each
# variant is judged against the reference with the tolerance table in its
# precision, so fpmath=bf16 runs the same suite (as onednn.bf16).
foreach(variant onednn onednn:layout=nchw16c onednn:layout=plain)
  string(REPLACE ":layout=" "." name ${variant})
  dk_add_conformance(${name} ${variant})
endforeach()
dk_add_conformance(onednn.bf16 onednn:fpmath=bf16)

# End to end against PyTorch (top-5 identical, relative L2 <= 1e-4) on the
# float32 layouts.
foreach(model mobilenet_v2 resnet50 inception_v3)
  foreach(variant onednn onednn:layout=nchw16c onednn:layout=plain)
    dk_add_e2e_variant(${model} ${variant})
  endforeach()
endforeach()

# opt=3 with fpmath=bf16: a convolution that keeps float32 computes exactly
# what the float32 variant does, one in bf16 does not (tests/cli/onednn_bf16_choice.sh).
add_test(NAME cli.onednn_bf16_choice
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/onednn_bf16_choice.sh $<TARGET_FILE:deltakern_cli>
                 ${CMAKE_CURRENT_BINARY_DIR}/onednn_bf16_choice_work)
set_tests_properties(cli.onednn_bf16_choice PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# opt=3: a convolution feeding a Concat may run in oneDNN's own layout and
# reorder its output into the Concat's blocked layout; exact against
# layout=blocked in float32 and bf16 (tests/cli/onednn_concat_dst.sh).
add_test(NAME cli.onednn_concat_dst
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/onednn_concat_dst.sh $<TARGET_FILE:deltakern_cli>
                 ${CMAKE_CURRENT_BINARY_DIR}/onednn_concat_dst_work)
set_tests_properties(cli.onednn_concat_dst PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# opt=3 beside a busy process: the plan notes say the host was busy while the
# candidates were timed, each timed 12 runs more; the choices are remembered
# and a second process computes the same bits (tests/cli/onednn_choice_busy.sh).
add_test(NAME cli.onednn_choice_busy
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/onednn_choice_busy.sh $<TARGET_FILE:deltakern_cli>
                 ${CMAKE_CURRENT_BINARY_DIR}/onednn_choice_busy_work)
set_tests_properties(cli.onednn_choice_busy PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# opt=3 times each candidate hot and with its memory evicted, and weighs the
# two by the share of a pass's bytes the caches cannot hold: the notes' times,
# shares and choices agree with each other and with the model's size, and a
# second process computes the same bits (tests/cli/onednn_choice_cold.sh).
add_test(NAME cli.onednn_choice_cold
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/onednn_choice_cold.sh $<TARGET_FILE:deltakern_cli>
                 ${CMAKE_CURRENT_BINARY_DIR}/onednn_choice_cold_work)
set_tests_properties(cli.onednn_choice_cold PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
