"""Corruptions at any image size of at least 32 px and any channel count, on real CIFAR-10.

The size rule (augmix/corruptions/sizes.py, docs/corruptions.md) derives a severity table for
any size from the 32, 64 and 224 px ones; here: which table a size gets, that all 19
corruptions x 5 severities run at reference, odd and large sizes, grey and RGB, and that the
same scene at 224 px and at 448 or 602 x 1200 px is damaged alike (PSNR against the clean image).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from augmix.corruptions import ALL_CORRUPTIONS, RANDOM_CORRUPTIONS, SEVERITIES, corrupt, get_table, table_for_shape
from augmix.corruptions.sizes import SIZE_DEPENDENT

# Corruptions whose severities are not ordered by pixel error, at any size: the reference's
# elastic severity 1 (and 2 at 224 px) is a global warp that moves every pixel, severity 5
# local ripples.
UNORDERED = {"elastic_transform"}
# Frost's severity 1 brightens the whole image (1.0 x + 0.4 frost), severity 5 mixes (0.6 x +
# 0.75 frost): the brightness shift dominates the pixel error, so frost's damage is measured with
# each image's mean removed.
MEAN_REMOVED = {"frost"}
# Grey images have no colour: saturate returns them unchanged (the first channel of the RGB
# result is exactly the input there).
NO_EFFECT_ON_GREY = {"saturate"}
# Size-dependent corruptions cheap enough at 602 x 1200 px for the default suite.
FAST_LARGE = ("defocus_blur", "snow", "frost", "fog", "pixelate", "spatter")


def _scene(cifar_images, index: int, height: int, width: int) -> np.ndarray:
    """CIFAR-10 test images `index` and `index + 1` side by side, upscaled (bicubic) to height x width."""
    pair = np.concatenate([cifar_images[index], cifar_images[index + 1]], axis=1)
    return np.asarray(Image.fromarray(pair).resize((width, height), Image.Resampling.BICUBIC))


def _mse(corrupted: np.ndarray, clean: np.ndarray, mean_removed: bool = False) -> float:
    diff = corrupted.astype(np.float64) - clean
    return float(np.var(diff) if mean_removed else np.mean(diff ** 2))


def _psnr(corrupted: np.ndarray, clean: np.ndarray, mean_removed: bool = False) -> float:
    mse = _mse(corrupted, clean, mean_removed)
    return math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def test_reference_sizes_keep_their_tables():
    for side in (32, 64, 224, 299):
        assert table_for_shape(side, side) is get_table(side)


@pytest.mark.parametrize("shape, base", [((33, 47), "cifar"), ((500, 63), "cifar"), ((64, 65), "tiny"),
                                         ((1000, 223), "tiny"), ((224, 300), "imagenet"),
                                         ((300, 300), "imagenet"), ((602, 1200), "imagenet")])
def test_size_rule_scales_lengths_from_the_largest_reference_below(shape, base):
    table, ref = table_for_shape(*shape), get_table(base)
    s = min(shape) / ref.size
    assert table.name == f"{base}@{shape[0]}x{shape[1]}" and table.size == min(shape)
    assert table.fog_mapsize >= max(shape) > table.fog_mapsize // 2
    assert table.frost_scale == pytest.approx(ref.frost_scale * s)
    for severity in SEVERITIES:
        for name in set(ALL_CORRUPTIONS) - SIZE_DEPENDENT:  # noise, colour, JPEG quality
            assert table[name, severity] == ref[name, severity]
        assert table["gaussian_blur", severity] == pytest.approx(ref["gaussian_blur", severity] * s)
        assert table["pixelate", severity] == pytest.approx(ref["pixelate", severity] / s)
        assert table["motion_blur", severity] == pytest.approx(np.multiply(ref["motion_blur", severity], s))
        alpha, sigma, jitter = ref["elastic_transform", severity]
        assert table["elastic_transform", severity] == pytest.approx((alpha * s * s, sigma * s, jitter * s))
        zooms, ref_zooms = table["zoom_blur", severity], ref["zoom_blur", severity]
        steps = max(1, math.floor(s + 0.5))
        assert len(zooms) == (len(ref_zooms) - 1) * steps + 1 and zooms[::steps] == pytest.approx(ref_zooms)
        assert zooms[0] == 1.0 and zooms[-1] == ref_zooms[-1]
        if s == 1:
            assert all(table[name, severity] == ref[name, severity] for name in ALL_CORRUPTIONS)


def _grey(image: np.ndarray, form: str) -> np.ndarray:
    grey = np.asarray(Image.fromarray(image).convert("L"))
    return {"HW": grey, "HW1": grey[..., None], "HW3": image}[form]


def _check_all(image: np.ndarray, names, frost_dir, severities=SEVERITIES) -> None:
    """Shape and dtype kept, seeded output repeats, severity 5 damages more than severity 1."""
    grey = image.ndim == 2 or image.shape[-1] == 1
    for name in names:
        psnr = {}
        for severity in severities:
            out = corrupt(image, name, severity, rng=severity, frost_dir=frost_dir)
            assert out.shape == image.shape and out.dtype == np.uint8, (name, severity)
            if name in RANDOM_CORRUPTIONS and severity in (1, 5):
                np.testing.assert_array_equal(out, corrupt(image, name, severity, rng=severity,
                                                           frost_dir=frost_dir))
            psnr[severity] = _psnr(out, image, name in MEAN_REMOVED)
        if grey and name in NO_EFFECT_ON_GREY:
            assert psnr[1] == psnr[5] == math.inf, name
        elif name not in UNORDERED:
            assert psnr[5] < psnr[1], (name, image.shape, psnr)


@pytest.mark.parametrize("shape, form", [((32, 32), "HW3"), ((32, 32), "HW"), ((33, 47), "HW"),
                                         ((47, 33), "HW3"), ((224, 224), "HW1")])
def test_every_corruption_and_severity_at_small_and_odd_sizes(cifar_images, frost_dir, shape, form):
    image = _grey(_scene(cifar_images, 4, *shape), form)
    _check_all(image, ALL_CORRUPTIONS, frost_dir)


@pytest.mark.parametrize("shape, form", [((500, 375), "HW3"), ((602, 1200), "HW")])
def test_size_dependent_corruptions_at_large_sizes(cifar_images, frost_dir, shape, form):
    _check_all(_grey(_scene(cifar_images, 6, *shape), form), FAST_LARGE, frost_dir, severities=(1, 5))


@pytest.mark.slow
@pytest.mark.parametrize("shape, form", [((500, 375), "HW3"), ((375, 500), "HW1"), ((602, 1200), "HW3"),
                                         ((602, 1200), "HW")])
def test_every_corruption_and_severity_at_large_sizes(cifar_images, frost_dir, shape, form):
    _check_all(_grey(_scene(cifar_images, 6, *shape), form), ALL_CORRUPTIONS, frost_dir)


def test_a_batch_equals_its_images_at_an_odd_size(cifar_images, frost_dir):
    batch = np.stack([_scene(cifar_images, i, 45, 70) for i in (0, 2)])
    for name in ALL_CORRUPTIONS:
        gen = np.random.default_rng(3)
        singles = np.stack([corrupt(im, name, 4, rng=gen, frost_dir=frost_dir) for im in batch])
        np.testing.assert_array_equal(corrupt(batch, name, 4, rng=3, frost_dir=frost_dir), singles)


def test_grey_images_are_the_first_channel_of_the_rgb_result(cifar_images, frost_dir):
    """Colour-neutral corruptions give three equal channels on a grey image, so a grey result
    is exactly theirs; noise keeps each channel's per-pixel distribution (salt and pepper stays
    0 or 255)."""
    grey = _grey(_scene(cifar_images, 8, 40, 56), "HW")
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    coloured = {"gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise", "frost", "spatter", "saturate"}
    for name in ALL_CORRUPTIONS:
        out = corrupt(rgb, name, 3, rng=0, frost_dir=frost_dir)
        for form in (grey, grey[..., None], grey[None, ..., None]):
            np.testing.assert_array_equal(corrupt(form, name, 3, rng=0, frost_dir=frost_dir),
                                          out[..., 0].reshape(form.shape))
        if name not in coloured:
            assert (out == out[..., :1]).all(), name
    salt_and_pepper = corrupt(grey, "impulse_noise", 5, rng=0)
    assert set(np.unique(salt_and_pepper[salt_and_pepper != grey])) <= {0, 255}


def test_named_tables_run_at_any_size_frost_and_fog_included(cifar_images, frost_dir):
    """A named table is used as it is; fog's plasma map and frost's texture grow to cover the image."""
    for shape, table in [((602, 1200), "imagenet"), ((40, 400), "cifar"), ((700, 64), "tiny"), ((20, 24), "cifar")]:
        image = _scene(cifar_images, 10, *shape)
        for name in ("fog", "frost"):
            out = corrupt(image, name, 5, rng=0, table=table, frost_dir=frost_dir)
            assert out.shape == image.shape and _psnr(out, image, mean_removed=True) < 25, \
                (shape, name, _psnr(out, image, mean_removed=True))


# Same scene, two sizes: the PSNR of the mean squared error over two scenes (and, for the
# random corruptions, a few draws each) may differ by this many dB (1.5 dB is an MSE ratio of
# 1.4; consecutive severities are 1 to 5 dB apart). Glass blur shuffles single pixels: 3 dB.
# JPEG's 8 x 8 blocks are fixed in pixels, so a larger image of the same scene loses less: up
# to 3 dB less damage, never 1.5 dB more.
TOLERANCE_DB = {"glass_blur": 3.0}
JPEG_LESS_DAMAGE_DB = 3.0
# Spatter's few drops vary a lot from draw to draw (severity 1 at 224 px: 30 to 41 dB).
DRAWS = {"spatter": 8}


def _compare_damage(cifar_images, frost_dir, small, large, names):
    for name in names:
        for severity in SEVERITIES:
            mse = {small: [], large: []}
            for index in (12, 14):
                for size in (small, large):
                    clean = _scene(cifar_images, index, *size)
                    mse[size] += [_mse(corrupt(clean, name, severity, rng=k, frost_dir=frost_dir), clean)
                                  for k in range(DRAWS.get(name, 1))]
            diff = 10 * math.log10(np.mean(mse[small]) / np.mean(mse[large]))  # > 0: large damaged less
            if name == "jpeg_compression":
                assert -1.5 <= diff <= JPEG_LESS_DAMAGE_DB, (name, severity, large, diff)
            else:
                assert abs(diff) <= TOLERANCE_DB.get(name, 1.5), (name, severity, large, diff)


def test_damage_of_the_same_scene_is_comparable_across_sizes(cifar_images, frost_dir):
    _compare_damage(cifar_images, frost_dir, (224, 224), (448, 448),
                    ("gaussian_noise", "defocus_blur", "snow", "frost", "fog", "pixelate", "gaussian_blur",
                     "jpeg_compression"))


@pytest.mark.slow
@pytest.mark.parametrize("small, large", [((224, 224), (448, 448)), ((224, 448), (602, 1200))])
def test_damage_of_the_same_scene_is_comparable_across_sizes_for_all(cifar_images, frost_dir, small, large):
    _compare_damage(cifar_images, frost_dir, small, large, ALL_CORRUPTIONS)


def test_images_in_any_memory_layout_give_the_same_result():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (4, 3, 40, 36), dtype=np.uint8).transpose(0, 2, 3, 1)  # not C-contiguous
    assert not images.flags["C_CONTIGUOUS"]
    for name in ("defocus_blur", "motion_blur", "gaussian_noise"):
        out = corrupt(images, name, 2, rng=1)
        assert out.shape == images.shape and out.dtype == np.uint8
        np.testing.assert_array_equal(out, corrupt(np.ascontiguousarray(images), name, 2, rng=1))
