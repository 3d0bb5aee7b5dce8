"""ResNeXt-29 for 32x32 inputs (Xie et al., 2017; arXiv:1611.05431).

A 3x3 stem of 64, three stages of (depth - 2) / 9 bottleneck blocks
(1x1 reduce to `cardinality` groups of `base_width * planes / 64` channels,
grouped 3x3, 1x1 expand to 4 * planes) at planes 64, 128, 256, projection
shortcuts where the shape changes, an 8x8 average pool and a linear layer.

The AugMix paper's "ResNeXt-29 (32x4d)" is, in its code, `resnext29()` with
`cardinality=4, base_width=32` (the numbers swapped relative to the name):
about 6.8M parameters, registered as `resnext-29-32x4d`. The ResNeXt paper's
literal 32 groups of 4 channels (about 4.8M) is `resnext-29-32x4d-literal`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from augmix.models.init import he_init


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes: int, planes: int, cardinality: int, base_width: int,
                 stride: int):
        super().__init__()
        width = planes * base_width // 64 * cardinality
        self.conv_reduce = nn.Conv2d(in_planes, width, 1, bias=False)
        self.bn_reduce = nn.BatchNorm2d(width)
        self.conv_conv = nn.Conv2d(width, width, 3, stride, 1, groups=cardinality, bias=False)
        self.bn = nn.BatchNorm2d(width)
        self.conv_expand = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn_expand = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride != 1 or in_planes != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(in_planes, planes * 4, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes * 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn_reduce(self.conv_reduce(x)))
        out = F.relu(self.bn(self.conv_conv(out)))
        out = self.bn_expand(self.conv_expand(out))
        residual = x if self.downsample is None else self.downsample(x)
        return F.relu(residual + out)


class CifarResNeXt(nn.Module):
    """ResNeXt-`depth` with `cardinality` groups of width `base_width` (at planes 64)."""

    def __init__(self, depth: int = 29, cardinality: int = 4, base_width: int = 32,
                 num_classes: int = 10):
        super().__init__()
        if depth < 11 or (depth - 2) % 9:
            raise ValueError(f"depth must be 9n + 2 with n >= 1 (11, 20, 29, ...), got {depth}")
        if cardinality < 1 or base_width < 1:
            raise ValueError(f"cardinality and base_width must be >= 1, got {cardinality}, {base_width}")
        n = (depth - 2) // 9
        self.conv_1_3x3 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn_1 = nn.BatchNorm2d(64)
        in_planes, stages = 64, []
        for planes, stride in ((64, 1), (128, 2), (256, 2)):
            blocks = []
            for i in range(n):
                blocks.append(_Bottleneck(in_planes, planes, cardinality, base_width,
                                          stride if i == 0 else 1))
                in_planes = planes * 4
            stages.append(nn.Sequential(*blocks))
        self.stage_1, self.stage_2, self.stage_3 = stages
        self.classifier = nn.Linear(in_planes, num_classes)
        he_init(self)
        nn.init.kaiming_normal_(self.classifier.weight)  # as the reference code

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn_1(self.conv_1_3x3(x)))
        out = self.stage_3(self.stage_2(self.stage_1(out)))
        return self.classifier(F.adaptive_avg_pool2d(out, 1).flatten(1))
