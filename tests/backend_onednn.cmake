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
