"""Weight initialization shared by the CIFAR models (as in their reference code)."""
from __future__ import annotations

import math

from torch import nn


def he_init(model: nn.Module) -> None:
    """Convs ~ N(0, 2 / (k*k*out_channels)), BatchNorm weight 1 / bias 0, Linear bias 0.

    The fan-out He initialization the WRN, DenseNet, ResNeXt and AllConvNet
    reference implementations use; conv biases and Linear weights keep PyTorch's
    defaults, as there.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)
