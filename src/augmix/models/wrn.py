"""Wide residual networks for 32x32 inputs (Zagoruyko & Komodakis, 2016; arXiv:1605.07146).

WRN-d-k: pre-activation basic blocks (BN-ReLU-conv3x3, twice) in three stages
of 16k, 32k, 64k channels, (d - 4) / 6 blocks per stage, a 1x1 projection
shortcut where the width or stride changes. The AugMix paper trains WRN-40-2
(about 2.24M parameters on CIFAR-10) with no dropout.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from augmix.models.init import he_init


class _Block(nn.Module):
    def __init__(self, in_planes: int, out_planes: int, stride: int, drop_rate: float):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.drop_rate = drop_rate
        self.shortcut = (None if in_planes == out_planes and stride == 1
                         else nn.Conv2d(in_planes, out_planes, 1, stride, 0, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = F.relu(self.bn1(x))
        # The projection shortcut takes the pre-activated input, as in the reference code.
        residual = x if self.shortcut is None else self.shortcut(pre)
        out = self.conv1(pre)
        out = F.relu(self.bn2(out))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        return residual + self.conv2(out)


class WideResNet(nn.Module):
    """WRN-`depth`-`widen_factor` for 32x32 images; `depth` = 6n + 4."""

    def __init__(self, depth: int = 40, widen_factor: int = 2, num_classes: int = 10,
                 drop_rate: float = 0.0):
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, 40, ...), got {depth}")
        if widen_factor < 1:
            raise ValueError(f"widen_factor must be >= 1, got {widen_factor}")
        n = (depth - 4) // 6
        widths = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        stages = []
        for stage, stride in enumerate((1, 2, 2)):
            blocks = [_Block(widths[stage] if i == 0 else widths[stage + 1], widths[stage + 1],
                             stride if i == 0 else 1, drop_rate) for i in range(n)]
            stages.append(nn.Sequential(*blocks))
        self.block1, self.block2, self.block3 = stages
        self.bn = nn.BatchNorm2d(widths[3])
        self.fc = nn.Linear(widths[3], num_classes)
        he_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = F.relu(self.bn(out))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.fc(out)
