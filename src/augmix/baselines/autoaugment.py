"""AutoAugment (Cubuk et al., 2019) policies on PIL images, and Random AutoAugment.

Source: "AutoAugment: Learning Augmentation Strategies from Data", CVPR 2019
(arXiv:1805.09501), appendix tables of the CIFAR-10 ("reduced CIFAR-10") and
ImageNet policies; official code tensorflow/models research/autoaugment.
Magnitude ranges and op definitions follow the widely used PyTorch port
github.com/DeepVoltaire/AutoAugment (autoaugment.py, ``CIFAR10Policy`` /
``ImageNetPolicy``), which torchvision's ``AutoAugment`` follows closely:

==========================  =============================  =====================
op                          level 0..9 maps linearly to    sign
==========================  =============================  =====================
shear_x, shear_y            shear factor 0 .. 0.3          random +/-
translate_x, translate_y    0 .. 150/331 of the image side random +/-
rotate                      0 .. 30 degrees                random +/- (see below)
color, contrast,            enhance factor 1 +/- (0 .. 0.9) random +/-
brightness, sharpness
posterize                   bits round(8 .. 4)             -
solarize                    threshold 256 .. 0             -
autocontrast, equalize,     no magnitude                   -
invert
==========================  =============================  =====================

Geometric ops fill uncovered pixels with grey ``(128, 128, 128)`` as in that
port; shears resample bicubic, translations and rotations nearest-neighbour.
A call picks one of the sub-policies uniformly; each of its two steps runs
with its own probability. Deviation from DeepVoltaire: rotations get a random
sign, as in the paper's range [-30, 30], the TensorFlow code and torchvision
(DeepVoltaire only rotates counter-clockwise).

The AutoAugment paper's CIFAR recipe applies the policy after the standard
random crop and flip and before Cutout (16x16); ``METHODS`` records this.

Random AutoAugment (a baseline of the AugMix paper, ImageNet table) samples a
fresh random sub-policy per image from the same search space: two ops uniform
over the 14 ops above, each with probability uniform over {0, 0.1, ..., 1} and
level uniform over 0..9 (the AutoAugment search space's discretisation;
Cutout and SamplePairing of that space are left out, as in the ported
policies). These choices are ours: the AugMix authors did not release it.

Randomness is drawn in ``sample`` from an explicit ``numpy.random.Generator``
(called without one, ``AutoAugment`` and ``RandomAutoAugment`` draw from their
own, made from their ``seed`` on first use in each process, so copies in
DataLoader workers never repeat each other); ``apply_ops`` is a pure function of
the sampled ops, which are AugMix's PIL ops (``augmix.augment.ops.pil``) with
this port's resampling.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image, ImageOps

from augmix.augment.ops import pil as pil_ops
from augmix.augment.plan import ProcessGenerator

FILL = (128, 128, 128)
N_LEVELS = 10

RANGES: dict[str, np.ndarray] = {
    "shear_x": np.linspace(0.0, 0.3, N_LEVELS),
    "shear_y": np.linspace(0.0, 0.3, N_LEVELS),
    "translate_x": np.linspace(0.0, 150 / 331, N_LEVELS),
    "translate_y": np.linspace(0.0, 150 / 331, N_LEVELS),
    "rotate": np.linspace(0.0, 30.0, N_LEVELS),
    "color": np.linspace(0.0, 0.9, N_LEVELS),
    "posterize": np.round(np.linspace(8, 4, N_LEVELS)).astype(int),
    "solarize": np.linspace(256.0, 0.0, N_LEVELS),
    "contrast": np.linspace(0.0, 0.9, N_LEVELS),
    "sharpness": np.linspace(0.0, 0.9, N_LEVELS),
    "brightness": np.linspace(0.0, 0.9, N_LEVELS),
    "autocontrast": np.zeros(N_LEVELS),
    "equalize": np.zeros(N_LEVELS),
    "invert": np.zeros(N_LEVELS),
}
SIGNED_OPS = frozenset({"shear_x", "shear_y", "translate_x", "translate_y", "rotate",
                        "color", "contrast", "sharpness", "brightness"})

Fill = tuple[int, int, int]


_BICUBIC, _NEAREST = Image.Resampling.BICUBIC, Image.Resampling.NEAREST


def _enhance(op: Callable[[Image.Image, float], Image.Image]) -> Callable[[Image.Image, float, Fill], Image.Image]:
    return lambda img, m, fill: op(img, 1.0 + m)


# op name -> f(image, signed magnitude, fill): pure, no randomness. Translations are a
# fraction of the image side; solarize's threshold may be fractional (v < t <=> v < ceil(t)).
OPS: dict[str, Callable[[Image.Image, float, Fill], Image.Image]] = {
    "shear_x": lambda img, m, fill: pil_ops.shear_x(img, m, fill, resample=_BICUBIC),
    "shear_y": lambda img, m, fill: pil_ops.shear_y(img, m, fill, resample=_BICUBIC),
    "translate_x": lambda img, m, fill: pil_ops.translate_x(img, m * img.size[0], fill, resample=_NEAREST),
    "translate_y": lambda img, m, fill: pil_ops.translate_y(img, m * img.size[1], fill, resample=_NEAREST),
    "rotate": lambda img, m, fill: pil_ops.rotate(img, m, fill, resample=_NEAREST),
    "color": _enhance(pil_ops.color),
    "contrast": _enhance(pil_ops.contrast),
    "sharpness": _enhance(pil_ops.sharpness),
    "brightness": _enhance(pil_ops.brightness),
    "posterize": lambda img, m, fill: pil_ops.posterize(img, int(m)),
    "solarize": lambda img, m, fill: pil_ops.solarize(img, math.ceil(m)),
    "autocontrast": lambda img, m, fill: pil_ops.autocontrast(img),
    "equalize": lambda img, m, fill: pil_ops.equalize(img),
    "invert": lambda img, m, fill: ImageOps.invert(img),  # not an AugMix op
}


@dataclass(frozen=True)
class Step:
    """One step of a sub-policy: apply ``op`` at ``level`` with ``probability``."""

    op: str
    probability: float
    level: int

    def __post_init__(self) -> None:
        if self.op not in RANGES:
            raise ValueError(f"op must be one of {sorted(RANGES)}, got {self.op!r}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be in [0, 1], got {self.probability!r}")
        if not isinstance(self.level, (int, np.integer)) or not 0 <= self.level < N_LEVELS:
            raise ValueError(f"level must be an int in 0..{N_LEVELS - 1}, got {self.level!r}")


SubPolicy = tuple[Step, Step]
AppliedOp = tuple[str, float]  # (op, signed magnitude)


def _table(rows: list[tuple]) -> tuple[SubPolicy, ...]:
    return tuple((Step(op1, p1, l1), Step(op2, p2, l2)) for p1, op1, l1, p2, op2, l2 in rows)


# (probability, op, level) x 2 per sub-policy, in the order of the paper's table.
CIFAR10_POLICY = _table([
    (0.1, "invert", 7, 0.2, "contrast", 6),
    (0.7, "rotate", 2, 0.3, "translate_x", 9),
    (0.8, "sharpness", 1, 0.9, "sharpness", 3),
    (0.5, "shear_y", 8, 0.7, "translate_y", 9),
    (0.5, "autocontrast", 8, 0.9, "equalize", 2),
    (0.2, "shear_y", 7, 0.3, "posterize", 7),
    (0.4, "color", 3, 0.6, "brightness", 7),
    (0.3, "sharpness", 9, 0.7, "brightness", 9),
    (0.6, "equalize", 5, 0.5, "equalize", 1),
    (0.6, "contrast", 7, 0.6, "sharpness", 5),
    (0.7, "color", 7, 0.5, "translate_x", 8),
    (0.3, "equalize", 7, 0.4, "autocontrast", 8),
    (0.4, "translate_y", 3, 0.2, "sharpness", 6),
    (0.9, "brightness", 6, 0.2, "color", 8),
    (0.5, "solarize", 2, 0.0, "invert", 3),
    (0.2, "equalize", 0, 0.6, "autocontrast", 0),
    (0.2, "equalize", 8, 0.6, "equalize", 4),
    (0.9, "color", 9, 0.6, "equalize", 6),
    (0.8, "autocontrast", 4, 0.2, "solarize", 8),
    (0.1, "brightness", 3, 0.7, "color", 0),
    (0.4, "solarize", 5, 0.9, "autocontrast", 3),
    (0.9, "translate_y", 9, 0.7, "translate_y", 9),
    (0.9, "autocontrast", 2, 0.8, "solarize", 3),
    (0.8, "equalize", 8, 0.1, "invert", 3),
    (0.7, "translate_y", 9, 0.9, "autocontrast", 1),
])

IMAGENET_POLICY = _table([
    (0.4, "posterize", 8, 0.6, "rotate", 9),
    (0.6, "solarize", 5, 0.6, "autocontrast", 5),
    (0.8, "equalize", 8, 0.6, "equalize", 3),
    (0.6, "posterize", 7, 0.6, "posterize", 6),
    (0.4, "equalize", 7, 0.2, "solarize", 4),
    (0.4, "equalize", 4, 0.8, "rotate", 8),
    (0.6, "solarize", 3, 0.6, "equalize", 7),
    (0.8, "posterize", 5, 1.0, "equalize", 2),
    (0.2, "rotate", 3, 0.6, "solarize", 8),
    (0.6, "equalize", 8, 0.4, "posterize", 6),
    (0.8, "rotate", 8, 0.4, "color", 0),
    (0.4, "rotate", 9, 0.6, "equalize", 2),
    (0.0, "equalize", 7, 0.8, "equalize", 8),
    (0.6, "invert", 4, 1.0, "equalize", 8),
    (0.6, "color", 4, 1.0, "contrast", 8),
    (0.8, "rotate", 8, 1.0, "color", 2),
    (0.8, "color", 8, 0.8, "solarize", 7),
    (0.4, "sharpness", 7, 0.6, "invert", 8),
    (0.6, "shear_x", 5, 1.0, "equalize", 9),
    (0.4, "color", 0, 0.6, "equalize", 3),
    (0.4, "equalize", 7, 0.2, "solarize", 4),
    (0.6, "solarize", 5, 0.6, "autocontrast", 5),
    (0.6, "invert", 4, 1.0, "equalize", 8),
    (0.6, "color", 4, 1.0, "contrast", 8),
    (0.8, "equalize", 8, 0.6, "equalize", 3),
])

POLICIES = {"cifar10": CIFAR10_POLICY, "imagenet": IMAGENET_POLICY}


def magnitude(op: str, level: int) -> float:
    """The unsigned magnitude of ``op`` at ``level`` (0..9)."""
    step = Step(op, 0.0, level)  # validates op and level
    return float(RANGES[step.op][step.level])


def sample_sub_policy(sub_policy: SubPolicy, rng: np.random.Generator) -> list[AppliedOp]:
    """Draw which steps run (each with its probability) and their signs."""
    applied = []
    for step in sub_policy:
        if rng.random() < step.probability:
            value = magnitude(step.op, step.level)
            if step.op in SIGNED_OPS and rng.random() < 0.5:
                value = -value
            applied.append((step.op, value))
    return applied


def random_sub_policy(rng: np.random.Generator) -> SubPolicy:
    """A sub-policy drawn uniformly from the AutoAugment search space (Random AutoAugment)."""
    names = list(RANGES)
    first, second = (Step(names[rng.integers(len(names))], rng.integers(11) / 10,
                          int(rng.integers(N_LEVELS))) for _ in range(2))
    return first, second


def apply_ops(img: Image.Image, applied: list[AppliedOp], fill: Fill = FILL) -> Image.Image:
    """Apply sampled ops in order to an RGB PIL image."""
    if not isinstance(img, Image.Image) or img.mode != "RGB":
        raise ValueError(f"img must be an RGB PIL image, got {type(img).__name__}"
                         f"{' mode ' + img.mode if isinstance(img, Image.Image) else ''}")
    for op, value in applied:
        img = OPS[op](img, value, fill)
    return img


def _check_fill(fill: Fill) -> Fill:
    if len(fill) != 3 or any(not 0 <= int(v) <= 255 for v in fill):
        raise ValueError(f"fill must be an (R, G, B) tuple of ints in 0..255, got {fill!r}")
    return tuple(int(v) for v in fill)


class AutoAugment:
    """A fixed AutoAugment policy: each call applies one uniformly chosen sub-policy."""

    def __init__(self, policy: str = "cifar10", fill: Fill = FILL, *, seed: int | None = None) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {sorted(POLICIES)}, got {policy!r}")
        self.policy = POLICIES[policy]
        self.fill = _check_fill(fill)
        self._rng = ProcessGenerator(seed)

    def sample(self, rng: np.random.Generator | None = None) -> list[AppliedOp]:
        rng = self._rng() if rng is None else rng
        return sample_sub_policy(self.policy[rng.integers(len(self.policy))], rng)

    def __call__(self, img: Image.Image, rng: np.random.Generator | None = None) -> Image.Image:
        return apply_ops(img, self.sample(rng), self.fill)


class RandomAutoAugment(AutoAugment):
    """Random AutoAugment: a freshly sampled random sub-policy per call."""

    def __init__(self, fill: Fill = FILL, *, seed: int | None = None) -> None:
        self.fill = _check_fill(fill)
        self._rng = ProcessGenerator(seed)

    def sample(self, rng: np.random.Generator | None = None) -> list[AppliedOp]:
        rng = self._rng() if rng is None else rng
        return sample_sub_policy(random_sub_policy(rng), rng)
