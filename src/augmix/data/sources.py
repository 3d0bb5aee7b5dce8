"""The training and test sets a training run names: synthetic, CIFAR-10/100 or an image-folder tree.

`training_sets(...)` gives both splits as data sets of `(PIL image, label)`
with what the run needs to know about them (classes, image size, the
normalization the recipe uses). Transforms are applied later, by the trainer.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from augmix._util.download import cache_dir
from augmix.data.arrays import ArrayImageDataset
from augmix.data.cifar import cifar_classes, find_cifar, load_cifar
from augmix.data.folder import ImageFolder
from augmix.data.synthetic import CLASSES as SYNTHETIC_CLASSES
from augmix.data.synthetic import SyntheticShapes
from augmix.data.transforms import imagenet_eval

# The official CIFAR code normalizes with mean = std = 0.5; ImageNet uses the usual statistics.
HALF = (0.5, 0.5, 0.5)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SYNTHETIC_SIZES = (10_000, 2_000)


@dataclass(frozen=True)
class DataInfo:
    """What a run needs to know about its data."""
    name: str  # synthetic, cifar10, cifar100, or imagenet for an image-folder tree
    num_classes: int
    image_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    classes: list[str] = field(default_factory=list)


def _subset(dataset, n: int | None):
    if n is None or n >= len(dataset):
        return dataset
    if n < 1:
        raise ValueError(f"subset sizes must be >= 1, got {n}")
    return torch.utils.data.Subset(dataset, range(n))


def cifar_root(root: str | os.PathLike | None) -> Path:
    """Where CIFAR is looked for (and downloaded to): `root`, or `$AUGMIX_CACHE/cifar`."""
    return Path(root) if root is not None else cache_dir() / "cifar"


def _cifar(name: str, root: str | os.PathLike | None, verify: bool):
    root = cifar_root(root)
    try:
        find_cifar(root, name)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{err}; pass --data-root FOLDER holding it, or --download "
                                f"to fetch it from the official site") from None
    classes = cifar_classes(root, name, verify)
    train = ArrayImageDataset(*load_cifar(root, True, name, verify), classes=classes)
    test = ArrayImageDataset(*load_cifar(root, False, name, verify), classes=classes)
    return train, test, DataInfo(name, len(classes), 32, HALF, HALF, classes)


def _folder(path: Path):
    train_dir, val_dir = path / "train", path / "val"
    if not (train_dir.is_dir() and val_dir.is_dir()):
        raise FileNotFoundError(f"image-folder data {path} must hold train/ and val/ folders "
                                f"of CLASS/IMAGE files (the ImageNet layout)")
    train = ImageFolder(train_dir)
    test = ImageFolder(val_dir, transform=imagenet_eval(224, 256))
    if test.classes != train.classes:
        raise ValueError(f"{val_dir} and {train_dir} must have the same class folders")
    return train, test, DataInfo("imagenet", len(train.classes), 224, IMAGENET_MEAN,
                                 IMAGENET_STD, train.classes)


def _with_extra(train: ImageFolder, extra_train: list[str]) -> torch.utils.data.Dataset:
    """`train` followed by the images of each extra folder, labelled by `train`'s classes."""
    parts = [train]
    for folder in map(Path, extra_train):
        if not folder.is_dir():
            raise FileNotFoundError(f"extra_train folder {folder} does not exist or is not a folder")
        extra = ImageFolder(folder)
        if extra.classes != train.classes:
            missing = sorted(set(train.classes) - set(extra.classes))
            unexpected = sorted(set(extra.classes) - set(train.classes))
            raise ValueError(f"extra_train folder {folder} must have the class folders of "
                             f"{train.root}; missing {missing}, unexpected {unexpected}")
        parts.append(extra)
    return torch.utils.data.ConcatDataset(parts)


def known_labels(dataset: torch.utils.data.Dataset) -> np.ndarray | None:
    """The labels of `dataset` without reading its images, when its kind keeps them (arrays such
    as CIFAR, image folders, and subsets and concatenations of these); else None."""
    if isinstance(dataset, ArrayImageDataset):
        return dataset.labels
    if isinstance(dataset, ImageFolder):
        return np.asarray(dataset.targets, dtype=np.int64)
    if isinstance(dataset, torch.utils.data.Subset):
        labels = known_labels(dataset.dataset)
        return None if labels is None else labels[np.asarray(dataset.indices, dtype=np.int64)]
    if isinstance(dataset, torch.utils.data.ConcatDataset):
        parts = [known_labels(part) for part in dataset.datasets]
        return None if any(part is None for part in parts) else np.concatenate(parts)
    return None


def check_labels(dataset: torch.utils.data.Dataset, num_classes: int, what: str) -> None:
    """ValueError naming the first label of `dataset` outside 0..num_classes-1, when its labels
    are known without reading the images (the trainer checks the others batch by batch)."""
    labels = known_labels(dataset)
    if labels is None:
        return
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if len(bad):
        raise ValueError(f"{what}: label {labels[bad[0]]} of image {bad[0]} is outside its {num_classes} "
                         f"classes (0 to {num_classes - 1}); {len(bad)} image(s) have such labels")


def training_sets(data: str, *, root: str | os.PathLike | None = None, verify: bool = True, train_subset: int | None = None,
                  test_subset: int | None = None, seed: int = 0, extra_train: list[str] | None = None):
    """`(train, test, DataInfo)` for `data` = synthetic | cifar10 | cifar100 | a folder path.

    CIFAR is read from `root` (default `$AUGMIX_CACHE/cifar`; fetch it there with
    `augmix.data.cifar.download_cifar`); `verify=False` skips the md5 check (for
    re-encoded copies). `extra_train` folders of CLASS/IMAGE files with the same
    classes as the tree's train/ (e.g. Stylized-ImageNet) are added to the training
    split, after its own images.
    Subsets keep the first images of each split.
    """
    is_folder = data not in ("synthetic", "cifar10", "cifar100") and (
        os.sep in data or Path(data).is_dir())
    if extra_train and not is_folder:
        raise ValueError(f"extra_train adds image folders to an image-folder data set; data "
                         f"{data!r} is not a folder with train/ and val/")
    if data == "synthetic":
        train = SyntheticShapes("train", n=train_subset or SYNTHETIC_SIZES[0], seed=seed)
        test = SyntheticShapes("test", n=test_subset or SYNTHETIC_SIZES[1], seed=seed)
        return train, test, DataInfo("synthetic", len(SYNTHETIC_CLASSES), 32, HALF, HALF,
                                     list(SYNTHETIC_CLASSES))
    if data in ("cifar10", "cifar100"):
        train, test, info = _cifar(data, root, verify)
    elif is_folder:
        train, test, info = _folder(Path(data))
        if extra_train:
            train = _with_extra(train, extra_train)
    else:
        raise ValueError(f"data must be synthetic, cifar10, cifar100 or a folder with train/ and "
                         f"val/, got {data!r}")
    train, test = _subset(train, train_subset), _subset(test, test_subset)
    check_labels(train, info.num_classes, f"the training set of {data}")
    check_labels(test, info.num_classes, f"the test set of {data}")
    return train, test, info


__all__ = ["DataInfo", "check_labels", "cifar_root", "known_labels", "training_sets"]
