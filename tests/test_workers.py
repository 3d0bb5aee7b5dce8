"""Random transforms in DataLoader workers: every worker and every epoch draws its own stream;
a seed repeats the run when torch is seeded (the DataLoader's generator) and the worker count
is the same."""
import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

import augmix
from augmix.baselines.autoaugment import AutoAugment
from augmix.data.transforms import RandomCrop, RandomResizedCrop

pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create:UserWarning")


class OneImage(Dataset):
    """The same image `n` times, through `transform`."""

    def __init__(self, image, transform, n=16):
        self.image, self.transform, self.n = image, transform, n

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        out = self.transform(self.image)
        return out if isinstance(out, torch.Tensor) else torch.from_numpy(np.asarray(out).copy())


def _epochs(dataset, workers, epochs=2, seed=0):
    loader = DataLoader(dataset, batch_size=1, num_workers=workers,
                        generator=torch.Generator().manual_seed(seed))
    return [torch.cat(list(loader)) for _ in range(epochs)]


@pytest.mark.parametrize("seed", [None, 0])
@pytest.mark.parametrize("workers", [2, 4])
def test_augmix_views_differ_across_workers_and_epochs(seed, workers, cifar_images):
    dataset = OneImage(cifar_images[0], augmix.AugMix(seed=seed))
    first, second = _epochs(dataset, workers)
    views = torch.cat([first, second]).flatten(1)
    assert len(views) == 32
    assert len(torch.unique(views, dim=0)) == 32  # all pairwise different, within and across epochs
    if seed is not None:
        again = _epochs(OneImage(cifar_images[0], augmix.AugMix(seed=seed)), workers)
        assert torch.equal(again[0], first) and torch.equal(again[1], second)  # the run repeats
        other = _epochs(OneImage(cifar_images[0], augmix.AugMix(seed=seed)), workers, seed=1)
        assert not torch.equal(other[0], first)  # it follows torch's seed


@pytest.mark.parametrize("make", [lambda seed: RandomCrop(32, 4, seed=seed),
                                  lambda seed: RandomResizedCrop(24, seed=seed),
                                  lambda seed: AutoAugment(seed=seed)],
                         ids=["RandomCrop", "RandomResizedCrop", "AutoAugment"])
@pytest.mark.parametrize("seed", [None, 0])
def test_every_random_transform_gives_each_worker_its_own_stream(make, seed, cifar_images):
    workers, per_worker = 4, 12
    dataset = OneImage(Image.fromarray(cifar_images[1]), make(seed), n=workers * per_worker)
    first, second = _epochs(dataset, workers)
    # DataLoader hands batch i to worker i % workers: compare each worker's sequence with worker 0's
    streams = [first[w::workers].flatten(1) for w in range(workers)]
    assert all(not torch.equal(streams[0], s) for s in streams[1:])
    assert not torch.equal(first, second)
    if seed is not None:
        again = _epochs(OneImage(Image.fromarray(cifar_images[1]), make(seed), n=workers * per_worker), workers)
        assert torch.equal(again[0], first) and torch.equal(again[1], second)


def test_seeded_augmix_in_the_main_process_repeats_and_goes_on(cifar_images):
    a, b = augmix.AugMix(seed=3), augmix.AugMix(seed=3)
    views_a = [a(cifar_images[0]) for _ in range(4)]
    views_b = [b(cifar_images[0]) for _ in range(4)]
    assert all(torch.equal(x, y) for x, y in zip(views_a, views_b))
    assert not torch.equal(views_a[0], views_a[1])
