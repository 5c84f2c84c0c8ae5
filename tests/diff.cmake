# deltakern diff: planted faults, no false alarms, bundles, resume, bad input.
# Under sanitizers (several times slower) the ResNet-50 and InceptionV3 runs
# skip; MobileNetV2 covers the same code there.
set(DK_DIFF_WORK ${CMAKE_CURRENT_BINARY_DIR}/diff_work)
foreach(spec mobilenet_v2:2:onednn resnet50:1:onednn inception_v3:1:openblas)
  string(REPLACE ":" ";" parts ${spec})
  list(GET parts 0 model)
  list(GET parts 1 images)
  list(GET parts 2 base)
  set(heavy OFF)
  if(DK_SANITIZE AND NOT model STREQUAL "mobilenet_v2")
    set(heavy ON)
  endif()
  foreach(kind planted clean)
    set(name e2e.diff.${kind}.${model})
    if(heavy)
      add_test(NAME ${name} COMMAND bash -c "echo 'SKIP: ${model} is too slow under sanitizers; the normal build runs this test'; exit 77")
    elseif(kind STREQUAL "planted")
      if(DK_SANITIZE)
        set(images 1)
      endif()
      add_test(NAME ${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/diff_planted.sh $<TARGET_FILE:deltakern_cli>
               ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${model} ${images} ${base} ${DK_DIFF_WORK}/${kind}_${model})
    else()
      set(n ${images})
      if(DK_SANITIZE)
        set(n 1)
      elseif(model STREQUAL "mobilenet_v2")
        set(n 5)
      endif()
      add_test(NAME ${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/diff_clean.sh $<TARGET_FILE:deltakern_cli>
               ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${model} ${n} ${DK_DIFF_WORK}/${kind}_${model})
    endif()
    set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 DEPENDS e2e.${model})
  endforeach()
endforeach()
# A near-tie input (found by 40 runs of the model) flips without a faulty kernel.
if(DK_SANITIZE)
  add_test(NAME e2e.diff.margin COMMAND bash -c "echo 'SKIP: the near-tie search is too slow under sanitizers; the normal build runs this test'; exit 77")
else()
  add_test(NAME e2e.diff.margin COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/diff_margin.sh
           $<TARGET_FILE:deltakern_cli> ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${DK_DIFF_WORK}/margin)
endif()
set_tests_properties(e2e.diff.margin PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900
                     DEPENDS e2e.mobilenet_v2)
foreach(kind bundle resume declared)
  add_test(NAME e2e.diff.${kind} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/diff_${kind}.sh
           $<TARGET_FILE:deltakern_cli> ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${DK_DIFF_WORK}/${kind})
  set_tests_properties(e2e.diff.${kind} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900
                       DEPENDS e2e.mobilenet_v2)
endforeach()
add_test(NAME cli.diff_bad_input COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/diff_bad_input.sh
         $<TARGET_FILE:deltakern_cli> ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${DK_DIFF_WORK}/bad_input)
set_tests_properties(cli.diff_bad_input PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
add_test(NAME cli.diff_labels COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/diff_labels.sh
         $<TARGET_FILE:deltakern_cli> ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${DK_DIFF_WORK}/labels)
# nine diff runs of MobileNetV2: about 70 s each under the sanitizers on 2 busy cores
set_tests_properties(cli.diff_labels PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1800)
# Verdicts beyond rounding: NONDETERMINISTIC (a planted flaky kernel, named
# first; the clean variant, here opt=3 with its layout propagation, bit for bit
# twice) and NONFINITE (a planted NaN, an all-NaN input), never label differences.
foreach(variant onednn:opt=3 openblas)
  string(REGEX REPLACE "[:,=]" "." vname ${variant})
  add_test(NAME e2e.diff.verdicts.${vname} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/diff_verdicts.sh
           $<TARGET_FILE:deltakern_cli> ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${variant} ${DK_DIFF_WORK}/verdicts_${vname})
  set_tests_properties(e2e.diff.verdicts.${vname} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900
                       DEPENDS e2e.mobilenet_v2)
endforeach()
# Killed at random moments and right after each rename (a shim that kills
# the process there), diff resumes to the uninterrupted result; a tiny
# generated model keeps it to seconds.
add_library(dk_kill_after_rename MODULE tools/kill_after_rename.c)
target_link_libraries(dk_kill_after_rename PRIVATE ${CMAKE_DL_LIBS})
set(kill_trials 8)
if(DK_SANITIZE)
  set(kill_trials 2) # each run is several times slower there
endif()
add_test(NAME e2e.diff.kill COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/diff_kill.sh
         $<TARGET_FILE:deltakern_cli> ${PROJECT_SOURCE_DIR} $<TARGET_FILE:dk_kill_after_rename>
         ${DK_DIFF_WORK}/kill ${kill_trials})
set_tests_properties(e2e.diff.kill PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200)
# The rules of the directories diff writes, and what --against trusts.
foreach(kind outdir bundle_trust)
  add_test(NAME cli.diff_${kind} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/diff_${kind}.sh
           $<TARGET_FILE:deltakern_cli> ${PROJECT_SOURCE_DIR} ${DK_DIFF_WORK}/${kind})
  set_tests_properties(cli.diff_${kind} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
endforeach()

# A node output with no elements is compared first (tests/cli/diff_empty_value.sh).
add_test(NAME cli.diff_empty_value COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/diff_empty_value.sh
         $<TARGET_FILE:deltakern_cli> ${DK_DIFF_WORK}/empty_value)
set_tests_properties(cli.diff_empty_value PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)

# diff --shard K/N and deltakern merge (tests/cli/diff_shards.sh): 2 and 3
# shards of the bundled photos merge to the single run's files; other runs,
# splits and versions, missing and unfinished shards are refused; the 2
# shards' --save bundles merge to the single run's bundle. Four
# variants; one under the sanitizers, where the normal pass has checked
# the merge of every variant and the e2e tests each backend's kernels.
if(DK_SANITIZE)
  set(DK_SHARD_VARIANTS onednn:opt=3)
else()
  set(DK_SHARD_VARIANTS openblas onednn onednn:opt=3 onednn:fpmath=bf16)
endif()
add_test(NAME cli.diff_shards COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/diff_shards.sh $<TARGET_FILE:deltakern_cli>
         ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${DK_DIFF_WORK}/shards ${DK_SHARD_VARIANTS})
set_tests_properties(cli.diff_shards PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200 DEPENDS e2e.mobilenet_v2)

# mpirun deltakern diff (tests/cli/diff_mpi.sh): 2 and 3 ranks on localhost
# give the single run's files; a killed rank fails the job and --resume
# finishes it; refusals. Skips (77) without MPI or its launcher. It and
# cli.diff_rank_variant share the cores with other tests: mpirun's start-up
# and rank 0's polling leave them idle (the sanitizer pass: 756 -> 699 s).
add_test(NAME cli.diff_mpi COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/diff_mpi.sh $<TARGET_FILE:deltakern_cli>
         "${DK_HAVE_MPI}" "${MPIEXEC_EXECUTABLE}" ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${DK_DIFF_WORK}/mpi
         ${DK_SHARD_VARIANTS})
set_tests_properties(cli.diff_mpi PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200 DEPENDS e2e.mobilenet_v2)

# mpirun deltakern diff --rank-variant (tests/cli/diff_rank_variant.sh):
# groups of ranks running different variants merge into one run of every
# variant, file by file; groups disagreeing on an input and bad rank specs
# are refused. Skips (77) without MPI or its launcher.
add_test(NAME cli.diff_rank_variant COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/diff_rank_variant.sh
         $<TARGET_FILE:deltakern_cli> "${DK_HAVE_MPI}" "${MPIEXEC_EXECUTABLE}" ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR}
         ${DK_DIFF_WORK}/rank_variant)
set_tests_properties(cli.diff_rank_variant PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200 DEPENDS e2e.mobilenet_v2)

# tools/slurm/diff_array.sbatch + diff_merge.sbatch on a one-node Slurm
# cluster the test starts on localhost (tests/cli/diff_slurm.sh): the array
# and its merge equal the single run; a task rerun alone continues its
# shard. Skips (77) with the daemons' reason where they cannot start.
# Not under the sanitizers: the templates run the same diff and merge as
# cli.diff_shards, which that pass checks.
if(NOT DK_SANITIZE)
add_test(NAME cli.diff_slurm COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/diff_slurm.sh $<TARGET_FILE:deltakern_cli>
         ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${DK_DIFF_WORK}/slurm ${DK_SHARD_VARIANTS})
set_tests_properties(cli.diff_slurm PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200 DEPENDS e2e.mobilenet_v2
                     PROCESSORS 2)
endif()
