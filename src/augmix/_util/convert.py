"""Image layouts, dtypes and normalization, converted in one place.

Layouts: HWC <-> CHW for one image, NHWC <-> NCHW for a batch (torch tensors or
numpy arrays; views, no copy). Dtypes: uint8 grey levels 0..255 <-> float32 in
[0, 1]. Normalization: (x - mean) / std per channel.
"""
from __future__ import annotations

from typing import Sequence, TypeVar

import numpy as np
import torch

Array = TypeVar("Array", torch.Tensor, np.ndarray)


def _move(x: Array, order: tuple[int, ...]) -> Array:
    return x.permute(*order) if isinstance(x, torch.Tensor) else x.transpose(order)


def hwc_to_chw(x: Array) -> Array:
    return _move(x, (2, 0, 1))


def chw_to_hwc(x: Array) -> Array:
    return _move(x, (1, 2, 0))


def nhwc_to_nchw(x: Array) -> Array:
    return _move(x, (0, 3, 1, 2))


def nchw_to_nhwc(x: Array) -> Array:
    return _move(x, (0, 2, 3, 1))


def to_unit_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 grey levels -> float32 in [0, 1]; float input becomes float32 unchanged."""
    return x.float().div_(255) if x.dtype == torch.uint8 else x.float()


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """float in [0, 1] -> uint8 grey levels (clamped, rounded); uint8 input unchanged."""
    return x if x.dtype == torch.uint8 else x.clamp(0, 1).mul(255).round_().to(torch.uint8)


def image_to_uint8_tensor(image) -> torch.Tensor:
    """A PIL image or an HxW / HxWxC uint8 array -> uint8 CxHxW tensor (its own copy)."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    return hwc_to_chw(torch.from_numpy(array.copy()))


def image_to_tensor(image) -> torch.Tensor:
    """A PIL image or an HxW / HxWxC uint8 array -> float32 CxHxW in [0, 1] (torchvision's
    ToTensor)."""
    return to_unit_float(image_to_uint8_tensor(image))


def mean_std(mean: Sequence[float] | None, std: Sequence[float] | None
             ) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Checked per-channel (mean, std) as float32 (C, 1, 1) tensors, or None when neither is given."""
    if (mean is None) != (std is None):
        raise ValueError("mean and std must be given together (or neither)")
    if mean is None:
        return None
    try:
        mean_t, std_t = (torch.as_tensor(v, dtype=torch.float32).reshape(-1) for v in (mean, std))
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"mean and std must be sequences of numbers, one per channel, "
                         f"got mean={mean!r} std={std!r}") from None
    if len(mean_t) != len(std_t):
        raise ValueError(f"mean and std must have one entry per channel each, got mean={mean!r} std={std!r}")
    if not (torch.isfinite(mean_t).all() and torch.isfinite(std_t).all()):
        raise ValueError(f"mean and std must be finite, got mean={mean_t.tolist()} std={std_t.tolist()}")
    if (std_t <= 0).any():
        raise ValueError(f"std must be positive, got {std_t.tolist()}")
    return mean_t.view(-1, 1, 1), std_t.view(-1, 1, 1)


def normalize(x: torch.Tensor, mean: torch.Tensor | Sequence[float],
              std: torch.Tensor | Sequence[float]) -> torch.Tensor:
    """(x - mean) / std per channel of a CHW image or an NCHW batch (a new tensor)."""
    mean_t = torch.as_tensor(mean, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    std_t = torch.as_tensor(std, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    check_channels(x.shape[-3], mean_t.shape[0])
    return (x - mean_t) / std_t


def normalize_(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """`normalize` in place."""
    check_channels(x.shape[-3], mean.numel())
    return x.sub_(mean.to(x.device).view(-1, 1, 1)).div_(std.to(x.device).view(-1, 1, 1))


def check_channels(channels: int, values: int) -> None:
    """Raise unless per-channel mean/std with `values` entries fit images of `channels` channels."""
    if values not in (1, channels):
        raise ValueError(f"mean and std have {values} values but the images have {channels} channels: "
                         f"give one value per channel, or one for all")
