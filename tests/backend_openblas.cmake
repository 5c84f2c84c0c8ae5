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

# End to end against PyTorch (top-5 identical, relative L2 <= 1e-4). The model
# files are shared with the e2e.<model> tests (same export), hence the lock.
# conv=im2col only on MobileNetV2: there it moves the depthwise layers from the
# direct loop to per-channel GEMMs; on ResNet-50 and InceptionV3 it only copies
# the 1x1 convolutions' input before the same GEMM (bit-identical logits).
foreach(spec mobilenet_v2:openblas resnet50:openblas inception_v3:openblas
             mobilenet_v2:openblas:conv=im2col)
  string(FIND ${spec} ":" colon)
  string(SUBSTRING ${spec} 0 ${colon} model)
  math(EXPR start "${colon} + 1")
  string(SUBSTRING ${spec} ${start} -1 variant)
  string(REPLACE ":conv=" "." name ${variant})
  add_test(NAME e2e.${model}.${name}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/model_e2e_variant.sh $<TARGET_FILE:deltakern_cli>
            ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${model} ${variant})
  set_tests_properties(e2e.${model}.${name} PROPERTIES LABELS e2e SKIP_RETURN_CODE 77
                       RESOURCE_LOCK model_${model} TIMEOUT 1200)
endforeach()
