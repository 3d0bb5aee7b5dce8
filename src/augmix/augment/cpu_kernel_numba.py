"""The compiled half of `augmix.augment.cpu_kernel`: the numba loops, one per Pillow op.

Imported only when the kernel first runs (`cpu_kernel.compiled()`), so `import
augmix` never imports numba. See `augmix.augment.cpu_kernel` for the design.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from augmix.augment.cpu_kernel import AFFINE, AUTOCONTRAST, BRIGHTNESS, COLOR, CONTRAST, EQUALIZE, POSTERIZE, SOLARIZE
from augmix.augment.ops.pillow import LUMA, LUMA_ROUND, LUMA_SHIFT, SMOOTH_CENTRE_EXTRA, SMOOTH_SCALE

_jit = njit(nogil=True, cache=True)

@_jit
def _flat(array):
    """A 1-D view of a C-contiguous array (writes go through)."""
    return array.reshape(array.size)

@_jit
def _lut_autocontrast(src, lut):
    for c in range(src.shape[0]):
        lo, hi = 255, 0
        for v in _flat(src[c]):
            lo, hi = min(lo, v), max(hi, v)
        if hi <= lo:  # a constant channel stays as it is
            for i in range(256):
                lut[c, i] = i
            continue
        scale = 255.0 / (hi - lo)
        offset = -lo * scale
        for i in range(256):
            lut[c, i] = min(max(int(i * scale + offset), 0), 255)

@_jit
def _lut_equalize(src, lut):
    hist = np.zeros(256, np.int64)
    for c in range(src.shape[0]):
        hist[:] = 0
        for v in _flat(src[c]):
            hist[v] += 1
        used, top = 0, 0
        for i in range(256):
            if hist[i]:
                used, top = used + 1, i
        step = (src[c].size - hist[top]) // 255
        if used <= 1 or step == 0:
            for i in range(256):
                lut[c, i] = i
            continue
        n = step // 2
        for i in range(256):
            lut[c, i] = min(n // step, 255)
            n += hist[i]

@_jit
def _lut_posterize(src, lut, bits):
    mask = 255 & ~((1 << (8 - bits)) - 1)
    for c in range(src.shape[0]):
        for i in range(256):
            lut[c, i] = i & mask

@_jit
def _lut_solarize(src, lut, threshold):
    for c in range(src.shape[0]):
        for i in range(256):
            lut[c, i] = i if i < threshold else 255 - i

@_jit
def _apply_lut(src, dst, lut):
    for c in range(src.shape[0]):
        s, d = _flat(src[c]), _flat(dst[c])
        for p in range(s.size):
            d[p] = lut[c, s[p]]

@_jit
def _shift(src, dst, tx, ty, fill):
    """The affine transform for whole-pixel translations: out[y, x] = src[y + ty, x + tx]."""
    channels, h, w = src.shape
    for c in range(channels):
        dst[c] = fill[c]
        x_lo, x_hi = max(0, -tx), min(w, w - tx)
        for y in range(max(0, -ty), min(h, h - ty)):
            if x_lo < x_hi:
                dst[c, y, x_lo:x_hi] = src[c, y + ty, x_lo + tx:x_hi + tx]

@_jit
def _affine(src, dst, a, fill):
    """Pillow's bilinear affine transform: output pixel (x, y) samples the input at
    a . (x + 0.5, y + 0.5, 1), fill outside, edge pixels clamped, truncated. Taps with a
    zero weight are skipped (shears and whole-pixel translations need one or two), which
    changes no result: Pillow's lerp with weight 0 returns the first tap exactly."""
    channels, h, w = src.shape
    if a[0] == 1.0 and a[1] == 0.0 and a[3] == 0.0 and a[4] == 1.0 and a[2] == int(a[2]) \
            and a[5] == int(a[5]):
        _shift(src, dst, int(a[2]), int(a[5]), fill)
        return
    for y in range(h):
        row_x = a[1] * (y + 0.5)  # a0*xh + a1*yh + a2, in Pillow's order
        row_y = a[4] * (y + 0.5)
        for x in range(w):
            xin = a[0] * (x + 0.5) + row_x + a[2]
            yin = a[3] * (x + 0.5) + row_y + a[5]
            if xin < 0.0 or xin >= w or yin < 0.0 or yin >= h:
                for c in range(channels):
                    dst[c, y, x] = fill[c]
                continue
            xin -= 0.5
            yin -= 0.5
            xi, yi = int(math.floor(xin)), int(math.floor(yin))
            dx, dy = xin - xi, yin - yi
            x0, x1 = min(max(xi, 0), w - 1), min(max(xi + 1, 0), w - 1)
            y0, y1 = min(max(yi, 0), h - 1), yi + 1
            if y1 >= h:  # Pillow reuses the first row's value below the last row
                dy = 0.0
            if dx == 0.0 and dy == 0.0:
                for c in range(channels):
                    dst[c, y, x] = src[c, y0, x0]
            elif dy == 0.0:
                for c in range(channels):
                    v = src[c, y0, x0] + (np.int32(src[c, y0, x1]) - np.int32(src[c, y0, x0])) * dx
                    dst[c, y, x] = np.uint8(int(v))
            elif dx == 0.0:
                for c in range(channels):
                    v = src[c, y0, x0] + (np.int32(src[c, y1, x0]) - np.int32(src[c, y0, x0])) * dy
                    dst[c, y, x] = np.uint8(int(v))
            else:
                for c in range(channels):
                    v1 = src[c, y0, x0] + (np.int32(src[c, y0, x1]) - np.int32(src[c, y0, x0])) * dx
                    v2 = src[c, y1, x0] + (np.int32(src[c, y1, x1]) - np.int32(src[c, y1, x0])) * dx
                    dst[c, y, x] = np.uint8(int(v1 + (v2 - v1) * dy))

@_jit
def _blend(degenerate, src, dst, factor):
    """Image.blend(degenerate, src, factor) in float as Blend.c, clipped, truncated."""
    alpha = np.float32(factor)
    d, s, o = _flat(degenerate), _flat(src), _flat(dst)
    for p in range(s.size):
        v = np.float32(d[p]) + alpha * np.float32(np.int32(s[p]) - np.int32(d[p]))
        o[p] = 0 if v <= 0 else (255 if v >= 255 else np.uint8(int(v)))

@_jit
def _grey(src, out):
    """convert('L') (rounded fixed point), written into every channel of `out`."""
    channels = src.shape[0]
    for y in range(src.shape[1]):
        for x in range(src.shape[2]):
            if channels == 1:
                g = src[0, y, x]
            else:
                g = (np.int32(src[0, y, x]) * LUMA[0] + np.int32(src[1, y, x]) * LUMA[1]
                     + np.int32(src[2, y, x]) * LUMA[2] + LUMA_ROUND) >> LUMA_SHIFT
            for c in range(channels):
                out[c, y, x] = g

@_jit
def _smooth(src, out):
    """ImageFilter.SMOOTH ((1 1 1; 1 5 1; 1 1 1) / 13, rounded), the border copied."""
    out[:] = src
    channels, h, w = src.shape
    for c in range(channels):
        for y in range(1, h - 1):
            for x in range(1, w - 1):
                total = np.int32(SMOOTH_CENTRE_EXTRA) * src[c, y, x]
                for j in range(y - 1, y + 2):
                    for i in range(x - 1, x + 2):
                        total += src[c, j, i]
                out[c, y, x] = (2 * total + SMOOTH_SCALE) // (2 * SMOOTH_SCALE)

@_jit
def _step(code, value, matrix, src, dst, scratch, lut, fill):
    """One op from src into dst (scratch: a spare image for the enhance ops)."""
    if code == AFFINE:
        _affine(src, dst, matrix, fill)
        return
    if code <= SOLARIZE:
        if code == AUTOCONTRAST:
            _lut_autocontrast(src, lut)
        elif code == EQUALIZE:
            _lut_equalize(src, lut)
        elif code == POSTERIZE:
            _lut_posterize(src, lut, int(value))
        else:
            _lut_solarize(src, lut, int(value))
        _apply_lut(src, dst, lut)
        return
    if code == COLOR:
        if src.shape[0] == 1:
            dst[:] = src
            return
        _grey(src, scratch)
    elif code == CONTRAST:
        _grey(src, scratch)
        total = 0
        for v in _flat(scratch[0]):
            total += v
        scratch[:] = np.uint8(int(total / scratch[0].size + 0.5))
    elif code == BRIGHTNESS:
        scratch[:] = 0
    else:
        _smooth(src, scratch)
    _blend(scratch, src, dst, value)

@_jit
def mix_rows(images, sources, codes, values, matrices, chain_weights, skip_weights, fill, mean, std,
             out, start, stop):
    """out[r] = ((1 - m) * clean + m * sum_k w_k * chain_k - mean) / std (float32) for plan
    rows start..stop-1, where clean = images[sources[r]] / 255 (uint8 NCHW) and the mix is
    clamped to [0, 1] before normalizing (mean 0, std 1: no normalization). Each chain
    ends in its own buffer, so the mix is one pass that writes the output once."""
    shape = images.shape[1:]
    width, depth = codes.shape[1], codes.shape[2]
    chains = np.empty((width,) + shape, np.uint8)
    spare, scratch = np.empty(shape, np.uint8), np.empty(shape, np.uint8)
    lut = np.empty((shape[0], 256), np.uint8)
    factors = np.empty(width + 1, np.float32)
    plane = shape[1] * shape[2]
    for r in range(start, stop):
        clean = images[sources[r]]
        for k in range(width):
            steps = 0
            while steps < depth and codes[r, k, steps] >= 0:
                steps += 1
            # ping-pong between the chain's buffer and the spare one, ending in the chain's
            buffers = (chains[k], spare) if steps % 2 == 1 else (spare, chains[k])
            if steps == 0:
                chains[k] = clean
            source = clean
            for d in range(steps):
                target = buffers[d % 2]
                _step(codes[r, k, d], values[r, k, d], matrices[r, k, d], source, target, scratch, lut, fill)
                source = target
        m = skip_weights[r]
        factors[0] = (np.float32(1) - m) / np.float32(255)
        for k in range(width):
            factors[k + 1] = m * chain_weights[r, k] / np.float32(255)
        for c in range(shape[0]):
            cv, ov = _flat(clean[c]), _flat(out[r, c])
            scale, shift = np.float32(1) / std[c], mean[c]
            for p in range(plane):
                ov[p] = factors[0] * np.float32(cv[p])
            for k in range(width):
                kv, f = _flat(chains[k, c]), factors[k + 1]
                for p in range(plane):
                    ov[p] += f * np.float32(kv[p])
            for p in range(plane):  # float rounding can pass 1 by an ulp
                ov[p] = (min(max(ov[p], np.float32(0)), np.float32(1)) - shift) * scale

@_jit
def unit_rows(images, mean, std, out, start, stop):
    """out[r] = (images[r] / 255 - mean) / std as float32, rows start..stop-1."""
    scale = np.float32(255)
    for r in range(start, stop):
        for c in range(images.shape[1]):
            src, dst = _flat(images[r, c]), _flat(out[r, c])
            for p in range(src.size):
                dst[p] = (np.float32(src[p]) / scale - mean[c]) / std[c]
