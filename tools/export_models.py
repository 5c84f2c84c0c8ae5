#!/usr/bin/python3
"""Export a torchvision ImageNet classifier to ONNX with seeded random weights.

Writes, into --out DIR (each file atomically: temp file in DIR, then rename):
  <model>.onnx  (or <model>_bn.onnx with --keep-bn)  batch-1 static graph,
                input "input" float32 1x3xSxS, output "logits" float32 1x1000
  <model>.input.npy   float32 NCHW input the reference was computed on
  <model>.logits.npy  float32 1x1000 PyTorch (eval, float32) logits for that input

Every classifier of torchvision.models.list_models(module=torchvision.models) is
accepted.  S is 299 for inception_v3 and 224 for every other model: each architecture
accepts 224 (ViT and MaxViT require exactly 224; Swin pads to its windows), and the
larger resolutions torchvision's weights were trained at (EfficientNet-B1..B7 240-600,
EfficientNetV2 384-480, Swin V2 256, ...) would only make the calibration slower.  Two
models cannot be written: regnet_y_128gf (2.6 GB of weights) and vit_h_14 (2.5 GB) do
not fit in one ONNX protobuf (2 GiB); the script says so before calibrating.

No pretrained weights are used (nothing is downloaded): the network is built with
weights=None after torch.manual_seed(--seed).  Untrained networks have no useful
BatchNorm statistics (running mean 0 / var 1), so their activations vanish or explode
with depth (MobileNetV2 logits ~1e-10, InceptionV3 ~1e12).  We therefore calibrate:

  0. The classifier (step 2's layer) is the last Linear the forward pass runs (the last
     Conv for all-convolutional nets such as SqueezeNet), found with forward hooks on
     one image.  If it is all zeros (ViT's head), it is drawn as nn.Linear's default
     init would, U(+-1/sqrt(fan_in)), else every logit would be 0.
  1. BatchNorm: each BN's affine parameters (torchvision initialises weight=1,
     bias=0) are first drawn at random, weight ~ U(0.75, 1.25), bias ~ N(0, 0.1^2), so
     folded Conv biases and kept BatchNormalization nodes carry a non-trivial scale
     and shift (an implementation that ignores or swaps them fails the reference) and
     the exporter has no identical all-ones/zeros tensors to deduplicate into Identity
     nodes.  LayerNorm and GroupNorm affine parameters are drawn the same way (their
     own generator).  Then the running statistics: every BN layer is put in train mode
     with momentum=None (cumulative average) and its running stats are reset; the rest
     of the model stays in eval mode (Dropout off).  4 seeded random batches of 8 are
     run under no_grad; each BN then holds the mean/variance of its input, so in eval
     mode BN outputs are ~zero-mean with std ~weight.  Momentum is then restored to 0.1.
     The batches are image-like noise (see synth_batch), not white N(0,1) noise:
     calibrated on white noise, real photographs are far out of distribution and
     their logits still explode (seed 0, the 5 data/images/ photographs: ResNet50
     logits std 12-32 before the classifier rescale below, 80-220 after it;
     InceptionV3 710-1100, against 0.6 and 1.9 on the white noise itself).  With
     image-like noise the photographs stay within ~4x of the calibration scale
     (before rescale: ResNet50 0.48-1.5, InceptionV3 2.6-8.4, MobileNetV2 0.13-0.23).
  1b. Parameters initialised to a trivial constant that no statistics fix (see
     fill_zero_params): all-zero biases of Linear, Conv and MultiheadAttention layers
     (VGG, SqueezeNet, the SE blocks, every transformer) get small random values scaled
     to the layer's output, and ConvNeXt's layer_scale (1e-6: each block the identity)
     is set so that each residual branch adds ~30 % of its input's std.  This runs
     after the BN statistics, which are then gathered again (the new biases moved
     their inputs).  LayerNorm models (ViT, Swin, ConvNeXt) need nothing else: they
     normalise each token, so no statistics are involved.  No BN model of the e2e
     tests (mobilenet_v2, resnet50, inception_v3) has such a parameter: their
     exports are unchanged byte for byte.
  2. Final classifier: BN cannot fix the scale of the last Linear layer (its init
     differs by architecture: std 0.01 in MobileNetV2, U(+-1/sqrt(fan_in)) in ResNet,
     trunc-normal 0.1 in InceptionV3).  If the logits std (over the 1000 classes,
     averaged over the calibration batches) falls outside [1, 10], the classifier's
     weight and bias are multiplied by one factor so that it becomes 4.
  2b. The reference input is a photograph, and for some networks photographs stay far
     out of the calibration distribution however the noise is shaped: the deep SE
     networks (EfficientNet, MobileNetV3) and GoogLeNet give logits 10-500x larger on
     it than on the calibration batches, the activations growing stage by stage
     (seed 0: efficientnet_b4's reference logits std 2229 after step 2, activations
     up to std 543, and the exported graph, run in float32 with BN folded, then
     differs from PyTorch by 1e-3 relative).  So if the reference input's logits std
     lies outside [0.5, 20] after step 2, the model is built again from the same seed
     and steps 0-2 are redone with the reference input as the first image of each
     calibration batch (1 in 8), which brings it into the BN statistics.  If its
     logits std is still outside [0.5, 20], the classifier is scaled once more, by the
     factor that brings it to 4 on that input.  This fixes the reference data only:
     other photographs can still be far off in these networks.  mobilenet_v2,
     resnet50 and inception_v3 (std 6.1, 10.2, 4.8 after step 2) are calibrated on
     noise alone, as before.
  3. Check: one eval pass on the reference input with forward hooks on every module
     except the convolutions (so BN, activations, Linear and whole blocks) records
     each output's std (all printed with --verbose; min/max always printed).  The
     script fails if the logits are not finite or their std is outside [0.1, 100].

By default the exporter runs in EVAL mode with constant folding, which folds each
BatchNormalization into the preceding Conv (a BN that follows no Conv, e.g. DenseNet's
pre-activation BN, stays a BatchNormalization node).  With --keep-bn the export uses
TrainingMode.PRESERVE on the eval-mode model: the eval peephole pass (which does the
folding) is skipped, so BatchNormalization nodes stay in the graph (inference form,
one output, no training_mode=1).

Every exported graph is checked with onnx.checker (full_check, includes shape
inference) and then executed by a small ONNX interpreter written here on top of
torch.nn.functional (onnxruntime is not available offline); its output must match
the PyTorch reference logits.  It covers every op the torchvision classifiers export
to at opsets 13 and 17 (the transformers' Slice, Erf, Pow, LayerNormalization, Swin's
shape arithmetic and ScatterND, ...); for any other op it warns and skips the run.

Deterministic for a given --seed and input: torch.manual_seed,
torch.use_deterministic_algorithms(True), 2 intra-op threads.
"""
import argparse
import collections
import io
import os
import sys
import tempfile
import time
import warnings

PROG = "export_models"
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_IMAGES = os.path.normpath(os.path.join(HERE, "..", "data", "images"))
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".ppm", ".bmp")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Input resolution; everything not listed uses 224.
INPUT_SIZE = {"inception_v3": 299}
# Extra constructor arguments.
MODEL_KWARGS = {
    "inception_v3": dict(aux_logits=False, init_weights=True, transform_input=False),
    "googlenet": dict(aux_logits=False, init_weights=True, transform_input=False),
}

CALIB_BATCHES = 4
CALIB_BATCH_SIZE = 8
LOGITS_STD_OK = (1.0, 10.0)   # leave the classifier alone inside this range
LOGITS_STD_TARGET = 4.0       # otherwise rescale the classifier layer to this
LOGITS_STD_FAIL = (0.1, 100.0)
REF_LOGITS_STD_OK = (0.5, 20.0)  # reference input's logits: else rescale on it (step 2b)
PROTOBUF_LIMIT = 2 ** 31 - 2 ** 24   # a serialized ModelProto must stay under 2 GiB
BIAS_REL = 0.1                # zero-initialised biases: N(0, (0.1 x output std)^2)
LAYER_SCALE_REL = 0.3         # ConvNeXt layer_scale: branch ~0.3 x its input's std


def die(msg):
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    sys.exit(2)


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        die(message + " (see --help)")


def parse_args(argv):
    ap = OneLineParser(prog="export_models.py",
                       description="Export a torchvision classifier with seeded random, "
                                   "BN-calibrated weights to ONNX plus reference input/logits.")
    ap.add_argument("--model", required=True,
                    help="torchvision classification model name, e.g. mobilenet_v2, "
                         "resnet50, inception_v3")
    ap.add_argument("--out", required=True, help="output directory (created if missing)")
    ap.add_argument("--seed", type=int, default=0, help="RNG seed (default 0)")
    ap.add_argument("--keep-bn", action="store_true",
                    help="keep BatchNormalization nodes (writes <model>_bn.onnx)")
    ap.add_argument("--opset", type=int, default=13, help="ONNX opset (default 13)")
    ap.add_argument("--input", metavar="FILE.npy",
                    help="float32 input 1x3xSxS (or 3xSxS); default: first image in "
                         "data/images/, ImageNet preprocessing")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="print per-layer activation std")
    args = ap.parse_args(argv)
    if args.seed < 0:
        die(f"--seed must be >= 0, got {args.seed}")
    if not 9 <= args.opset <= 17:
        die(f"--opset must be in 9..17 for torch 1.13, got {args.opset}")
    if args.input is not None and not os.path.isfile(args.input):
        die(f"--input {args.input}: no such file")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        die(f"--out {args.out} exists and is not a directory")
    return args


# ----------------------------------------------------------------------------- input

def load_image(path, size):
    """ImageNet eval preprocessing (as torchvision Resize(round(size/0.875)) +
    CenterCrop(size) + ToTensor + Normalize) with PIL + numpy."""
    import numpy as np
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        short = int(round(size / 0.875))
        if w <= h:
            nw, nh = short, int(short * h / w)
        else:
            nw, nh = int(short * w / h), short
        im = im.resize((nw, nh), Image.BILINEAR)
        top = int(round((nh - size) / 2.0))
        left = int(round((nw - size) / 2.0))
        im = im.crop((left, top, left + size, top + size))
        a = np.asarray(im, dtype=np.float32) / 255.0             # HWC
    a = (a - np.array(IMAGENET_MEAN, np.float32)) / np.array(IMAGENET_STD, np.float32)
    return np.ascontiguousarray(a.transpose(2, 0, 1)[None], dtype=np.float32)


def default_image():
    if not os.path.isdir(DEFAULT_IMAGES):
        die(f"no --input and no image directory {DEFAULT_IMAGES}")
    names = sorted(n for n in os.listdir(DEFAULT_IMAGES) if n.lower().endswith(IMAGE_EXTS))
    if not names:
        die(f"no --input and no images in {DEFAULT_IMAGES}")
    return os.path.join(DEFAULT_IMAGES, names[0])


def load_input(args, size):
    import numpy as np
    if args.input is None:
        path = default_image()
        return load_image(path, size), path
    try:
        a = np.load(args.input, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - any load failure is a bad argument
        die(f"--input {args.input}: cannot load: {e}")
    if a.ndim == 3:
        a = a[None]
    if a.shape != (1, 3, size, size):
        die(f"--input {args.input}: shape {a.shape}, expected (1, 3, {size}, {size})")
    a = np.ascontiguousarray(a, dtype=np.float32)
    if not np.isfinite(a).all():
        die(f"--input {args.input}: contains non-finite values")
    return a, args.input


# ----------------------------------------------------------------------------- model

def build_model(name, seed):
    import torch
    import torchvision
    kw = dict(MODEL_KWARGS.get(name, {}))
    torch.manual_seed(seed)
    model = torchvision.models.get_model(name, weights=None, **kw)
    return model.eval()


def classifier_layer(model, x=None):
    """The classifier: the last Linear module the forward pass runs (the last Conv for
    all-convolutional nets such as SqueezeNet).  Found by running x (one image) with
    forward hooks, so the order of execution counts, not the order of registration;
    without x, the last one registered."""
    import torch
    kinds = (torch.nn.Linear, torch.nn.modules.conv._ConvNd)
    mods = [(n, m) for n, m in model.named_modules() if isinstance(m, kinds)]
    if x is not None:
        ran = []
        hooks = [m.register_forward_hook(lambda mod, inp, out, n=n: ran.append(n)) for n, m in mods]
        try:
            with torch.no_grad():
                model(x)
        finally:
            for h in hooks:
                h.remove()
        byname = dict(mods)
        mods = [(n, byname[n]) for n in ran]
    for kind in kinds:
        found = [(n, m) for n, m in mods if isinstance(m, kind)]
        if found:
            return found[-1]
    return None, None


def synth_batch(n, size, gen):
    """n image-like random inputs, already in ImageNet-normalised units: Gaussian
    noise shaped to a 1/f^1.4 amplitude spectrum (photographs are roughly 1/f; 1.4
    was the exponent that kept the data/images/ photographs closest to the
    calibration scale on all three reference networks), unit std per image, channels
    correlated through a shared luminance component (weight 0.8), plus a random
    brightness offset N(0, 0.5) per image and colour offset N(0, 0.15) per channel."""
    import torch
    w = torch.randn(n, 3, size, size, generator=gen)
    spec = torch.fft.rfft2(w)
    fy = torch.fft.fftfreq(size).abs()[:, None]
    fx = torch.fft.rfftfreq(size)[None, :]
    f = torch.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spec = spec / f.pow(1.4)
    spec[..., 0, 0] = 0
    x = torch.fft.irfft2(spec, s=(size, size))
    x = x / x.std(dim=(1, 2, 3), keepdim=True)
    x = 0.8 * x[:, :1] + 0.6 * x
    x = x + 0.5 * torch.randn(n, 1, 1, 1, generator=gen) + 0.15 * torch.randn(n, 3, 1, 1, generator=gen)
    return x.contiguous()


def fill_zero_params(model, classifier, x, seed):
    """One eval pass over x with forward pre-hooks that give every parameter the
    network initialised to a trivial constant a data-scaled random value, each just
    before its module first runs (so it sees the already-filled layers upstream):

    - an all-zero bias of a Linear or Conv (the classifier's excepted) and the
      in_proj_bias and out_proj.bias of a MultiheadAttention become
      N(0, (BIAS_REL * s)^2) per output channel, s the std of the layer's output
      without the bias;
    - ConvNeXt's layer_scale (initialised to 1e-6, which makes every block the
      identity to within 1e-6 of the residual stream) becomes
      LAYER_SCALE_REL * std(block input) / std(branch) * U(0.5, 1.5) per channel, so
      each branch adds a visible ~30 % to the stream.

    Returns how many tensors were filled."""
    import torch
    import torch.nn.functional as F
    from torchvision.models.convnext import CNBlock
    gen = torch.Generator().manual_seed(seed + 3)
    done = set()

    def rand_bias(bias, out):
        bias.copy_(BIAS_REL * float(out.std()) * torch.randn(bias.numel(), generator=gen))

    def pre(mod, inp):
        if id(mod) in done:
            return
        done.add(id(mod))
        x = inp[0]
        if isinstance(mod, CNBlock):
            br = mod.block(x)
            c = mod.layer_scale.shape[0]
            r = LAYER_SCALE_REL * float(x.std()) / max(float(br.std()), 1e-30)
            mod.layer_scale.copy_((r * (0.5 + torch.rand(c, generator=gen))).view_as(mod.layer_scale))
            filled.append(mod)
        elif isinstance(mod, torch.nn.MultiheadAttention):
            if mod.in_proj_bias is not None and mod.in_proj_weight is not None \
                    and not mod.in_proj_bias.any():
                # self-attention as torchvision uses it: one input projected three ways
                rand_bias(mod.in_proj_bias, F.linear(x, mod.in_proj_weight))
                filled.append(mod)
        elif mod.bias is not None and not mod.bias.any():
            if isinstance(mod, torch.nn.Linear):
                rand_bias(mod.bias, F.linear(x, mod.weight))
            else:
                rand_bias(mod.bias, mod._conv_forward(x, mod.weight, None))
            filled.append(mod)

    def wrap(mod):
        # torchvision calls MultiheadAttention with keyword arguments, which forward
        # pre-hooks do not see (torch 1.13): wrap its forward on the instance instead.
        orig = mod.forward

        def forward(*args, **kw):
            pre(mod, (args[0] if args else kw["query"],))
            out = orig(*args, **kw)
            ob = mod.out_proj.bias
            if ob is not None and not ob.any() and mod.out_proj is not classifier:
                # out_proj runs inside F.multi_head_attention_forward, not as a module
                rand_bias(ob, out[0])
                filled.append(mod.out_proj)
                out = orig(*args, **kw)
            return out
        mod.forward = forward

    kinds = (torch.nn.Linear, torch.nn.modules.conv._ConvNd, CNBlock)
    filled = []
    hooks = [m.register_forward_pre_hook(pre) for m in model.modules()
             if isinstance(m, kinds) and m is not classifier]
    mhas = [m for m in model.modules() if isinstance(m, torch.nn.MultiheadAttention)]
    for m in mhas:
        wrap(m)
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
        for m in mhas:
            del m.forward
    return len(filled)


def calibrate(model, size, seed, ref=None):
    """Randomise trivially initialised parameters, fill BN running stats from random
    batches (with ref, a 1x3xSxS tensor, as the first image of each: step 2b),
    rescale the classifier if needed.
    Returns (classifier name, logits std before rescale, scale factor applied or 1.0,
    number of zero-initialised tensors filled)."""
    import torch
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    lns = [m for m in model.modules() if isinstance(m, (torch.nn.LayerNorm, torch.nn.GroupNorm))]
    gen = torch.Generator().manual_seed(seed + 1)
    batches = [synth_batch(CALIB_BATCH_SIZE, size, gen) for _ in range(CALIB_BATCHES)]
    if ref is not None:
        for b in batches:
            b[0] = ref[0]
    affine_gen = torch.Generator().manual_seed(seed + 2)
    model.eval()
    lin_name, lin = classifier_layer(model, batches[0][:1])
    with torch.no_grad():
        if lin is not None and not lin.weight.any():
            # ViT's head is initialised to zero (all logits 0): draw it as nn.Linear's
            # default init would, U(+-1/sqrt(fan_in)), before it is measured below.
            bound = 1.0 / lin.weight[0].numel() ** 0.5
            head_gen = torch.Generator().manual_seed(seed + 5)
            lin.weight.copy_((2 * torch.rand(lin.weight.shape, generator=head_gen) - 1) * bound)
            if lin.bias is not None:
                lin.bias.copy_((2 * torch.rand(lin.bias.shape, generator=head_gen) - 1) * bound)
        if lns:
            # LayerNorm/GroupNorm affine parameters, drawn as BN's are below (and from
            # their own generator, so the BN draws of the CNNs are unchanged).
            ln_gen = torch.Generator().manual_seed(seed + 4)
            for ln in lns:
                if getattr(ln, "weight", None) is not None:
                    ln.weight.copy_(0.75 + 0.5 * torch.rand(ln.weight.shape, generator=ln_gen))
                if getattr(ln, "bias", None) is not None:
                    ln.bias.copy_(0.1 * torch.randn(ln.bias.shape, generator=ln_gen))

        def bn_stats():
            for bn in bns:
                bn.reset_running_stats()
                bn.momentum = None          # cumulative average over all batches
                bn.train()
            for x in batches:
                model(x)
            for bn in bns:
                bn.momentum = 0.1           # torch default; exported as momentum=0.9
            model.eval()

        if bns:
            for bn in bns:
                if bn.affine:
                    c = bn.num_features
                    bn.weight.copy_(0.75 + 0.5 * torch.rand(c, generator=affine_gen))
                    bn.bias.copy_(0.1 * torch.randn(c, generator=affine_gen))
            bn_stats()
    filled = fill_zero_params(model, lin, batches[0], seed)
    with torch.no_grad():
        if filled and bns:
            bn_stats()                      # the new biases moved the BN inputs' means
        # Logits scale in eval mode (now using the running stats just computed).
        stds = [float(model(x).std(dim=1).mean()) for x in batches]
        before = sum(stds) / len(stds)
        scale = 1.0
        if lin is not None and before > 0 and not (LOGITS_STD_OK[0] <= before <= LOGITS_STD_OK[1]):
            # Only the classifier is off: scale its weight and bias by one positive
            # factor, which scales the logits by the same factor (they are linear in
            # them; a ReLU or average pool in between commutes with the scaling).
            scale = LOGITS_STD_TARGET / before
            lin.weight.mul_(scale)
            if lin.bias is not None:
                lin.bias.mul_(scale)
    return lin_name, before, scale, filled


def activation_report(model, x, verbose):
    """Per-layer output std on the reference input (eval mode)."""
    import torch
    stats = []
    hooks = []
    # Every module except convolutions (a Conv output before its BN has an arbitrary
    # scale): BN, activations, Linear and the blocks (containers) themselves.
    for name, m in model.named_modules():
        if name and not isinstance(m, torch.nn.modules.conv._ConvNd):
            def hook(mod, inp, out, name=name):
                if isinstance(out, torch.Tensor) and out.is_floating_point() and out.numel() > 1:
                    stats.append((name, type(mod).__name__, float(out.std())))
            hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        logits = model(x)
    for h in hooks:
        h.remove()
    if verbose:
        for name, kind, s in stats:
            print(f"  {kind:12s} {name:50s} std {s:.4g}")
    return logits, stats


def rescale_on_reference(model, cls_name, logits):
    """Step 2b: the reference input's logits std, if outside REF_LOGITS_STD_OK, is
    brought to LOGITS_STD_TARGET by scaling the classifier once more (the same
    homogeneity argument as in calibrate).  Returns the factor (1.0: left as is)."""
    import torch
    s = float(logits.std())
    if cls_name is None or not s > 0 or not s < float("inf") \
            or REF_LOGITS_STD_OK[0] <= s <= REF_LOGITS_STD_OK[1]:
        return 1.0
    lin = dict(model.named_modules())[cls_name]
    f = LOGITS_STD_TARGET / s
    with torch.no_grad():
        lin.weight.mul_(f)
        if lin.bias is not None:
            lin.bias.mul_(f)
    return f


# ----------------------------------------------------------------------------- export

def export_onnx(model, x, opset, keep_bn):
    import torch

    def zero(g, self):
        # torchvision 0.14's Swin V2 zeroes the key third of a cloned qkv bias with
        # Tensor.zero_() in every forward; torch 1.13 has no ONNX symbolic for
        # aten::zero (the exporter's out-of-place form of zero_): zeros of its shape.
        return g.op("ConstantOfShape", g.op("Shape", self), value_t=torch.tensor([0.0]))
    torch.onnx.register_custom_op_symbolic("aten::zero", zero, opset)
    buf = io.BytesIO()
    mode = torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL
    model.eval()
    with warnings.catch_warnings():
        # PRESERVE + constant folding warns about training-mode exports; the model is in
        # eval mode, so nothing trainable is folded.
        warnings.filterwarnings("ignore", message=".*constant folding be turned off.*")
        torch.onnx.export(model, x, buf, export_params=True, opset_version=opset,
                          training=mode, do_constant_folding=True,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes=None)
    return buf.getvalue()


def check_onnx(data, keep_bn, size):
    import onnx
    m = onnx.load_from_string(data)
    onnx.checker.check_model(m, full_check=True)
    hist = collections.Counter(n.op_type for n in m.graph.node)
    if [i.name for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}] != ["input"]:
        raise RuntimeError("graph input is not exactly ['input']")
    if [o.name for o in m.graph.output] != ["logits"]:
        raise RuntimeError("graph output is not exactly ['logits']")
    dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    if dims != [1, 3, size, size]:
        raise RuntimeError(f"input shape {dims} != [1, 3, {size}, {size}]")
    if keep_bn:
        bn = [n for n in m.graph.node if n.op_type == "BatchNormalization"]
        if not bn:
            raise RuntimeError("--keep-bn: no BatchNormalization node in the exported graph")
        for n in bn:
            for a in n.attribute:
                if a.name == "training_mode" and a.i != 0:
                    raise RuntimeError(f"BatchNormalization {n.name} has training_mode={a.i}")
            if len(n.output) != 1:
                raise RuntimeError(f"BatchNormalization {n.name} has {len(n.output)} outputs")
    return m, hist


# ----------------------------------------------------------------------------- ONNX check run

class Unsupported(Exception):
    pass


def run_onnx(m, x, exact=False):
    """Evaluate an ONNX graph (inference, float32) with torch.nn.functional.
    Covers the ops torchvision classifier exports produce; raises Unsupported
    otherwise.  exact=True widens every float32 tensor (weights, input and each
    node's outputs) to float64: the graph's own answer, with float32's rounding
    taken out, against which float32 implementations are measured."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from onnx import numpy_helper

    def widen(t):
        return t.double() if exact and t.dtype == torch.float32 else t

    env = {t.name: widen(torch.from_numpy(numpy_helper.to_array(t).copy())) for t in m.graph.initializer}
    env["input"] = widen(torch.from_numpy(x))

    def attrs(n):
        import onnx
        d = {}
        for a in n.attribute:
            d[a.name] = onnx.helper.get_attribute_value(a)
        return d

    def pad2(t, pads, value=0.0):
        # ONNX pads [x1_begin, x2_begin, x1_end, x2_end] -> F.pad (last dim first)
        if not any(pads):
            return t
        return F.pad(t, (pads[1], pads[3], pads[0], pads[2]), value=value)

    def sym(pads):
        return pads[0] == pads[2] and pads[1] == pads[3]

    def ints(t):
        return [int(v) for v in t.reshape(-1).tolist()]

    def axes_of(n, a, i, pos):
        """Reduce/Squeeze axes: the attribute (older opsets) or input `pos` (newer)."""
        if "axes" in a:
            return list(a["axes"])
        if len(i) > pos and i[pos] is not None:
            return ints(i[pos])
        return None

    def slice_(t, starts, ends, axes, steps):
        for st, en, ax, sp in zip(starts, ends, axes, steps):
            ax = ax + t.dim() if ax < 0 else ax
            dim = t.shape[ax]
            st = st + dim if st < 0 else st
            en = en + dim if en < 0 else en
            if sp > 0:
                st, en = min(max(st, 0), dim), min(max(en, 0), dim)
            else:
                st, en = min(max(st, 0), dim - 1), min(max(en, -1), dim - 1)
            idx = torch.arange(st, en, sp, dtype=torch.int64)
            t = torch.index_select(t, ax, idx)
        return t

    elementwise = {"Relu": F.relu, "Sigmoid": torch.sigmoid, "HardSwish": F.hardswish,
                   "Erf": torch.erf, "Sqrt": torch.sqrt, "Reciprocal": torch.reciprocal,
                   "Exp": torch.exp, "Log": torch.log, "Tanh": torch.tanh, "Abs": torch.abs,
                   "Neg": torch.neg, "Floor": torch.floor, "Ceil": torch.ceil,
                   "Sign": torch.sign, "Not": torch.logical_not, "Sin": torch.sin,
                   "Cos": torch.cos}
    binary = {"Add": torch.add, "Mul": torch.mul, "Sub": torch.sub, "Pow": torch.pow,
              "Equal": torch.eq, "Less": torch.lt, "Greater": torch.gt,
              "LessOrEqual": torch.le, "GreaterOrEqual": torch.ge,
              "And": torch.logical_and, "Or": torch.logical_or}
    reducers = {"ReduceMean": torch.mean, "ReduceSum": torch.sum,
                "ReduceMax": lambda t, dim, keepdim: torch.amax(t, dim=dim, keepdim=keepdim),
                "ReduceMin": lambda t, dim, keepdim: torch.amin(t, dim=dim, keepdim=keepdim),
                "ReduceL2": lambda t, dim, keepdim: torch.sqrt(torch.sum(t * t, dim=dim, keepdim=keepdim))}
    onnx_dtype = {1: torch.float32, 6: torch.int32, 7: torch.int64, 9: torch.bool,
                  10: torch.float16, 11: torch.float64}

    for n in m.graph.node:
        a = attrs(n)
        i = [env[k] if k else None for k in n.input]
        op = n.op_type
        y2 = None   # further outputs (ops with several)
        if op in ("Conv", "MaxPool", "AveragePool") and a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise Unsupported(f"{op} auto_pad")
        if op == "Conv":
            k = a.get("kernel_shape", list(i[1].shape[2:]))
            if len(k) != 2:
                raise Unsupported("Conv non-2D")
            pads = a.get("pads", [0, 0, 0, 0])
            xin, p = (i[0], (pads[0], pads[1])) if sym(pads) else (pad2(i[0], pads), (0, 0))
            y = F.conv2d(xin, i[1], i[2] if len(i) > 2 else None, stride=a.get("strides", [1, 1]),
                         padding=p, dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
        elif op == "BatchNormalization":
            if a.get("training_mode", 0):
                raise Unsupported("BatchNormalization training_mode=1")
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], training=False, eps=a.get("epsilon", 1e-5))
        elif op == "LayerNormalization":
            ax = a.get("axis", -1)
            ax = ax + i[0].dim() if ax < 0 else ax
            if a.get("stash_type", 1) != 1:
                raise Unsupported("LayerNormalization stash_type")
            y = F.layer_norm(i[0], tuple(i[0].shape[ax:]), i[1],
                             i[2] if len(i) > 2 else None, eps=a.get("epsilon", 1e-5))
            if len(n.output) > 1 and any(n.output[1:]):
                raise Unsupported("LayerNormalization Mean/InvStdDev outputs")
        elif op in elementwise:
            y = elementwise[op](i[0])
        elif op in binary:
            y = binary[op](i[0], i[1])
        elif op == "Div":
            if i[0].is_floating_point() or i[1].is_floating_point():
                y = torch.div(i[0], i[1])
            else:
                y = torch.div(i[0], i[1], rounding_mode="trunc")
        elif op == "Mod":
            y = torch.fmod(i[0], i[1]) if a.get("fmod", 0) else torch.remainder(i[0], i[1])
        elif op in ("Max", "Min"):
            f = torch.maximum if op == "Max" else torch.minimum
            y = i[0]
            for t in i[1:]:
                y = f(y, t)
        elif op == "Clip":
            lo = i[1] if len(i) > 1 and i[1] is not None else None
            hi = i[2] if len(i) > 2 and i[2] is not None else None
            y = torch.clamp(i[0], min=None if lo is None else float(lo), max=None if hi is None else float(hi))
        elif op == "HardSigmoid":
            y = torch.clamp(a.get("alpha", 0.2) * i[0] + a.get("beta", 0.5), 0, 1)
        elif op == "Where":
            y = torch.where(i[0], i[1], i[2])
        elif op == "Concat":
            y = torch.cat(i, dim=a["axis"])
        elif op in ("MaxPool", "AveragePool"):
            k = a["kernel_shape"]
            s = a.get("strides", [1] * len(k))
            pads = a.get("pads", [0] * 2 * len(k))
            ceil = bool(a.get("ceil_mode", 0))
            if a.get("dilations", [1, 1]) != [1, 1] or len(k) != 2:
                raise Unsupported(f"{op} dilations/non-2D")
            half_ok = sym(pads) and pads[0] <= k[0] // 2 and pads[1] <= k[1] // 2
            if op == "MaxPool":
                if len(n.output) > 1:
                    raise Unsupported("MaxPool indices")
                if half_ok:
                    y = F.max_pool2d(i[0], k, s, (pads[0], pads[1]), ceil_mode=ceil)
                else:
                    y = F.max_pool2d(pad2(i[0], pads, float("-inf")), k, s, 0, ceil_mode=ceil)
            else:
                cip = bool(a.get("count_include_pad", 0))
                if half_ok:
                    y = F.avg_pool2d(i[0], k, s, (pads[0], pads[1]), ceil_mode=ceil, count_include_pad=cip)
                elif cip or not any(pads):
                    y = F.avg_pool2d(pad2(i[0], pads), k, s, 0, ceil_mode=ceil, count_include_pad=True)
                else:
                    raise Unsupported("AveragePool asymmetric pads without count_include_pad")
        elif op == "GlobalAveragePool":
            y = i[0].mean(dim=tuple(range(2, i[0].dim())), keepdim=True)
        elif op == "GlobalMaxPool":
            y = i[0].amax(dim=tuple(range(2, i[0].dim())), keepdim=True)
        elif op == "Pad":
            mode = a.get("mode", b"constant")
            mode = mode.decode() if isinstance(mode, bytes) else mode
            pads = ints(i[1])
            val = float(i[2]) if len(i) > 2 and i[2] is not None else 0.0
            r = i[0].dim()
            if any(v < 0 for v in pads):
                raise Unsupported("Pad negative")
            tp = []
            for d in reversed(range(r)):
                tp += [pads[d], pads[d + r]]
            while len(tp) > 2 and tp[-1] == 0 and tp[-2] == 0:
                tp = tp[:-2]
            if mode == "constant":
                y = F.pad(i[0], tp, value=val)
            elif mode in ("reflect", "edge"):
                y = F.pad(i[0], tp, mode="reflect" if mode == "reflect" else "replicate")
            else:
                raise Unsupported(f"Pad mode {mode}")
        elif op == "Flatten":
            ax = a.get("axis", 1)
            ax = ax + i[0].dim() if ax < 0 else ax
            lead = int(np.prod(i[0].shape[:ax])) if ax else 1
            y = i[0].reshape(lead, -1)
        elif op == "Reshape":
            if a.get("allowzero", 0):
                raise Unsupported("Reshape allowzero=1")
            shape = ints(i[1])
            shape = [i[0].shape[d] if v == 0 else v for d, v in enumerate(shape)]
            y = i[0].reshape(shape)
        elif op == "Transpose":
            y = i[0].permute(*a["perm"]) if "perm" in a else i[0].permute(*reversed(range(i[0].dim())))
        elif op == "Gemm":
            A, B = i[0], i[1]
            if a.get("transA", 0):
                A = A.t()
            if a.get("transB", 0):
                B = B.t()
            y = a.get("alpha", 1.0) * (A @ B)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
        elif op == "MatMul":
            y = torch.matmul(i[0], i[1])
        elif op == "Einsum":
            eq = a["equation"]
            y = torch.einsum(eq.decode() if isinstance(eq, bytes) else eq, *i)
        elif op == "Softmax":
            y = torch.softmax(i[0], dim=a.get("axis", -1))
        elif op in ("Identity", "Dropout"):
            if op == "Dropout" and len(i) > 2 and i[2] is not None and bool(i[2]) \
                    and not (len(i) > 1 and i[1] is not None and float(i[1]) == 0.0):
                # (torchvision 0.14's Swin calls F.dropout(p=0.0) with training left
                # True: exported as training_mode=1, ratio 0, still the identity)
                raise Unsupported("Dropout training_mode=1 with ratio > 0")
            y = i[0]
            if op == "Dropout":
                y2 = [torch.ones(i[0].shape, dtype=torch.bool)]     # the mask, unused
        elif op == "ScatterND":
            if a.get("reduction", b"none") not in (b"none", "none"):
                raise Unsupported("ScatterND reduction")
            idx = i[1].long()
            k = idx.shape[-1]
            y = i[0].clone()
            y[tuple(idx.reshape(-1, k).t())] = i[2].reshape((-1,) + tuple(i[0].shape[k:]))
        elif op == "Constant":
            y = torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
        elif op == "ConstantOfShape":
            v = torch.from_numpy(numpy_helper.to_array(a["value"]).copy()) if "value" in a \
                else torch.zeros(1, dtype=torch.float32)
            y = v.reshape(()).expand(ints(i[0])).clone()
        elif op == "Shape":
            if "start" in a or "end" in a:
                raise Unsupported("Shape start/end")
            y = torch.tensor(list(i[0].shape), dtype=torch.int64)
        elif op == "Size":
            y = torch.tensor(i[0].numel(), dtype=torch.int64)
        elif op == "Cast":
            if a["to"] not in onnx_dtype:
                raise Unsupported(f"Cast to {a['to']}")
            y = i[0].to(onnx_dtype[a["to"]])
        elif op == "Range":
            y = torch.arange(i[0].item(), i[1].item(), i[2].item(), dtype=i[0].dtype)
        elif op == "Gather":
            ax = a.get("axis", 0)
            ax = ax + i[0].dim() if ax < 0 else ax
            idx = i[1].long()
            idx = torch.where(idx < 0, idx + i[0].shape[ax], idx)
            y = torch.index_select(i[0], ax, idx.reshape(-1)).reshape(
                list(i[0].shape[:ax]) + list(i[1].shape) + list(i[0].shape[ax + 1:]))
        elif op == "Slice":
            starts, ends = ints(i[1]), ints(i[2])
            axes = ints(i[3]) if len(i) > 3 and i[3] is not None else list(range(len(starts)))
            steps = ints(i[4]) if len(i) > 4 and i[4] is not None else [1] * len(starts)
            y = slice_(i[0], starts, ends, axes, steps)
        elif op == "Split":
            ax = a.get("axis", 0)
            ax = ax + i[0].dim() if ax < 0 else ax
            sizes = a.get("split") or (ints(i[1]) if len(i) > 1 and i[1] is not None else None)
            if sizes is None:
                k = len(n.output)
                if i[0].shape[ax] % k:
                    raise Unsupported("Split uneven")
                sizes = [i[0].shape[ax] // k] * k
            parts = list(torch.split(i[0], list(sizes), dim=ax))
            y, y2 = parts[0], parts[1:]
        elif op == "Expand":
            shape = torch.broadcast_shapes(tuple(i[0].shape), tuple(ints(i[1])))
            y = i[0].expand(shape).clone()
        elif op == "Tile":
            y = i[0].repeat(*ints(i[1]))
        elif op == "Unsqueeze":
            axes = ints(i[1]) if len(i) > 1 else list(a["axes"])
            y = i[0]
            for ax in sorted(v + y.dim() + len(axes) if v < 0 else v for v in axes):
                y = y.unsqueeze(ax)
        elif op == "Squeeze":
            axes = axes_of(n, a, i, 1)
            if axes is None:
                axes = [d for d, s in enumerate(i[0].shape) if s == 1]
            axes = sorted((v + i[0].dim() if v < 0 else v for v in axes), reverse=True)
            y = i[0]
            for ax in axes:
                y = y.squeeze(ax)
        elif op in reducers:
            axes = axes_of(n, a, i, 1)
            keep = bool(a.get("keepdims", 1))
            if axes is None or not axes:
                if axes is not None and a.get("noop_with_empty_axes", 0):
                    y = i[0]
                else:
                    axes = list(range(i[0].dim()))
            if axes:
                y = reducers[op](i[0], dim=tuple(axes), keepdim=keep)
        else:
            raise Unsupported(op)
        outs = [y] + (y2 or [])
        if len(outs) < len(n.output) and any(n.output[len(outs):]) and op != "LayerNormalization":
            raise Unsupported(f"{op} with {len(n.output)} outputs")
        for name, t in zip(n.output, outs):
            if name:
                env[name] = widen(t)
    return env["logits"].numpy()


# ----------------------------------------------------------------------------- main

def atomic_write(path, data):
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def npy_bytes(a):
    import numpy as np
    b = io.BytesIO()
    np.save(b, a, allow_pickle=False)
    return b.getvalue()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    t0 = time.perf_counter()
    import numpy as np
    import torch
    import torchvision

    known = torchvision.models.list_models(module=torchvision.models)
    if args.model not in known:
        die(f"--model {args.model!r} is not a torchvision classification model "
            f"(e.g. mobilenet_v2, resnet50, inception_v3)")
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    size = INPUT_SIZE.get(args.model, 224)
    x_np, src = load_input(args, size)
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        die(f"--out {args.out}: {e.strerror}")

    model = build_model(args.model, args.seed)
    nbytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    if nbytes >= PROTOBUF_LIMIT:
        # torch.onnx.export would fail only after the calibration, and the way out
        # (external data files) is one deltakern's loader rejects.
        die(f"{args.model}: {nbytes / 1e9:.2f} GB of weights do not fit in one ONNX "
            f"protobuf (2 GiB limit; external data is not supported here)")
    cls_name, std_before, scale, filled = calibrate(model, size, args.seed)
    x = torch.from_numpy(x_np)
    logits, layer_stats = activation_report(model, x, False)
    noise_std = float(logits.std())
    mixed = not REF_LOGITS_STD_OK[0] <= noise_std <= REF_LOGITS_STD_OK[1]
    if mixed:
        # Step 2b: the reference input is out of the noise's distribution; start again
        # from the same random network with it in every calibration batch.
        model = build_model(args.model, args.seed)
        cls_name, std_before, scale, filled = calibrate(model, size, args.seed, ref=x)
        logits, layer_stats = activation_report(model, x, False)
    ref_scale = rescale_on_reference(model, cls_name, logits)
    if ref_scale != 1.0 or args.verbose:
        logits, layer_stats = activation_report(model, x, args.verbose)
    logits_np = logits.detach().numpy().astype(np.float32)
    lstd = float(logits_np.std())
    t_calib = time.perf_counter() - t0
    lo = min(layer_stats, key=lambda r: r[2]) if layer_stats else None
    hi = max(layer_stats, key=lambda r: r[2]) if layer_stats else None
    msg = f"{args.model}: "
    if mixed:
        msg += (f"reference logits std {noise_std:.4g} after calibrating on noise, so "
                f"calibrated again with the reference input in each batch: ")
    msg += f"calibration logits std {std_before:.4g}"
    if filled:
        msg += f", {filled} zero-initialised tensors filled"
    msg += (f", classifier {cls_name} scaled x{scale:.4g}" if scale != 1.0
            else f", classifier {cls_name} left as is")
    if ref_scale != 1.0:
        msg += (f", then x{ref_scale:.4g} on the reference input (its logits std was "
                f"{lstd / ref_scale:.4g})")
    if lo:
        msg += (f"; {len(layer_stats)} modules, output std min {lo[2]:.3g} ({lo[0]}) "
                f"max {hi[2]:.3g} ({hi[0]})")
    print(msg)
    if not np.isfinite(logits_np).all() or not LOGITS_STD_FAIL[0] <= lstd <= LOGITS_STD_FAIL[1]:
        die(f"{args.model}: logits std {lstd:.4g} outside {LOGITS_STD_FAIL} after calibration")
    if logits_np.shape != (1, 1000):
        die(f"{args.model}: logits shape {logits_np.shape}, expected (1, 1000)")

    t1 = time.perf_counter()
    data = export_onnx(model, x, args.opset, args.keep_bn)
    t_export = time.perf_counter() - t1
    try:
        m, hist = check_onnx(data, args.keep_bn, size)
    except Exception as e:  # noqa: BLE001
        die(f"{args.model}: exported graph rejected: {e}")

    # Execute the exported graph and compare with the PyTorch reference.
    try:
        y = run_onnx(m, x_np)
        err = float(np.abs(y - logits_np).max())
        # float32 summation orders differ between PyTorch and the checker;
        # their gap grows with depth (ResNet-152: 2.2e-4 of the largest
        # logit), while a wrong export misses by the logits' own scale
        tol = 1e-3 * max(1.0, float(np.abs(logits_np).max()))
        verdict = f"ONNX run max|diff| {err:.3g}"
        if not err <= tol:
            die(f"{args.model}: exported graph output differs from PyTorch: max|diff| {err:.3g} > {tol:.3g}")
    except Unsupported as e:
        verdict = f"ONNX run skipped (op {e} not in checker interpreter)"
        print(f"{PROG}: warning: {verdict}", file=sys.stderr)

    stem = args.model + ("_bn" if args.keep_bn else "")
    onnx_path = os.path.join(args.out, stem + ".onnx")
    atomic_write(os.path.join(args.out, args.model + ".input.npy"), npy_bytes(x_np))
    atomic_write(os.path.join(args.out, args.model + ".logits.npy"), npy_bytes(logits_np))
    atomic_write(onnx_path, data)

    top5 = [int(k) for k in np.argsort(-logits_np[0], kind="stable")[:5]]
    ops = ",".join(f"{k}:{v}" for k, v in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])))
    print(f"{args.model} path={onnx_path} bytes={len(data)} nodes={len(m.graph.node)} "
          f"ops={ops} logits_std={lstd:.4g} top5={top5} seed={args.seed} opset={args.opset} "
          f"input={os.path.relpath(src)} {verdict} "
          f"time calib={t_calib:.1f}s export={t_export:.1f}s total={time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
