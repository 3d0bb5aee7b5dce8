"""AugMixDataset: output structure and reproducibility across workers and epochs."""
import pytest
import torch
from torch.utils.data import DataLoader

from augmix import AugMixDataset


class ArrayDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], int(self.labels[i])


@pytest.fixture()
def base(cifar_images, cifar_labels):
    return ArrayDataset(cifar_images[:24], cifar_labels[:24])




def _collect(loader):
    views, labels = [[], [], []], []
    for (c, a1, a2), y in loader:
        for store, v in zip(views, (c, a1, a2)):
            store.append(v)
        labels.append(y)
    return [torch.cat(v) for v in views], torch.cat(labels)


def test_jsd_triples_and_single_views(base, cifar_labels):
    ds = AugMixDataset(base, seed=0)
    (clean, aug1, aug2), label = ds[0]
    assert clean.shape == aug1.shape == aug2.shape == (3, 32, 32)
    assert label == cifar_labels[0]
    assert torch.equal(clean, torch.from_numpy(base[0][0]).permute(2, 0, 1).float() / 255)
    assert not torch.equal(aug1, aug2)  # two independent draws
    single, label = AugMixDataset(base, jsd=False, seed=0)[0]
    assert single.shape == (3, 32, 32) and label == cifar_labels[0]


def test_same_seed_same_samples_with_0_or_2_workers(base):
    ds = AugMixDataset(base, seed=3)
    (v0, y0), (v2, y2) = (_collect(DataLoader(ds, batch_size=6, num_workers=w)) for w in (0, 2))
    assert torch.equal(y0, y2)
    for a, b in zip(v0, v2):
        assert torch.equal(a, b)
    (again, _) = _collect(DataLoader(AugMixDataset(base, seed=3), batch_size=6))
    assert all(torch.equal(a, b) for a, b in zip(v0, again))


def test_epochs_differ_and_repeat(base):
    ds = AugMixDataset(base, seed=3)
    first, _ = _collect(DataLoader(ds, batch_size=6))
    ds.set_epoch(1)
    second, _ = _collect(DataLoader(ds, batch_size=6, num_workers=2, persistent_workers=True))
    assert not torch.equal(first[1], second[1])
    ds.set_epoch(0)
    assert torch.equal(_collect(DataLoader(ds, batch_size=6))[0][1], first[1])


def test_persistent_workers_see_the_epoch(base):
    ds = AugMixDataset(base, seed=9)
    loader = DataLoader(ds, batch_size=8, num_workers=2, persistent_workers=True)
    epochs = []
    for epoch in range(2):
        ds.set_epoch(epoch)
        epochs.append(_collect(loader)[0][1])
    ds.set_epoch(1)
    assert not torch.equal(epochs[0], epochs[1])
    assert torch.equal(epochs[1], _collect(DataLoader(ds, batch_size=8))[0][1])


def test_unseeded_draws_fresh_randomness(base):
    ds = AugMixDataset(base)
    assert not torch.equal(ds[0][0][1], ds[0][0][1])


def test_bad_arguments(base):
    with pytest.raises(ValueError, match="dataset"):
        AugMixDataset(object())
    with pytest.raises(ValueError, match="seed"):
        AugMixDataset(base, seed=-1)
    with pytest.raises(ValueError, match="severity"):
        AugMixDataset(base, severity=0)
