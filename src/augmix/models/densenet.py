"""DenseNet for 32x32 inputs (Huang et al., 2017; arXiv:1608.06993).

Three dense blocks joined by transitions (BN-ReLU-conv1x1 to
floor(reduction * channels), 2x2 average pool). With `bottleneck` each layer is
BN-ReLU-conv1x1 (4k) then BN-ReLU-conv3x3 (k) and a block has (depth - 4) / 6
layers; without, one BN-ReLU-conv3x3 and (depth - 4) / 3 layers.
DenseNet-BC-100-12 (bottleneck, reduction 0.5) has about 0.77M parameters.

The AugMix repository's `densenet100_12` passes `bottleneck=False` (32
single layers per block, about 4.1M parameters) although the paper says
DenseNet-BC; both are registered (see `augmix.models.MODELS`).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from augmix.models.init import he_init


class _Bottleneck(nn.Module):
    def __init__(self, channels: int, growth: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat((x, out), 1)


class _Single(nn.Module):
    def __init__(self, channels: int, growth: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((x, self.conv1(F.relu(self.bn1(x)))), 1)


class _Transition(nn.Module):
    def __init__(self, channels: int, out_channels: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.conv1(F.relu(self.bn1(x))), 2)


class DenseNet(nn.Module):
    """DenseNet(-BC) with growth rate `growth` and `depth` layers for 32x32 images."""

    def __init__(self, depth: int = 100, growth: int = 12, reduction: float = 0.5,
                 bottleneck: bool = True, num_classes: int = 10):
        super().__init__()
        per_layer = 6 if bottleneck else 3
        if depth < 4 + per_layer or (depth - 4) % per_layer:
            raise ValueError(f"depth must be {per_layer}n + 4 with n >= 1 for "
                             f"bottleneck={bottleneck}, got {depth}")
        if not 0 < reduction <= 1:
            raise ValueError(f"reduction must be in (0, 1], got {reduction}")
        n = (depth - 4) // per_layer
        layer = _Bottleneck if bottleneck else _Single
        channels = 2 * growth
        self.conv1 = nn.Conv2d(3, channels, 3, padding=1, bias=False)
        modules: dict[str, nn.Module] = {}
        for block in (1, 2, 3):
            layers = []
            for _ in range(n):
                layers.append(layer(channels, growth))
                channels += growth
            modules[f"dense{block}"] = nn.Sequential(*layers)
            if block < 3:
                out_channels = int(math.floor(channels * reduction))
                modules[f"trans{block}"] = _Transition(channels, out_channels)
                channels = out_channels
        self.dense1, self.trans1 = modules["dense1"], modules["trans1"]
        self.dense2, self.trans2 = modules["dense2"], modules["trans2"]
        self.dense3 = modules["dense3"]
        self.bn1 = nn.BatchNorm2d(channels)
        self.fc = nn.Linear(channels, num_classes)
        he_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.trans1(self.dense1(self.conv1(x)))
        out = self.trans2(self.dense2(out))
        out = F.relu(self.bn1(self.dense3(out)))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))
