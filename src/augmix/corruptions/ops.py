"""The 19 corruptions as pure functions of an image, the severity's parameters and explicit draws.

Each function restates hendrycks/robustness `make_*_c.py` (spec section 1.2) and returns
uint8, truncated like the reference's final `np.uint8(...)`. Deterministic corruptions take
(..., H, W, 3) batches; the random ones take one (H, W, 3) image and the numbers `draws.py`
drew for it. The arithmetic is the reference's, operation for operation and in its precision,
so outputs stay bit-identical; speed comes from fewer passes (in-place steps on arrays a
function made itself, lookup tables where a pixel's result depends on its value alone) and
from C loops instead of Python ones.
"""
from __future__ import annotations

import functools
import io
import math
from typing import Any, Callable

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from augmix.corruptions import kernels

Draws = dict[str, Any]


def _unit(image: np.ndarray, dtype=np.float64) -> np.ndarray:
    """image / 255 in `dtype`, as a new array."""
    return np.divide(image, 255, dtype=dtype)


def _to_255(x: np.ndarray) -> np.ndarray:
    """The reference's `np.uint8(np.clip(x, 0, 1) * 255)`, done in place on `x` (an array the caller made)."""
    np.clip(x, 0, 1, out=x)
    x *= 255
    return x.astype(np.uint8)


# Every uint8 value through `_to_255(_unit(v))`: not always v itself ((v / 255) * 255 can fall
# just short of v, and truncation then gives v - 1), so a lookup table stands in for the round trip.
_ROUND_TRIP = _to_255(_unit(np.arange(256, dtype=np.uint8)))


# --- noise -------------------------------------------------------------------------------------

def gaussian_noise(image: np.ndarray, c: float, draws: Draws) -> np.ndarray:
    """x + N(0, c^2) per element; draws["noise"] is that N(0, c^2) field (or a stack of them)."""
    return _to_255(_unit(image) + draws["noise"])


def shot_noise(image: np.ndarray, c: float, draws: Draws) -> np.ndarray:
    """Poisson(x * c) / c; draws["counts"] is the Poisson sample."""
    return _to_255(draws["counts"] / c)


def impulse_noise(image: np.ndarray, c: float, draws: Draws) -> np.ndarray:
    """Salt and pepper per element (scikit-image `random_noise(mode='s&p', amount=c)`).

    Flipped elements become 255 (draws["salt"]) or 0, the others go through the reference's
    float round trip.
    """
    out = _ROUND_TRIP[image]
    np.copyto(out, np.uint8(255) * draws["salt"], where=draws["flip"])
    return out


def speckle_noise(image: np.ndarray, c: float, draws: Draws) -> np.ndarray:
    """x + x * N(0, c^2) per element."""
    x = _unit(image)
    noisy = x * draws["noise"]
    noisy += x
    return _to_255(noisy)


# --- blur --------------------------------------------------------------------------------------

def gaussian_blur(image: np.ndarray, c: float) -> np.ndarray:
    """scikit-image Gaussian of sigma c over each channel (mode nearest, truncate 4)."""
    return _to_255(kernels.gaussian(_unit(image), c, channel_axis=True, in_place=True))


def defocus_blur(image: np.ndarray, c: tuple[float, float]) -> np.ndarray:
    """Each channel convolved (cv2.filter2D, reflect-101 border) with the anti-aliased disk."""
    kernel = kernels.disk(c[0], c[1])
    x = _unit(image)
    flat = x.reshape((-1,) + x.shape[-3:])
    out = np.empty_like(flat)
    for img, dst in zip(flat, out):
        cv2.filter2D(img, -1, kernel, dst=dst)
    return _to_255(out.reshape(x.shape))


def glass_blur(image: np.ndarray, c: tuple[float, int, int], draws: Draws) -> np.ndarray:
    """Blur, truncate to uint8, shuffle pixels locally c[2] times, blur again."""
    x = (kernels.gaussian(_unit(image), c[0], channel_axis=True, in_place=True) * 255).astype(np.uint8)
    for offsets in draws["offsets"]:
        x = kernels.glass_shuffle(x, int(c[1]), offsets)
    return _to_255(kernels.gaussian(_unit(x), c[0], channel_axis=True, in_place=True))


def motion_blur(image: np.ndarray, c: tuple[float, float], draws: Draws) -> np.ndarray:
    """ImageMagick motion blur of radius c[0], sigma c[1] at draws["angle"] degrees."""
    return kernels.motion_blur(image, c[0], c[1], draws["angle"])


def zoom_blur(image: np.ndarray, c: tuple[float, ...]) -> np.ndarray:
    """Mean of the image and its clipped zooms by every factor in c (which starts at 1.0).

    In float32, like the reference (`(x / 255.).astype(np.float32)`, zooms summed in float32).
    """
    x = (image / 255.0).astype(np.float32)
    total = np.zeros_like(x)
    for factor in c:
        total += kernels.clipped_zoom(x, factor).astype(np.float32)
    total += x
    total /= len(c) + 1
    return _to_255(total)


# --- weather -----------------------------------------------------------------------------------

def snow(image: np.ndarray, c: tuple, draws: Draws) -> np.ndarray:
    """Zoomed, thresholded, motion-blurred noise flakes over a brightened image."""
    x = _unit(image, np.float32)
    layer = kernels.clipped_zoom(draws["flakes"][..., None], c[2])[..., 0]
    layer[layer < c[3]] = 0
    layer = (np.clip(layer, 0, 1) * 255).astype(np.uint8)
    layer = kernels.motion_blur(layer, c[4], c[5], draws["angle"])[..., None] / 255.0
    grey = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)[..., None]
    x = c[6] * x + (1 - c[6]) * np.maximum(x, grey * 1.5 + 0.5)
    x = x + layer
    x += np.rot90(layer, k=2)
    return _to_255(x)


def frost(image: np.ndarray, c: tuple[float, float], draws: Draws) -> np.ndarray:
    """c[0] * image + c[1] * draws["texture"] (an RGB crop of a frost texture), on the 0..255 scale.

    An output value depends only on the pixel's value and the texture's there: one 256 x 256 table.
    """
    index = image.astype(np.uint16)
    index <<= 8
    index |= draws["texture"]
    return _frost_table(c[0], c[1]).take(index)


@functools.lru_cache(maxsize=16)
def _frost_table(image_weight: float, texture_weight: float) -> np.ndarray:
    """np.uint8(np.clip(image_weight * v + texture_weight * t, 0, 255)) at index 256 v + t."""
    levels = np.arange(256, dtype=np.float64)
    table = image_weight * levels[:, None] + texture_weight * levels[None, :]
    table = np.clip(table, 0, 255).astype(np.uint8).ravel()
    table.setflags(write=False)
    return table


def fog(image: np.ndarray, c: tuple[float, float], draws: Draws) -> np.ndarray:
    """Plasma fractal haze; the image max is taken before the haze is added."""
    x = _unit(image)
    peak = x.max()
    plasma = kernels.plasma_fractal(draws["mapsize"], c[1], draws["uniforms"])
    x += c[0] * plasma[:x.shape[0], :x.shape[1], None]
    x *= peak
    x /= peak + c[0]
    return _to_255(x)


def brightness(image: np.ndarray, c: float) -> np.ndarray:
    """Add c to the HSV value channel."""
    hsv = kernels.rgb_to_hsv(_unit(image))
    hsv[..., 2] = np.clip(hsv[..., 2] + c, 0, 1)
    return _to_255(kernels.hsv_to_rgb(hsv))


# --- digital -----------------------------------------------------------------------------------

def contrast(image: np.ndarray, c: float) -> np.ndarray:
    """Scale each channel's deviation from its mean by c.

    An output value depends only on the input value and its image's channel mean: one
    256-entry table per channel and image (the reference's float steps on every level), applied
    with cv2.LUT.
    """
    h, w = image.shape[-3:-1]
    means = _unit(image).mean(axis=(-3, -2)).reshape(-1, 3)
    levels = _unit(np.arange(256, dtype=np.uint8))[:, None]
    images = np.ascontiguousarray(image).reshape(-1, h, w, 3)
    out = np.empty_like(images)
    for img, dst, mean in zip(images, out, means):
        table = _to_255((levels - mean) * c + mean)
        cv2.LUT(img, table[:, None, :], dst=dst)
    return out.reshape(image.shape)


def saturate(image: np.ndarray, c: tuple[float, float]) -> np.ndarray:
    """HSV saturation times c[0] plus c[1]."""
    hsv = kernels.rgb_to_hsv(_unit(image))
    hsv[..., 1] = np.clip(hsv[..., 1] * c[0] + c[1], 0, 1)
    return _to_255(kernels.hsv_to_rgb(hsv))


def elastic_transform(image: np.ndarray, c: tuple[float, float, float], draws: Draws) -> np.ndarray:
    """Random affine warp, then a smooth random displacement field (alpha c[0], sigma c[1])."""
    x = _unit(image, np.float32)
    h, w = x.shape[:2]
    centre = np.float32((h, w)) // 2
    side = min(h, w) // 3
    pts1 = np.float32([centre + side, [centre[0] + side, centre[1] - side], centre - side])
    pts2 = pts1 + draws["affine"]
    warp = cv2.getAffineTransform(pts1, pts2)
    x = cv2.warpAffine(x, warp, (w, h), borderMode=cv2.BORDER_REFLECT_101)
    dx, dy = (((kernels.gaussian(draws[k], c[1], mode="reflect", truncate=3) * c[0])
               .astype(np.float32)) for k in ("dx", "dy"))
    rows = np.arange(h)[:, None] + dy
    cols = np.arange(w)[None, :] + dx
    out = np.stack([ndimage.map_coordinates(x[..., ch], (rows, cols), order=1, mode="reflect")
                    for ch in range(x.shape[2])], axis=-1)
    return _to_255(out)


def pixelate(image: np.ndarray, c: float) -> np.ndarray:
    """Box-downsample to int(side * c), box-upsample back (PIL; the upsample as its exact gather)."""
    h, w = image.shape[-3:-1]
    small = (int(w * c), int(h * c))
    if min(small) < 1:
        raise ValueError(f"images of {h}x{w} px are too small for pixelate at factor {c} "
                         f"(it needs sides of at least {math.ceil(1 / c)} px)")
    out = [kernels.box_enlarge(np.asarray(Image.fromarray(img).resize(small, Image.Resampling.BOX)), h, w)
           for img in image.reshape((-1, h, w, 3))]
    return np.stack(out).reshape(image.shape)


def jpeg_compression(image: np.ndarray, c: int) -> np.ndarray:
    """Encode with PIL JPEG quality c (4:2:0) and decode (with OpenCV: the same libjpeg-turbo
    decoder and settings as Pillow's, without Pillow's copies out of its own image memory)."""
    def roundtrip(img: np.ndarray) -> np.ndarray:
        buffer = io.BytesIO()
        Image.fromarray(img).save(buffer, "JPEG", quality=c)
        return cv2.imdecode(np.frombuffer(buffer.getbuffer(), np.uint8), cv2.IMREAD_COLOR_RGB)
    h, w = image.shape[-3:-1]
    return np.stack([roundtrip(img) for img in image.reshape((-1, h, w, 3))]).reshape(image.shape)


def water_drops(x: np.ndarray, liquid: np.ndarray, strength: float) -> np.ndarray:
    """Float32 RGB `x` in [0, 1] under pale turquoise drops where the thresholded `liquid` field
    has edges (spatter's water mode); unclipped. Also the frames of the spatter -P sequence."""
    # The reference casts liquid * 255 to uint8 unchecked: values above 255 wrap around.
    layer = ((liquid * 255).astype(np.int64) % 256).astype(np.uint8)
    dist = cv2.distanceTransform(255 - cv2.Canny(layer, 50, 150), cv2.DIST_L2, 5)
    _, dist = cv2.threshold(dist, 20, 20, cv2.THRESH_TRUNC)
    dist = cv2.equalizeHist(cv2.blur(dist, (3, 3)).astype(np.uint8))
    ridge = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
    dist = cv2.blur(cv2.filter2D(dist, cv2.CV_8U, ridge), (3, 3)).astype(np.float32)
    m = layer * dist
    peak = m.max()
    # The reference divides by the max even when it is 0 (NaN); no water then means no change.
    m = m / peak * strength if peak > 0 else np.zeros_like(m)
    colour = np.array([175, 238, 238], dtype=np.float32) / 255.0
    return x + m[..., None] * colour


def spatter(image: np.ndarray, c: tuple, draws: Draws) -> np.ndarray:
    """Water drops (c[5] == 0) or mud (c[5] == 1) from a thresholded blurred noise layer."""
    x = _unit(image, np.float32)
    liquid = kernels.gaussian(draws["liquid"], c[2])
    liquid[liquid < c[3]] = 0
    if c[5] == 0:
        return _to_255(water_drops(x, liquid, c[4]))
    mud = kernels.gaussian((liquid > c[3]).astype(np.float32), c[4])
    mud[mud < 0.8] = 0
    colour = np.array([63, 42, 20], dtype=np.float32) / 255.0
    x *= 1 - mud[..., None]
    x += mud[..., None] * colour
    return _to_255(x)


DETERMINISTIC: dict[str, Callable[[np.ndarray, Any], np.ndarray]] = {
    "defocus_blur": defocus_blur, "zoom_blur": zoom_blur, "brightness": brightness,
    "contrast": contrast, "pixelate": pixelate, "jpeg_compression": jpeg_compression,
    "gaussian_blur": gaussian_blur, "saturate": saturate,
}
RANDOM: dict[str, Callable[[np.ndarray, Any, Draws], np.ndarray]] = {
    "gaussian_noise": gaussian_noise, "shot_noise": shot_noise, "impulse_noise": impulse_noise,
    "speckle_noise": speckle_noise, "glass_blur": glass_blur, "motion_blur": motion_blur,
    "snow": snow, "frost": frost, "fog": fog, "elastic_transform": elastic_transform,
    "spatter": spatter,
}
