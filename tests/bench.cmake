# deltakern bench and compare (tests/cli/bench_compare.sh):
#   cli.bench_compare.aa       A/A: one variant benchmarked twice, interleaved, and compared,
#                              10 times; no node may ever be flagged
#   cli.bench_compare.planted  a 1.5x slowdown planted on a random heavy node by
#                              the fault wrapper is flagged and carries the
#                              largest share
#   cli.bench_compare.io       result and trace files, counters per node, verdicts
#                              on crafted results, bad input
# The timing tests run alone (RUN_SERIAL): other tests on the same two cores
# would be the very noise they must not mistake for a regression. They use
# ResNet-50 in every build, sanitised ones included (about a minute each):
# MobileNetV2 under AddressSanitizer spends much of its time in instrumented
# element-wise kernels and a memory-bound classifier, whose medians swing by
# 1.5-2.5x with the load of other processes between two runs.
set(DK_BENCH_MODEL resnet50)
foreach(mode aa planted io)
  add_test(NAME cli.bench_compare.${mode}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/bench_compare.sh $<TARGET_FILE:deltakern_cli>
            ${CMAKE_CURRENT_BINARY_DIR}/cli_bench_${mode} ${DK_MODEL_DIR} ${DK_BENCH_MODEL} ${mode})
  set_tests_properties(cli.bench_compare.${mode} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900)
endforeach()
set_tests_properties(cli.bench_compare.aa cli.bench_compare.planted PROPERTIES
                     RUN_SERIAL TRUE RESOURCE_LOCK model_${DK_BENCH_MODEL})

# compare with an ONNX Runtime profile as a side (tests/cli/compare_ort.sh):
# the profile recorded by bench/ort_profile.mjs of the MNIST model and a bench
# result of it, both in tests/cli/ort, matched node by node in both orders;
# the matching rules on a crafted profile; a profile of another model,
# corrupt, truncated and foreign JSON (exit 2). With the trained MNIST model
# (e2e.mnist.labels) a fresh bench is compared too, and with onnxruntime-node
# in bench/ort-runtime a fresh profile; each part says why when skipped. No
# timing is checked.
add_test(NAME cli.compare_ort COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/compare_ort.sh $<TARGET_FILE:deltakern_cli>
         ${CMAKE_CURRENT_BINARY_DIR}/cli_compare_ort ${CMAKE_CURRENT_SOURCE_DIR}/cli/ort ${DK_MNIST_MODEL}
         ${PROJECT_SOURCE_DIR}/bench/ort-runtime)
set_tests_properties(cli.compare_ort PROPERTIES TIMEOUT 300 DEPENDS e2e.mnist.labels)

# mpirun deltakern bench (tests/cli/bench_mpi.sh): 2 and 3 ranks on localhost
# write one result with every rank's in "nodes"; compare FILE#K and report
# read it; errors on every rank or one give one line and no file. Skips (77)
# without MPI or its launcher. MobileNetV2, 3 repetitions: no timing checked.
add_test(NAME cli.bench_mpi COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/bench_mpi.sh $<TARGET_FILE:deltakern_cli>
         "${DK_HAVE_MPI}" "${MPIEXEC_EXECUTABLE}" ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR}
         ${CMAKE_CURRENT_BINARY_DIR}/cli_bench_mpi)
set_tests_properties(cli.bench_mpi PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600 DEPENDS e2e.mobilenet_v2
                     PROCESSORS 2)

# bench records the host's load and compare says when a side was disturbed
# (tests/cli/bench_host_load.sh): a bench beside a busy shell loop the test
# starts (and kills) is marked disturbed with its numbers; compare names the
# disturbed side in its story and --json; results without host_load (written
# before it existed) compare and report as "not recorded". A tiny model on
# the reference backend: seconds in every build. The quiet verdict is tested
# on recorded samples (unit.test_host_load), never on this shared host.
add_test(NAME cli.bench_host_load COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/bench_host_load.sh
         $<TARGET_FILE:deltakern_cli> ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/cli_bench_host_load)
set_tests_properties(cli.bench_host_load PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
