"""AugMix augmentation primitives with explicit parameters and no randomness.

`augmix.ops.<op>(image, param)` works on PIL images (`augmix.ops.pil`, the
paper's definitions) and on NCHW tensor batches, uint8 or float, any device,
with a number or one parameter per sample (`augmix.ops.tensor`). Geometric
ops also take `fill`.
"""
from __future__ import annotations

from typing import Callable

import torch

from augmix.augment.ops import pil, tensor
from augmix.augment.ops.pil import GEOMETRIC

OP_NAMES = ("autocontrast", "equalize", "posterize", "rotate", "solarize", "shear_x", "shear_y",
            "translate_x", "translate_y", "color", "contrast", "brightness", "sharpness")


def _dispatching(name: str) -> Callable:
    pil_op, tensor_op = getattr(pil, name), getattr(tensor, name)

    def op(image, *args, **kwargs):
        if isinstance(image, torch.Tensor):
            return tensor_op(image, *args, **kwargs)
        return pil_op(image, *args, **kwargs)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{pil_op.__doc__} (PIL image: augmix.ops.pil.{name}; NCHW tensor: augmix.ops.tensor.{name})"
    return op


autocontrast, equalize, posterize, rotate, solarize, shear_x, shear_y, translate_x, translate_y, \
    color, contrast, brightness, sharpness = (_dispatching(name) for name in OP_NAMES)

__all__ = ["GEOMETRIC", "OP_NAMES", *OP_NAMES]
