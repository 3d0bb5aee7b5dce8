"""Test oracle for the 19 corruptions -- NOT independent: a transcription of the reference.

Compared with hendrycks/robustness (commit 8190fe329f5f072a06e3a2aea02bb5dda69aed9f),
ImageNet-C/create_c/make_cifar_c.py and make_imagenet_c.py, this file carries their code
over: `disk`, `clipped_zoom` and most corruption bodies (glass blur's pixel loop, spatter,
snow, elastic_transform, fog's `plasma_fractal`, compacted) are the reference's lines with the
severity tables lifted out, random draws made injectable (`draws` fixed by the caller, or
`rs`, a legacy `numpy.random.RandomState`), scikit-image's `multichannel=` replaced by
`channel_axis=`, and ImageMagick's motion blur re-implemented (`magick_motion_blur`). It is
therefore due to be replaced by golden outputs of the reference itself, as was done for the
eight deterministic corruptions (tests/test_corruptions_golden.py, tests/golden/). Still to
do: the random corruptions (their draws must be fed to the reference's global `np.random`)
and motion blur / snow (the reference calls ImageMagick through Wand), then removing this
file and its users (tests/test_corruptions.py, benchmarks/bench_corruptions.py).
Spec: shared/spec/corruptions-and-metrics.md sections 1.1-1.5.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from scipy.ndimage import map_coordinates
from scipy.ndimage import zoom as scizoom
from skimage.color import hsv2rgb, rgb2hsv
from skimage.filters import gaussian
from skimage.util import random_noise

FROST_FILES = ["frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg", "frost6.jpg"]
FROST_SCALE = {32: 0.2, 64: 0.3, 224: 1.0, 299: 1.0}
FOG_MAPSIZE = {32: 32, 64: 64, 224: 256, 299: 512}


def _u8(x):
    return np.uint8(x)


def clipped_zoom(img, zoom_factor):
    h = img.shape[0]
    ch = int(np.ceil(h / zoom_factor))
    top = (h - ch) // 2
    img = scizoom(img[top:top + ch, top:top + ch], (zoom_factor, zoom_factor, 1), order=1)
    trim_top = (img.shape[0] - h) // 2
    return img[trim_top:trim_top + h, trim_top:trim_top + h]


def disk(radius, alias_blur=0.1, dtype=np.float32):
    if radius <= 8:
        L = np.arange(-8, 8 + 1)
        ksize = (3, 3)
    else:
        L = np.arange(-radius, radius + 1)
        ksize = (5, 5)
    X, Y = np.meshgrid(L, L)
    aliased_disk = np.array((X ** 2 + Y ** 2) <= radius ** 2, dtype=dtype)
    aliased_disk /= np.sum(aliased_disk)
    return cv2.GaussianBlur(aliased_disk, ksize=ksize, sigmaX=alias_blur)


def magick_motion_blur(img_u8, radius, sigma, angle):
    """ImageMagick MotionBlurImage (spec 1.5), tap by tap with clamped reads.

    Output as ImageMagick 6 Q16 writes 8-bit PNG: the sum rounded to a 16-bit quantum, then
    quantum / 257 truncated (measured against `convert -motion-blur`, ImageMagick 6.9.11 Q16).
    """
    width = int(2 * math.ceil(radius) + 1)
    kernel = np.array([math.exp(-(i * i) / (2.0 * sigma * sigma)) for i in range(width)])
    kernel /= kernel.sum()
    px = width * math.sin(math.radians(angle))
    py = width * math.cos(math.radians(angle))
    hyp = math.hypot(px, py)
    h, w = img_u8.shape[:2]
    src = img_u8.astype(np.float64)
    acc = np.zeros_like(src)
    ys, xs = np.mgrid[0:h, 0:w]
    for i in range(width):
        ox = math.ceil(i * py / hyp - 0.5)
        oy = math.ceil(i * px / hyp - 0.5)
        acc += kernel[i] * src[np.clip(ys + oy, 0, h - 1), np.clip(xs + ox, 0, w - 1)]
    q16 = np.clip(np.round(acc * 257.0), 0, 65535).astype(np.int64)
    return (q16 // 257).astype(np.uint8)


def plasma_fractal(mapsize, wibbledecay, draws=None, rs=None):
    """Diamond-square; `draws` are U(-1, 1) arrays (3 per level), the reference's U(-w, w) is w * U."""
    assert mapsize & (mapsize - 1) == 0
    maparray = np.empty((mapsize, mapsize), dtype=np.float64)
    maparray[0, 0] = 0
    stepsize = mapsize
    wibble = 100
    supply = iter(draws) if draws is not None else None

    def wibbledmean(array):
        u = wibble * next(supply) if supply is not None else rs.uniform(-wibble, wibble, array.shape)
        return array / 4 + wibble * u

    while stepsize >= 2:
        cornerref = maparray[0:mapsize:stepsize, 0:mapsize:stepsize]
        squareaccum = cornerref + np.roll(cornerref, shift=-1, axis=0)
        squareaccum += np.roll(squareaccum, shift=-1, axis=1)
        maparray[stepsize // 2:mapsize:stepsize, stepsize // 2:mapsize:stepsize] = wibbledmean(squareaccum)
        drgrid = maparray[stepsize // 2:mapsize:stepsize, stepsize // 2:mapsize:stepsize]
        ulgrid = maparray[0:mapsize:stepsize, 0:mapsize:stepsize]
        ltsum = drgrid + np.roll(drgrid, 1, axis=0) + ulgrid + np.roll(ulgrid, -1, axis=1)
        maparray[0:mapsize:stepsize, stepsize // 2:mapsize:stepsize] = wibbledmean(ltsum)
        ttsum = drgrid + np.roll(drgrid, 1, axis=1) + ulgrid + np.roll(ulgrid, -1, axis=0)
        maparray[stepsize // 2:mapsize:stepsize, 0:mapsize:stepsize] = wibbledmean(ttsum)
        stepsize //= 2
        wibble /= wibbledecay
    maparray -= maparray.min()
    return maparray / maparray.max()


# ---- the 19 corruptions: x is a uint8 (H, W, 3) array ------------------------------------------

def gaussian_noise(x, c, draws=None, rs=None):
    x = np.array(x) / 255.
    noise = draws["noise"] if draws is not None else rs.normal(size=x.shape, scale=c)
    return _u8(np.clip(x + noise, 0, 1) * 255)


def shot_noise(x, c, draws=None, rs=None):
    x = np.array(x) / 255.
    counts = draws["counts"] if draws is not None else rs.poisson(x * c)
    return _u8(np.clip(counts / c, 0, 1) * 255)


def impulse_noise(x, c, draws=None, rs=None):
    x = np.array(x) / 255.
    if draws is None:
        x = random_noise(x, mode="s&p", amount=c, rng=int(rs.randint(2 ** 31)))
    else:
        flipped, salted = draws["flip"], draws["salt"] > 0.5
        x = x.copy()
        x[flipped & salted] = 1
        x[flipped & ~salted] = 0
    return _u8(np.clip(x, 0, 1) * 255)


def speckle_noise(x, c, draws=None, rs=None):
    x = np.array(x) / 255.
    noise = draws["noise"] if draws is not None else rs.normal(size=x.shape, scale=c)
    return _u8(np.clip(x + x * noise, 0, 1) * 255)


def gaussian_blur(x, c):
    x = gaussian(np.array(x) / 255., sigma=c, channel_axis=-1)
    return _u8(np.clip(x, 0, 1) * 255)


def glass_blur(x, c, draws=None, rs=None):
    """The reference pixel loop; the tuple "swap" goes through views, so it copies one way."""
    H, W = x.shape[:2]
    x = np.uint8(gaussian(np.array(x) / 255., sigma=c[0], channel_axis=-1) * 255)
    offsets = iter(np.concatenate(draws["offsets"])) if draws is not None else None
    for _ in range(c[2]):
        for h in range(H - c[1], c[1], -1):
            for w in range(W - c[1], c[1], -1):
                dx, dy = next(offsets) if offsets is not None else rs.randint(-c[1], c[1], size=(2,))
                h_prime, w_prime = h + dy, w + dx
                x[h, w], x[h_prime, w_prime] = x[h_prime, w_prime], x[h, w]
    return _u8(np.clip(gaussian(x / 255., sigma=c[0], channel_axis=-1), 0, 1) * 255)


def defocus_blur(x, c):
    x = np.array(x) / 255.
    kernel = disk(radius=c[0], alias_blur=c[1])
    channels = np.array([cv2.filter2D(x[:, :, d], -1, kernel) for d in range(3)]).transpose((1, 2, 0))
    return _u8(np.clip(channels, 0, 1) * 255)


def motion_blur(x, c, draws=None, rs=None):
    angle = draws["angle"] if draws is not None else rs.uniform(-45, 45)
    return _u8(np.clip(magick_motion_blur(np.array(x), c[0], c[1], angle), 0, 255))


def zoom_blur(x, c):
    x = (np.array(x) / 255.).astype(np.float32)
    out = np.zeros_like(x)
    for zoom_factor in c:
        out += clipped_zoom(x, zoom_factor)
    x = (x + out) / (len(c) + 1)
    return _u8(np.clip(x, 0, 1) * 255)


def snow(x, c, draws=None, rs=None):
    H, W = x.shape[:2]
    x = np.array(x, dtype=np.float32) / 255.
    layer = draws["flakes"] if draws is not None else rs.normal(size=x.shape[:2], loc=c[0], scale=c[1])
    layer = clipped_zoom(layer[..., np.newaxis], c[2])
    layer[layer < c[3]] = 0
    layer = Image.fromarray((np.clip(layer.squeeze(), 0, 1) * 255).astype(np.uint8), mode="L")
    buf = io.BytesIO()
    layer.save(buf, format="PNG")
    grey = np.array(Image.open(io.BytesIO(buf.getvalue())))
    angle = draws["angle"] if draws is not None else rs.uniform(-135, -45)
    layer = magick_motion_blur(grey, c[4], c[5], angle) / 255.
    layer = layer[..., np.newaxis]
    x = c[6] * x + (1 - c[6]) * np.maximum(x, cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).reshape(H, W, 1) * 1.5 + 0.5)
    return _u8(np.clip(x + layer + np.rot90(layer, k=2), 0, 1) * 255)


def frost(x, c, frost_dir, draws=None, rs=None):
    H, W = x.shape[:2]
    idx = draws["index"] if draws is not None else rs.randint(5)
    fr = cv2.imread(str(Path(frost_dir) / FROST_FILES[idx]))
    scale = FROST_SCALE[H]
    if scale != 1:
        fr = cv2.resize(fr, (0, 0), fx=scale, fy=scale)
    if draws is not None:
        x_start, y_start = draws["top"], draws["left"]
    else:
        x_start, y_start = rs.randint(0, fr.shape[0] - H), rs.randint(0, fr.shape[1] - W)
    fr = fr[x_start:x_start + H, y_start:y_start + W][..., [2, 1, 0]]
    return _u8(np.clip(c[0] * np.array(x) + c[1] * fr, 0, 255))


def fog(x, c, draws=None, rs=None):
    H, W = x.shape[:2]
    x = np.array(x) / 255.
    max_val = x.max()
    plasma = plasma_fractal(FOG_MAPSIZE[H], c[1], draws["uniforms"] if draws is not None else None, rs)
    x += c[0] * plasma[:H, :W][..., np.newaxis]
    return _u8(np.clip(x * max_val / (max_val + c[0]), 0, 1) * 255)


def brightness(x, c):
    x = rgb2hsv(np.array(x) / 255.)
    x[:, :, 2] = np.clip(x[:, :, 2] + c, 0, 1)
    return _u8(np.clip(hsv2rgb(x), 0, 1) * 255)


def contrast(x, c):
    x = np.array(x) / 255.
    means = np.mean(x, axis=(0, 1), keepdims=True)
    return _u8(np.clip((x - means) * c + means, 0, 1) * 255)


def saturate(x, c):
    x = rgb2hsv(np.array(x) / 255.)
    x[:, :, 1] = np.clip(x[:, :, 1] * c[0] + c[1], 0, 1)
    return _u8(np.clip(hsv2rgb(x), 0, 1) * 255)


def elastic_transform(image, c, draws=None, rs=None):
    image = np.array(image, dtype=np.float32) / 255.
    shape = image.shape
    shape_size = shape[:2]
    center_square = np.float32(shape_size) // 2
    square_size = min(shape_size) // 3
    pts1 = np.float32([center_square + square_size,
                       [center_square[0] + square_size, center_square[1] - square_size],
                       center_square - square_size])
    jitter = draws["affine"] if draws is not None else rs.uniform(-c[2], c[2], size=pts1.shape).astype(np.float32)
    pts2 = pts1 + jitter
    M = cv2.getAffineTransform(pts1, pts2)
    image = cv2.warpAffine(image, M, shape_size[::-1], borderMode=cv2.BORDER_REFLECT_101)
    ux = draws["dx"] if draws is not None else rs.uniform(-1, 1, size=shape[:2])
    uy = draws["dy"] if draws is not None else rs.uniform(-1, 1, size=shape[:2])
    dx = (gaussian(ux, c[1], mode="reflect", truncate=3) * c[0]).astype(np.float32)
    dy = (gaussian(uy, c[1], mode="reflect", truncate=3) * c[0]).astype(np.float32)
    dx, dy = dx[..., np.newaxis], dy[..., np.newaxis]
    x, y, z = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]), np.arange(shape[2]))
    indices = np.reshape(y + dy, (-1, 1)), np.reshape(x + dx, (-1, 1)), np.reshape(z, (-1, 1))
    out = map_coordinates(image, indices, order=1, mode="reflect").reshape(shape)
    return _u8(np.clip(out, 0, 1) * 255)


def pixelate(x, c):
    H, W = x.shape[:2]
    img = Image.fromarray(x)
    img = img.resize((int(W * c), int(H * c)), Image.BOX).resize((W, H), Image.BOX)
    return _u8(np.array(img))


def jpeg_compression(x, c):
    output = io.BytesIO()
    Image.fromarray(x).save(output, "JPEG", quality=c)
    return _u8(np.array(Image.open(output)))


def spatter(x, c, draws=None, rs=None):
    x = np.array(x, dtype=np.float32) / 255.
    liquid_layer = draws["liquid"] if draws is not None else rs.normal(size=x.shape[:2], loc=c[0], scale=c[1])
    liquid_layer = gaussian(liquid_layer, sigma=c[2])
    liquid_layer[liquid_layer < c[3]] = 0
    if c[5] == 0:
        liquid_layer = (liquid_layer * 255).astype(np.int64).astype(np.uint8)  # wraps like the C cast
        dist = 255 - cv2.Canny(liquid_layer, 50, 150)
        dist = cv2.distanceTransform(dist, cv2.DIST_L2, 5)
        _, dist = cv2.threshold(dist, 20, 20, cv2.THRESH_TRUNC)
        dist = cv2.blur(dist, (3, 3)).astype(np.uint8)
        dist = cv2.equalizeHist(dist)
        ker = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
        dist = cv2.filter2D(dist, cv2.CV_8U, ker)
        dist = cv2.blur(dist, (3, 3)).astype(np.float32)
        m = cv2.cvtColor(liquid_layer * dist, cv2.COLOR_GRAY2BGRA)
        if m.max() == 0:  # the reference divides 0 by 0 here; no water means no change
            return _u8(np.clip(x, 0, 1) * 255)
        m /= np.max(m, axis=(0, 1))
        m *= c[4]
        ones = np.ones_like(m[..., :1])
        color = np.concatenate((175 / 255. * ones, 238 / 255. * ones, 238 / 255. * ones), axis=2)
        color = cv2.cvtColor(color, cv2.COLOR_BGR2BGRA)
        x = cv2.cvtColor(x, cv2.COLOR_BGR2BGRA)
        return _u8(cv2.cvtColor(np.clip(x + m * color, 0, 1), cv2.COLOR_BGRA2BGR) * 255)
    m = np.where(liquid_layer > c[3], 1, 0)
    m = gaussian(m.astype(np.float32), sigma=c[4])
    m[m < 0.8] = 0
    ones = np.ones_like(x[..., :1])
    color = np.concatenate((63 / 255. * ones, 42 / 255. * ones, 20 / 255. * ones), axis=2)
    color *= m[..., np.newaxis]
    x *= (1 - m[..., np.newaxis])
    return _u8(np.clip(x + color, 0, 1) * 255)


DETERMINISTIC = {"gaussian_blur": gaussian_blur, "defocus_blur": defocus_blur, "zoom_blur": zoom_blur,
                 "brightness": brightness, "contrast": contrast, "saturate": saturate,
                 "pixelate": pixelate, "jpeg_compression": jpeg_compression}
RANDOM = {"gaussian_noise": gaussian_noise, "shot_noise": shot_noise, "impulse_noise": impulse_noise,
          "speckle_noise": speckle_noise, "glass_blur": glass_blur, "motion_blur": motion_blur,
          "snow": snow, "fog": fog, "elastic_transform": elastic_transform, "spatter": spatter}
