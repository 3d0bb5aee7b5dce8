"""Model registry: parameter counts against the literature, shapes, clear errors."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from augmix.models import MODELS, BlurPool, count_parameters, create_model, model_names

# Exact counts for 10 classes (1000 for ResNet-50), checked against the literature:
# WRN-40-2 2.2M (Zagoruyko & Komodakis, Table 1 / the AugMix code), DenseNet-BC-100-12 0.8M
# (Huang et al., Table 2), ResNeXt-29 as built by the AugMix code 6.8M, ResNet-50 25.557M
# (torchvision's resnet50; BlurPool adds no parameters).
LITERATURE = {
    "wrn-40-2": (2_243_546, 2.2e6),
    "densenet-bc-100-12": (769_162, 0.8e6),
    "resnext-29-32x4d": (6_807_882, 6.8e6),
    "resnet-50": (25_557_032, 25.6e6),
    "resnet-50-blurpool": (25_557_032, 25.6e6),
}


@pytest.mark.parametrize("name", sorted(LITERATURE))
def test_parameter_counts_match_the_literature(name):
    exact, published = LITERATURE[name]
    n = count_parameters(create_model(name, 1000 if name.startswith("resnet-50") else 10))
    assert n == exact
    assert abs(n - published) / published < 0.05


def test_wrn_general_depth_and_width():
    small = create_model("wrn-16-2", 10)
    assert count_parameters(small) < count_parameters(create_model("wrn-40-2", 10))
    # wrn-40-2 by the general rule is the registered model.
    assert count_parameters(create_model("wrn-40-2", 100)) == 2_243_546 + 90 * 129


@pytest.mark.parametrize("name", [n for n in model_names() if MODELS[n].image_size == 32])
def test_cifar_models_classify_32x32_images(name):
    torch.manual_seed(0)
    model = create_model(name, 7).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 32, 32))
    assert out.shape == (1, 7) and torch.isfinite(out).all()


def test_every_parameter_gets_a_gradient():
    model = create_model("wrn-10-1", 3)
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name", ["resnet-50", "resnet-50-blurpool"])
def test_resnet50_forward_on_a_small_image(name):
    model = create_model(name, 5).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 5)


def test_resnet50_uses_torchvision_parameter_names():
    keys = set(create_model("resnet-50", 1000).state_dict())
    for key in ("conv1.weight", "bn1.running_mean", "layer1.0.downsample.0.weight",
                "layer4.2.conv3.weight", "fc.bias"):
        assert key in keys


def test_same_seed_same_weights():
    torch.manual_seed(3)
    a = create_model("wrn-16-2", 10).state_dict()
    torch.manual_seed(3)
    b = create_model("wrn-16-2", 10).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("name, message", [
    ("vgg-16", "unknown model 'vgg-16'"),
    ("wrn-41-2", "depth must be 6n \\+ 4"),
])
def test_bad_names_are_clear(name, message):
    with pytest.raises(ValueError, match=message):
        create_model(name, 10)


def test_bad_num_classes():
    with pytest.raises(ValueError, match="num_classes"):
        create_model("allconv", 1)


@pytest.mark.parametrize("size, row", [(1, [1]), (3, [1, 2, 1]), (4, [1, 3, 3, 1]),
                                       (5, [1, 4, 6, 4, 1])])
def test_blurpool_filter_is_the_normalized_binomial(size, row):
    row = torch.tensor(row, dtype=torch.float32)
    expected = torch.outer(row, row) / row.sum() ** 2
    filt = BlurPool(3, size).filt
    assert filt.shape == (3, 1, size, size)
    assert torch.allclose(filt, expected.expand(3, 1, size, size))


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("height, width", [(8, 8), (7, 9), (6, 5)])
def test_blurpool_halves_odd_and_even_sizes_and_keeps_constants(size, height, width):
    image = torch.full((2, 3, height, width), 0.7)
    out = BlurPool(3, size)(image)
    assert out.shape == (2, 3, math.ceil(height / 2), math.ceil(width / 2))
    assert torch.allclose(out, torch.full_like(out, 0.7))


def test_blurpool_low_pass_filters_before_subsampling():
    # A one-pixel checkerboard aliases to a constant under plain stride-2 subsampling;
    # blurred with [1, 2, 1] first, it averages out to its mean.
    checkerboard = (torch.arange(8)[:, None] + torch.arange(8)).remainder(2).float()[None, None]
    assert torch.equal(checkerboard[..., ::2, ::2], torch.zeros(1, 1, 4, 4))
    assert torch.allclose(BlurPool(1, 3)(checkerboard), torch.full((1, 1, 4, 4), 0.5))


@pytest.mark.parametrize("args", [(0, 3, 2), (4, 0, 2), (4, 3, 0), (4, 2.5, 2)])
def test_blurpool_bad_arguments(args):
    with pytest.raises(ValueError, match="must be an int >= 1"):
        BlurPool(*args)


def test_blurpool_resnet50_downsamples_only_by_blurring():
    """The reference's layout: the stem conv stays strided, every other downsampling is a
    stride-1 conv or pool followed by a BlurPool, and the module names match its weights."""
    model = create_model("resnet-50-blurpool", 1000)
    strided = [name for name, m in model.named_modules()
               if isinstance(m, (nn.Conv2d, nn.MaxPool2d)) and m.stride not in (1, (1, 1))]
    assert strided == ["conv1"]
    blurs = {name: m for name, m in model.named_modules() if isinstance(m, BlurPool)}
    assert sorted(blurs) == sorted(["maxpool.1"] + [f"layer{i}.0.{part}" for i in (2, 3, 4)
                                                    for part in ("conv3.0", "downsample.0")])
    assert all(m.stride == 2 and m.filt.shape[-1] == 4 for m in blurs.values())
    assert model.maxpool[0].kernel_size == 2
    keys = set(model.state_dict())
    for key in ("maxpool.1.filt", "layer2.0.conv3.1.weight", "layer2.0.downsample.1.weight",
                "layer2.0.downsample.2.running_var", "layer1.0.downsample.0.weight"):
        assert key in keys


def test_create_model_passes_keyword_arguments_to_the_architecture():
    torch.manual_seed(0)
    plain = create_model("wrn-16-2", 10)
    torch.manual_seed(0)
    dropped = create_model("wrn-16-2", 10, drop_rate=0.3)
    assert count_parameters(plain) == count_parameters(dropped)
    assert {m.drop_rate for m in dropped.modules() if hasattr(m, "drop_rate")} == {0.3}
    assert create_model("resnet-50-blurpool", 5, filter_size=3).maxpool[1].filt.shape[-1] == 3


def test_unknown_keyword_argument_is_named():
    with pytest.raises(ValueError, match="'allconv' takes no argument 'drop_rate'"):
        create_model("allconv", 10, drop_rate=0.3)
    with pytest.raises(ValueError, match="takes no argument 'colour'.*none"):
        create_model("resnet-50", 10, colour="red")


def test_list_models_with_and_without_a_pattern():
    from augmix.models import list_models

    assert list_models() == sorted(MODELS) == model_names()
    assert list_models("resnet-50*") == ["resnet-50", "resnet-50-blurpool"]
    assert list_models("*blurpool") == ["resnet-50-blurpool"]
    assert list_models("vgg*") == []
