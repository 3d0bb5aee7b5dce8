"""The parameters of every perturbation sequence, as plain data, one table per image size.

Values are those of hendrycks/robustness `ImageNet-P/create_p/make_cifar_p.py` (32 px),
`make_tinyimagenet_p.py` (64 px) and `make_imagenet_p.py` (224 px). Per-frame values are
written with the reference's own expressions (`(i - 15) * 1.5 / 100.`), so they are the same
doubles. A sequence's length is the length of its per-frame values (noise and spatter: `frames`).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from augmix.corruptions.tables import pick_table

FRAMES = 31  # every sequence but CIFAR motion blur (21) and translate (16, 31, 41)
_SNOW_ANGLES = tuple(i * 4 - 150 for i in range(FRAMES))


def _noise(*strengths: float) -> dict[str, dict[str, float]]:
    """name, name_2, name_3: a clean frame then 30 independent draws at each strength."""
    return {suffix: {"strength": s, "frames": FRAMES} for suffix, s in zip(("", "_2", "_3"), strengths)}


def _named(prefix: str, variants: dict[str, dict]) -> dict[str, dict]:
    return {prefix + suffix: params for suffix, params in variants.items()}


def _common(*, gaussian: tuple, shot: tuple, speckle: tuple, motion: dict, snow: dict,
            brightness: float, translate: tuple[int, int], tilt: float, scale: tuple[float, float], blur: tuple,
            spatter: dict) -> dict[str, dict]:
    blur_base, blur_step, truncate = blur
    scale_step, scale_base = scale
    shift, shifts = translate
    return {
        **_named("gaussian_noise", _noise(*gaussian)),
        **_named("shot_noise", _noise(*shot)),
        **_named("speckle_noise", _noise(*speckle)),
        "motion_blur": {**motion, "frames": len(motion["angles"])},
        # zoom blur: the clean image, then running means of it and its zooms by 1.004, 1.008, ...
        "zoom_blur": {"scales": tuple(1 + 0.004 * i for i in range(1, FRAMES)), "frames": FRAMES},
        "snow": {**snow, "angles": _SNOW_ANGLES, "blend": 0.85, "frames": FRAMES},
        "brightness": {"shifts": tuple((i - 15) * brightness / 100. for i in range(FRAMES)), "frames": FRAMES},
        "translate": {"pixels": tuple(i - shift for i in range(shifts)), "frames": shifts},
        "rotate": {"degrees": tuple(i - 15 for i in range(FRAMES)), "frames": FRAMES},
        "tilt": {"degrees": tuple(tilt * (i - 15) for i in range(FRAMES)), "frames": FRAMES},
        "scale": {"scales": tuple((i * scale_step + scale_base) / 100. for i in range(FRAMES)), "frames": FRAMES},
        "gaussian_blur": {"sigmas": tuple(blur_base + blur_step * i for i in range(FRAMES)), "truncate": truncate,
                          "frames": FRAMES},
        "spatter": {**spatter, "strength": 0.6, "frames": FRAMES},
        "shear": {"degrees": tuple(i - 15 for i in range(FRAMES)), "frames": FRAMES},
    }


_CIFAR = _common(
    gaussian=(0.02, 0.04, 0.06), shot=(700, 400, 200), speckle=(0.05, 0.07, 0.1),
    motion={"radius": 6, "sigma": 1.8, "angles": tuple((i - 20) * 9 for i in range(21))},
    snow={"loc": 0.05, "scale": 0.3, "zoom": 2, "threshold": 0.5, "radius": 10, "sigma": 2},
    brightness=1.5, translate=(7, 16), tilt=0.75, scale=(2, 70), blur=(0.3, 0.015, 7.0),
    spatter={"loc": 0.6, "scale": 0.265, "sigma": 1.75, "threshold": 0.7, "flow": (0.2, 0.8)})

_TINY = _common(
    gaussian=(0.025, 0.05, 0.075), shot=(500, 250, 125), speckle=(0.05, 0.1, 0.15),
    motion={"radius": 14, "sigma": 3, "angles": tuple((i - 30) * 5 for i in range(FRAMES))},
    snow={"loc": 0.05, "scale": 0.28, "zoom": 2, "threshold": 0.5, "radius": 10, "sigma": 2.5},
    brightness=2, translate=(15, 31), tilt=1, scale=(2.5, 40), blur=(0.35, 0.014, 7.0),
    spatter={"loc": 0.6, "scale": 0.25, "sigma": 1.75, "threshold": 0.7, "flow": (0.2, 0.8)})

_IMAGENET = _common(
    gaussian=(0.03, 0.05, 0.08), shot=(300, 120, 60), speckle=(0.05, 0.10, 0.15),
    motion={"radius": 10, "sigma": 3, "angles": tuple((i - 30) * 4 for i in range(FRAMES))},
    snow={"loc": 0.05, "scale": 0.3, "zoom": 3, "threshold": 0.5, "radius": 14, "sigma": 4},
    brightness=2, translate=(20, 41), tilt=1, scale=(2.5, 40), blur=(0.25, 0.035, 6.0),
    spatter={"loc": 0.65, "scale": 0.27, "sigma": 3.7, "threshold": 0.69, "flow": (0.05, 0.1, 0.15, 0.7)})


@dataclass(frozen=True)
class PerturbationTable:
    """The parameters of every perturbation sequence for one image size: `params[name]`."""
    name: str
    size: int
    params: Mapping[str, Mapping[str, Any]]

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        return self.params[name]

    def frames(self, name: str) -> int:
        """How many frames the sequence `name` has (the first one included)."""
        return self.params[name]["frames"]


def _table(name: str, size: int, params: dict) -> PerturbationTable:
    return PerturbationTable(name, size, MappingProxyType({k: MappingProxyType(v) for k, v in params.items()}))


TABLES: Mapping[str, PerturbationTable] = MappingProxyType({
    "cifar": _table("cifar", 32, _CIFAR),
    "tiny": _table("tiny", 64, _TINY),
    "imagenet": _table("imagenet", 224, _IMAGENET),
})
_BY_SIZE = {table.size: table for table in TABLES.values()}


def get_table(table: str | int | PerturbationTable) -> PerturbationTable:
    """The table named `cifar`/`tiny`/`imagenet`, or the one for an image side of 32/64/224."""
    return pick_table(table, TABLES, PerturbationTable)


def table_for_shape(height: int, width: int) -> PerturbationTable:
    """The table whose reference sequences are `height` x `width`; other sizes must name a table."""
    if height == width and height in _BY_SIZE:
        return _BY_SIZE[height]
    raise ValueError(f"no perturbation table for {height}x{width} images (the reference sequences are "
                     f"square {', '.join(map(str, _BY_SIZE))} px); pass table= one of {', '.join(TABLES)}")
