"""Building blocks of the reference corruptions, vectorized and free of randomness.

Each helper restates one step of hendrycks/robustness `make_*_c.py` (spec section 1.1, 1.5):
clipped zoom, the anti-aliased disk, the plasma fractal, ImageMagick's motion blur,
scikit-image's HSV conversion and Gaussian filter, glass blur's pixel shuffle, and Pillow's
BOX enlargement (pixelate's second resize).
"""
from __future__ import annotations

import functools
import math
from typing import Sequence

import cv2
import numpy as np
from scipy import ndimage


def gaussian(image: np.ndarray, sigma: float, *, mode: str = "nearest", truncate: float = 4.0,
             channel_axis: bool = False, in_place: bool = False) -> np.ndarray:
    """scikit-image's `filters.gaussian` on float input: the last two spatial axes, not channels.

    `image` is (..., H, W) or, with `channel_axis`, (..., H, W, C). `in_place` filters `image`
    itself (SciPy filters line by line through a buffer, so the values are the same).
    """
    spatial = (sigma, sigma, 0) if channel_axis else (sigma, sigma)
    sigmas = (0,) * (image.ndim - len(spatial)) + spatial
    return ndimage.gaussian_filter(image, sigma=sigmas, mode=mode, truncate=truncate,
                                   output=image if in_place else None)


SMALL_ZOOM = 64  # crop side up to which clipped_zoom uses dense matrices


def _linear_taps(size_in: int, size_out: int, first: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-tap weights of `scipy.ndimage.zoom`'s order-1 interpolation along one axis.

    For output samples first..first+count-1 of size_out: (left index, right index, right weight);
    sample o reads input position o * (size_in - 1) / (size_out - 1) (corners map to corners).
    """
    scale = (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
    pos = np.arange(first, first + count) * scale
    left = np.minimum(np.floor(pos).astype(np.int64), size_in - 1)
    return left, np.minimum(left + 1, size_in - 1), pos - left


def clipped_zoom(image: np.ndarray, factor: float) -> np.ndarray:
    """Zoom the centre of (..., H, W, C) `image` by `factor` (order-1 spline) and crop back to H x W.

    For square images this is the reference helper: a centre crop of ceil(H / factor),
    zoomed like `scipy.ndimage.zoom(order=1)` to round(crop * factor) pixels (Python rounding,
    half to even), then the centre trimmed with (new - H) // 2. Other shapes apply the rule per
    axis. The bilinear zoom is separable: two gathers of neighbouring rows, then columns, and
    only the output pixels that survive the trim are computed.
    """
    h, w = image.shape[-3:-1]
    ch, cw = math.ceil(h / factor), math.ceil(w / factor)
    top, left = (h - ch) // 2, (w - cw) // 2
    oh, ow = int(round(ch * factor)), int(round(cw * factor))
    crop = image[..., top:top + ch, left:left + cw, :]
    r0, r1, fr = _linear_taps(ch, oh, (oh - h) // 2, h)
    c0, c1, fc = _linear_taps(cw, ow, (ow - w) // 2, w)
    if max(ch, cw) <= SMALL_ZOOM:  # small crops: two tiny dense products beat gathers
        rows, cols = _dense(r0, r1, fr, ch), _dense(c0, c1, fc, cw)
        lead, channels = crop.shape[:-3], crop.shape[-1]
        zoomed = rows @ crop.reshape(lead + (ch, cw * channels))
        zoomed = zoomed.reshape(lead + (h, cw, channels)).swapaxes(-1, -2)
        return (zoomed @ cols.T).swapaxes(-1, -2)
    fr, fc = fr[:, None, None], fc[:, None]  # float64 weights: float32 input is interpolated in double, as by scipy
    rows = np.take(crop, r0, axis=-3) * (1 - fr) + np.take(crop, r1, axis=-3) * fr
    return np.take(rows, c0, axis=-2) * (1 - fc) + np.take(rows, c1, axis=-2) * fc


def _dense(left: np.ndarray, right: np.ndarray, frac: np.ndarray, size_in: int) -> np.ndarray:
    """The two-tap weights as a (len(left), size_in) matrix."""
    matrix = np.zeros((len(left), size_in))
    np.add.at(matrix, (np.arange(len(left)), left), 1 - frac)
    np.add.at(matrix, (np.arange(len(left)), right), frac)
    return matrix


def disk(radius: float, alias_blur: float) -> np.ndarray:
    """The defocus kernel: a float32 disk x^2 + y^2 <= r^2 of sum 1, then a small Gaussian blur.

    The grid is 17 x 17 (3 x 3 blur) up to radius 8, else (2r + 1)^2 (5 x 5 blur), as in the reference.
    """
    if radius <= 8:
        coords, ksize = np.arange(-8, 8 + 1), (3, 3)
    else:
        coords, ksize = np.arange(-radius, radius + 1), (5, 5)
    xs, ys = np.meshgrid(coords, coords)
    kernel = (xs ** 2 + ys ** 2 <= radius ** 2).astype(np.float32)
    kernel /= kernel.sum()
    return cv2.GaussianBlur(kernel, ksize=ksize, sigmaX=alias_blur)


def plasma_level_shapes(mapsize: int) -> list[int]:
    """Side of the three uniform arrays the plasma fractal draws at each level, coarse to fine."""
    return [mapsize // step for step in _steps(mapsize)]


def _steps(mapsize: int) -> list[int]:
    steps, step = [], mapsize
    while step >= 2:
        steps.append(step)
        step //= 2
    return steps


def _plus_rolled(a: np.ndarray, b: np.ndarray, shift: int, axis: int, out: np.ndarray | None = None) -> np.ndarray:
    """a + np.roll(b, shift, axis) for shift +-1 on 2-D arrays, without the rolled copy of b.

    `out` may be `a` (not `b`); the sums are the same pairs in the same order as with np.roll.
    """
    n = a.shape[axis]

    def part(start: int, stop: int) -> tuple[slice, ...]:
        return (slice(start, stop), slice(None)) if axis == 0 else (slice(None), slice(start, stop))

    out = np.empty_like(a) if out is None else out
    if shift == -1:  # out[i] = a[i] + b[i + 1], b[0] at the end
        np.add(a[part(0, n - 1)], b[part(1, n)], out=out[part(0, n - 1)])
        np.add(a[part(n - 1, n)], b[part(0, 1)], out=out[part(n - 1, n)])
    else:  # out[i] = a[i] + b[i - 1], b[n - 1] at the start
        np.add(a[part(1, n)], b[part(0, n - 1)], out=out[part(1, n)])
        np.add(a[part(0, 1)], b[part(n - 1, n)], out=out[part(0, 1)])
    return out


def plasma_fractal(mapsize: int, wibble_decay: float, draws: Sequence[np.ndarray]) -> np.ndarray:
    """Diamond-square fractal on a torus, in [0, 1]; `draws` holds 3 U(-1, 1) arrays per level.

    The reference adds `wibble * U(-wibble, wibble)` at each level; here the U(-1, 1) draws are
    scaled by wibble**2, which is the same distribution and the same numbers for U = wibble * U1.

    The reference fills one map through strided views (corners, square centres, the two kinds
    of diamond points, `step` apart); here each of those lattices is a small contiguous array
    of the same values, and the four are interleaved into the next level's corners.
    """
    if mapsize < 2 or mapsize & (mapsize - 1):
        raise ValueError(f"mapsize must be a power of two >= 2, got {mapsize}")
    steps = _steps(mapsize)
    if len(draws) != 3 * len(steps):
        raise ValueError(f"plasma draws must hold {3 * len(steps)} arrays, got {len(draws)}")
    corners = np.zeros((1, 1))
    wibble = 100.0
    for level in range(len(steps)):
        squares, diamonds_a, diamonds_b = draws[3 * level:3 * level + 3]
        weight = wibble * wibble
        centres = _plus_rolled(corners, corners, -1, 0)
        centres = _plus_rolled(centres, centres, -1, 1)
        centres /= 4
        centres += weight * squares
        across = _plus_rolled(centres, centres, 1, 0)  # the diamond points between two corners of a row
        across += corners
        _plus_rolled(across, corners, -1, 1, out=across)
        across /= 4
        across += weight * diamonds_a
        down = _plus_rolled(centres, centres, 1, 1)  # and of a column
        down += corners
        _plus_rolled(down, corners, -1, 0, out=down)
        down /= 4
        down += weight * diamonds_b
        n = corners.shape[0]
        grid = np.empty((2 * n, 2 * n))
        grid[0::2, 0::2], grid[0::2, 1::2], grid[1::2, 0::2], grid[1::2, 1::2] = corners, across, down, centres
        corners = grid
        wibble /= wibble_decay
    corners -= corners.min()
    corners /= corners.max()
    return corners


def motion_blur(image: np.ndarray, radius: float, sigma: float, angle: float) -> np.ndarray:
    """ImageMagick's MotionBlurImage on uint8 (H, W) or (H, W, C), quantized as its 8-bit PNG output.

    One-sided Gaussian weights over 2 * ceil(radius) + 1 taps along `angle` (degrees), tap offsets
    rounded with ceil(v - 0.5), reads outside the image served by the nearest edge pixel. The
    sum is rounded to a 16-bit quantum (x 257) and scaled down to 8 bits by truncation, which is
    what ImageMagick 6 Q16 writes: checked pixel for pixel against `convert -motion-blur` 6.9.11.
    """
    width = 2 * math.ceil(radius) + 1
    taps = np.arange(width, dtype=np.float64)
    weights = np.exp(-taps ** 2 / (2.0 * sigma * sigma))
    weights /= weights.sum()
    theta = math.radians(angle)
    px, py = width * math.sin(theta), width * math.cos(theta)
    norm = math.hypot(px, py)
    off_cols = np.ceil(taps * py / norm - 0.5).astype(np.int64)
    off_rows = np.ceil(taps * px / norm - 0.5).astype(np.int64)
    # The taps as one sparse kernel over their bounding box, the image as its anchor, so that a
    # single cv2.filter2D pass (double precision, edge pixels repeated) sums them.
    top, left = int(off_rows.min()), int(off_cols.min())
    kernel = np.zeros((int(off_rows.max()) - top + 1, int(off_cols.max()) - left + 1))
    np.add.at(kernel, (off_rows - top, off_cols - left), weights)
    total = cv2.filter2D(image.astype(np.float64), -1, kernel, anchor=(-left, -top),
                         borderType=cv2.BORDER_REPLICATE)
    total *= 257
    total += 0.5
    np.floor(total, out=total)
    np.clip(total, 0, 65535, out=total)
    total /= 257  # exact for whole numbers up to 65535, so the floor below is the integer quotient
    np.floor(total, out=total)
    return total.astype(np.uint8)


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """scikit-image's `rgb2hsv` on float RGB in [0, 1] (ties of the max go to blue, then green)."""
    value = rgb.max(axis=-1)
    delta = value - rgb.min(axis=-1)
    flat = delta == 0
    safe_delta = np.where(flat, 1.0, delta)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hue = np.where(b == value, 4.0 + (r - g) / safe_delta,
                   np.where(g == value, 2.0 + (b - r) / safe_delta, (g - b) / safe_delta))
    hue = np.where(flat, 0.0, (hue / 6.0) % 1.0)
    saturation = np.where(flat, 0.0, delta / np.where(value == 0, 1.0, value))
    return np.stack([hue, saturation, value], axis=-1)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """scikit-image's `hsv2rgb`: the six-sector formula on float HSV in [0, 1]."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    sector = np.floor(h * 6)
    f = h * 6 - sector
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    sector = sector.astype(np.int64) % 6
    return np.stack([np.choose(sector, (v, q, p, p, t, v)), np.choose(sector, (t, v, v, q, p, p)),
                     np.choose(sector, (p, p, t, v, v, q))], axis=-1)


def glass_shuffle(image: np.ndarray, delta: int, offsets: np.ndarray) -> np.ndarray:
    """One pass of glass blur's pixel loop over (H, W, C) `image`, without a loop over pixels.

    The reference visits h = H - delta .. delta + 1 and, inside, w = W - delta .. delta + 1 (both
    descending) and "swaps" pixel (h, w) with (h + dy, w + dx), `offsets[k] = (dx, dy)` for the
    k-th visited pixel. Through NumPy views that swap is a copy: (h, w) takes the value that
    (h + dy, w + dx) holds at that moment, i.e. its new value if it was visited before, else its
    old one. Following those links (pointer jumping over the visit order) resolves every
    pixel's final source at once.
    """
    h, w = image.shape[:2]
    rows = np.arange(h - delta, delta, -1)
    cols = np.arange(w - delta, delta, -1)
    if rows.size == 0 or cols.size == 0:
        return image.copy()
    visited = (rows[:, None] * w + cols[None, :]).ravel()
    if offsets.shape != (visited.size, 2):
        raise ValueError(f"glass offsets must have shape ({visited.size}, 2), got {offsets.shape}")
    source = (rows[:, None] + offsets[:, 1].reshape(rows.size, cols.size)) * w \
        + (cols[None, :] + offsets[:, 0].reshape(rows.size, cols.size))
    source = source.ravel()
    order = np.full(h * w, visited.size, dtype=np.int64)  # not visited: never changes
    order[visited] = np.arange(visited.size)
    target = source.copy()
    pending = order[target] < np.arange(visited.size)  # source already visited: follow its link
    while pending.any():
        via = order[target[pending]]
        target[pending], pending[pending] = target[via], pending[via]
    out = image.reshape(h * w, -1).copy()
    out[visited] = image.reshape(h * w, -1)[target]
    return out.reshape(image.shape)


def box_enlarge(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pillow's BOX resize of (h, w, ...) `image` up to `height` x `width` (neither side smaller).

    Enlarging, Pillow's box filter covers exactly one source pixel for each output pixel, so the
    resize is a gather. Which pixel, Pillow itself says: it enlarges a ramp of source indices
    (a 32-bit image, whose resize does not round through 8 bits) with the same filter.
    """
    pixels = np.ascontiguousarray(image)
    pixels = pixels.view(np.dtype((np.void, pixels[0, 0].nbytes)))  # a pixel's values as one item: faster take
    enlarged = pixels.take(_box_sources(image.shape[1], width), axis=1)[_box_sources(image.shape[0], height)]
    return enlarged.view(image.dtype)


@functools.lru_cache(maxsize=64)
def _box_sources(size_in: int, size_out: int) -> np.ndarray:
    """The source index of each of `size_out` pixels in Pillow's BOX enlargement of `size_in` pixels."""
    from PIL import Image

    ramp = Image.fromarray(np.arange(size_in, dtype=np.int32)[None, :])
    sources = np.asarray(ramp.resize((size_out, 1), Image.Resampling.BOX))[0].astype(np.intp)
    sources.setflags(write=False)
    return sources
