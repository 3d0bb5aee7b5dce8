"""Every random number a corruption uses, drawn from one explicit generator in a fixed order.

The reference generators draw from NumPy's unseeded global state; here each random
corruption has a sampler that draws the same distributions, in the reference's order, from
a `numpy.random.Generator`, and returns them as plain arrays for the pure functions in
`ops.py`. The order is part of the contract: the same generator state gives the same image.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from augmix.corruptions import frost as frost_assets
from augmix.corruptions import kernels, sizes
from augmix.corruptions.tables import SeverityTable

Draws = dict[str, Any]


def _normal_field(rng: np.random.Generator, image: np.ndarray, c: float) -> Draws:
    return {"noise": rng.normal(0.0, c, size=image.shape)}


def _shot(rng: np.random.Generator, image: np.ndarray, c: float) -> Draws:
    return {"counts": rng.poisson(image / 255.0 * c)}


def _impulse(rng: np.random.Generator, image: np.ndarray, c: float) -> Draws:
    """Per element: flip with probability c, to 1 (salt, True) or 0 (pepper) with probability 1/2."""
    flip = rng.random(image.shape) < c
    salt = rng.random(image.shape) < 0.5
    return {"flip": flip, "salt": salt}


def _glass(rng: np.random.Generator, image: np.ndarray, c: tuple) -> Draws:
    """Per iteration, per visited pixel (in visit order): (dx, dy) in [-delta, delta - 1]."""
    h, w = image.shape[:2]
    delta = int(c[1])
    visited = max(h - 2 * delta, 0) * max(w - 2 * delta, 0)
    return {"offsets": [rng.integers(-delta, delta, size=(visited, 2)) for _ in range(int(c[2]))]}


def _motion(rng: np.random.Generator, image: np.ndarray, c: tuple) -> Draws:
    return {"angle": float(rng.uniform(-45, 45))}


def _snow(rng: np.random.Generator, image: np.ndarray, c: tuple) -> Draws:
    flakes = rng.normal(c[0], c[1], size=image.shape[:2])
    return {"flakes": flakes, "angle": float(rng.uniform(-135, -45))}


def _fog(rng: np.random.Generator, image: np.ndarray, c: tuple, mapsize: int) -> Draws:
    """The plasma draws for a map of `mapsize`, grown to cover the image where a named table's is smaller."""
    mapsize = max(mapsize, sizes.plasma_side(*image.shape[:2]))
    uniforms = [rng.uniform(-1, 1, size=(side, side))
                for side in kernels.plasma_level_shapes(mapsize) for _ in range(3)]
    return {"mapsize": mapsize, "uniforms": uniforms}


def _elastic(rng: np.random.Generator, image: np.ndarray, c: tuple) -> Draws:
    affine = rng.uniform(-c[2], c[2], size=(3, 2)).astype(np.float32)
    dx = rng.uniform(-1, 1, size=image.shape[:2])
    dy = rng.uniform(-1, 1, size=image.shape[:2])
    return {"affine": affine, "dx": dx, "dy": dy}


def _spatter(rng: np.random.Generator, image: np.ndarray, c: tuple) -> Draws:
    return {"liquid": rng.normal(c[0], c[1], size=image.shape[:2])}


def _frost(rng: np.random.Generator, image: np.ndarray, c: tuple, table: SeverityTable,
           frost_dir: str | Path | None) -> Draws:
    """A texture among frost1-5 (frost6 is never used by the reference), then a random crop."""
    index = int(rng.integers(len(frost_assets.USED)))
    h, w = image.shape[:2]
    texture = frost_assets.texture_covering(index, table.frost_scale, h, w, frost_dir)
    top = int(rng.integers(0, texture.shape[0] - h))
    left = int(rng.integers(0, texture.shape[1] - w))
    return {"index": index, "top": top, "left": left,
            "texture": texture[top:top + h, left:left + w, ::-1]}  # uint8 RGB, a read-only view


def draw(name: str, rng: np.random.Generator, image: np.ndarray, c: Any, table: SeverityTable,
         frost_dir: str | Path | None = None) -> Draws:
    """The random numbers corruption `name` with parameters `c` needs for one (H, W, 3) image."""
    if name == "frost":
        return _frost(rng, image, c, table, frost_dir)
    if name == "fog":
        return _fog(rng, image, c, table.fog_mapsize)
    return SAMPLERS[name](rng, image, c)


SAMPLERS: dict[str, Callable[[np.random.Generator, np.ndarray, Any], Draws]] = {
    "gaussian_noise": _normal_field, "speckle_noise": _normal_field, "shot_noise": _shot,
    "impulse_noise": _impulse, "glass_blur": _glass, "motion_blur": _motion, "snow": _snow,
    "elastic_transform": _elastic, "spatter": _spatter,
}
