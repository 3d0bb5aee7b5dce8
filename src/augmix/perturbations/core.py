"""`perturb_sequence`: one image -> the frames of a -P perturbation sequence, reproducibly."""
from __future__ import annotations

import numpy as np

from augmix._util import validate
from augmix.corruptions.core import RngLike, _generator  # one reading of rng= (seed, Generator or None)
from augmix.perturbations import draws, ops
from augmix.perturbations.names import ALL_PERTURBATIONS, GEOMETRIC_PERTURBATIONS, base_name, check_name
from augmix.perturbations.tables import PerturbationTable, get_table, table_for_shape


def sequence_rng(seed: int, name: str, index: int) -> np.random.Generator:
    """The generator for image `index` of a -P set built with `seed`.

    Derived with SeedSequence from (seed, perturbation, index), so every image's draws are
    independent of the others and of how the work is split between processes. The key has
    two entries, the -C sets' three (corruptions.image_rng): their streams never meet.
    """
    key = (ALL_PERTURBATIONS.index(check_name(name)), int(index))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=key)))


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 (0..255), got dtype {image.dtype}")
    if image.ndim != 3 or image.shape[-1] != 3 or min(image.shape[:2]) < 1:
        raise ValueError(f"image must have shape (H, W, 3), got {image.shape}")
    return image


def centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The central size x size pixels of (..., H, W, C), placed as torchvision's CenterCrop does."""
    h, w = image.shape[-3:-1]
    if size > min(h, w):
        raise ValueError(f"crop {size} is larger than the {h}x{w} image")
    top, left = int(round((h - size) / 2.0)), int(round((w - size) / 2.0))
    return image[..., top:top + size, left:left + size, :]


def perturb_sequence(image: np.ndarray, name: str, rng: RngLike = None, *,
                     table: str | int | PerturbationTable | None = None, crop: int | None = None) -> np.ndarray:
    """The frames of perturbation `name` for uint8 (H, W, 3) `image`: uint8 (T, H, W, 3).

    `table` picks the parameters (`cifar`, `tiny`, `imagenet`, or the side 32/64/224); by
    default it follows the output size. Random sequences draw from `rng` (a seed or a
    Generator). With `crop`, the frames are the central crop x crop pixels, as ImageNet-P's
    were made from 256 px images: geometric sequences move the whole image and then crop (no
    black border comes into view), the others crop first.
    """
    name = check_name(name)
    image = _check_image(image)
    if crop is not None:
        validate.integer(crop, "crop", high=validate.MAX_SIDE)
        if crop > min(image.shape[:2]):
            raise ValueError(f"crop must be at most the image's shorter side ({min(image.shape[:2])} px), got {crop}")
        if name not in GEOMETRIC_PERTURBATIONS:
            image = np.ascontiguousarray(centre_crop(image, crop))
    side = crop if crop is not None else None
    table = (table_for_shape(*image.shape[:2]) if side is None else table_for_shape(side, side)) \
        if table is None else get_table(table)
    p = table[name]
    frames = ops.SEQUENCES[base_name(name)](image, p, draws.draw(name, _generator(rng), image, p))
    if crop is not None and name in GEOMETRIC_PERTURBATIONS:
        frames = np.ascontiguousarray(centre_crop(frames, crop))
    return frames
