"""The eight deterministic corruptions against golden outputs of the reference generator.

How tests/golden/corruptions_reference.{json,npz} were made (once; the reference code was
never copied into this project):

* Source: https://github.com/hendrycks/robustness at commit
  8190fe329f5f072a06e3a2aea02bb5dda69aed9f, ImageNet-C/create_c/make_cifar_c.py, extracted
  with `git archive` into a scratch folder outside the repository.
* A scratch driver (make_golden_c.py, not committed) exec'd that file's text unchanged up to
  the line "# /////////////// End Distortions ///////////////" (its data-set loop after that
  line was not run; torch/torchvision, imported at the top but unused by the functions, were
  empty stand-in modules), in a scratch venv: Python 3.11.7, numpy 1.26.4, scipy 1.11.4,
  scikit-image 0.20.0, opencv-python-headless 4.8.1.78, Pillow 13.0.0 (see the json's
  "versions"). scikit-image 0.20 no longer takes `multichannel=`, and 0.19 has no wheel for
  this Python, so `skimage.filters.gaussian` was wrapped to pass `channel_axis=-1` for
  `multichannel=True`, which is what 0.19 itself did.
* For each of gaussian_blur, defocus_blur, zoom_blur, brightness, contrast, saturate,
  pixelate and jpeg_compression, severities 1-5, on real CIFAR-10 test images 0 and 1
  (shared/data/cifar10-jpeg, decoded with Pillow to RGB): `np.uint8(fn(PIL image, severity))`,
  as the script's own loop saves it. Stored: the uint8 outputs (npz, key "name/severity",
  shape (2, 32, 32, 3)), their sha256, and the sha256 of the input pixels.

The random corruptions are not covered here (see tests/test_corruptions.py).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from augmix.corruptions import corrupt

GOLDEN = Path(__file__).parent / "golden"
META = json.loads((GOLDEN / "corruptions_reference.json").read_text())
NAMES = ["gaussian_blur", "defocus_blur", "zoom_blur", "brightness", "contrast", "saturate",
         "pixelate", "jpeg_compression"]


@pytest.fixture(scope="module")
def reference():
    with np.load(GOLDEN / "corruptions_reference.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def images(cifar_images):
    chosen = cifar_images[META["images"]]
    for image, digest in zip(chosen, META["input_sha256"]):
        assert hashlib.sha256(image.tobytes()).hexdigest() == digest, "the decoded CIFAR-10 pixels changed"
    return chosen


def test_golden_covers_every_deterministic_corruption_and_severity(reference):
    assert sorted(reference) == sorted(f"{n}/{s}" for n in NAMES for s in range(1, 6))
    for key, array in reference.items():
        assert hashlib.sha256(array.tobytes()).hexdigest() == META["output_sha256"][key], key


@pytest.mark.parametrize("name", NAMES)
def test_matches_the_reference_generator(name, images, reference):
    """Within 1 grey level and 99% of values equal (bit-identical when the golden data were made)."""
    for severity in range(1, 6):
        ours = corrupt(images, name, severity, rng=np.random.default_rng(0))
        expected = reference[f"{name}/{severity}"]
        assert ours.shape == expected.shape and ours.dtype == np.uint8
        diff = np.abs(ours.astype(np.int64) - expected.astype(np.int64))
        assert diff.max() <= 1, (name, severity, int(diff.max()))
        assert (diff == 0).mean() > 0.99, (name, severity, float((diff == 0).mean()))
