# Tests of the OpenBLAS backend (included from tests/CMakeLists.txt). Each
# skips (exit 77) when the backend is unavailable in this build.

# ONNX node conformance on both convolution lowerings, same required families
# as the reference.
foreach(variant openblas openblas:conv=im2col)
  string(REPLACE "openblas" "" suffix ${variant})
  string(REPLACE ":conv=" "." suffix "${suffix}")
  set(name openblas${suffix})
  dk_add_conformance(${name} ${variant})
endforeach()

# End to end against PyTorch (top-5 identical, relative L2 <= 1e-4).
# conv=im2col only on MobileNetV2: there it moves the depthwise layers from the
# direct loop to per-channel GEMMs; on ResNet-50 and InceptionV3 it only copies
# the 1x1 convolutions' input before the same GEMM (bit-identical logits).
foreach(model mobilenet_v2 resnet50 inception_v3)
  dk_add_e2e_variant(${model} openblas)
endforeach()
dk_add_e2e_variant(mobilenet_v2 openblas:conv=im2col)

# The kernel set: openblas:core= and OPENBLAS_CORETYPE, the CLI's restart and
# what the environment fingerprint says (tools/cli_openblas_core.c).
add_test(NAME cli.openblas_core
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/openblas_core.sh $<TARGET_FILE:deltakern_cli>
                 ${DK_MODEL_DIR} ${CMAKE_CURRENT_BINARY_DIR}/openblas_core_work)
set_tests_properties(cli.openblas_core PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
