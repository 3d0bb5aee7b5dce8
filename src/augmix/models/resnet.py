"""ResNets (He et al., 2016; arXiv:1512.03385): ResNet-50 for ImageNet, ResNet-18 for CIFAR.

Parameter names follow torchvision's `resnet*` (conv1, bn1, layer1..4 with
`downsample.0/1`, fc), so torchvision checkpoints, including the released
AugMix ImageNet ResNet-50, load with `load_state_dict` (strip a DataParallel
`module.` prefix first). The bottleneck strides in its 3x3 conv ("ResNet v1.5",
as torchvision). The CIFAR variant replaces the 7x7/2 stem and max-pool by one
3x3/1 conv, the usual choice for 32x32 inputs (e.g. PRIME's ResNet-18 numbers).
ResNet-50 has 25,557,032 parameters with 1000 classes; CIFAR ResNet-18 about 11.2M.

`blur=FILTER_SIZE` builds the anti-aliased ("MaxBlurPool") variant of Zhang (ICML 2019),
laid out as adobe/antialiased-cnns `antialiased_cnns/resnet.py` with `pool_only=True`:
the 7x7/2 stem conv stays strided; the max-pool becomes MaxPool(2, stride 1) then
BlurPool; a strided 3x3 conv becomes its stride-1 version, and a BlurPool (stride 2)
goes after its BN and ReLU, in front of the next conv (`conv3.0` in a bottleneck,
`conv2.0` in a basic block); the projection shortcut is BlurPool then a 1x1/1 conv.
Module names match the reference's, so its released weights load. BlurPool has no
parameters: the count equals the plain model's.
"""
from __future__ import annotations

import torch
from torch import nn

from augmix.models.blurpool import BlurPool


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1, blur: int | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, 1 if blur else stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _blurred(nn.Conv2d(planes, planes, 3, 1, 1, bias=False), planes, stride, blur)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _projection(in_planes, planes, stride, blur)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1, blur: int | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1 if blur else stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _blurred(nn.Conv2d(planes, planes * 4, 1, bias=False), planes, stride, blur)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _projection(in_planes, planes * 4, stride, blur)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


def _blurpool(channels: int, stride: int, blur: int | None) -> list[nn.Module]:
    """The BlurPool that downsamples in place of a strided conv, when anti-aliasing."""
    return [BlurPool(channels, blur, stride)] if blur and stride > 1 else []


def _blurred(conv: nn.Conv2d, channels: int, stride: int, blur: int | None) -> nn.Module:
    """`conv`, preceded by the block's BlurPool when there is one."""
    blurpool = _blurpool(channels, stride, blur)
    return nn.Sequential(*blurpool, conv) if blurpool else conv


def _projection(in_planes: int, out_planes: int, stride: int,
                blur: int | None) -> nn.Sequential | None:
    if stride == 1 and in_planes == out_planes:
        return None
    conv = nn.Conv2d(in_planes, out_planes, 1, 1 if blur else stride, bias=False)
    return nn.Sequential(*_blurpool(in_planes, stride, blur), conv, nn.BatchNorm2d(out_planes))


class ResNet(nn.Module):
    """ResNet with `blocks` per stage; `cifar_stem` selects the 3x3/1 stem without max-pool;
    `blur` a BlurPool filter size for anti-aliased downsampling (None: strided convs)."""

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], blocks: tuple[int, ...],
                 num_classes: int = 1000, cifar_stem: bool = False, blur: int | None = None):
        super().__init__()
        if cifar_stem:
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            # The reference's anti-aliased pool is 2x2 (not 3x3) at stride 1, unpadded.
            self.maxpool = (nn.Sequential(nn.MaxPool2d(2, 1), BlurPool(64, blur, 2)) if blur
                            else nn.MaxPool2d(3, 2, 1))
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        in_planes, stages = 64, []
        for i, (planes, count) in enumerate(zip((64, 128, 256, 512), blocks)):
            layers = []
            for j in range(count):
                layers.append(block(in_planes, planes, 2 if i > 0 and j == 0 else 1, blur))
                in_planes = planes * block.expansion
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_planes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def resnet50(num_classes: int = 1000) -> ResNet:
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes)


def resnet50_blurpool(num_classes: int = 1000, filter_size: int = 4) -> ResNet:
    """Anti-aliased ResNet-50; filter size 4 ([1, 3, 3, 1]) is antialiased_cnns.resnet50's default."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, blur=filter_size)


def resnet18_cifar(num_classes: int = 10) -> ResNet:
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, cifar_stem=True)
