"""AllConvNet (Springenberg et al., 2015; arXiv:1412.6806) as the AugMix code builds it.

Three 3x3 convs of 96, max-pool and dropout 0.5, three 3x3 convs of 192,
max-pool and dropout 0.5, an unpadded 3x3 conv and two "network in network"
1x1 convs, then an 8x8 average pool and a linear classifier; every conv is
followed by BatchNorm and GELU (the sigmoid approximation x * sigmoid(1.702 x)).
Faithful to the official `allconv.py`, including its 1x1 convs with padding 1
(the map grows 6 -> 8 -> 10 before the pool) and conv biases. About 1.4M
parameters.
"""
from __future__ import annotations

import torch
from torch import nn

from augmix.models.init import he_init


class GELU(nn.Module):
    """x * sigmoid(1.702 x): the GELU approximation the AugMix code uses."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(1.702 * x) * x


def _conv(in_channels: int, out_channels: int, kernel: int, padding: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, kernel, padding=padding),
            nn.BatchNorm2d(out_channels), GELU()]


class AllConvNet(nn.Module):
    """The AugMix paper's AllConvNet for 32x32 images."""

    def __init__(self, num_classes: int = 10, width1: int = 96, width2: int = 192):
        super().__init__()
        layers: list[nn.Module] = []
        layers += _conv(3, width1, 3, 1) + _conv(width1, width1, 3, 1) + _conv(width1, width1, 3, 1)
        layers += [nn.MaxPool2d(2, 2), nn.Dropout(0.5)]
        layers += _conv(width1, width2, 3, 1) + _conv(width2, width2, 3, 1) + _conv(width2, width2, 3, 1)
        layers += [nn.MaxPool2d(2, 2), nn.Dropout(0.5)]
        layers += _conv(width2, width2, 3, 0) + _conv(width2, width2, 1, 1) + _conv(width2, width2, 1, 1)
        layers += [nn.AvgPool2d(8)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width2, num_classes)
        he_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))
