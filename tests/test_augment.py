"""AugMix, the front end: input and output forms, errors (fidelity to the official code: test_official_golden.py).

The draws' statistics (both engines) are in test_plan.py.
"""
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import augmix
from augmix import AugMix


def test_output_type_range_and_normalization(cifar_images):
    image = cifar_images[0]
    out = AugMix(seed=0)(image)
    assert out.shape == (3, 32, 32) and out.dtype == torch.float32
    assert 0 <= out.min() and out.max() <= 1
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    normalized = AugMix(seed=0, mean=mean, std=std)(image)
    expected = (out - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    assert torch.allclose(normalized, expected, atol=1e-5)
    grey = AugMix(seed=0)(Image.fromarray(image).convert("L"))
    assert grey.shape == (1, 32, 32)


def test_mixing_is_not_requantized(cifar_images):
    out = AugMix(seed=1)(cifar_images[0]) * 255
    assert (out - out.round()).abs().max() > 1e-3


def test_same_seed_same_output_and_trace(cifar_images):
    a, b, c = AugMix(seed=5), AugMix(seed=5), AugMix(seed=6)
    outs = [[aug.augment(im) for im in cifar_images[:8]] for aug in (a, b, c)]
    for x, y, z in zip(*outs):
        assert torch.equal(x.image, y.image) and x.plan.chains == y.plan.chains
        assert len(x.chain_images) == len(x.plan.chains) == 3
    assert any(not torch.equal(x.image, z.image) for x, z in zip(outs[0], outs[2]))


def test_generator_argument(cifar_images):
    g1, g2 = np.random.default_rng(11), np.random.default_rng(11)
    assert torch.equal(AugMix(generator=g1)(cifar_images[0]), AugMix(generator=g2)(cifar_images[0]))


@pytest.mark.parametrize("kwargs,argument", [
    ({"severity": 0}, "severity"), ({"severity": 11}, "severity"), ({"severity": "3"}, "severity"),
    ({"width": 0}, "width"), ({"width": 2.5}, "width"),
    ({"depth": 0}, "depth"), ({"depth": -2}, "depth"),
    ({"alpha": 0}, "alpha"), ({"alpha": -1.0}, "alpha"),
    ({"mean": (0.5,)}, "mean and std"), ({"seed": 1, "generator": np.random.default_rng()}, "seed"),
])
def test_bad_parameters_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        AugMix(**kwargs)


@pytest.mark.parametrize("image,expected", [
    (Image.new("CMYK", (8, 8)), "mode 'CMYK'"),
    (Image.new("RGBA", (8, 8)), "mode 'RGBA'"),
    (Image.new("P", (8, 8)), "mode 'P'"),
    (np.zeros((8, 8, 3), np.float32), "dtype uint8"),
    (np.zeros((8, 8, 4), np.uint8), "shape"),
    (np.zeros((2, 8, 8, 3), np.uint8), "shape"),
])
def test_bad_images_are_rejected_clearly(image, expected):
    with pytest.raises(ValueError, match=expected):
        AugMix(seed=0)(image)


@pytest.mark.parametrize("image,error,expected", [
    (torch.rand(2, 3, 8, 8) * 2 - 0.5, ValueError, r"image must hold values in \[0, 1\].*before normalization"),
    (torch.rand(3, 8, 8) + 0.5, ValueError, r"in \[0, 1\]"),
    (torch.full((1, 3, 4, 4), float("nan")), ValueError, r"in \[0, 1\]"),
    (torch.zeros(2, 8, 8), ValueError, r"image must be a CHW image \(C, H, W\) or an NCHW batch \(N, C, H, W\) with C = 1 or 3"),
    (torch.zeros(4, 4, 8, 8), ValueError, "C = 1 or 3 channels, got shape"),
    (torch.zeros(0, 3, 8, 8, dtype=torch.uint8), ValueError, "image is empty"),
    (torch.zeros(3, 8, 8, dtype=torch.int64), ValueError, "uint8 .* or floating point .* got dtype torch.int64"),
    (torch.zeros(8, 8), ValueError, "CHW image"),
    ([[0, 1], [2, 3]], TypeError, "image must be a PIL image, an HxWxC uint8 numpy array, a CHW tensor"),
])
def test_bad_tensors_are_rejected_naming_the_argument_and_the_form(image, error, expected):
    with pytest.raises(error, match=expected):
        AugMix(seed=0)(image)


def test_every_input_form_and_its_output(cifar_images):
    """The table of the AugMix docstring, row by row."""
    array = cifar_images[0]
    pil = Image.fromarray(array)
    chw = torch.from_numpy(array).permute(2, 0, 1).contiguous()
    for image, shape in ((pil, (3, 32, 32)), (pil.convert("L"), (1, 32, 32)), (array, (3, 32, 32)),
                         (array[:, :, :1], (1, 32, 32)), (array[:, :, 0], (1, 32, 32)),
                         (chw, (3, 32, 32)), (chw.float() / 255, (3, 32, 32)), (chw[:1], (1, 32, 32)),
                         (chw[None].expand(5, -1, -1, -1), (5, 3, 32, 32)),
                         (chw[None].expand(5, -1, -1, -1).double() / 255, (5, 3, 32, 32))):
        out = AugMix(seed=0)(image)
        assert out.dtype == torch.float32 and out.shape == shape, type(image)
        assert 0 <= out.min() and out.max() <= 1


def test_batches_draw_per_sample_and_repeat_with_the_seed(cifar_images):
    x = torch.from_numpy(cifar_images[:1]).permute(0, 3, 1, 2).expand(8, -1, -1, -1).contiguous()
    out = AugMix(seed=0)(x)
    assert len({tuple(v.flatten()[:256].tolist()) for v in out}) == 8  # one draw per sample
    assert torch.equal(out, AugMix(seed=0)(x))
    assert not torch.equal(out, AugMix(seed=1)(x))
    single = AugMix(seed=0)(x[0])
    assert single.shape == (3, 32, 32)


def test_tensor_output_is_normalized_with_mean_and_std(cifar_images):
    x = torch.from_numpy(cifar_images[:4]).permute(0, 3, 1, 2).contiguous()
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    plain, normalized = AugMix(seed=2)(x), AugMix(seed=2, mean=mean, std=std)(x)
    expected = (plain - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    assert torch.allclose(normalized, expected, atol=1e-5)
    with pytest.raises(ValueError, match="preprocess takes PIL images"):
        AugMix(preprocess=lambda image: torch.zeros(3, 32, 32))(x)


def test_batch_engine_is_an_ordinary_module():
    """`BatchAugMix.apply` no longer shadows nn.Module.apply (the plan is mixed by apply_plan)."""
    seen = []
    nn.Sequential(augmix.BatchAugMix(), nn.Identity()).apply(lambda module: seen.append(type(module).__name__))
    assert seen == ["BatchAugMix", "Identity", "Sequential"]


@pytest.mark.parametrize("kwargs, match", [({"alpha": float("inf")}, "alpha must be a finite number"),
                                           ({"mean": (float("nan"), 0, 0), "std": (1, 1, 1)}, "must be finite")])
def test_augmix_refuses_non_finite_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        augmix.AugMix(**kwargs)


def test_mean_and_std_must_fit_the_channels_on_the_per_image_path():
    with pytest.raises(ValueError, match="mean and std have 4 values but the images have 3 channels"):
        AugMix(seed=0, mean=(0.5,) * 4, std=(1,) * 4)(np.zeros((8, 8, 3), np.uint8))
