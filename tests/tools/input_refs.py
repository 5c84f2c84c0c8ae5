#!/usr/bin/python3
"""Reference data for tests/unit/test_input.c and test_npy.c.

Independent of deltakern: PNG files are written by a small encoder here (so
every colour type, bit depth, palette, tRNS and interlacing can be covered)
with their expected RGB pixels computed by numpy from the samples; JPEG
references come from PIL; preprocessing references from PIL + torchvision,
the pipeline deltakern's preprocessing must reproduce.

Subcommands (all write into existing directories):
  variants DIR              test images + expected RGB (.rgb.npy), listed in
                            DIR/variants.txt as "<image> <expected.npy>" lines
                            (the photos in data/images are listed first)
  preprocess SPEC           each SPEC line: image out.npy H W resize mode order
                            m0 m1 m2 s0 s1 s2 (mode: shorter|exact, order:
                            rgb|bgr) -> torchvision's 1x3xHxW float32 tensor
  pb IN.pb OUT.npy          ONNX TensorProto -> .npy via onnx.numpy_helper
  npy-interop DIR           for every DIR/a_*.npy: numpy.load it, write its
                            dtype and shape to a_*.txt and re-save it as
                            b_*_v1/v2/v3.npy; also writes fortran.npy and
                            bigendian.npy
"""
import struct
import sys
import warnings
import zlib

import numpy as np

# ---- a minimal PNG encoder ---------------------------------------------------

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
         (1, 0, 2, 2), (0, 1, 1, 2)]  # (x0, y0, dx, dy) of each pass


def png_chunk(tag, data):
    return (struct.pack('>I', len(data)) + tag + data +
            struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff))


def pack_row(row, depth):
    """One row of samples (1-D ints) as PNG bytes, MSB first for depth < 8."""
    if depth == 16:
        return row.astype('>u2').tobytes()
    if depth == 8:
        return row.astype(np.uint8).tobytes()
    per_byte = 8 // depth
    padded = np.zeros(-(-row.size // per_byte) * per_byte, dtype=np.int64)
    padded[:row.size] = row
    groups = padded.reshape(-1, per_byte)
    shifts = 8 - depth * (np.arange(per_byte) + 1)
    return (groups << shifts).sum(axis=1).astype(np.uint8).tobytes()


def scanlines(samples, depth):
    """Filter type 0 (None) before every row."""
    h = samples.shape[0]
    flat = samples.reshape(h, -1)
    return b''.join(b'\0' + pack_row(flat[y], depth) for y in range(h))


def write_png(path, samples, color_type, depth, palette=None, trns=None, interlace=False):
    """samples: H x W x C integer array (C = 1 for grey and palette indexes)."""
    h, w = samples.shape[:2]
    if interlace:
        raw = b''
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += scanlines(sub, depth)
    else:
        raw = scanlines(samples, depth)
    ihdr = struct.pack('>IIBBBBB', w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    data = b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', ihdr)
    if palette is not None:
        data += png_chunk(b'PLTE', palette.astype(np.uint8).tobytes())
    if trns is not None:
        data += png_chunk(b'tRNS', trns)
    data += png_chunk(b'IDAT', zlib.compress(raw)) + png_chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(data)


def to_rgb8(samples, depth, palette=None):
    """Expected decoder output: grey scaled to 8 bits and replicated, palette
    looked up, alpha dropped, 16-bit samples cut to the high byte."""
    if palette is not None:
        return palette[samples[..., 0]].astype(np.uint8)
    if depth == 16:
        v = samples >> 8
    elif depth < 8:
        v = samples * (255 // (2 ** depth - 1))
    else:
        v = samples
    v = v.astype(np.uint8)
    channels = v.shape[2]
    if channels <= 2:  # grey, grey + alpha
        return np.repeat(v[..., :1], 3, axis=2)
    return v[..., :3]


GREY, RGB, PALETTE, GREY_ALPHA, RGBA = 0, 2, 3, 4, 6
CHANNELS = {GREY: 1, RGB: 3, PALETTE: 1, GREY_ALPHA: 2, RGBA: 4}


def png_variants(rng):
    """(name, color_type, depth, interlace, with_trns, height, width)."""
    out = []
    for depth in (1, 2, 4, 8, 16):
        out.append(('grey%d' % depth, GREY, depth, False, False, 13, 11))
    for depth in (1, 2, 4, 8):
        out.append(('palette%d' % depth, PALETTE, depth, False, False, 9, 14))
    for depth in (8, 16):
        out += [('rgb%d' % depth, RGB, depth, False, False, 10, 12),
                ('rgba%d' % depth, RGBA, depth, False, False, 7, 9),
                ('greyalpha%d' % depth, GREY_ALPHA, depth, False, False, 8, 5)]
    out += [('palette8_trns', PALETTE, 8, False, True, 6, 7),
            ('grey8_trns', GREY, 8, False, True, 6, 7),
            ('rgb8_trns', RGB, 8, False, True, 6, 7),
            ('rgb8_interlaced', RGB, 8, True, False, 13, 11),
            ('grey2_interlaced', GREY, 2, True, False, 9, 10),
            ('palette4_interlaced', PALETTE, 4, True, False, 17, 3),
            ('rgba16_interlaced', RGBA, 16, True, False, 5, 9),
            ('rgb8_1x1', RGB, 8, False, False, 1, 1)]
    return out


def write_png_variants(d, rng, manifest):
    from PIL import Image
    warnings.filterwarnings('ignore', 'Palette images with Transparency')
    for name, ct, depth, interlace, with_trns, h, w in png_variants(rng):
        palette = None
        trns = None
        if ct == PALETTE:
            n = 2 ** depth
            palette = rng.integers(0, 256, (n, 3))
            samples = rng.integers(0, n, (h, w, 1))
            if with_trns:
                trns = bytes(rng.integers(0, 256, n).astype(np.uint8))
        else:
            samples = rng.integers(0, 2 ** depth, (h, w, CHANNELS[ct]))
            if with_trns:
                trns = struct.pack('>%dH' % CHANNELS[ct], *samples[0, 0])
        path = '%s/%s.png' % (d, name)
        write_png(path, samples, ct, depth, palette, trns, interlace)
        expected = to_rgb8(samples, depth, palette)
        if depth != 16 or ct in (RGB, RGBA):  # PIL clips 16-bit grey instead
            pil = np.array(Image.open(path).convert('RGB'))
            assert (pil == expected).all(), 'PNG encoder self-check failed for ' + name
        np.save('%s/%s.rgb.npy' % (d, name), expected)
        manifest.append((path, '%s/%s.rgb.npy' % (d, name)))


def write_jpeg_variants(d, rng, manifest):
    from PIL import Image
    # Smooth content compresses like a photo; noise on top exercises rounding.
    yy, xx = np.mgrid[0:37, 0:53]
    base = np.stack([xx * 4, yy * 6, (xx + yy) * 3], axis=2) % 256
    noisy = np.clip(base + rng.integers(-20, 21, base.shape), 0, 255).astype(np.uint8)
    rgb = Image.fromarray(noisy, 'RGB')
    cases = [('rgb420', rgb, dict(quality=90)),
             ('rgb444', rgb, dict(quality=95, subsampling=0)),
             ('progressive', rgb, dict(quality=85, progressive=True)),
             ('grey', rgb.convert('L'), dict(quality=90)),
             ('cmyk', rgb.convert('CMYK'), dict(quality=90)),
             ('tiny', rgb.crop((0, 0, 1, 1)), dict(quality=90))]
    for name, im, opts in cases:
        path = '%s/%s.jpg' % (d, name)
        im.save(path, 'JPEG', **opts)
        expected = np.array(Image.open(path).convert('RGB'))
        np.save('%s/%s.rgb.npy' % (d, name), expected)
        manifest.append((path, '%s/%s.rgb.npy' % (d, name)))


def write_noise_images(d, rng, manifest):
    """Random RGB PNGs of awkward sizes: the harshest test for resampling."""
    from PIL import Image
    for h, w in ((5, 7), (300, 17), (37, 1000), (224, 224), (257, 255), (2, 900)):
        a = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
        path = '%s/noise_%dx%d.png' % (d, w, h)
        Image.fromarray(a, 'RGB').save(path)
        np.save('%s/noise_%dx%d.rgb.npy' % (d, w, h), a)
        manifest.append((path, '%s/noise_%dx%d.rgb.npy' % (d, w, h)))


def write_photo_refs(d, manifest):
    """The photos in data/images, as PIL decodes them."""
    import glob
    import os
    from PIL import Image
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, '..', '..', 'data', 'images', '*'))):
        if not path.lower().endswith(('.png', '.jpg', '.jpeg')):
            continue
        name = os.path.splitext(os.path.basename(path))[0]
        expected = '%s/photo_%s.rgb.npy' % (d, name)
        np.save(expected, np.array(Image.open(path).convert('RGB')))
        manifest.append((os.path.normpath(path), expected))


def cmd_variants(d):
    rng = np.random.default_rng(12345)
    manifest = []
    write_photo_refs(d, manifest)
    write_png_variants(d, rng, manifest)
    write_jpeg_variants(d, rng, manifest)
    write_noise_images(d, rng, manifest)
    with open(d + '/variants.txt', 'w') as f:
        for image, expected in manifest:
            f.write('%s %s\n' % (image, expected))


# ---- preprocessing reference ------------------------------------------------

def cmd_preprocess(spec):
    from PIL import Image
    import torchvision.transforms as T
    with open(spec) as f:
        for line in f:
            fields = line.split()
            if not fields:
                continue
            image, out = fields[0], fields[1]
            h, w, resize = int(fields[2]), int(fields[3]), int(fields[4])
            mode, order = fields[5], fields[6]
            mean = [float(v) for v in fields[7:10]]
            std = [float(v) for v in fields[10:13]]
            img = Image.open(image).convert('RGB')
            if order == 'bgr':
                img = Image.merge('RGB', img.split()[::-1])
            steps = [T.Resize(resize), T.CenterCrop((h, w))] if mode == 'shorter' \
                else [T.Resize((h, w))]
            steps += [T.ToTensor(), T.Normalize(mean, std)]
            x = T.Compose(steps)(img)
            np.save(out, x.unsqueeze(0).numpy().astype(np.float32))


# ---- ONNX tensors and .npy interoperability --------------------------------

def cmd_pb(src, dst):
    import onnx
    from onnx import numpy_helper
    np.save(dst, numpy_helper.to_array(onnx.load_tensor(src)))


def cmd_npy_interop(d):
    import glob
    import os
    for path in sorted(glob.glob(d + '/a_*.npy')):
        stem = os.path.basename(path)[:-4]
        x = np.load(path)
        with open('%s/%s.txt' % (d, stem), 'w') as f:
            f.write('%s %s\n' % (x.dtype.name, 'x'.join(str(s) for s in x.shape) or 'scalar'))
        for major in (1, 2, 3):
            with open('%s/b%s_v%d.npy' % (d, stem[1:], major), 'wb') as f:
                np.lib.format.write_array(f, x, version=(major, 0))
    np.save(d + '/fortran.npy', np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    np.save(d + '/bigendian.npy', np.arange(6, dtype='>f4'))


def main(argv):
    cmds = {'variants': (cmd_variants, 1), 'preprocess': (cmd_preprocess, 1),
            'pb': (cmd_pb, 2), 'npy-interop': (cmd_npy_interop, 1)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 != cmds[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    cmds[argv[1]][0](*argv[2:])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
