"""Every random number a perturbation sequence uses, drawn from one explicit generator.

The reference generators draw from NumPy's (and torch's) unseeded global state; here each
random sequence has a sampler that draws the same distributions from a
`numpy.random.Generator` and returns them as plain arrays for the pure functions in `ops.py`.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from augmix.perturbations.names import RANDOM_PERTURBATIONS, base_name

Draws = dict[str, Any]


def _gaussian(rng: np.random.Generator, image: np.ndarray, p: Mapping[str, Any]) -> Draws:
    return {"noise": rng.normal(0.0, p["strength"], size=(p["frames"] - 1,) + image.shape)}


def _shot(rng: np.random.Generator, image: np.ndarray, p: Mapping[str, Any]) -> Draws:
    return {"counts": rng.poisson(image / 255.0 * p["strength"], size=(p["frames"] - 1,) + image.shape)}


def _snow(rng: np.random.Generator, image: np.ndarray, p: Mapping[str, Any]) -> Draws:
    """One flake field for the whole sequence: the frames move it, they do not redraw it."""
    return {"flakes": rng.normal(p["loc"], p["scale"], size=image.shape[:2])}


def _spatter(rng: np.random.Generator, image: np.ndarray, p: Mapping[str, Any]) -> Draws:
    """One liquid field for the whole sequence: the frames let it flow down."""
    return {"liquid": rng.normal(p["loc"], p["scale"], size=image.shape[:2])}


SAMPLERS: dict[str, Callable[[np.random.Generator, np.ndarray, Mapping[str, Any]], Draws]] = {
    "gaussian_noise": _gaussian, "speckle_noise": _gaussian, "shot_noise": _shot,
    "snow": _snow, "spatter": _spatter,
}


def draw(name: str, rng: np.random.Generator, image: np.ndarray, p: Mapping[str, Any]) -> Draws:
    """The random numbers sequence `name` with parameters `p` needs for one (H, W, 3) image
    (nothing for the deterministic sequences)."""
    if name not in RANDOM_PERTURBATIONS:
        return {}
    return SAMPLERS[base_name(name)](rng, image, p)
