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
        darkest, brightest = np.uint8(255), np.uint8(0)  # uint8 compares: the loop vectorizes
        plane = _flat(src[c])
        for p in range(plane.size):
            v = plane[p]
            darkest = v if v < darkest else darkest
            brightest = v if v > brightest else brightest
        lo, hi = np.int64(darkest), np.int64(brightest)
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
    counts = np.empty((4, 256), np.int64)  # four histograms: no wait on the previous increment
    for c in range(src.shape[0]):
        counts[:] = 0
        plane = _flat(src[c])
        whole = plane.size - plane.size % 4
        for p in range(0, whole, 4):
            counts[0, plane[p]] += 1
            counts[1, plane[p + 1]] += 1
            counts[2, plane[p + 2]] += 1
            counts[3, plane[p + 3]] += 1
        for p in range(whole, plane.size):
            counts[0, plane[p]] += 1
        hist = counts[0] + counts[1] + counts[2] + counts[3]
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
def _posterize(src, dst, bits):
    """ImageOps.posterize: keep the top `bits` bits (Pillow's lookup table, as a mask)."""
    mask = np.uint8(255 & ~((1 << (8 - bits)) - 1))
    s, d = _flat(src), _flat(dst)
    for p in range(s.size):
        d[p] = s[p] & mask

@_jit
def _solarize(src, dst, threshold):
    """ImageOps.solarize: invert the values at or above `threshold` (its table, computed)."""
    s, d = _flat(src), _flat(dst)
    for p in range(s.size):
        d[p] = s[p] if s[p] < threshold else 255 - s[p]

@_jit
def _apply_lut(src, dst, lut):
    for c in range(src.shape[0]):
        s, d = _flat(src[c]), _flat(dst[c])
        for p in range(s.size):
            d[p] = lut[c, s[p]]

@_jit
def _copy(src, dst):
    for i in range(dst.size):
        dst[i] = src[i]

@_jit
def _fill(dst, value):
    for i in range(dst.size):
        dst[i] = value

@_jit
def _shift(src, dst, tx, ty, fill):
    """The affine transform for whole-pixel translations: out[y, x] = src[y + ty, x + tx]."""
    channels, h, w = src.shape
    x_lo, x_hi = max(0, -tx), max(min(w, w - tx), max(0, -tx))
    for c in range(channels):
        for y in range(h):
            out = dst[c, y]
            if not 0 <= y + ty < h:
                _fill(out, fill[c])
                continue
            _fill(out[:x_lo], fill[c])
            _copy(src[c, y + ty, x_lo + tx:x_hi + tx], out[x_lo:x_hi])
            _fill(out[x_hi:], fill[c])

@_jit
def _sample_coordinates(a, y, w, h, xi, yi, dx, dy, inside):
    """Where the pixels of output row y sample the input, as Pillow computes it (double,
    a0*xh + a1*yh + a2 in that order, xh = x + 0.5): the top-left tap (xi, yi), the weights
    (dx, dy) and whether the pixel is inside (else it gets the fill). No branches, so it
    vectorizes."""
    row_x = a[1] * (y + 0.5)
    row_y = a[4] * (y + 0.5)
    for x in range(w):
        xin = a[0] * (x + 0.5) + row_x + a[2]
        yin = a[3] * (x + 0.5) + row_y + a[5]
        ok = (xin >= 0.0) & (xin < w) & (yin >= 0.0) & (yin < h)
        xs = math.floor(xin - 0.5)
        ys = math.floor(yin - 0.5)
        dx[x] = (xin - 0.5) - xs
        dy[x] = (yin - 0.5) - ys
        xi[x] = np.int64(xs) if ok else 0
        yi[x] = np.int64(ys) if ok else 0
        inside[x] = ok

@_jit
def _coordinate_rows(w):
    """The buffers `_sample_coordinates` fills for a row of w pixels."""
    return (np.empty(w, np.int64), np.empty(w, np.int64), np.empty(w, np.float64), np.empty(w, np.float64),
            np.empty(w, np.bool_))

@_jit
def _lerp(first, second, weight):
    """Pillow's BILINEAR step in double: first + (second - first) * weight."""
    return np.float64(first) + (np.float64(second) - np.float64(first)) * weight

@_jit
def _lerp_run(taps, weights, out):
    """out[i] = lerp(taps[i], taps[i + 1], weights[i]) truncated. Indices from 0 on a slice:
    numba then needs no negative-index check, and the loop vectorizes."""
    for i in range(out.size):
        out[i] = np.uint8(np.int32(_lerp(taps[i], taps[i + 1], weights[i])))

@_jit
def _clamped_lerps(row, xi, dx, out, start, stop):
    """Pillow's horizontal lerp for out[start:stop], its taps clamped to the row."""
    w = row.size
    for x in range(start, stop):
        x0, x1 = min(max(xi[x], 0), w - 1), min(max(xi[x] + 1, 0), w - 1)
        out[x] = np.uint8(np.int32(_lerp(row[x0], row[x1], dx[x])))

@_jit
def _affine_rows(src, dst, a, fill):
    """The affine transform when rows map to themselves (a3 = 0, a4 = 1, a5 = 0: yin = y + 0.5
    exactly, so dy = 0 and Pillow's result is the horizontal lerp alone). Where a row samples
    a constant offset (shear_x: xi = x + K), the taps are contiguous and the lerp vectorizes;
    other pixels (clamped edges, rare rows where rounding moves K) take the exact scalar path."""
    channels, h, w = src.shape
    xi, yi, dx, dy, inside = _coordinate_rows(w)
    for y in range(h):
        _sample_coordinates(a, y, w, h, xi, yi, dx, dy, inside)
        lo, hi = 0, w  # xin grows with x, so the inside pixels are one run
        while lo < w and not inside[lo]:
            lo += 1
        while hi > lo and not inside[hi - 1]:
            hi -= 1
        shift = xi[lo] - lo if lo < hi else 0
        constant = True
        for x in range(lo, hi):
            constant &= xi[x] - x == shift
        # the contiguous part: both taps inside the row
        start, stop = (max(lo, -shift), min(hi, w - 1 - shift)) if constant else (hi, hi)
        stop = max(start, stop)
        for c in range(channels):
            row, out = src[c, y], dst[c, y]
            _fill(out[:lo], fill[c])  # loops: numba's slice assignment costs far more per call
            _fill(out[hi:], fill[c])
            _lerp_run(row[start + shift:stop + shift + 1], dx[start:stop], out[start:stop])
            _clamped_lerps(row, xi, dx, out, lo, start)
            _clamped_lerps(row, xi, dx, out, stop, hi)

@_jit
def _bilinear_run(top, bottom, wx, wy, out):
    """Pillow's bilinear sample where every tap is inside the image: out[i] from top[i],
    top[i + 1], bottom[i], bottom[i + 1] (indices from 0 on slices, so the loop vectorizes)."""
    for i in range(out.size):
        v1 = _lerp(top[i], top[i + 1], wx[i])
        v2 = _lerp(bottom[i], bottom[i + 1], wx[i])
        out[i] = np.uint8(np.int32(v1 + (v2 - v1) * wy[i]))

@_jit
def _affine_general(src, dst, a, fill):
    """Pillow's bilinear affine transform for any matrix (see `_affine`). Each output row is
    cut into runs of pixels that sample one input row pair at a constant column offset
    (rotations by a few degrees: runs of several pixels); a run whose taps are all inside
    the image is one contiguous, vectorized loop, the rest (clamped edges) go pixel by pixel."""
    channels, h, w = src.shape
    xi, yi, dx, dy, inside = _coordinate_rows(w)
    for y in range(h):
        _sample_coordinates(a, y, w, h, xi, yi, dx, dy, inside)
        x = 0
        while x < w:
            if not inside[x]:
                for c in range(channels):
                    dst[c, y, x] = fill[c]
                x += 1
                continue
            shift, row = xi[x] - x, yi[x]
            end = x + 1
            while end < w and inside[end] and yi[end] == row and xi[end] - end == shift:
                end += 1
            if 0 <= row < h - 1 and x + shift >= 0 and end + shift < w:
                for c in range(channels):
                    _bilinear_run(src[c, row, x + shift:end + shift + 1],
                                  src[c, row + 1, x + shift:end + shift + 1], dx[x:end], dy[x:end],
                                  dst[c, y, x:end])
                x = end
                continue
            for p in range(x, end):  # taps clamped at the edges, as Pillow does
                x0, x1 = min(max(xi[p], 0), w - 1), min(max(xi[p] + 1, 0), w - 1)
                y0, y1 = min(max(yi[p], 0), h - 1), yi[p] + 1
                wy = dy[p]
                if y1 >= h:  # Pillow reuses the first row's value below the last row
                    y1, wy = y0, 0.0
                for c in range(channels):
                    v1 = _lerp(src[c, y0, x0], src[c, y0, x1], dx[p])
                    v2 = _lerp(src[c, y1, x0], src[c, y1, x1], dx[p])
                    dst[c, y, p] = np.uint8(np.int32(v1 + (v2 - v1) * wy))
            x = end

@_jit
def _affine(src, dst, a, fill):
    """Pillow's bilinear affine transform (Geometry.c): output pixel (x, y) samples the input
    at a . (x + 0.5, y + 0.5, 1), fill outside, edge pixels clamped, truncated. Shears and
    translations take faster routes to the same bytes: a whole-pixel translation is a copy,
    and when rows map to themselves (shear_x) only the horizontal lerp remains (Pillow's
    vertical one has weight 0 and returns its first tap exactly)."""
    channels, h, w = src.shape
    if a[0] == 1.0 and a[1] == 0.0 and a[3] == 0.0 and a[4] == 1.0 and a[2] == int(a[2]) \
            and a[5] == int(a[5]):
        _shift(src, dst, int(a[2]), int(a[5]), fill)
    elif a[3] == 0.0 and a[4] == 1.0 and a[5] == 0.0:
        _affine_rows(src, dst, a, fill)
    else:
        _affine_general(src, dst, a, fill)

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
    _copy(_flat(src), _flat(out))
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
    if code == POSTERIZE:
        _posterize(src, dst, int(value))
        return
    if code == SOLARIZE:
        _solarize(src, dst, int(value))
        return
    if code <= EQUALIZE:
        if code == AUTOCONTRAST:
            _lut_autocontrast(src, lut)
        else:
            _lut_equalize(src, lut)
        _apply_lut(src, dst, lut)
        return
    if code == COLOR:
        if src.shape[0] == 1:
            _copy(_flat(src), _flat(dst))
            return
        _grey(src, scratch)
    elif code == CONTRAST:
        _grey(src, scratch)
        total = 0
        for v in _flat(scratch[0]):
            total += v
        _fill(_flat(scratch), np.uint8(int(total / scratch[0].size + 0.5)))
    elif code == BRIGHTNESS:
        _fill(_flat(scratch), np.uint8(0))
    else:
        _smooth(src, scratch)
    _blend(scratch, src, dst, value)

@_jit
def mix_rows(images, sources, codes, values, matrices, chain_weights, skip_weights, fill, mean, std,
             out, start, stop):
    """out[r] = ((1 - m) * clean + m * sum_k w_k * chain_k - mean) / std (float32) for plan
    rows start..stop-1, where clean = images[sources[r]] / 255 (uint8 NCHW) and the mix is
    clamped to [0, 1] before normalizing (mean 0, std 1: no normalization). Each chain
    ends in its own buffer, so the mix reads each once and writes the output once."""
    shape = images.shape[1:]
    width, depth = codes.shape[1], codes.shape[2]
    chains = np.empty((width,) + shape, np.uint8)
    spare, scratch = np.empty(shape, np.uint8), np.empty(shape, np.uint8)
    lut = np.empty((shape[0], 256), np.uint8)
    factors = np.empty(width + 1, np.float32)
    block = np.empty(2048, np.float32)
    planes = chains.reshape((width, shape[0], shape[1] * shape[2]))
    for r in range(start, stop):
        clean = images[sources[r]]
        for k in range(width):
            steps = 0
            while steps < depth and codes[r, k, steps] >= 0:
                steps += 1
            # ping-pong between the chain's buffer and the spare one, ending in the chain's
            buffers = (chains[k], spare) if steps % 2 == 1 else (spare, chains[k])
            if steps == 0:
                _copy(_flat(clean), _flat(chains[k]))
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
            _mix_plane(_flat(clean[c]), planes, c, factors, mean[c], np.float32(1) / std[c],
                       _flat(out[r, c]), block)

@_jit
def _mix_plane(clean, chains, c, factors, shift, scale, out, block):
    """out = (clamp(f0 * clean + sum_k f_k * chains[k, c], 0, 1) - shift) * scale, a block at a
    time: the sums stay in a small buffer in L1 and the output is written once. Every
    factor is a local before its loop (a load through `factors` could alias the output),
    and each loop runs from 0 on slices, so they vectorize."""
    size = block.size
    for start in range(0, clean.size, size):
        n = min(size, clean.size - start)
        acc = block[:n]
        f = factors[0]
        taps = clean[start:start + n]
        for i in range(n):
            acc[i] = f * np.float32(taps[i])
        for k in range(chains.shape[0]):
            f = factors[k + 1]
            taps = chains[k, c, start:start + n]
            for i in range(n):
                acc[i] += f * np.float32(taps[i])
        target = out[start:start + n]
        for i in range(n):  # float rounding can pass 1 by an ulp
            target[i] = (min(max(acc[i], np.float32(0)), np.float32(1)) - shift) * scale

@_jit
def unit_rows(images, mean, std, out, start, stop):
    """out[r] = (images[r] / 255 - mean) / std as float32, rows start..stop-1."""
    scale = np.float32(255)
    for r in range(start, stop):
        for c in range(images.shape[1]):
            src, dst = _flat(images[r, c]), _flat(out[r, c])
            shift, spread = mean[c], std[c]  # locals: loads through mean/std could alias dst
            for p in range(src.size):
                dst[p] = (np.float32(src[p]) / scale - shift) / spread
