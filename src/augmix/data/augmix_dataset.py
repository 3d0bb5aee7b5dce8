"""AugMixDataset: wraps an (image, label) data set into AugMix training samples."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image

from augmix._util.convert import nhwc_to_nchw
from augmix.augment.augmix import AugMix, as_pil
from augmix.augment.batch import BatchAugMix
from augmix.augment.ops.pil import Fill
from augmix.augment.plan import mixed_seed
from augmix.data.seeded import EpochSeeded


class AugMixDataset(EpochSeeded):
    """Yields `((clean, aug1, aug2), label)` with `jsd=True`, else `(aug, label)`.

    `dataset[i]` must give `(image, label)` with a PIL image or HxWxC uint8
    array (apply crops and flips there, as the official code does);
    `preprocess` turns a PIL image into a tensor (default: float in [0, 1],
    normalized with `mean`/`std` when given).

    With a `seed`, the draws for sample i in epoch e come from a generator
    seeded with (seed, e, i): the same whatever the DataLoader's worker count
    or order, and different across epochs once the training loop calls
    `set_epoch(e)` (the epoch lives in shared memory, so persistent workers
    see it too). Without a seed every call draws fresh randomness.

    `batched=True` augments each DataLoader batch at once with `BatchAugMix`
    (the DataLoader hands the whole list of indices to `__getitems__`): the
    images must share one size, `preprocess` is not available (use
    `mean`/`std`), and with a seed the draws come from a generator seeded
    with (seed, epoch, the batch's indices), so they repeat whatever the
    worker count, though not the per-image path's draws.
    """

    def __init__(self, dataset, preprocess: Callable[[Image.Image], torch.Tensor] | None = None,
                 jsd: bool = True, *, severity: float = 3, width: int = 3, depth: int = -1,
                 alpha: float = 1.0, all_ops: bool = False, fill: Fill = 0,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
                 seed: int | None = None, batched: bool = False):
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise ValueError(f"dataset must be a map-style data set with __getitem__ and __len__, "
                             f"got {type(dataset).__name__}")
        self._init_seed(seed, required=False)
        if batched and preprocess is not None:
            raise ValueError("preprocess is per image: batched=True takes mean/std instead")
        self.dataset, self.jsd, self.batched = dataset, bool(jsd), bool(batched)
        self.augmix = AugMix(severity, width, depth, alpha, all_ops, fill=fill, mean=mean, std=std,
                             preprocess=preprocess)
        self.batch_augmix = BatchAugMix(severity, width, depth, alpha, all_ops, fill=fill,
                                        mean=mean, std=std) if batched else None

    def __getitem__(self, index: int):
        if self.batched:
            return self.__getitems__([index])[0]
        image, label = self.dataset[index]
        image = as_pil(image)
        rng = self.rng(index)
        if not self.jsd:
            return self.augmix(image, rng), label
        return (self.augmix.preprocess(image), self.augmix(image, rng), self.augmix(image, rng)), label

    def __getitems__(self, indices: list[int]) -> list:
        """The samples for a batch of indices (in batched mode, augmented together)."""
        if not self.batched:
            return [self[i] for i in indices]
        samples = [self.dataset[i] for i in indices]
        arrays = [np.asarray(as_pil(image)) for image, _ in samples]
        if any(a.shape != arrays[0].shape for a in arrays):
            raise ValueError(f"batched=True needs images of one size, got shapes "
                             f"{sorted({a.shape for a in arrays})}; crop or resize them in the data set")
        images = torch.from_numpy(np.stack(arrays))
        images = nhwc_to_nchw(images[..., None] if images.ndim == 3 else images)
        generator = torch.Generator()
        if self.seed is None:
            generator.seed()
        else:
            generator.manual_seed(mixed_seed(self.seed, self.epoch, *map(int, indices)))
        labels = [label for _, label in samples]
        if not self.jsd:
            return list(zip(self.batch_augmix(images, generator), labels))
        clean, aug1, aug2 = self.batch_augmix.jsd_views(images, generator).chunk(3)
        return [(views, label) for views, label in zip(zip(clean, aug1, aug2), labels)]
