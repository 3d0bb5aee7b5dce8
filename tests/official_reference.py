"""A transcription of the official AugMix code (google-research/augmix,
augmentations.py and augment_and_mix.py) used as the test oracle.

The only changes: the global `np.random` is replaced by an explicit
Generator `rng` (same calls, same order), and IMAGE_SIZE is an argument.
"""
import numpy as np
import torch
from PIL import Image, ImageEnhance, ImageOps


def int_parameter(level, maxval):
    return int(level * maxval / 10)


def float_parameter(level, maxval):
    return float(level) * maxval / 10.


def sample_level(rng, n):
    return rng.uniform(low=0.1, high=n)


def autocontrast(rng, pil_img, _, size):
    return ImageOps.autocontrast(pil_img)


def equalize(rng, pil_img, _, size):
    return ImageOps.equalize(pil_img)


def posterize(rng, pil_img, level, size):
    level = int_parameter(sample_level(rng, level), 4)
    return ImageOps.posterize(pil_img, 4 - level)


def rotate(rng, pil_img, level, size):
    degrees = int_parameter(sample_level(rng, level), 30)
    if rng.uniform() > 0.5:
        degrees = -degrees
    return pil_img.rotate(degrees, resample=Image.BILINEAR)


def solarize(rng, pil_img, level, size):
    level = int_parameter(sample_level(rng, level), 256)
    return ImageOps.solarize(pil_img, 256 - level)


def shear_x(rng, pil_img, level, size):
    level = float_parameter(sample_level(rng, level), 0.3)
    if rng.uniform() > 0.5:
        level = -level
    return pil_img.transform((size, size), Image.AFFINE, (1, level, 0, 0, 1, 0),
                             resample=Image.BILINEAR)


def shear_y(rng, pil_img, level, size):
    level = float_parameter(sample_level(rng, level), 0.3)
    if rng.uniform() > 0.5:
        level = -level
    return pil_img.transform((size, size), Image.AFFINE, (1, 0, 0, level, 1, 0),
                             resample=Image.BILINEAR)


def translate_x(rng, pil_img, level, size):
    level = int_parameter(sample_level(rng, level), size / 3)
    if rng.random() > 0.5:
        level = -level
    return pil_img.transform((size, size), Image.AFFINE, (1, 0, level, 0, 1, 0),
                             resample=Image.BILINEAR)


def translate_y(rng, pil_img, level, size):
    level = int_parameter(sample_level(rng, level), size / 3)
    if rng.random() > 0.5:
        level = -level
    return pil_img.transform((size, size), Image.AFFINE, (1, 0, 0, 0, 1, level),
                             resample=Image.BILINEAR)


def color(rng, pil_img, level, size):
    level = float_parameter(sample_level(rng, level), 1.8) + 0.1
    return ImageEnhance.Color(pil_img).enhance(level)


def contrast(rng, pil_img, level, size):
    level = float_parameter(sample_level(rng, level), 1.8) + 0.1
    return ImageEnhance.Contrast(pil_img).enhance(level)


def brightness(rng, pil_img, level, size):
    level = float_parameter(sample_level(rng, level), 1.8) + 0.1
    return ImageEnhance.Brightness(pil_img).enhance(level)


def sharpness(rng, pil_img, level, size):
    level = float_parameter(sample_level(rng, level), 1.8) + 0.1
    return ImageEnhance.Sharpness(pil_img).enhance(level)


augmentations = [autocontrast, equalize, posterize, rotate, solarize, shear_x, shear_y,
                 translate_x, translate_y]
augmentations_all = augmentations + [color, contrast, brightness, sharpness]


def to_tensor(pil_img):
    return torch.from_numpy(np.array(pil_img, dtype=np.uint8)).permute(2, 0, 1).float().div(255)


def aug(rng, image, preprocess=to_tensor, severity=3, width=3, depth=-1, alpha=1.0,
        all_ops=False):
    """cifar.py's `aug`: the whole AugMix of one PIL image."""
    aug_list = augmentations_all if all_ops else augmentations
    size = image.size[0]
    ws = np.float32(rng.dirichlet([alpha] * width))
    m = np.float32(rng.beta(alpha, alpha))
    mix = torch.zeros_like(preprocess(image))
    for i in range(width):
        image_aug = image.copy()
        d = depth if depth > 0 else rng.integers(1, 4)
        for _ in range(d):
            op = aug_list[rng.integers(len(aug_list))]
            image_aug = op(rng, image_aug, severity, size)
        mix += ws[i] * preprocess(image_aug)
    mixed = (1 - m) * preprocess(image) + m * mix
    return mixed
