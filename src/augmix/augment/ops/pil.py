"""The AugMix ops on PIL images, as the official code defines them.

Each op is a pure function of an image and one explicit parameter (the
already-scaled magnitude: bits, threshold, degrees, shear factor, pixels,
enhance factor); sampling lives in `augmix.augment.plan`. Geometric ops resample
bilinearly (or with `resample`) with a constant fill and keep the image's own size.
"""
from __future__ import annotations

from typing import Sequence, Union

from PIL import Image, ImageEnhance, ImageOps

from augmix.augment.ops.pillow import RESAMPLE

Fill = Union[int, Sequence[int]]


def _fill_color(image: Image.Image, fill: Fill) -> int | tuple[int, ...]:
    """A fill colour for every band.

    PIL reads a bare int as the first band only ((128, 0, 0) for RGB), so an
    int here means that grey level in all bands; pass a tuple for anything else.
    """
    bands = len(image.getbands())
    if isinstance(fill, int):
        return fill if bands == 1 else (fill,) * bands
    fill = tuple(int(v) for v in fill)
    if len(fill) != bands:
        raise ValueError(f"fill must be an int or a sequence of {bands} ints for a "
                         f"{image.mode} image, got {fill!r}")
    return fill[0] if bands == 1 else fill


def _affine(image: Image.Image, matrix: tuple[float, ...], fill: Fill, resample) -> Image.Image:
    return image.transform(image.size, Image.Transform.AFFINE, matrix, resample=resample,
                           fillcolor=_fill_color(image, fill))


def autocontrast(image: Image.Image, _unused: None = None) -> Image.Image:
    """Stretch each channel so its darkest pixel is 0 and its brightest 255."""
    return ImageOps.autocontrast(image)


def equalize(image: Image.Image, _unused: None = None) -> Image.Image:
    """Equalize each channel's histogram."""
    return ImageOps.equalize(image)


def posterize(image: Image.Image, bits: int) -> Image.Image:
    """Keep the `bits` most significant bits of each channel (1..8)."""
    return ImageOps.posterize(image, int(bits))


def solarize(image: Image.Image, threshold: int) -> Image.Image:
    """Invert every channel value at or above `threshold` (0..256; 256 changes nothing)."""
    return ImageOps.solarize(image, int(threshold))


def rotate(image: Image.Image, degrees: float, fill: Fill = 0, *, resample=RESAMPLE) -> Image.Image:
    """Rotate counter-clockwise about the centre."""
    return image.rotate(degrees, resample=resample, fillcolor=_fill_color(image, fill))


def shear_x(image: Image.Image, factor: float, fill: Fill = 0, *, resample=RESAMPLE) -> Image.Image:
    """Output pixel (x, y) samples input (x + factor*y, y)."""
    return _affine(image, (1, factor, 0, 0, 1, 0), fill, resample)


def shear_y(image: Image.Image, factor: float, fill: Fill = 0, *, resample=RESAMPLE) -> Image.Image:
    """Output pixel (x, y) samples input (x, factor*x + y)."""
    return _affine(image, (1, 0, 0, factor, 1, 0), fill, resample)


def translate_x(image: Image.Image, pixels: float, fill: Fill = 0, *, resample=RESAMPLE) -> Image.Image:
    """Output pixel (x, y) samples input (x + pixels, y): content moves left for pixels > 0."""
    return _affine(image, (1, 0, pixels, 0, 1, 0), fill, resample)


def translate_y(image: Image.Image, pixels: float, fill: Fill = 0, *, resample=RESAMPLE) -> Image.Image:
    """Output pixel (x, y) samples input (x, y + pixels): content moves up for pixels > 0."""
    return _affine(image, (1, 0, 0, 0, 1, pixels), fill, resample)


def color(image: Image.Image, factor: float) -> Image.Image:
    """Blend with the greyscale image: 0 grey, 1 unchanged."""
    return ImageEnhance.Color(image).enhance(factor)


def contrast(image: Image.Image, factor: float) -> Image.Image:
    """Blend with the mean grey level: 0 flat grey, 1 unchanged."""
    return ImageEnhance.Contrast(image).enhance(factor)


def brightness(image: Image.Image, factor: float) -> Image.Image:
    """Blend with black: 0 black, 1 unchanged."""
    return ImageEnhance.Brightness(image).enhance(factor)


def sharpness(image: Image.Image, factor: float) -> Image.Image:
    """Blend with PIL's 3x3 smoothed image (border untouched): 0 smooth, 1 unchanged."""
    return ImageEnhance.Sharpness(image).enhance(factor)


GEOMETRIC = ("rotate", "shear_x", "shear_y", "translate_x", "translate_y")
