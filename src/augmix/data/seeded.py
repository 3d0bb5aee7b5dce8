"""Per-sample seeded random transforms: the same draws whatever the worker count or order.

Sample `i` of epoch `e` gets `numpy.random.default_rng([seed, e, i])`, so a run
restarted at epoch `e` (`set_epoch(e)`) sees exactly the augmentation it would
have seen without the interruption, and DataLoader workers need no seeding of
their own. The epoch lives in shared memory, so persistent workers follow it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch


class SeededTransform(torch.utils.data.Dataset):
    """Wraps `(image, label)` pairs into `(transform(image, rng), label)`."""

    def __init__(self, dataset, transform: Callable, seed: int):
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.dataset, self.transform, self.seed = dataset, transform, seed
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()

    @property
    def epoch(self) -> int:
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        self._epoch.fill_(int(epoch))

    def rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, index])

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        image, label = self.dataset[index]
        return self.transform(image, self.rng(index)), label
