# Graph optimisation levels and reduced precision end to end (included from
# tests/CMakeLists.txt): the exported torchvision models through the CLI on
# fused graphs (opt=2: residual and activation fusion; opt=3: also layout
# propagation and per-layer algorithm choice) against PyTorch (top-5
# identical, relative L2 <= 1e-4), and fpmath=bf16, whose relative L2 error is
# reported and bounded loosely (labels may differ; every layer's own error is
# held to the tolerance table by unit.test_fusion). An unavailable backend skips.
set(DK_OPT_VARIANTS ref:opt=2 openblas:opt=2 onednn:opt=2 onednn:opt=2,fuse=off
    onednn:opt=3 onednn:opt=3,layout=nchw16c)
foreach(model mobilenet_v2 resnet50 inception_v3)
  foreach(variant IN LISTS DK_OPT_VARIANTS)
    dk_add_e2e_variant(${model} ${variant})
  endforeach()
  # bf16: relative L2 of the logits within 0.1 (measured 4-9e-2 on these
  # models with seeded weights); top-5 reported, not required.
  dk_add_e2e_variant(${model} onednn:fpmath=bf16,opt=2 NAME onednn.bf16
                     FLAGS --max-rel-l2 0.1 --labels-may-differ)
endforeach()
