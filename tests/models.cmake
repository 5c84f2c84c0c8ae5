# The torchvision matrix (tools/model_matrix.py) on small classifiers, one test
# each: every CPU variant against PyTorch's logits (top-5, rel L2 <= max(1e-4,
# twice PyTorch's own float32 error) for float32), bit-identical on a second run, and `deltakern diff` from the
# reference with no node over its bound. The SE-block networks
# (efficientnet_b0, regnet_y_400mf, mobilenet_v3_small) are where opt=3 once
# read stale memory; ShuffleNetV2 runs Slice. The whole matrix (every classifier) is the script's
# --all, run by hand: it takes hours on two cores.
# Normal build only: under the sanitizers the e2e tests cover the same code.
set(DK_MATRIX_MODELS squeezenet1_1 mnasnet0_5 mobilenet_v3_small efficientnet_b0 regnet_y_400mf
                     shufflenet_v2_x0_5)
foreach(model ${DK_MATRIX_MODELS})
  set(name models.${model})
  if(DK_SANITIZE)
    add_test(NAME ${name} COMMAND bash -c "echo 'SKIP: the model matrix is too slow under sanitizers; the normal build runs it'; exit 77")
  else()
    add_test(NAME ${name} COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tools/model_matrix.py
             $<TARGET_FILE:deltakern_cli> --dir ${DK_MODEL_DIR} --model ${model})
  endif()
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200)
endforeach()
