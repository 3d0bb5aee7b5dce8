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

from augmix._util import validate


class EpochSeeded(torch.utils.data.Dataset):
    """Base of the wrappers whose sample `i` in epoch `e` draws from rng([seed, e, i]).

    Subclasses set `self.dataset` and call `_init_seed(seed)`; a seed of None means
    fresh randomness on every call.
    """

    def _init_seed(self, seed: int | None, required: bool = True) -> None:
        self.seed = validate.seed(seed, optional=not required)
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()

    @property
    def epoch(self) -> int:
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        """Select the random stream of `epoch`."""
        self._epoch.fill_(int(epoch))

    def rng(self, index: int) -> np.random.Generator:
        """The generator for sample `index` in the current epoch."""
        if self.seed is None:
            return np.random.default_rng()
        return np.random.default_rng([self.seed, self.epoch, index])

    def __len__(self) -> int:
        return len(self.dataset)


class SeededTransform(EpochSeeded):
    """Wraps `(image, label)` pairs into `(transform(image, rng), label)`."""

    def __init__(self, dataset, transform: Callable, seed: int):
        self._init_seed(seed)
        self.dataset, self.transform = dataset, transform

    def __getitem__(self, index: int):
        image, label = self.dataset[index]
        return self.transform(image, self.rng(index)), label
