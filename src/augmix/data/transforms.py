"""The standard image transforms of the AugMix recipes, on PIL images, without torchvision.

Random transforms take a `numpy.random.Generator` per call, `transform(image,
rng)`, so each sample's draws can be seeded (see `augmix.data.seeded`); called
without one, a transform draws from its own generator, made from its `seed` on
first use in each process (`augmix.augment.plan.ProcessGenerator`), so copies
in DataLoader workers never repeat each other. `Compose` passes the generator
(or None) on to the random ones.
Behaviour follows torchvision's transforms of the same names (the recipes'
reference code uses them); `ToTensor`/`Normalize` live in
`augmix.augment.make_preprocess`.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from PIL import Image, ImageOps

from augmix.augment.plan import ProcessGenerator

RESAMPLE = Image.Resampling.BILINEAR


def _check_size(size: int, name: str = "size") -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"{name} must be an int >= 1, got {size!r}")
    return size


class RandomTransform:
    """Base of the random transforms: `rng` per call, else this process' generator from `seed`."""

    random = True

    def __init__(self, seed: int | None = None):
        self._rng = ProcessGenerator(seed)

    def generator(self, rng: np.random.Generator | None = None) -> np.random.Generator:
        return self._rng() if rng is None else rng


class RandomCrop(RandomTransform):
    """Pad each side by `padding` (with `fill`), then crop `size` x `size` at a random offset."""

    def __init__(self, size: int, padding: int = 0, fill: int = 0, *, seed: int | None = None):
        super().__init__(seed)
        self.size = _check_size(size)
        if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
            raise ValueError(f"padding must be an int >= 0, got {padding!r}")
        self.padding, self.fill = padding, fill

    def __call__(self, image: Image.Image, rng: np.random.Generator | None = None) -> Image.Image:
        rng = self.generator(rng)
        if self.padding:
            image = ImageOps.expand(image, border=self.padding, fill=self.fill)
        width, height = image.size
        if width < self.size or height < self.size:
            raise ValueError(f"RandomCrop: image of {width}x{height} (after padding) is smaller "
                             f"than the crop size {self.size}")
        top = int(rng.integers(height - self.size + 1))
        left = int(rng.integers(width - self.size + 1))
        return image.crop((left, top, left + self.size, top + self.size))


class RandomHorizontalFlip(RandomTransform):
    """Mirror left-right with probability `p`."""

    def __init__(self, p: float = 0.5, *, seed: int | None = None):
        super().__init__(seed)
        if not 0 <= p <= 1:
            raise ValueError(f"p must be in [0, 1], got {p!r}")
        self.p = p

    def __call__(self, image: Image.Image, rng: np.random.Generator | None = None) -> Image.Image:
        flip = self.generator(rng).random() < self.p
        return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if flip else image


class RandomResizedCrop(RandomTransform):
    """A crop of random area (`scale`) and aspect ratio (`ratio`), resized to `size` x `size`.

    Up to ten tries for a box that fits, then a central crop with the ratio
    clamped, as torchvision's RandomResizedCrop (the ImageNet recipe).
    """

    def __init__(self, size: int, scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3 / 4, 4 / 3), *, seed: int | None = None):
        super().__init__(seed)
        self.size = _check_size(size)
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"scale must be (lo, hi) with 0 < lo <= hi <= 1, got {scale!r}")
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f"ratio must be (lo, hi) with 0 < lo <= hi, got {ratio!r}")
        self.scale, self.ratio = scale, ratio

    def box(self, width: int, height: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
        """(left, top, crop width, crop height) for an image of `width` x `height`."""
        area = width * height
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = area * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*log_ratio))
            w = int(round(math.sqrt(target * aspect)))
            h = int(round(math.sqrt(target / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return int(rng.integers(width - w + 1)), int(rng.integers(height - h + 1)), w, h
        in_ratio = width / height
        if in_ratio < self.ratio[0]:
            w, h = width, int(round(width / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            w, h = int(round(height * self.ratio[1])), height
        else:
            w, h = width, height
        return (width - w) // 2, (height - h) // 2, w, h

    def __call__(self, image: Image.Image, rng: np.random.Generator | None = None) -> Image.Image:
        left, top, w, h = self.box(*image.size, self.generator(rng))
        return image.resize((self.size, self.size), RESAMPLE, box=(left, top, left + w, top + h))


class Resize:
    """Scale so the shorter side is `size` (aspect ratio kept), bilinear."""

    random = False

    def __init__(self, size: int):
        self.size = _check_size(size)

    def __call__(self, image: Image.Image) -> Image.Image:
        width, height = image.size
        if width <= height:
            new = (self.size, int(self.size * height / width))
        else:
            new = (int(self.size * width / height), self.size)
        return image if new == (width, height) else image.resize(new, RESAMPLE)


class CenterCrop:
    """The central `size` x `size` region (torchvision's rounding)."""

    random = False

    def __init__(self, size: int):
        self.size = _check_size(size)

    def __call__(self, image: Image.Image) -> Image.Image:
        width, height = image.size
        if width < self.size or height < self.size:
            raise ValueError(f"CenterCrop: image of {width}x{height} is smaller than {self.size}")
        top = int(round((height - self.size) / 2.0))
        left = int(round((width - self.size) / 2.0))
        return image.crop((left, top, left + self.size, top + self.size))


class Compose:
    """Apply transforms in order; random ones get the generator (None: their own), the others
    do not."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)
        self.random = any(getattr(t, "random", False) for t in self.transforms)

    def __call__(self, image, rng: np.random.Generator | None = None):
        for t in self.transforms:
            image = t(image, rng) if getattr(t, "random", False) else t(image)
        return image


def cifar_train(size: int = 32, padding: int = 4) -> Compose:
    """The CIFAR recipe: horizontal flip, then a random crop after 4-pixel zero padding."""
    return Compose([RandomHorizontalFlip(), RandomCrop(size, padding)])


def imagenet_train(size: int = 224) -> Compose:
    """The ImageNet recipe: random-resized crop, then horizontal flip."""
    return Compose([RandomResizedCrop(size), RandomHorizontalFlip()])


def imagenet_eval(size: int = 224, resize: int = 256) -> Compose:
    """Resize the shorter side to `resize`, then the central `size` crop."""
    return Compose([Resize(resize), CenterCrop(size)])
