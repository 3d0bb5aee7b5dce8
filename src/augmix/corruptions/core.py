"""`corrupt`: apply one of the 19 corruptions at a severity to uint8 images, reproducibly."""
from __future__ import annotations

import os

import numpy as np

from augmix._util import validate
from augmix.corruptions import draws, ops
from augmix.corruptions.names import ALL_CORRUPTIONS, check_name, check_severity
from augmix.corruptions.tables import SeverityTable, get_table, table_for_shape

RngLike = int | np.random.Generator | None


def image_rng(seed: int, name: str, severity: int, index: int) -> np.random.Generator:
    """The generator for image `index` of a data set built with `seed`.

    Derived with SeedSequence from (seed, corruption, severity, index), so every image's draws
    are independent of the others and of how the work is split between processes.
    """
    key = (ALL_CORRUPTIONS.index(check_name(name)), check_severity(severity), int(index))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=key)))


def _check_images(images: np.ndarray) -> np.ndarray:
    if not isinstance(images, np.ndarray):
        raise ValueError(f"images must be a numpy array, got {type(images).__name__}")
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (0..255), got dtype {images.dtype}")
    if images.ndim not in (3, 4) or images.shape[-1] != 3 or min(images.shape[-3:-1]) < 1:
        raise ValueError(f"images must have shape (H, W, 3) or (N, H, W, 3), got {images.shape}")
    return images


def _generator(rng: RngLike) -> np.random.Generator:
    if rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(None if rng is None else validate.seed(int(rng), "rng"))
    if isinstance(rng, np.random.Generator):
        return rng
    raise ValueError(f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


def corrupt(images: np.ndarray, name: str, severity: int, *, rng: RngLike = None,
            table: str | int | SeverityTable | None = None,
            frost_dir: str | os.PathLike | None = None) -> np.ndarray:
    """Corrupt uint8 (H, W, 3) or (N, H, W, 3) `images`; returns uint8 of the same shape.

    `table` picks the severity parameters (`cifar`, `tiny`, `imagenet`, `inception`, or the
    image side 32/64/224/299); by default it follows the image size. Random corruptions draw
    from `rng` (a seed or Generator), image after image in order; results are truncated to
    uint8 like the reference generators. `frost_dir` overrides where the frost textures live.
    """
    name, severity = check_name(name), check_severity(severity)
    images = _check_images(images)
    table = table_for_shape(*images.shape[-3:-1]) if table is None else get_table(table)
    c = table[name, severity]
    if name in ops.DETERMINISTIC:
        out = ops.DETERMINISTIC[name](images, c)
    else:
        generator = _generator(rng)
        batch = images.reshape((-1,) + images.shape[-3:])
        out = np.stack([ops.RANDOM[name](img, c, draws.draw(name, generator, img, c, table, frost_dir))
                        for img in batch]).reshape(images.shape)
    return out  # uint8: the ops truncate like the reference's np.uint8()
