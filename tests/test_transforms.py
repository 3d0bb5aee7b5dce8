"""Seeded PIL transforms, ImageFolder, the per-sample seeded wrapper and the LR schedules."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from augmix.data.folder import ImageFolder
from augmix.data.seeded import SeededTransform
from augmix.data.transforms import (
    CenterCrop,
    Compose,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    Resize,
    cifar_train,
    imagenet_eval,
)
from augmix.train.schedules import Cosine, StepThirds


def _ramp(width: int = 32, height: int = 32) -> Image.Image:
    x = np.arange(width * height * 3, dtype=np.int64).reshape(height, width, 3) % 251
    return Image.fromarray(x.astype(np.uint8))


def test_padded_random_crop_is_a_shifted_window_of_the_zero_padded_image():
    image = _ramp()
    padded = np.pad(np.asarray(image), ((4, 4), (4, 4), (0, 0)))
    for seed in range(20):
        out = np.asarray(RandomCrop(32, 4)(image, np.random.default_rng(seed)))
        rng = np.random.default_rng(seed)
        top, left = int(rng.integers(41 - 32)), int(rng.integers(41 - 32))
        assert np.array_equal(out, padded[top:top + 32, left:left + 32])


def test_crop_offsets_cover_all_nine_by_nine_positions():
    image = Image.fromarray(np.full((32, 32, 3), 255, np.uint8))
    offsets = set()
    for seed in range(600):
        out = np.asarray(RandomCrop(32, 4)(image, np.random.default_rng(seed)))[..., 0]
        rows, cols = np.nonzero(out)
        offsets.add((rows.min(), cols.min(), rows.max(), cols.max()))
    assert len(offsets) == 81


def test_flip_probability_and_effect():
    image = _ramp()
    flips = 0
    for seed in range(400):
        out = RandomHorizontalFlip()(image, np.random.default_rng(seed))
        if out is not image:
            flips += 1
            assert np.array_equal(np.asarray(out), np.asarray(image)[:, ::-1])
    assert 160 < flips < 240  # Binomial(400, 0.5): mean 200, sd 10


def test_random_resized_crop_box_fits_and_respects_scale_and_ratio():
    crop = RandomResizedCrop(24)
    for seed in range(200):
        left, top, w, h = crop.box(64, 48, np.random.default_rng(seed))
        assert 0 <= left and left + w <= 64 and 0 <= top and top + h <= 48
        assert w * h <= 64 * 48
    out = crop(_ramp(64, 48), np.random.default_rng(0))
    assert out.size == (24, 24)


def test_random_resized_crop_falls_back_to_a_central_crop():
    # A 100x1 image: no box with ratio in [3/4, 4/3] and 8-100% of the area fits.
    left, top, w, h = RandomResizedCrop(8).box(100, 1, np.random.default_rng(0))
    assert (h, w) == (1, round(4 / 3)) and left == (100 - w) // 2


def test_resize_and_center_crop_follow_torchvision_geometry():
    assert Resize(256)(_ramp(500, 375)).size == (341, 256)
    image = _ramp(10, 8)
    out = np.asarray(CenterCrop(4)(image))
    assert np.array_equal(out, np.asarray(image)[2:6, 3:7])
    assert imagenet_eval(224, 256)(_ramp(300, 260)).size == (224, 224)


def test_without_a_generator_random_steps_draw_from_their_own_seed():
    rng = np.random.default_rng(0)
    assert cifar_train()(_ramp(), rng).size == (32, 32)
    seeded = [Compose([RandomCrop(32, 4, seed=3), RandomHorizontalFlip(seed=4)]) for _ in range(2)]
    first, second = ([np.asarray(c(_ramp())) for _ in range(8)] for c in seeded)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert len({a.tobytes() for a in first}) > 1
    crop = RandomResizedCrop(16, seed=1)
    assert np.array_equal(np.asarray(crop(_ramp(64, 48))), np.asarray(RandomResizedCrop(16, seed=1)(_ramp(64, 48))))


@pytest.mark.parametrize("make, message", [
    (lambda: RandomCrop(0), "size must be"), (lambda: RandomCrop(32, -1), "padding"),
    (lambda: RandomHorizontalFlip(2), "p must be"), (lambda: RandomResizedCrop(8, (0.5, 0.1)), "scale"),
])
def test_bad_transform_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_seeded_transform_repeats_per_epoch_and_index_and_differs_across_epochs():
    base = [(_ramp(), 3)] * 4
    data = SeededTransform(base, cifar_train(), seed=7)
    first = [np.asarray(data[i][0]) for i in range(4)]
    assert all(np.array_equal(a, np.asarray(data[i][0])) for i, a in enumerate(first))
    data.set_epoch(1)
    second = [np.asarray(data[i][0]) for i in range(4)]
    assert any(not np.array_equal(a, b) for a, b in zip(first, second))
    assert data[0][1] == 3


def test_image_folder(tmp_path):
    for cls, count in (("dog", 2), ("cat", 3)):
        (tmp_path / cls / "sub").mkdir(parents=True)
        for i in range(count):
            Image.new("L", (5, 4), i * 50).save(tmp_path / cls / "sub" / f"{i}.PNG")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    data = ImageFolder(tmp_path)
    assert data.classes == ["cat", "dog"] and len(data) == 5
    assert data.targets == [0, 0, 0, 1, 1]
    image, label = data[4]
    assert image.mode == "RGB" and image.size == (5, 4) and label == 1


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ImageFolder(tmp_path / "missing")
    with pytest.raises(ValueError, match="no class subfolders"):
        ImageFolder(tmp_path)
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="no images"):
        ImageFolder(tmp_path)


def test_cosine_matches_the_official_formula():
    lr, total = 0.1, 1000
    schedule = Cosine(total, 1e-6 / lr)
    for step in (0, 1, 250, 500, 999, 1000):
        official = 1e-6 / lr + (1 - 1e-6 / lr) * 0.5 * (1 + math.cos(step / total * math.pi))
        assert schedule(step) == pytest.approx(official, rel=1e-12)
    assert schedule(0) == 1.0 and schedule(total) == pytest.approx(1e-5)


def test_step_thirds_matches_the_official_imagenet_schedule():
    schedule = StepThirds(steps_per_epoch=10, epochs=90, batch_size=512)
    assert schedule(0) == 2.0 and schedule(299) == 2.0
    assert schedule(300) == pytest.approx(0.2) and schedule(600) == pytest.approx(0.02)
    # imagenet.py's rule for fewer than 3 epochs: k = 0, so 0.01 from the start.
    assert StepThirds(10, 2, 256)(0) == pytest.approx(0.01)
