"""A small PNG reader (8-bit RGB and RGBA, not interlaced: what Chromium's
screenshots are) and the pixel checks browser_check.py makes on them.
zlib, struct and numpy only: no PIL on a bare test machine."""
import struct
import zlib

import numpy as np

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _paeth_avg_row(kind, line, prev, bpp):
    """Filters 3 (Average) and 4 (Paeth) depend on the pixel just decoded to
    their left, so they go byte by byte; Chromium uses them on few rows."""
    out = bytearray(line)
    for i in range(len(out)):
        a = out[i - bpp] if i >= bpp else 0
        b = prev[i]
        if kind == 3:
            out[i] = (out[i] + ((a + b) >> 1)) & 0xFF
            continue
        c = prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out[i] = (out[i] + pred) & 0xFF
    return np.frombuffer(bytes(out), dtype=np.uint8)


def read_png(data):
    """Returns an array of shape (height, width, 3 or 4), dtype uint8."""
    if data[:8] != PNG_MAGIC:
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace != 0:
        raise ValueError("unsupported PNG: depth %d, color type %d, interlace %d"
                         % (depth, color, interlace))
    bpp = 3 if color == 2 else 4
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    if raw.size != height * (stride + 1):
        raise ValueError("PNG data holds %d bytes, %d expected" % (raw.size, height * (stride + 1)))
    rows = raw.reshape(height, stride + 1)
    out = np.empty((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:]
        if kind == 0:
            cur = line
        elif kind == 1:   # Sub: a running sum per channel, modulo 256
            cur = np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint8).reshape(stride)
        elif kind == 2:   # Up
            cur = line + prev
        elif kind in (3, 4):
            cur = _paeth_avg_row(kind, line.tobytes(), prev.tobytes(), bpp)
        else:
            raise ValueError("PNG row %d has filter type %d" % (y, kind))
        out[y] = cur
        prev = out[y]
    return out.reshape(height, width, bpp)


def _keys(pixels):
    """One integer per pixel (RGB packed; alpha ignored: screenshots are opaque)."""
    p = pixels[..., :3].astype(np.uint32)
    return ((p[..., 0] << 16) | (p[..., 1] << 8) | p[..., 2]).ravel()


def drawn_share(pixels):
    """(share of pixels unlike the most common colour, distinct other colours)."""
    keys = _keys(pixels)
    if keys.size == 0:
        return 0.0, 0
    colors, counts = np.unique(keys, return_counts=True)
    background = colors[np.argmax(counts)]
    others = keys != background
    return float(others.mean()), int(colors.size - 1)
