"""The paper's architectures, one registry by name.

    >>> from augmix.models import create_model, list_models
    >>> model = create_model("wrn-40-2", num_classes=10, drop_rate=0.3)
    >>> list_models("resnet*")
    ['resnet-18-cifar', 'resnet-50', 'resnet-50-blurpool']

`MODELS` maps each name to its builder, the input size it is designed for and
a one-line description. Wide ResNets of any depth and width are also accepted
as `wrn-DEPTH-WIDTH` (e.g. `wrn-16-2` for small runs). Keyword arguments of
`create_model` go to the architecture (e.g. `drop_rate` of a Wide ResNet,
`filter_size` of the BlurPool ResNet-50).
"""
from __future__ import annotations

import fnmatch
import inspect
import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

from torch import nn

from augmix._util import validate
from augmix.models.allconv import AllConvNet
from augmix.models.blurpool import BlurPool
from augmix.models.densenet import DenseNet
from augmix.models.resnet import ResNet, resnet18_cifar, resnet50, resnet50_blurpool
from augmix.models.resnext import CifarResNeXt
from augmix.models.wrn import WideResNet

MAX_CLASSES = 2**20  # ImageNet-21k has 21,841


@dataclass(frozen=True)
class ModelSpec:
    """How to build one registered architecture: `build(num_classes=K, **kwargs)`."""
    build: Callable[..., nn.Module]
    image_size: int
    description: str

    def options(self) -> list[str]:
        """The keyword arguments `build` takes besides `num_classes`."""
        return [name for name in inspect.signature(self.build).parameters if name != "num_classes"]


MODELS: dict[str, ModelSpec] = {
    "wrn-40-2": ModelSpec(partial(WideResNet, 40, 2), 32,
                          "Wide ResNet 40-2, the AugMix paper's main CIFAR model (~2.24M)"),
    "allconv": ModelSpec(AllConvNet, 32, "AllConvNet as in the AugMix code (~1.4M)"),
    "densenet-bc-100-12": ModelSpec(partial(DenseNet, 100, 12, 0.5, True), 32,
                                    "DenseNet-BC, depth 100, growth 12 (~0.77M)"),
    "densenet-100-12-augmix-code": ModelSpec(
        partial(DenseNet, 100, 12, 0.5, False), 32,
        "the AugMix repository's densenet100_12: no bottleneck, compression 0.5 (~4.1M)"),
    "resnext-29-32x4d": ModelSpec(partial(CifarResNeXt, 29, 4, 32), 32,
                                  "ResNeXt-29 as the AugMix code builds it: 4 groups of 32 (~6.8M)"),
    "resnext-29-32x4d-literal": ModelSpec(partial(CifarResNeXt, 29, 32, 4), 32,
                                          "ResNeXt-29 with 32 groups of 4 channels"),
    "resnet-18-cifar": ModelSpec(resnet18_cifar, 32, "ResNet-18 with a 3x3 stem for 32x32 (~11.2M)"),
    "resnet-50": ModelSpec(resnet50, 224, "ResNet-50 for ImageNet, torchvision layout (~25.6M)"),
    "resnet-50-blurpool": ModelSpec(
        resnet50_blurpool, 224, "ResNet-50 with anti-aliased (MaxBlurPool) downsampling, filter "
        "[1,3,3,1]: Zhang, ICML 2019; adobe/antialiased-cnns resnet50 (~25.6M)"),
}

_WRN = re.compile(r"wrn-(\d+)-(\d+)")


def list_models(pattern: str | None = None) -> list[str]:
    """Names of the registered architectures, sorted; only those matching the fnmatch
    `pattern` (e.g. "wrn*", "*blurpool") when given. Any wrn-DEPTH-WIDTH builds too."""
    names = sorted(MODELS)
    return names if pattern is None else fnmatch.filter(names, pattern)


def model_names() -> list[str]:
    return list_models()


def model_spec(name: str) -> ModelSpec:
    """The registered spec for `name`, or a Wide ResNet `wrn-DEPTH-WIDTH`."""
    if name in MODELS:
        return MODELS[name]
    match = _WRN.fullmatch(name) if isinstance(name, str) else None
    if match:
        depth, width = int(match[1]), int(match[2])
        WideResNet(depth, width, 1)  # validates depth and width with a clear error
        return ModelSpec(partial(WideResNet, depth, width), 32, f"Wide ResNet {depth}-{width}")
    raise ValueError(f"unknown model {name!r}; expected one of {list_models()} or wrn-DEPTH-WIDTH")


def create_model(name: str, num_classes: int, **kwargs: Any) -> nn.Module:
    """Build architecture `name` with a `num_classes`-way classifier (fresh weights);
    `kwargs` go to the architecture (ValueError naming any it does not take)."""
    validate.integer(num_classes, "num_classes", low=2, high=MAX_CLASSES)
    spec = model_spec(name)
    unknown = sorted(set(kwargs) - set(spec.options()))
    if unknown:
        raise ValueError(f"model {name!r} takes no argument {unknown[0]!r}; its arguments besides "
                         f"num_classes: {spec.options() or 'none'}")
    return spec.build(num_classes=num_classes, **kwargs)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["MODELS", "ModelSpec", "AllConvNet", "BlurPool", "CifarResNeXt", "DenseNet", "ResNet",
           "WideResNet", "count_parameters", "create_model", "list_models", "model_names",
           "model_spec"]
