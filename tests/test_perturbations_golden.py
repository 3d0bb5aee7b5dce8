"""The -P sequences against golden frames of the reference generators (how they were made:
tests/golden/README.md, "Perturbation sequences").

Deterministic sequences must equal the reference within 1 grey level on 99.9% of values
(they are identical today); snow and spatter get the reference's own random field; the
noise sequences must match the reference's statistics within 5%.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augmix.perturbations import perturb_sequence, sequence_rng
from augmix.perturbations.ops import SEQUENCES
from augmix.perturbations.tables import TABLES

GOLDEN = Path(__file__).parent / "golden"
META = json.loads((GOLDEN / "perturbations_reference.json").read_text())
LARGE = json.loads((GOLDEN / "perturbations_reference_large.json").read_text())
STATS = json.loads((GOLDEN / "perturbations_reference_stats.json").read_text())
DETERMINISTIC = ["motion_blur", "zoom_blur", "brightness", "translate", "rotate", "tilt", "scale",
                 "gaussian_blur", "shear"]


@pytest.fixture(scope="module")
def golden():
    return np.load(GOLDEN / "perturbations_reference.npz")


def assert_close(mine: np.ndarray, reference: np.ndarray, what: str) -> None:
    assert mine.shape == reference.shape, f"{what}: shape {mine.shape}, reference {reference.shape}"
    diff = np.abs(mine.astype(np.int16) - reference.astype(np.int16))
    within = np.mean(diff <= 1)
    assert within >= 0.999, f"{what}: {within:.4%} of values within 1 grey level (max {diff.max()})"


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_cifar_sequences_match_reference(golden, name):
    step = META["frame_step"]
    mine = np.stack([perturb_sequence(image, name) for image in golden["images"]])
    assert list(mine.shape) == META["shapes"][name]  # full length: the reference's frame count
    assert_close(mine[:, ::step], golden[name], name)


@pytest.mark.parametrize("name", ["snow", "spatter"])
def test_cifar_random_sequences_match_reference_given_its_field(golden, name):
    """The reference drew one normal field after np.random.seed(k); served here as the draw."""
    p = TABLES["cifar"][name]
    key = {"snow": "flakes", "spatter": "liquid"}[name]
    mine = np.stack([SEQUENCES[name](image, p, {key: np.random.RandomState(k).normal(p["loc"], p["scale"], (32, 32))})
                     for k, image in zip(META["random_seeds"][name], golden["images"])])
    assert_close(mine[:, ::META["frame_step"]], golden[name], name)


def test_spatter_without_liquid_leaves_the_image_unchanged(golden):
    """Seed 1 draws no liquid above the threshold: the reference divides 0 by 0 and writes
    black frames; here (as for the -C spatter) no water means the clean image."""
    p = TABLES["cifar"]["spatter"]
    image = golden["images"][0]
    frames = SEQUENCES["spatter"](image, p, {"liquid": np.random.RandomState(1).normal(p["loc"], p["scale"], (32, 32))})
    assert (frames == image).all()


@pytest.mark.parametrize("key", [k for k in LARGE["sequences"] if not k.endswith("/input")])
def test_tiny_and_imagenet_sequences_match_reference_with_crop(cifar_images, key):
    """64 and 224 px: geometric sequences move the whole resized image, then the centre crop."""
    size, name = key.split("/")
    meta = LARGE["sequences"][f"{size}/input"]
    h, w = meta["shape"][:2]
    image = np.asarray(Image.fromarray(cifar_images[0]).resize((w, h), Image.Resampling.BICUBIC))
    if hashlib.sha256(image.tobytes()).hexdigest() != meta["sha256"]:
        pytest.skip("this Pillow upsamples the input differently from the one that made the golden frames")
    frames = perturb_sequence(image, name, crop=int(size))
    assert list(frames.shape) == LARGE["sequences"][key]["frames"]
    start, step = LARGE["grid"]
    stored = np.load(GOLDEN / "perturbations_reference_large.npz")[key]
    assert_close(frames[::LARGE["frame_step"], start::step, start::step], stored, key)


@pytest.mark.parametrize("name", list(STATS["stats"]))
def test_noise_statistics_match_reference(cifar_images, name):
    """Mean absolute change to the clean frame and between consecutive frames, within 5%."""
    reference = STATS["stats"][name]
    images = cifar_images[:STATS["images"]]
    frames = np.stack([perturb_sequence(image, name, sequence_rng(0, name, i))
                       for i, image in enumerate(images)]).astype(np.int16)
    assert frames.shape[1] == reference["frames"]
    assert (frames[:, 0] == images).all()  # the clean image comes first
    to_clean = np.abs(frames[:, 1:] - frames[:, :1]).mean()
    consecutive = np.abs(frames[:, 2:] - frames[:, 1:-1]).mean()
    assert to_clean == pytest.approx(reference["to_clean"], rel=0.05)
    assert consecutive == pytest.approx(reference["consecutive"], rel=0.05)
    assert (frames[:, 1:] - frames[:, :1]).mean() == pytest.approx(reference["mean_shift"], abs=0.1)
