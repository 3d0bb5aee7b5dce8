"""The perturbation sequences as pure functions of an image, the table's parameters and explicit draws.

Each function restates a block of hendrycks/robustness `ImageNet-P/create_p/make_*_p.py` and
returns uint8 frames (T, H, W, 3) of one (H, W, 3) uint8 image, truncating like the
reference's `np.uint8(...)` and torchvision's `.byte()`. Where a -P sequence applies a -C
corruption frame by frame, the frame is that corruption's function (augmix.corruptions).

The geometric sequences follow torchvision 0.2.1's `functional.affine` (the version the
reference ran): Pillow's AFFINE transform with the inverse matrix about the centre
(w / 2 + 0.5, h / 2 + 0.5), bilinear (translate: nearest), black outside the image.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import cv2
import numpy as np
from PIL import Image

from augmix.corruptions import kernels
from augmix.corruptions import ops as corruption_ops

Params = Mapping[str, Any]
Draws = dict[str, Any]


def _uint8(x: np.ndarray) -> np.ndarray:
    """The reference's np.uint8 of values already on 0..255: truncation."""
    return np.clip(x, 0, 255).astype(np.uint8)


def _with_clean(image: np.ndarray, frames: np.ndarray) -> np.ndarray:
    return np.concatenate([image[None], _uint8(frames)])


# --- noise: a clean frame, then independent draws ------------------------------------------------

def gaussian_noise(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    return _with_clean(image, corruption_ops.gaussian_noise(image, p["strength"], draws))


def shot_noise(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    return _with_clean(image, corruption_ops.shot_noise(image, p["strength"], draws))


def speckle_noise(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    return _with_clean(image, corruption_ops.speckle_noise(image, p["strength"], draws))


# --- blur and weather ----------------------------------------------------------------------------

def motion_blur(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    """ImageMagick motion blur of a fixed radius and sigma, the angle turning frame by frame."""
    return np.stack([kernels.motion_blur(image, p["radius"], p["sigma"], angle) for angle in p["angles"]])


def gaussian_blur(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    """scikit-image Gaussian (mode nearest) of a growing sigma, with the reference's wide truncation."""
    x = image / 255.0
    return np.stack([_uint8(255 * kernels.gaussian(x, sigma, truncate=p["truncate"], channel_axis=True))
                     for sigma in p["sigmas"]])


def zoom_blur(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    """Frame i: the float32 mean of the image and its zooms by scales[0..i-1] (about the centre)."""
    total = image.astype(np.float32) / np.float32(255)
    frames = [image]
    for count, scale in enumerate(p["scales"], start=2):
        total += affine(image, scale=scale).astype(np.float32) / np.float32(255)
        frames.append((total / np.float32(count) * np.float32(255)).astype(np.uint8))
    return np.stack(frames)


def snow(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    """One zoomed, thresholded flake layer, motion-blurred at a turning angle over a brightened image."""
    x = image / 255.0
    layer = kernels.clipped_zoom(draws["flakes"][..., None], p["zoom"])[..., 0]
    layer[layer < p["threshold"]] = 0
    layer = (np.clip(layer, 0, 1) * 255).astype(np.uint8)
    grey = cv2.cvtColor(np.float32(x), cv2.COLOR_RGB2GRAY)[..., None]
    base = p["blend"] * x + (1 - p["blend"]) * np.maximum(x, grey * 1.5 + 0.5)
    frames = []
    for angle in p["angles"]:
        flakes = kernels.motion_blur(layer, p["radius"], p["sigma"], angle)[..., None] / 255.0
        frames.append(_uint8(np.clip(base + flakes + np.rot90(flakes, k=2), 0, 1) * 255))
    return np.stack(frames)


def spatter(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    """Water drops (the -C spatter's water mode) whose liquid flows down one step per frame."""
    x = image.astype(np.float32) / 255.0
    liquid = kernels.gaussian(draws["liquid"], p["sigma"])
    liquid[liquid < p["threshold"]] = 0
    frames = []
    for _ in range(p["frames"]):
        frames.append(_uint8(np.clip(corruption_ops.water_drops(x, liquid, p["strength"]), 0, 1) * 255))
        liquid = flow_down(liquid, p["flow"])
    return np.stack(frames)


def flow_down(field: np.ndarray, kernel: tuple[float, ...]) -> np.ndarray:
    """Each column convolved with `kernel`, `np.convolve(..., mode='same')` (zeros outside)."""
    taps, rows = len(kernel), field.shape[0]
    start = (taps - 1) // 2  # where 'same' cuts the full convolution
    padded = np.pad(field, ((taps - 1, taps - 1), (0, 0)))
    out = np.zeros_like(field)
    for j, weight in enumerate(kernel):  # full[k] = sum_j kernel[j] * field[k - j]
        out += weight * padded[taps - 1 + start - j:taps - 1 + start - j + rows]
    return out


# --- digital and geometric -----------------------------------------------------------------------

def brightness(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    """The HSV value channel shifted by each frame's amount (the -C brightness; HSV computed once)."""
    hsv = np.repeat(kernels.rgb_to_hsv(image / 255.0)[None], len(p["shifts"]), axis=0)
    hsv[..., 2] = np.clip(hsv[..., 2] + np.asarray(p["shifts"])[:, None, None], 0, 1)
    return _uint8(np.clip(kernels.hsv_to_rgb(hsv), 0, 1) * 255)


def translate(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    return np.stack([affine(image, translate=(dx, 0), resample=Image.Resampling.NEAREST) for dx in p["pixels"]])


def rotate(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    return np.stack([affine(image, angle=angle) for angle in p["degrees"]])


def scale(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    return np.stack([affine(image, scale=s) for s in p["scales"]])


def shear(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    return np.stack([affine(image, shear=degrees) for degrees in p["degrees"]])


def tilt(image: np.ndarray, p: Params, draws: Draws) -> np.ndarray:
    """A perspective view of the image turned about both axes by each frame's angle."""
    h, w = image.shape[:2]
    return np.stack([cv2.warpPerspective(image, tilt_matrix(h, w, degrees), (w, h)) for degrees in p["degrees"]])


def tilt_matrix(h: int, w: int, degrees: float) -> np.ndarray:
    """Homography: centre the image, turn it by `degrees` about the y then the x axis, push it
    back by the focal length f = the diagonal, project with focal length f."""
    a = np.deg2rad(degrees)
    f = np.sqrt(w ** 2 + h ** 2)
    cos, sin = np.cos(a), np.sin(a)
    lift = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1], [0, 0, 1]])
    turn_x = np.array([[1, 0, 0, 0], [0, cos, -sin, 0], [0, sin, cos, 0], [0, 0, 0, 1]])
    turn_y = np.array([[cos, 0, -sin, 0], [0, 1, 0, 0], [sin, 0, cos, 0], [0, 0, 0, 1]])
    push = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, f], [0, 0, 0, 1]])
    project = np.array([[f, 0, w / 2, 0], [0, f, h / 2, 0], [0, 0, 1, 0]])
    return project @ push @ turn_x @ turn_y @ lift


def affine(image: np.ndarray, *, angle: float = 0.0, translate: tuple[float, float] = (0, 0),
           scale: float = 1.0, shear: float = 0.0,
           resample: Image.Resampling = Image.Resampling.BILINEAR) -> np.ndarray:
    """torchvision 0.2.1's `affine` on a uint8 (H, W, 3) array: rotate by `angle` and shear by
    `shear` degrees, scale, then translate, about the centre; the same size, black outside."""
    h, w = image.shape[:2]
    cx, cy = w * 0.5 + 0.5, h * 0.5 + 0.5
    a, s = math.radians(angle), math.radians(shear)
    det = math.cos(a + s) * math.cos(a) + math.sin(a + s) * math.sin(a)
    factor = (1.0 / scale) / det
    m = [factor * v for v in (math.cos(a + s), math.sin(a + s), 0, -math.sin(a), math.cos(a), 0)]
    # output pixel -> input pixel: undo the translation and the centring, then re-centre
    m[2] += m[0] * (-cx - translate[0]) + m[1] * (-cy - translate[1]) + cx
    m[5] += m[3] * (-cx - translate[0]) + m[4] * (-cy - translate[1]) + cy
    return np.asarray(Image.fromarray(image).transform((w, h), Image.Transform.AFFINE, m, resample))


SEQUENCES: dict[str, Callable[[np.ndarray, Params, Draws], np.ndarray]] = {
    "gaussian_noise": gaussian_noise, "shot_noise": shot_noise, "speckle_noise": speckle_noise,
    "motion_blur": motion_blur, "zoom_blur": zoom_blur, "snow": snow, "brightness": brightness,
    "translate": translate, "rotate": rotate, "tilt": tilt, "scale": scale,
    "gaussian_blur": gaussian_blur, "spatter": spatter, "shear": shear,
}
