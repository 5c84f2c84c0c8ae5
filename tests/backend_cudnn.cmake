# Tests of the cudnn backend (included from tests/CMakeLists.txt). Where no
# GPU is usable they report SKIPPED with the reason (exit 77), never a pass.
#
# unit.test_cudnn needs no GPU: options, algorithm names, error translation
# and cuDNN's descriptors against deltakern's shapes (tests/cudnn/test_cudnn.c).
# unit.test_cudnn_plans emulates on the host what the planned device calls do
# for the ops whose index arithmetic is ours, on the ONNX node test data, and
# ConvTranspose's cudnnConvolutionBackwardData from its descriptors
# (tests/cudnn/test_cudnn_plans.c). The op suite (ops.*) and the conformance
# runs below check ConvTranspose on the GPU against the reference.
foreach(name test_cudnn test_cudnn_plans)
  if(DK_HAVE_CUDNN AND DK_HAVE_CMOCKA)
    add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/cudnn/${name}.c)
    # linked: the tests call cuDNN directly (reading descriptors back) besides
    # the backend, whose calls go through the pointers dk__cuda_load fills
    target_link_libraries(${name} PRIVATE dk_test_util ${DK_CUDNN_LIB} CUDA::cublas CUDA::cudart)
    add_test(NAME unit.${name} COMMAND ${name})
    set_tests_properties(unit.${name} PROPERTIES SKIP_RETURN_CODE 77
                         ENVIRONMENT DK_MODEL_DIR=${DK_MODEL_DIR})
  else()
    add_test(NAME unit.${name}
      COMMAND sh -c "echo 'SKIP: built without the cudnn backend or cmocka (see the configure summary)'; exit 77")
    set_tests_properties(unit.${name} PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endforeach()

# ONNX node conformance on the GPU (rtol 1e-3): the float32 variants.
foreach(variant cudnn cudnn:layout=nhwc cudnn:algo=find,deterministic=on)
  string(REGEX REPLACE "[:,=]" "." name ${variant})
  dk_add_conformance(${name} ${variant})
endforeach()

# End to end against PyTorch (top-5 identical, relative L2 <= 1e-4) on the
# float32 variants: plain, NHWC, the fused graph (opt=2: residual and
# Relu/Clip as convolution post-ops) with fuse=on, and the one forward
# algorithm cuDNN implements for every convolution, named. Skips while the
# backend is unavailable.
foreach(model mobilenet_v2 resnet50 inception_v3)
  foreach(variant cudnn cudnn:layout=nhwc cudnn:opt=2,fuse=on cudnn:algo=IMPLICIT_GEMM)
    dk_add_e2e_variant(${model} ${variant})
  endforeach()
endforeach()

# Under AddressSanitizer the CUDA driver needs the shadow gap unprotected (it
# maps device memory there), and LeakSanitizer must not report what the NVIDIA
# libraries keep for the process's lifetime.
if(DK_SANITIZE)
  get_property(dk_cudnn_tests DIRECTORY PROPERTY TESTS)
  list(FILTER dk_cudnn_tests INCLUDE REGEX "cudnn")
  set_property(TEST ${dk_cudnn_tests} APPEND PROPERTY ENVIRONMENT
               "ASAN_OPTIONS=protect_shadow_gap=0:detect_leaks=1"
               "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/cudnn/lsan.supp")
endif()
