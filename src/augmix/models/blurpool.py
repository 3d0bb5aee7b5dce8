"""BlurPool: anti-aliased downsampling (Zhang, "Making Convolutional Networks Shift-Invariant
Again", ICML 2019; arXiv:1904.11486).

A strided layer subsamples without low-pass filtering first, so small input shifts
change its output a lot (aliasing). BlurPool blurs each channel with a fixed,
normalized binomial filter ([1, 2, 1] for size 3, [1, 3, 3, 1] for 4, [1, 4, 6, 4, 1]
for 5, outer product with itself) on a reflect-padded map, then subsamples. It has
no parameters. The padding is as adobe/antialiased-cnns `BlurPool`: (size-1)//2
before and size//2 after, so a stride-2 output has ceil(n/2) rows for n input rows.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def binomial_filter(size: int) -> torch.Tensor:
    """The (size, size) normalized binomial low-pass filter."""
    row = torch.tensor([math.comb(size - 1, k) for k in range(size)], dtype=torch.float64)
    kernel = torch.outer(row, row)
    return (kernel / kernel.sum()).float()


class BlurPool(nn.Module):
    """Blur each of `channels` with a `filter_size` binomial filter, then subsample by `stride`."""

    def __init__(self, channels: int, filter_size: int = 4, stride: int = 2):
        super().__init__()
        for name, value in (("channels", channels), ("filter_size", filter_size), ("stride", stride)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        self.stride = stride
        self.padding = ((filter_size - 1) // 2, filter_size // 2) * 2  # left, right, top, bottom
        # Named and shaped (channels, 1, k, k) as the reference's buffer `filt`, so the released
        # antialiased-cnns ResNet-50 weights load into resnet50_blurpool unchanged.
        self.register_buffer("filt", binomial_filter(filter_size).expand(channels, 1, -1, -1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, self.padding, mode="reflect")
        return F.conv2d(x, self.filt, stride=self.stride, groups=self.filt.shape[0])

    def extra_repr(self) -> str:
        return f"{self.filt.shape[0]}, filter_size={self.filt.shape[-1]}, stride={self.stride}"
