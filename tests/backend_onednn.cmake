# Tests of the oneDNN backend (included from tests/CMakeLists.txt). Each skips
# (exit 77) when the backend is unavailable in this build. The unit test
# (tests/unit/test_onednn.c) covers every op in all 18 layout x fpmath x algo
# combinations against the reference with the tolerance table.

# ONNX node conformance, same required families as the reference. The
# conformance comparison is rtol 1e-3 (the ONNX runner's), a float32 standard:
# fpmath=bf16 is judged by the unit test and the tolerance table instead.
foreach(variant onednn onednn:layout=nchw16c onednn:layout=plain)
  string(REPLACE ":layout=" "." name ${variant})
  dk_add_conformance(${name} ${variant})
endforeach()

# End to end against PyTorch (top-5 identical, relative L2 <= 1e-4) on the
# float32 variants. The model files are shared with the e2e.<model> tests (same
# export), hence the lock.
foreach(model mobilenet_v2 resnet50 inception_v3)
  foreach(variant onednn onednn:layout=nchw16c onednn:layout=plain)
    string(REPLACE ":layout=" "." name ${variant})
    add_test(NAME e2e.${model}.${name}
      COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/model_e2e_variant.sh $<TARGET_FILE:deltakern_cli>
              ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${model} ${variant})
    set_tests_properties(e2e.${model}.${name} PROPERTIES LABELS e2e SKIP_RETURN_CODE 77
                         RESOURCE_LOCK model_${model} TIMEOUT 1200)
  endforeach()
endforeach()
