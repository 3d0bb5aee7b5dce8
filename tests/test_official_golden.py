"""AugMix per image against golden outputs of the official code (google-research/augmix).

How tests/golden/augmix_official.json and augmix_official_arrays.npz were made (once; the
official code was never copied into this project):

* Source: https://github.com/google-research/augmix at commit
  9b9824c7c19bf7e72df2d085d97b99b3bfb00ba4 (`git archive` into a scratch folder outside the
  repository), files run unchanged: augmentations.py, cifar.py (`aug`, which fixes
  alpha = 1), imagenet.py (`aug`, which takes alpha as --aug-prob-coeff and sets
  augmentations.IMAGE_SIZE = 224) and augment_and_mix.py (`augment_and_mix`, the numpy
  reference).
* A scratch driver (make_golden.py, not committed) imported cifar.py and imagenet.py with
  their argument parsers (torchvision replaced by empty stand-in modules: `aug` never uses
  it, and the torchvision wheel cannot load beside the CPU torch here), set `args` from
  `parser.parse_args([...])` for each setting and `augmentations.IMAGE_SIZE` to the image
  size, and replaced the global `np.random` functions by one `np.random.default_rng(seed)`,
  method for method: uniform -> uniform, random -> random, randint(1, 4) -> integers(1, 4),
  choice(ops) -> ops[integers(len(ops))], dirichlet -> dirichlet, beta -> beta.
  `preprocess` was torchvision's ToTensor() written out (uint8 HxWxC -> float32 CxHxW / 255),
  and for one case ToTensor + Normalize([0.5] * 3, [0.5] * 3), cifar.py's own preprocess.
* The plan was logged with `sys.setprofile` (nothing patched): each op function called in
  augmentations.py (name), the value `sample_level` returned (level), and the argument the
  op passed to Pillow (posterize bits, solarize threshold, rotate angle, the affine
  coefficient of transform, the enhance factor: the parameter with its sign); the chain
  weights and skip weight are the official `np.float32(...)` of the Dirichlet and Beta draws;
  chains are split by the depth draws.
* Images: real CIFAR-10 test images 0-23 (shared/data/cifar10-jpeg, decoded with Pillow to
  RGB; the golden file holds their indices and the sha256 of their pixels, not the images).
  One generator per case runs over the images in order. Cases (seed 7 unless said):
  cifar.py aug with {}, severity 1, severity 10/width 5/depth 2, all_ops/depth 3, width 1;
  imagenet.py aug at 32 px with alpha 0.5/severity 10/width 5/depth 2 and width 1/alpha 3;
  cifar.py aug with the Normalize(0.5) preprocess, seed 11, images 0-7; imagenet.py aug at
  224 px (image 5 resized with Image.Resampling.BICUBIC), seed 3, four draws on that image,
  severity 1 (their 16x16 centre crops are in the npz); augment_and_mix.augment_and_mix on
  images 0-11 as float32 HxWx3 in [0, 1], seed 5, alpha 0.5 (float64 CIFAR-normalized output:
  plans, channel sums and the first four outputs as float32 in the npz).
* Recorded per image: input sha256, plan, sha256 of the float32 output's bytes (CxHxW,
  C-contiguous) and its per-channel sums. numpy 2.4.6, Pillow 13.0.0, torch 2.13.0+cpu,
  Python 3.11.7 (also in the file's "meta").
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import augmix

GOLDEN = Path(__file__).parent / "golden"
DATA = json.loads((GOLDEN / "augmix_official.json").read_text())
CASES = {case["name"]: case for case in DATA["cases"]}
PIL_CASES = [name for name, case in CASES.items() if case["function"] == "aug"]
NUMPY_REFERENCE = [name for name, case in CASES.items() if case["function"] == "augment_and_mix"]


@pytest.fixture(scope="module")
def arrays():
    with np.load(GOLDEN / "augmix_official_arrays.npz") as z:
        return {k: z[k] for k in z.files}


def _sha(array) -> str:
    array = array.numpy() if isinstance(array, torch.Tensor) else array
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _input(case, record, cifar_images) -> Image.Image:
    image = Image.fromarray(cifar_images[record["image"]])
    size = case["image_size"]
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BICUBIC)
    return image


def _augmix(case) -> augmix.AugMix:
    s = case["settings"]
    kwargs = {k: s[k] for k in ("severity", "width", "depth", "alpha", "all_ops") if k in s}
    if case["preprocess"]:
        kwargs.update(mean=case["preprocess"]["mean"], std=case["preprocess"]["std"])
    return augmix.AugMix(**kwargs)


def _golden_plan(record) -> augmix.MixPlan:
    return augmix.MixPlan(
        chain_weights=np.array(record["chain_weights"], dtype=np.float32),
        skip_weight=np.float32(record["skip_weight"]),
        chains=tuple(tuple(augmix.OpCall(name, param, level) for name, param, level in chain)
                     for chain in record["chains"]))


def _assert_same_plan(got: augmix.MixPlan, record, where: str) -> None:
    expected = _golden_plan(record)
    assert got.chain_weights.dtype == np.float32, where
    np.testing.assert_array_equal(got.chain_weights, expected.chain_weights, err_msg=where)
    assert np.float32(got.skip_weight) == expected.skip_weight, where
    as_tuples = [[(c.name, c.param, c.level) for c in chain] for chain in got.chains]
    assert as_tuples == [[tuple(c) for c in chain] for chain in record["chains"]], where


class _Replay(augmix.AugMix):
    """AugMix that applies a given plan instead of drawing one."""

    def __init__(self, plan: augmix.MixPlan, **kwargs):
        super().__init__(**kwargs)
        self._plan = plan

    def sample_plan(self, image_size, rng=None):
        return self._plan


def test_golden_inputs_are_the_images_the_official_code_saw(cifar_images):
    """The images are re-decoded here; if the JPEG decoder changed, say so before anything else."""
    for case in CASES.values():
        for record in case["records"]:
            if "input_sha256" in record:
                image = _input(case, record, cifar_images)
                assert _sha(np.asarray(image)) == record["input_sha256"], (case["name"], record["image"])


@pytest.mark.parametrize("name", PIL_CASES)
def test_same_seed_same_plan_and_bit_identical_output(name, cifar_images):
    """Same generator seed in: the plan the official code drew and its float32 output, exactly."""
    case = CASES[name]
    aug = _augmix(case)
    rng = np.random.default_rng(case["seed"])
    for i, record in enumerate(case["records"]):
        where = f"{name}, record {i} (CIFAR-10 test image {record['image']})"
        result = aug.augment(_input(case, record, cifar_images), rng)
        _assert_same_plan(result.plan, record, where)
        assert result.image.dtype == torch.float32
        got = [float(s) for s in result.image.double().sum(dim=(1, 2))]
        assert _sha(result.image) == record["output_sha256"], (
            f"{where}: output differs; channel sums {got} vs official {record['output_channel_sums']}")


@pytest.mark.parametrize("name", PIL_CASES)
def test_the_official_plan_applied_gives_the_official_output(name, cifar_images):
    """The mixing alone, apart from the sampler: apply the logged plan, compare the bytes."""
    case = CASES[name]
    s = case["settings"]
    for i, record in enumerate(case["records"]):
        plan = _golden_plan(record)
        kwargs = {"width": s.get("width", 3), "all_ops": s.get("all_ops", False)}
        if case["preprocess"]:
            kwargs.update(mean=case["preprocess"]["mean"], std=case["preprocess"]["std"])
        out = _Replay(plan, **kwargs)(_input(case, record, cifar_images))
        assert _sha(out) == record["output_sha256"], f"{name}, record {i}"


def test_224_px_centre_crops_equal_the_official(arrays, cifar_images):
    """At 224 px (translation up to 74 px): the stored 16x16 centre crops, element for element."""
    case = CASES["imagenet_224_severity1"]
    aug = _augmix(case)
    rng = np.random.default_rng(case["seed"])
    crops = 0
    for i, record in enumerate(case["records"]):
        out = aug(_input(case, record, cifar_images), rng)
        assert out.shape == (3, 224, 224)
        c = 112
        np.testing.assert_array_equal(out[:, c - 8:c + 8, c - 8:c + 8].numpy(), arrays[f"{case['name']}/{i}"])
        crops += 1
    assert crops == 4
    # the four draws differ from one another (the generator advances across images)
    assert len({r["output_sha256"] for r in case["records"]}) == 4


@pytest.mark.parametrize("name", NUMPY_REFERENCE)
def test_numpy_reference_same_plan_and_close_output(name, arrays, cifar_images):
    """augment_and_mix.py draws in the same order; it mixes normalized float64 HxWxC arrays,
    so its outputs agree with AugMix(mean, std) to float32 rounding, not bit for bit."""
    case = CASES[name]
    s = case["settings"]
    aug = augmix.AugMix(severity=s["severity"], width=s["width"], depth=s["depth"], alpha=s["alpha"],
                        mean=case["preprocess"]["mean"], std=case["preprocess"]["std"])
    rng = np.random.default_rng(case["seed"])
    compared = 0
    for i, record in enumerate(case["records"]):
        where = f"{name}, record {i}"
        result = aug.augment(cifar_images[record["image"]], rng)
        _assert_same_plan(result.plan, record, where)
        sums = result.image.double().sum(dim=(1, 2)).numpy()
        np.testing.assert_allclose(sums, record["output_channel_sums"], rtol=1e-5, atol=1e-2, err_msg=where)
        key = f"{name}/{i}"
        if key in arrays:
            np.testing.assert_allclose(result.image.numpy(), arrays[key], rtol=0, atol=2e-5, err_msg=where)
            compared += 1
    assert compared == 4


def test_golden_data_is_small_and_names_its_source():
    meta = DATA["meta"]
    assert meta["source"] == "https://github.com/google-research/augmix"
    assert len(meta["commit"]) == 40
    assert sum(p.stat().st_size for p in GOLDEN.iterdir()) < 2_500_000  # all golden files: augment, -C and -P
    assert sum(len(c["records"]) for c in CASES.values()) == 24 * 7 + 8 + 4 + 12
