"""The size rule: a severity table for images of any size of at least 32 x 32 px.

The four reference sizes (square 32, 64, 224 and 299 px) keep their tables. Any other image is
treated as an enlarged copy of the largest of the 32, 64 and 224 px references that its shorter
side reaches: s = shorter side / reference side >= 1, and every parameter that is a length in
pixels is multiplied by s, so the same scene at a higher resolution is corrupted alike.
Parameters that act per pixel (noise levels, blend weights, colour, JPEG quality) are kept.
The shorter side is the measure because it is what Resize(256) + CenterCrop(224) normalizes for
ImageNet-C, and because it does not change when the long side is cropped: a 224 x 448 panorama
gets the 224 px table, as each of its 224 x 224 halves would.
"""
from __future__ import annotations

import functools
import math
from types import MappingProxyType
from typing import Any, Callable

from augmix.corruptions.tables import TABLES, SeverityTable

MIN_SIDE = 32
# Scaled from; 299 px ("inception") is a re-tuned ImageNet table used only at exactly 299 x 299.
BASES = (TABLES["cifar"], TABLES["tiny"], TABLES["imagenet"])
_REFERENCE = {(t.size, t.size): t for t in TABLES.values()}
DISK_GRID = 8  # kernels.disk: a fixed 17 x 17 grid up to this radius, (2r + 1)^2 above


def plasma_side(height: int, width: int) -> int:
    """The smallest power of two covering the longer side: fog's plasma map (32, 64, 256, 512 at
    the reference sizes, as in their tables)."""
    return 1 << max(1, math.ceil(math.log2(max(height, width))))


def base_table(height: int, width: int) -> SeverityTable:
    """The reference table a `height` x `width` image is scaled from: the largest of 32, 64 and
    224 px that its shorter side reaches."""
    side = min(height, width)
    if side < MIN_SIDE:
        raise ValueError(f"images must be at least {MIN_SIDE}x{MIN_SIDE} px for the size rule, got "
                         f"{height}x{width}; pass table= to corrupt smaller images with a reference table")
    return [t for t in BASES if t.size <= side][-1]


@functools.lru_cache(maxsize=64)
def table_for_shape(height: int, width: int) -> SeverityTable:
    """The severity table for `height` x `width` images: the reference one at 32, 64, 224 and
    299 px square, else the base table with its lengths scaled by shorter side / base side."""
    if (height, width) in _REFERENCE:
        return _REFERENCE[height, width]
    base = base_table(height, width)
    s = min(height, width) / base.size
    params = {name: tuple(_RULES[name](c, s) for c in rows) if name in _RULES else rows
              for name, rows in base.params.items()}
    return SeverityTable(f"{base.name}@{height}x{width}", min(height, width), MappingProxyType(params),
                         frost_scale=base.frost_scale * s, fog_mapsize=plasma_side(height, width))


def _disk_radius(radius: float) -> float:
    """Whole pixels above the fixed grid, where the kernel's grid is arange(-r, r + 1)."""
    return radius if radius <= DISK_GRID else float(round(radius))


def _zoom_steps(factors: tuple[float, ...], s: float) -> tuple[float, ...]:
    """Each step split into round(s) equal steps, so successive zoomed copies stay about as
    many pixels apart as at the reference size (the blur stays smooth, not a row of ghosts)."""
    n = max(1, math.floor(s + 0.5))
    if n == 1:
        return factors
    finer = [a + (b - a) * k / n for a, b in zip(factors, factors[1:]) for k in range(n)]
    return tuple(finer) + factors[-1:]


# How each size-dependent corruption's parameters c (a reference table's row) scale by s.
_RULES: dict[str, Callable[[Any, float], Any]] = {
    # (disk radius, anti-alias sigma): the anti-aliasing smooths the disk's edge pixels, a
    # matter of pixels, not of the scene
    "defocus_blur": lambda c, s: (_disk_radius(c[0] * s), c[1]),
    # (sigma, shuffle distance, passes): the shuffle jitters single pixels, a finer grain at a
    # higher resolution that the wider second blur erases; sqrt(s) times the passes (a random
    # walk's reach grows as the root of its steps) brings the damage back to the reference's
    "glass_blur": lambda c, s: (c[0] * s, max(1, round(c[1] * s)), max(1, round(c[2] * math.sqrt(s)))),
    # (radius, sigma)
    "motion_blur": lambda c, s: (c[0] * s, c[1] * s),
    # zoom factors are relative to the image already: only the step count grows
    "zoom_blur": _zoom_steps,
    # (flake mean, flake std, flake zoom, threshold, blur radius, blur sigma, blend)
    "snow": lambda c, s: (c[0], c[1], c[2] * s, c[3], c[4] * s, c[5] * s, c[6]),
    # (alpha, sigma, affine jitter): a white-noise field smoothed by sigma has an amplitude
    # proportional to 1 / sigma, so alpha grows by s^2 for displacements s times larger
    "elastic_transform": lambda c, s: (c[0] * s * s, c[1] * s, c[2] * s),
    # box size in pixels is 1 / c
    "pixelate": lambda c, s: c / s,
    # (mean, std, sigma, threshold, water intensity or mud sigma, mud?): the noise std grows
    # with the blur sigma so that the smoothed field, hence the thresholded drops, stay alike
    "spatter": lambda c, s: (c[0], c[1] * s, c[2] * s, c[3], c[4] * s if c[5] else c[4], c[5]),
    "gaussian_blur": lambda c, s: c * s,
}
SIZE_DEPENDENT: frozenset[str] = frozenset(_RULES) | {"frost", "fog"}
