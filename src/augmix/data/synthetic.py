"""The embedded default data set: procedural 32x32 shapes on textured backgrounds.

Ten shape classes, each drawn with a random pose (tilt, scale, position),
colour, background texture and lighting gradient, anti-aliased by 2x2
supersampling. Deterministic from a seed, about 10,000 images a second, and
natural enough that noise, blur and weather corruptions hurt a model trained
on it, which is what the demo and tests need.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from augmix._util.convert import nchw_to_nhwc
from augmix.data.arrays import ArrayImageDataset

CLASSES = ("disk", "ring", "square", "triangle", "cross", "star", "crescent",
           "bars", "ell", "dumbbell")
_SPLITS = {"train": 0, "test": 1}
# The pose and clutter ranges: objects fill most of the frame, stand upright within a tilt
# (radians), sit near the centre (fraction of the half-width), on a background texture of
# moderate strength; a small CNN learns the classes in tens of thousands of images.
_TILT = 0.5
_SCALE = (0.6, 0.9)
_SHIFT = 0.2
_CLUTTER = (0.1, 0.35)


def _shape_mask(cls: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inside-mask of shape `cls` in its own frame, coordinates roughly in [-1, 1]."""
    r = np.hypot(u, v)
    if cls == 0:
        return r < 0.8
    if cls == 1:
        return (r > 0.45) & (r < 0.85)
    if cls == 2:
        return np.maximum(np.abs(u), np.abs(v)) < 0.68
    if cls == 3:  # equilateral triangle: three half-planes
        return (v > -0.45) & (v < 0.9 - 1.732 * u) & (v < 0.9 + 1.732 * u)
    if cls == 4:
        return ((np.abs(u) < 0.25) & (np.abs(v) < 0.85)) | ((np.abs(v) < 0.25) & (np.abs(u) < 0.85))
    if cls == 5:
        phi = np.arctan2(v, u)
        return r < 0.38 + 0.5 * np.abs(np.cos(2.5 * phi)) ** 3
    if cls == 6:
        return (r < 0.8) & (np.hypot(u - 0.38, v) > 0.6)
    if cls == 7:
        return (np.abs(u) < 0.8) & ((np.abs(v - 0.38) < 0.16) | (np.abs(v + 0.38) < 0.16))
    if cls == 8:
        return (((u > -0.7) & (u < -0.2) & (np.abs(v) < 0.75))
                | ((u > -0.7) & (u < 0.7) & (v > 0.25) & (v < 0.75)))
    if cls == 9:
        return ((np.hypot(u - 0.5, v) < 0.35) | (np.hypot(u + 0.5, v) < 0.35)
                | ((np.abs(u) < 0.5) & (np.abs(v) < 0.1)))
    raise ValueError(f"class index must be in 0..{len(CLASSES) - 1}, got {cls}")


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorized HSV -> RGB, all in [0, 1]; returns (..., 3)."""
    k = (np.stack([5.0, 3.0, 1.0]) + h[..., None] * 6) % 6
    return v[..., None] - v[..., None] * s[..., None] * np.clip(np.minimum(k, 4 - k), 0, 1)


def _smooth_noise(rng: np.random.Generator, n: int, cells: int, size: int) -> np.ndarray:
    """Low-frequency noise (n, size, size, 3) in [0, 1]: coarse random grid, bicubic upsampling."""
    coarse = torch.from_numpy(rng.random((n, 3, cells, cells), dtype=np.float32))
    fine = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)
    return nchw_to_nhwc(fine.clamp(0, 1)).numpy()


_CHUNK = 1000  # images drawn from one generator; keeps memory flat


def make_synthetic(n: int, seed: int = 0, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """`n` images (n, size, size, 3) uint8 and labels (n,) int64, balanced per 1,000."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an int >= 8, got {size!r}")
    chunks = [_render(np.random.default_rng([seed, c]), min(_CHUNK, n - start), size)
              for c, start in enumerate(range(0, n, _CHUNK))]
    return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])


def _render(rng: np.random.Generator, n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.permutation(np.arange(n) % len(CLASSES)).astype(np.int64)
    hi = 2 * size  # supersampled canvas
    grid = ((np.arange(hi) + 0.5) / hi * 2 - 1).astype(np.float32)
    y, x = np.meshgrid(grid, grid, indexing="ij")

    # Pose: rotation, scale, centre offset per image.
    theta = rng.uniform(-_TILT, _TILT, n).astype(np.float32)[:, None, None]
    scale = rng.uniform(*_SCALE, n).astype(np.float32)[:, None, None]
    shift = rng.uniform(-_SHIFT, _SHIFT, (2, n)).astype(np.float32)[:, :, None, None]
    xs, ys = (x - shift[0]) / scale, (y - shift[1]) / scale
    u = np.cos(theta) * xs + np.sin(theta) * ys
    v = -np.sin(theta) * xs + np.cos(theta) * ys
    mask = np.zeros((n, hi, hi), dtype=np.float32)
    for cls in range(len(CLASSES)):
        idx = np.flatnonzero(labels == cls)
        mask[idx] = _shape_mask(cls, u[idx], v[idx])

    # Colour: foreground and background hues at least a quarter turn apart.
    fg_hue = rng.random(n)
    bg_hue = (fg_hue + rng.uniform(0.25, 0.75, n)) % 1
    fg = _hsv_to_rgb(fg_hue, rng.uniform(0.4, 1.0, n), rng.uniform(0.5, 1.0, n)).astype(np.float32)
    bg = _hsv_to_rgb(bg_hue, rng.uniform(0.2, 0.8, n), rng.uniform(0.25, 0.9, n)).astype(np.float32)
    texture = _smooth_noise(rng, n, 6, hi) - 0.5
    strength = rng.uniform(*_CLUTTER, n).astype(np.float32)[:, None, None, None]
    background = bg[:, None, None, :] + strength * texture
    foreground = fg[:, None, None, :] + 0.15 * (_smooth_noise(rng, n, 12, hi) - 0.5)
    image = mask[..., None] * foreground + (1 - mask[..., None]) * background

    # Lighting: global gain times a linear gradient in a random direction.
    direction, level, slope = (rng.uniform(lo, hi_, n).astype(np.float32)[:, None, None]
                               for lo, hi_ in ((0, 2 * np.pi), (0.7, 1.2), (0, 0.35)))
    ramp = np.cos(direction) * x + np.sin(direction) * y
    image = np.clip(image * (level * (1 + slope * ramp))[..., None], 0, 1)

    # 2x2 box downsampling = anti-aliasing of the shape edges.
    image = image.reshape(n, size, 2, size, 2, 3).mean(axis=(2, 4))
    return np.round(image * 255).astype(np.uint8), labels


class SyntheticShapes(ArrayImageDataset):
    """The synthetic set as a Dataset of (PIL image, label), like torchvision's CIFAR10.

    `split` picks an independent stream of the same distribution; `transform`
    is applied to the PIL image.
    """

    def __init__(self, split: str = "train", n: int | None = None, seed: int = 0,
                 transform=None):
        if split not in _SPLITS:
            raise ValueError(f"split must be one of {tuple(_SPLITS)}, got {split!r}")
        n = n if n is not None else (10_000 if split == "train" else 2_000)
        split_seed = np.random.SeedSequence([seed, _SPLITS[split]])
        images, labels = make_synthetic(n, int(split_seed.generate_state(1)[0]))
        super().__init__(images, labels, transform, CLASSES)
