"""BatchAugMix: the per-image recipe per sample, reproducibility, the data set mode.

The draws' statistics (both engines) are in test_plan.py."""
import io
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

import augmix.augment.plan as plan_module
from augmix import AugMix, AugMixDataset, BatchAugMix
from augmix._util.convert import image_to_tensor
from augmix.augment.augmix import mix
from augmix.augment.ops import tensor as tensor_ops
from augmix.augment.plan import ALL_OPS, PARAMETERLESS_OPS, sample_batch_plan

P_MIN = 1e-3  # fixed seeds: deterministic tests, the threshold only guards the model


def _nchw(arrays):
    return torch.from_numpy(np.ascontiguousarray(arrays)).permute(0, 3, 1, 2).contiguous()


def _batch_plan(n, seed=0, size=(32, 32), **kwargs):
    return sample_batch_plan(torch.Generator().manual_seed(seed), n, size, **kwargs)


def _calls(plan):
    return [c for p in plan.to_mix_plans() for chain in p.chains for c in chain]


@pytest.mark.parametrize("kwargs", [{}, {"all_ops": True}, {"severity": 10, "width": 4, "depth": 2}])
def test_same_plan_same_result_as_the_per_image_path(kwargs, cifar_images):
    """Given the same draws, the tensor ops (the engine on GPUs, and for float input) equal
    per-image `mix` up to the ops' rare one-level differences (the CPU kernel: test_batch_cpu)."""
    augmix = BatchAugMix(seed=0, compiled=False, **kwargs)
    plan = augmix.sample_plan(len(cifar_images), (32, 32))
    got = augmix.apply_plan(_nchw(cifar_images), plan)
    expected = torch.stack([mix(Image.fromarray(a), p, image_to_tensor).image
                            for a, p in zip(cifar_images, plan.to_mix_plans())])
    diff = (got - expected).abs() * 255
    assert got.dtype == torch.float32 and got.shape == expected.shape
    assert diff.max() <= 1 and diff.mean() < 0.01


def test_non_square_images_follow_the_per_image_path(cifar_images):
    """Translation ranges and the rotation centre follow each axis, as per image."""
    arrays = np.stack([np.asarray(Image.fromarray(a).resize((40, 24))) for a in cifar_images[:32]])
    augmix = BatchAugMix(seed=2, severity=10, compiled=False)
    plan = augmix.sample_plan(32, (40, 24))
    got = augmix.apply_plan(_nchw(arrays), plan)
    expected = torch.stack([mix(Image.fromarray(a), p, image_to_tensor).image
                            for a, p in zip(arrays, plan.to_mix_plans())])
    assert got.shape == (32, 3, 24, 40)
    assert (got - expected).abs().max() * 255 <= 1


def _real_images(cifar_npz, n):
    blob, offsets = cifar_npz["train_jpeg"], cifar_npz["train_offsets"]
    return np.stack([np.asarray(Image.open(io.BytesIO(blob[offsets[i]:offsets[i + 1]].tobytes()))
                                .convert("RGB")) for i in range(n)])


@pytest.mark.parametrize("views,tolerance", [
    (1500, 0.05), pytest.param(10000, 0.02, marks=pytest.mark.slow)])
def test_change_statistics_match_the_per_image_path(views, tolerance, cifar_npz):
    """Mean and std of |aug - clean| over many views agree with the per-image path."""
    images = _real_images(cifar_npz, views)
    batched = BatchAugMix(seed=0)(_nchw(images))
    per_image = AugMix(seed=0)
    reference = torch.stack([per_image(a) for a in images])
    clean = _nchw(images).float() / 255
    ours, theirs = (batched - clean).abs(), (reference - clean).abs()
    assert abs(ours.mean() / theirs.mean() - 1) < tolerance
    assert abs(ours.std() / theirs.std() - 1) < tolerance


def test_copies_of_one_image_get_different_views(cifar_images):
    x = _nchw(cifar_images[:1]).expand(256, -1, -1, -1).contiguous()
    out = BatchAugMix(seed=0)(x).flatten(1)
    _, counts = torch.unique(out, dim=0, return_counts=True)
    equal_pairs = int((counts * (counts - 1) // 2).sum())
    assert 1 - equal_pairs / (256 * 255 // 2) >= 0.95


def test_seeded_generator_repeats_and_seeds_differ(cifar_images):
    x = _nchw(cifar_images[:32])
    a = BatchAugMix(generator=torch.Generator().manual_seed(4)).jsd_views(x)
    b = BatchAugMix(generator=torch.Generator().manual_seed(4)).jsd_views(x)
    c = BatchAugMix(seed=5).jsd_views(x)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_a_generator_per_call(cifar_images):
    """The training loop passes its own generator per step: same seed, same output."""
    x = _nchw(cifar_images[:16])
    engine = BatchAugMix(seed=9)
    first = engine(x, generator=torch.Generator().manual_seed(1))
    assert torch.equal(first, BatchAugMix(seed=1)(x))
    assert torch.equal(engine.jsd_views(x, torch.Generator().manual_seed(1)),
                       BatchAugMix(seed=1).jsd_views(x))


@pytest.mark.parametrize("compiled", [False, None])
def test_threads_do_not_change_the_result(compiled, cifar_images):
    x = _nchw(cifar_images)
    one = BatchAugMix(seed=3, threads=1, compiled=compiled)
    plan = one.sample_plan(64, (32, 32))
    three = BatchAugMix(seed=3, threads=3, compiled=compiled)
    assert torch.equal(one.apply_plan(x, plan), three.apply_plan(x, plan))


def test_each_op_runs_only_on_the_samples_that_drew_it(cifar_images, monkeypatch):
    rows = Counter()
    for name in ALL_OPS:
        original = getattr(tensor_ops, name)

        def counting(images, *args, _original=original, _name=name, **kwargs):
            rows[_name] += images.shape[0]
            return _original(images, *args, **kwargs)
        monkeypatch.setattr(tensor_ops, name, counting)
    augmix = BatchAugMix(seed=1, all_ops=True, compiled=False)  # the CPU kernel works per sample anyway
    plan = augmix.sample_plan(64, (32, 32))
    augmix.apply_plan(_nchw(cifar_images), plan)
    drawn = Counter(c.name for c in _calls(plan))
    assert rows == drawn
    assert sum(rows.values()) < 64 * 3 * 3  # far fewer than every op on every image


def test_outputs_range_normalization_and_jsd_layout(cifar_images):
    x = _nchw(cifar_images[:16])
    out = BatchAugMix(seed=0)(x)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert 0 <= out.min() and out.max() <= 1
    assert (out * 255 - (out * 255).round()).abs().max() > 1e-3  # mixed in float, not re-quantized
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    normalized = BatchAugMix(seed=0, mean=mean, std=std)(x)
    expected = (out - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    assert torch.allclose(normalized, expected, atol=1e-5)
    views = BatchAugMix(seed=0).jsd_views(x)
    assert views.shape == (48, 3, 32, 32)
    assert torch.equal(views[:16], x.float() / 255)
    assert not torch.equal(views[16:32], views[32:])
    assert BatchAugMix(seed=0)(x.float() / 255).shape == x.shape
    grey = _nchw(cifar_images[:4, :, :, :1])
    assert BatchAugMix(seed=0)(grey).shape == (4, 1, 32, 32)


@pytest.mark.parametrize("kwargs,argument", [
    ({"severity": 0}, "severity"), ({"width": 0}, "width"), ({"depth": 0}, "depth"),
    ({"alpha": -1.0}, "alpha"), ({"mean": (0.5,)}, "mean and std"),
    ({"seed": 1, "generator": torch.Generator()}, "seed"),
    ({"generator": np.random.default_rng()}, "generator"),
    ({"threads": 0}, "threads"),
])
def test_bad_parameters_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        BatchAugMix(**kwargs)


def test_bad_batches_are_rejected_clearly():
    with pytest.raises(ValueError, match="NCHW"):
        BatchAugMix(seed=0)(torch.zeros(3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match="fill"):
        BatchAugMix(seed=0, fill=(1, 2))(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))
    normalized = (torch.rand(4, 3, 8, 8) - 0.5) / 0.25  # never clamped silently
    for call in (BatchAugMix(seed=0), BatchAugMix(seed=0).jsd_views):
        with pytest.raises(ValueError, match=r"x must hold values in \[0, 1\]"):
            call(normalized)
    with pytest.raises(ValueError, match="x is empty"):
        BatchAugMix(seed=0)(torch.zeros(0, 3, 8, 8))
    with pytest.raises(TypeError, match="x must be an NCHW batch"):
        BatchAugMix(seed=0)(np.zeros((2, 3, 8, 8), np.uint8))


class _Arrays(torch.utils.data.Dataset):
    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], i


def _epoch(loader):
    views, labels = [], []
    for (clean, aug1, aug2), y in loader:
        views.append(torch.cat([clean, aug1, aug2], 1))
        labels.append(y)
    return torch.cat(views), torch.cat(labels)


def test_batched_dataset_is_reproducible_across_workers(cifar_images):
    ds = AugMixDataset(_Arrays(cifar_images[:24]), seed=2, batched=True)
    (v0, y0), (v2, y2) = (_epoch(DataLoader(ds, batch_size=8, num_workers=w)) for w in (0, 2))
    assert torch.equal(y0, y2) and torch.equal(v0, v2)
    assert v0.shape == (24, 9, 32, 32)
    assert torch.equal(v0[:, :3], _nchw(cifar_images[:24]).float() / 255)
    ds.set_epoch(1)
    assert not torch.equal(_epoch(DataLoader(ds, batch_size=8))[0], v0)
    (single, label) = AugMixDataset(_Arrays(cifar_images[:4]), jsd=False, seed=2, batched=True)[3]
    assert single.shape == (3, 32, 32) and label == 3


def test_batched_dataset_rejects_mixed_sizes_and_preprocess(cifar_images):
    images = [cifar_images[0], cifar_images[1][:16]]
    with pytest.raises(ValueError, match="one size"):
        AugMixDataset(_Arrays(images), batched=True).__getitems__([0, 1])
    with pytest.raises(ValueError, match="preprocess"):
        AugMixDataset(_Arrays(images), batched=True, preprocess=image_to_tensor)


@pytest.mark.cuda
def test_cuda_matches_cpu_for_the_same_plan(cifar_images):
    augmix = BatchAugMix(seed=0, all_ops=True)
    plan = augmix.sample_plan(64, (32, 32))
    x = _nchw(cifar_images)
    cpu = augmix.apply_plan(x, plan)
    cuda = augmix.to("cuda").apply_plan(x.cuda(), plan).cpu()
    assert (cpu - cuda).abs().max() * 255 <= 1


def test_parameterless_ops_have_no_level():
    plan = _batch_plan(200)
    for c in _calls(plan):
        assert (c.param is None) == (c.name in PARAMETERLESS_OPS)
    assert plan_module.BatchPlan is type(plan)


def test_docs_examples_run():
    doc = Path(__file__).resolve().parents[1] / "docs" / "batched.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    assert len(blocks) == 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(doc), "exec"), namespace)
    assert namespace["views"].shape == (24, 3, 32, 32) and namespace["loss"].item() > 0
    assert namespace["aug1"].shape == (32, 3, 32, 32) and namespace["rotated"].dtype == torch.uint8


TINY_DEVICE_RUN = dict(data="synthetic", model="wrn-10-1", train_subset=32, test_subset=16, epochs=2,
                       batch_size=16, eval_batch_size=16, workers=0, seed=5, augment_on="device")


def test_training_with_the_engine_in_the_step(tmp_path):
    """`augmix train --augment-on device` runs BatchAugMix inside the training step."""
    from augmix.train.checkpoint import read_checkpoint
    from augmix.train.config import make_config
    from augmix.train.trainer import train

    run = read_checkpoint(train(make_config(**TINY_DEVICE_RUN, stop_after=1), out=tmp_path / "r",
                                progress=False))
    assert run["step"] == 2 and np.isfinite(run["records"][0]["train_loss"])


@pytest.mark.slow
def test_training_with_the_engine_in_the_step_resumes_bit_identically(tmp_path):
    """The step's generator drives BatchAugMix, so a run stopped after one epoch and resumed
    matches the uninterrupted run."""
    from augmix.train.checkpoint import read_checkpoint
    from augmix.train.config import make_config, resumed_config
    from augmix.train.trainer import train

    tiny = TINY_DEVICE_RUN
    whole = read_checkpoint(train(make_config(**tiny), out=tmp_path / "whole", progress=False))
    stopped = train(make_config(**tiny, stop_after=1), out=tmp_path / "parts", progress=False)
    resumed = read_checkpoint(train(resumed_config(stopped, stop_after=2), out=stopped, resume=True,
                                    progress=False))
    assert whole["step"] == resumed["step"] == 4
    for name, tensor in whole["model_state"].items():
        assert torch.equal(tensor, resumed["model_state"][name]), name
    assert all(np.isfinite(r["train_loss"]) for r in whole["records"])


@pytest.mark.parametrize("compiled", [True, False])
def test_mean_and_std_must_fit_the_channels_and_one_value_applies_to_all(compiled):
    x = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8)
    with pytest.raises(ValueError, match="mean and std have 4 values but the images have 3 channels"):
        BatchAugMix(seed=0, compiled=compiled, mean=(0.5,) * 4, std=(1,) * 4)(x)
    one = BatchAugMix(seed=0, compiled=compiled, mean=(0.5,), std=(0.25,))(x)
    three = BatchAugMix(seed=0, compiled=compiled, mean=(0.5,) * 3, std=(0.25,) * 3)(x)
    torch.testing.assert_close(one, three)


def test_nan_pixels_are_refused_by_name():
    x = torch.rand(2, 3, 8, 8)
    x[0, 0, 3, 3] = float("nan")
    with pytest.raises(ValueError, match="x holds NaN values"):
        BatchAugMix(seed=0)(x)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("fill", [300, -1, (0, 0, 256)])
def test_out_of_range_fill_is_refused_by_both_engines(compiled, fill):
    with pytest.raises(ValueError, match="fill must be a grey level 0..255"):
        BatchAugMix(seed=0, fill=fill, compiled=compiled)(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))
