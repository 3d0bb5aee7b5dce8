"""The paper's architectures, one registry by name.

    >>> from augmix.models import create_model
    >>> model = create_model("wrn-40-2", num_classes=10)

`MODELS` maps each name to its builder, the input size it is designed for and
a one-line description. Wide ResNets of any depth and width are also accepted
as `wrn-DEPTH-WIDTH` (e.g. `wrn-16-2` for small runs).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from torch import nn

from augmix.models.allconv import AllConvNet
from augmix.models.blurpool import BlurPool
from augmix.models.densenet import DenseNet
from augmix.models.resnet import ResNet, resnet18_cifar, resnet50, resnet50_blurpool
from augmix.models.resnext import CifarResNeXt
from augmix.models.wrn import WideResNet


@dataclass(frozen=True)
class ModelSpec:
    """How to build one registered architecture."""
    build: Callable[[int], nn.Module]
    image_size: int
    description: str


MODELS: dict[str, ModelSpec] = {
    "wrn-40-2": ModelSpec(lambda k: WideResNet(40, 2, k), 32,
                          "Wide ResNet 40-2, the AugMix paper's main CIFAR model (~2.24M)"),
    "allconv": ModelSpec(lambda k: AllConvNet(k), 32, "AllConvNet as in the AugMix code (~1.4M)"),
    "densenet-bc-100-12": ModelSpec(lambda k: DenseNet(100, 12, 0.5, True, k), 32,
                                    "DenseNet-BC, depth 100, growth 12 (~0.77M)"),
    "densenet-100-12-augmix-code": ModelSpec(
        lambda k: DenseNet(100, 12, 0.5, False, k), 32,
        "the AugMix repository's densenet100_12: no bottleneck, compression 0.5 (~4.1M)"),
    "resnext-29-32x4d": ModelSpec(lambda k: CifarResNeXt(29, 4, 32, k), 32,
                                  "ResNeXt-29 as the AugMix code builds it: 4 groups of 32 (~6.8M)"),
    "resnext-29-32x4d-literal": ModelSpec(lambda k: CifarResNeXt(29, 32, 4, k), 32,
                                          "ResNeXt-29 with 32 groups of 4 channels"),
    "resnet-18-cifar": ModelSpec(resnet18_cifar, 32, "ResNet-18 with a 3x3 stem for 32x32 (~11.2M)"),
    "resnet-50": ModelSpec(resnet50, 224, "ResNet-50 for ImageNet, torchvision layout (~25.6M)"),
    "resnet-50-blurpool": ModelSpec(
        resnet50_blurpool, 224, "ResNet-50 with anti-aliased (MaxBlurPool) downsampling, filter "
        "[1,3,3,1]: Zhang, ICML 2019; adobe/antialiased-cnns resnet50 (~25.6M)"),
}

_WRN = re.compile(r"wrn-(\d+)-(\d+)")


def model_names() -> list[str]:
    return sorted(MODELS)


def model_spec(name: str) -> ModelSpec:
    """The registered spec for `name`, or a Wide ResNet `wrn-DEPTH-WIDTH`."""
    if name in MODELS:
        return MODELS[name]
    match = _WRN.fullmatch(name) if isinstance(name, str) else None
    if match:
        depth, width = int(match[1]), int(match[2])
        WideResNet(depth, width, 1)  # validates depth and width with a clear error
        return ModelSpec(lambda k: WideResNet(depth, width, k), 32, f"Wide ResNet {depth}-{width}")
    raise ValueError(f"unknown model {name!r}; expected one of {model_names()} or wrn-DEPTH-WIDTH")


def create_model(name: str, num_classes: int) -> nn.Module:
    """Build architecture `name` with a `num_classes`-way classifier (fresh weights)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
    return model_spec(name).build(num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["MODELS", "ModelSpec", "AllConvNet", "BlurPool", "CifarResNeXt", "DenseNet", "ResNet",
           "WideResNet", "count_parameters", "create_model", "model_names", "model_spec"]
