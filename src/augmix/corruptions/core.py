"""`corrupt`: apply one of the 19 corruptions at a severity to uint8 images, reproducibly."""
from __future__ import annotations

import os

import numpy as np

from augmix._util import validate
from augmix.corruptions import draws, ops
from augmix.corruptions.names import ALL_CORRUPTIONS, check_name, check_severity
from augmix.corruptions.sizes import table_for_shape
from augmix.corruptions.tables import SeverityTable, get_table

RngLike = int | np.random.Generator | None


def image_rng(seed: int, name: str, severity: int, index: int) -> np.random.Generator:
    """The generator for image `index` of a data set built with `seed`.

    Derived with SeedSequence from (seed, corruption, severity, index), so every image's draws
    are independent of the others and of how the work is split between processes.
    """
    key = (ALL_CORRUPTIONS.index(check_name(name)), check_severity(severity), int(index))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=key)))


SHAPES = "(H, W), (H, W, 1), (H, W, 3), (N, H, W, 1) or (N, H, W, 3)"


def _as_rgb(images: np.ndarray) -> np.ndarray:
    """`images` checked and viewed as (..., H, W, 3): grey ones with their channel repeated."""
    if not isinstance(images, np.ndarray):
        hint = "; for images of different sizes call corrupt once per image" \
            if isinstance(images, (list, tuple)) else ""
        raise ValueError(f"images must be a numpy uint8 array of shape {SHAPES}, got "
                         f"{type(images).__name__}{hint}")
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (0..255), got dtype {images.dtype}")
    if images.ndim == 2:
        images = images[..., None]
    if images.ndim not in (3, 4) or images.shape[-1] not in (1, 3):
        hint = " (a batch of grey images needs a channel axis: (N, H, W, 1))" if images.ndim == 3 else ""
        raise ValueError(f"images must have shape {SHAPES}, got {images.shape}{hint}")
    if images.ndim == 4 and images.shape[0] == 0:
        raise ValueError(f"images is an empty batch: shape {images.shape}")
    if min(images.shape[-3:-1]) < 1:
        raise ValueError(f"images must have shape {SHAPES} with H, W >= 1, got {images.shape}")
    # C order: the OpenCV calls of the ops take their buffers only in that layout
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else np.ascontiguousarray(images)


def _generator(rng: RngLike) -> np.random.Generator:
    if rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(None if rng is None else validate.seed(int(rng), "rng"))
    if isinstance(rng, np.random.Generator):
        return rng
    raise ValueError(f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


def corrupt(images: np.ndarray, name: str, severity: int, *, rng: RngLike = None,
            table: str | int | SeverityTable | None = None,
            frost_dir: str | os.PathLike | None = None) -> np.ndarray:
    """Corrupt uint8 `images`; returns uint8 of the same shape.

    `images` is one image, (H, W) or (H, W, 1) grey or (H, W, 3) RGB, or a batch of one size,
    (N, H, W, 1) or (N, H, W, 3). Grey images go through the RGB corruption with their channel
    repeated and come back as its first channel, so colour-neutral corruptions return exactly
    what they give each RGB channel and noise keeps its per-pixel distribution.

    `table` picks the severity parameters (`cifar`, `tiny`, `imagenet`, `inception`, or the
    image side 32/64/224/299, used as they are at any size). By default it follows the image
    size (`table_for_shape`): the reference tables at 32, 64, 224 and 299 px square; any other
    image of at least 32 x 32 px gets the 32, 64 or 224 px table with its lengths in pixels
    scaled by shorter side / that side (docs/corruptions.md). Random corruptions draw from
    `rng` (a seed or Generator), image after image in order; results are truncated to uint8
    like the reference generators. `frost_dir` overrides where the frost textures live.
    """
    name, severity = check_name(name), check_severity(severity)
    rgb = _as_rgb(images)
    table = table_for_shape(*rgb.shape[-3:-1]) if table is None else get_table(table)
    c = table[name, severity]
    if name in ops.DETERMINISTIC:
        out = ops.DETERMINISTIC[name](rgb, c)
    else:
        generator = _generator(rng)
        batch = rgb.reshape((-1,) + rgb.shape[-3:])
        out = np.stack([ops.RANDOM[name](img, c, draws.draw(name, generator, img, c, table, frost_dir))
                        for img in batch]).reshape(rgb.shape)
    # uint8: the ops truncate like the reference's np.uint8()
    grey = images.ndim == 2 or images.shape[-1] == 1
    return out[..., :1].reshape(images.shape) if grey else out
