"""A Dataset over images held in one uint8 array, the shape of CIFAR and the synthetic set."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image


class ArrayImageDataset(torch.utils.data.Dataset):
    """(PIL image, label) pairs from ``images`` (N, H, W, 3) uint8 and ``labels`` (N,).

    ``transform`` is applied to the PIL image, like torchvision's CIFAR10, so the
    per-image AugMix pipeline and any torchvision transform work unchanged.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Callable | None = None,
                 classes: Sequence[str] = ()):
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"images must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
        if len(labels) != len(images):
            raise ValueError(f"labels must have one entry per image ({len(images)}), got {len(labels)}")
        self.images, self.labels = images, np.asarray(labels, dtype=np.int64)
        self.transform = transform
        self.classes = list(classes)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        image = Image.fromarray(self.images[index])
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])
