# Dependencies. Optional ones follow DK_WITH_<DEP>=AUTO|ON|OFF: AUTO uses the
# dependency when found, ON fails the configure step without it, OFF ignores
# it. Each prints one summary line at the end of configuration.

set(DK_SUMMARY "")

function(dk_summary name state detail)
  set(DK_SUMMARY "${DK_SUMMARY}${name}\;${state}\;${detail}\n" PARENT_SCOPE)
endfunction()

# dk_option_dep(NAME) declares DK_WITH_NAME (default AUTO).
macro(dk_option_dep name)
  set(DK_WITH_${name} AUTO CACHE STRING "Use ${name}: AUTO, ON or OFF")
  set_property(CACHE DK_WITH_${name} PROPERTY STRINGS AUTO ON OFF)
  if(NOT DK_WITH_${name} MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "DK_WITH_${name}=${DK_WITH_${name}}: expected AUTO, ON or OFF")
  endif()
endmacro()

# dk_resolve_dep(NAME FOUND DETAIL) sets DK_HAVE_NAME and records the summary.
macro(dk_resolve_dep name found detail)
  if(DK_WITH_${name} STREQUAL "OFF")
    set(DK_HAVE_${name} OFF)
    dk_summary(${name} "off" "disabled by DK_WITH_${name}=OFF")
  elseif(${found})
    set(DK_HAVE_${name} ON)
    dk_summary(${name} "on" "${detail}")
  elseif(DK_WITH_${name} STREQUAL "ON")
    message(FATAL_ERROR "DK_WITH_${name}=ON but ${name} was not found (${detail})")
  else()
    set(DK_HAVE_${name} OFF)
    dk_summary(${name} "off" "not found: ${detail}")
  endif()
endmacro()

find_package(PkgConfig REQUIRED)
# POSIX threads: pthread_once, mutexes (in libc since glibc 2.34)
find_package(Threads REQUIRED)

# --- required: protobuf-c and the ONNX schema (the loader is the core) ---
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c)
find_program(DK_PROTOC_C protoc-c REQUIRED)
find_file(DK_ONNX_PROTO onnx.proto PATHS /usr/include/onnx /usr/local/include/onnx
          NO_DEFAULT_PATH REQUIRED)
dk_summary(protobuf-c "required" "${PROTOBUFC_VERSION}, schema ${DK_ONNX_PROTO}")

# --- required: cJSON for every result file (JSON reports, manifests, caches) ---
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
dk_summary(cJSON "required" "cJSON ${CJSON_VERSION}")

# --- required: xxHash for the determinism check's hashes of every node output ---
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
dk_summary(xxHash "required" "xxHash ${XXHASH_VERSION}")

# --- optional ---
dk_option_dep(OPENMP)
if(NOT DK_WITH_OPENMP STREQUAL "OFF")
  find_package(OpenMP QUIET COMPONENTS C)
endif()
dk_resolve_dep(OPENMP OpenMP_C_FOUND "OpenMP ${OpenMP_C_VERSION}")

dk_option_dep(PNG)
if(NOT DK_WITH_PNG STREQUAL "OFF")
  pkg_check_modules(LIBPNG QUIET IMPORTED_TARGET libpng)
endif()
dk_resolve_dep(PNG LIBPNG_FOUND "libpng ${LIBPNG_VERSION}")

dk_option_dep(JPEG)
if(NOT DK_WITH_JPEG STREQUAL "OFF")
  pkg_check_modules(LIBJPEG QUIET IMPORTED_TARGET libjpeg)
endif()
dk_resolve_dep(JPEG LIBJPEG_FOUND "libjpeg-turbo ${LIBJPEG_VERSION}")

# OpenBLAS: Debian's OpenMP build (libopenblas-openmp-dev), so that OpenBLAS
# and oneDNN share the one OpenMP thread pool. Linked by full path with an
# rpath to its directory: the generic libopenblas.so.0 is an alternatives
# link that may point at the pthread build.
dk_option_dep(OPENBLAS)
if(NOT DK_WITH_OPENBLAS STREQUAL "OFF")
  find_library(DK_OPENBLAS_LIB NAMES openblas
               PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp NO_DEFAULT_PATH)
  find_path(DK_OPENBLAS_INCLUDE cblas.h
            PATHS /usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp NO_DEFAULT_PATH)
endif()
if(DK_OPENBLAS_LIB AND DK_OPENBLAS_INCLUDE)
  set(DK_OPENBLAS_FOUND TRUE)
else()
  set(DK_OPENBLAS_FOUND FALSE)
endif()
dk_resolve_dep(OPENBLAS DK_OPENBLAS_FOUND "OpenMP build ${DK_OPENBLAS_LIB}")

# oneDNN (Debian libdnnl-dev 2.6, C API). Found by its header and library,
# not by its CMake config: Debian builds oneDNN with the OpenCL GPU runtime,
# so dnnl-config.cmake requires the OpenCL development files, which
# libdnnl-dev only recommends. deltakern uses the CPU engine alone.
dk_option_dep(ONEDNN)
set(DK_ONEDNN_FOUND FALSE)
set(DK_ONEDNN_DETAIL "dnnl.h and libdnnl (libdnnl-dev)")
if(NOT DK_WITH_ONEDNN STREQUAL "OFF")
  find_path(DK_ONEDNN_INCLUDE oneapi/dnnl/dnnl.h)
  find_library(DK_ONEDNN_LIB dnnl)
  if(DK_ONEDNN_INCLUDE AND DK_ONEDNN_LIB)
    file(STRINGS ${DK_ONEDNN_INCLUDE}/oneapi/dnnl/dnnl_version.h DK_ONEDNN_VERSION_LINES
         REGEX "#define DNNL_VERSION_(MAJOR|MINOR|PATCH) ")
    string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9]+).*" "\\1.\\2.\\3"
           DK_ONEDNN_VERSION "${DK_ONEDNN_VERSION_LINES}")
    if(DK_ONEDNN_VERSION VERSION_LESS 2.6 OR NOT DK_ONEDNN_VERSION VERSION_LESS 3)
      set(DK_ONEDNN_DETAIL "oneDNN ${DK_ONEDNN_VERSION} found, 2.x (2.6 or later) needed")
    else()
      set(DK_ONEDNN_FOUND TRUE)
      set(DK_ONEDNN_DETAIL "oneDNN ${DK_ONEDNN_VERSION}, ${DK_ONEDNN_LIB}")
      add_library(dk_dnnl INTERFACE IMPORTED)
      target_include_directories(dk_dnnl INTERFACE ${DK_ONEDNN_INCLUDE})
      target_link_libraries(dk_dnnl INTERFACE ${DK_ONEDNN_LIB})
    endif()
  endif()
endif()
dk_resolve_dep(ONEDNN DK_ONEDNN_FOUND "${DK_ONEDNN_DETAIL}")

# cuDNN 9 and cuBLAS with the CUDA runtime (/usr/local/cuda). Only headers and
# libraries are needed to build: where no GPU or driver exists the backend
# stays listed as unavailable, with the reason cudaGetDeviceCount gives.
dk_option_dep(CUDNN)
set(DK_CUDNN_FOUND FALSE)
set(DK_CUDNN_DETAIL "CUDA toolkit with cuDNN and cuBLAS (looked in /usr/local/cuda)")
if(NOT DK_WITH_CUDNN STREQUAL "OFF")
  if(NOT CUDAToolkit_ROOT AND EXISTS /usr/local/cuda)
    set(CUDAToolkit_ROOT /usr/local/cuda)
  endif()
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    find_path(DK_CUDNN_INCLUDE cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
    find_library(DK_CUDNN_LIB cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
  endif()
  if(CUDAToolkit_FOUND AND TARGET CUDA::cublas AND DK_CUDNN_INCLUDE AND DK_CUDNN_LIB)
    file(STRINGS ${DK_CUDNN_INCLUDE}/cudnn_version.h DK_CUDNN_VERSION_LINES
         REGEX "#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ")
    string(REGEX REPLACE ".*CUDNN_MAJOR ([0-9]+).*CUDNN_MINOR ([0-9]+).*CUDNN_PATCHLEVEL ([0-9]+).*"
           "\\1.\\2.\\3" DK_CUDNN_VERSION "${DK_CUDNN_VERSION_LINES}")
    if(DK_CUDNN_VERSION VERSION_LESS 9)
      set(DK_CUDNN_DETAIL "cuDNN ${DK_CUDNN_VERSION} found, 9 or later needed")
    else()
      set(DK_CUDNN_FOUND TRUE)
      set(DK_CUDNN_DETAIL "cuDNN ${DK_CUDNN_VERSION}, CUDA ${CUDAToolkit_VERSION} in ${CUDAToolkit_LIBRARY_DIR}")
    endif()
  endif()
endif()
dk_resolve_dep(CUDNN DK_CUDNN_FOUND "${DK_CUDNN_DETAIL}")

# PAPI (libpapi-dev): counters read around every node. This host's
# hypervisor hides the PMU; PAPI then counts perf software events only.
dk_option_dep(PAPI)
if(NOT DK_WITH_PAPI STREQUAL "OFF")
  pkg_check_modules(PAPI QUIET IMPORTED_TARGET papi)
endif()
dk_resolve_dep(PAPI PAPI_FOUND "PAPI ${PAPI_VERSION}")

# hwloc (libhwloc-dev): the topology in every result, thread binding.
dk_option_dep(HWLOC)
if(NOT DK_WITH_HWLOC STREQUAL "OFF")
  pkg_check_modules(HWLOC QUIET IMPORTED_TARGET hwloc)
endif()
dk_resolve_dep(HWLOC HWLOC_FOUND "hwloc ${HWLOC_VERSION}")

# MPI (libopenmpi-dev, openmpi-bin): `mpirun deltakern diff` runs one shard
# per rank and rank 0 merges them (tools/cli_diff_mpi.c).
dk_option_dep(MPI)
if(NOT DK_WITH_MPI STREQUAL "OFF")
  find_package(MPI QUIET COMPONENTS C)
endif()
dk_resolve_dep(MPI MPI_C_FOUND "MPI ${MPI_C_VERSION}, ${MPIEXEC_EXECUTABLE}")

dk_option_dep(CMOCKA)
if(NOT DK_WITH_CMOCKA STREQUAL "OFF")
  pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET cmocka)
endif()
dk_resolve_dep(CMOCKA CMOCKA_FOUND "cmocka ${CMOCKA_VERSION} (unit tests)")

function(dk_print_summary)
  message(STATUS "deltakern ${PROJECT_VERSION} configuration:")
  string(REPLACE "\n" ";" lines "${DK_SUMMARY}")
  foreach(line IN LISTS lines)
    if(line STREQUAL "")
      continue()
    endif()
    string(REPLACE "\;" ";" fields "${line}")
    list(GET fields 0 name)
    list(GET fields 1 state)
    list(GET fields 2 detail)
    string(LENGTH "${name}" len)
    math(EXPR padn "12 - ${len}")
    string(REPEAT " " ${padn} pad)
    message(STATUS "  ${name}${pad}${state}  (${detail})")
  endforeach()
endfunction()
