"""Model registry: parameter counts against the literature, shapes, clear errors."""
from __future__ import annotations

import pytest
import torch

from augmix.models import MODELS, count_parameters, create_model, model_names

# Exact counts for 10 classes (1000 for ResNet-50), checked against the literature:
# WRN-40-2 2.2M (Zagoruyko & Komodakis, Table 1 / the AugMix code), DenseNet-BC-100-12 0.8M
# (Huang et al., Table 2), ResNeXt-29 as built by the AugMix code 6.8M, ResNet-50 25.557M
# (torchvision's resnet50).
LITERATURE = {
    "wrn-40-2": (2_243_546, 2.2e6),
    "densenet-bc-100-12": (769_162, 0.8e6),
    "resnext-29-32x4d": (6_807_882, 6.8e6),
    "resnet-50": (25_557_032, 25.6e6),
}


@pytest.mark.parametrize("name", sorted(LITERATURE))
def test_parameter_counts_match_the_literature(name):
    exact, published = LITERATURE[name]
    n = count_parameters(create_model(name, 1000 if name == "resnet-50" else 10))
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


def test_resnet50_forward_on_a_small_image():
    model = create_model("resnet-50", 5).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 5)


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
