"""CIFAR-10 / CIFAR-100 in the official python layout: download, verify, read.

Files are md5-checked against the published sums before they are unpickled, and
unpickled with a restricted unpickler that only rebuilds plain containers and
numpy arrays, so a tampered file can never run code.
"""
from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from augmix._util.convert import nchw_to_nhwc
from augmix._util.download import check_md5, download, extract
from augmix.data.arrays import ArrayImageDataset


@dataclass(frozen=True)
class CifarLayout:
    folder: str  # the folder inside the archive
    url: str
    archive_md5: str
    train: tuple[tuple[str, str], ...]  # (file, md5)
    test: tuple[tuple[str, str], ...]
    meta: tuple[str, str]
    label_key: bytes
    names_key: bytes


LAYOUTS = {
    "cifar10": CifarLayout(
        "cifar-10-batches-py", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "c58f30108f718f92721af3b95e74349a",
        (("data_batch_1", "c99cafc152244af753f735de768cd75f"),
         ("data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
         ("data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
         ("data_batch_4", "634d18415352ddfa80567beed471001a"),
         ("data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb")),
        (("test_batch", "40351d587109b95175f43aff81a1287e"),),
        ("batches.meta", "5ff9c542aee3614f3951f8cda6e48888"), b"labels", b"label_names"),
    "cifar100": CifarLayout(
        "cifar-100-python", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        "eb9058c3a382ffc7106e4002c42a8d85",
        (("train", "16019d7e3df5f24257cddd939b257f8d"),),
        (("test", "f0ef6b0ae62326f3e7ffdfab6717acfc"),),
        ("meta", "7973b15100ade9c7d40fb424638fde48"), b"fine_labels", b"fine_label_names"),
}

# The only globals a CIFAR pickle needs: numpy's array reconstruction (the
# module moved in numpy 2) and the codec Python 2 pickles use for byte strings.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"CIFAR file refers to {module}.{name}, which a CIFAR "
                                         "batch never does; refusing to load it")
        return super().find_class(module, name)


def _layout(dataset: str) -> CifarLayout:
    if dataset not in LAYOUTS:
        raise ValueError(f"dataset must be one of {sorted(LAYOUTS)}, got {dataset!r}")
    return LAYOUTS[dataset]


def find_cifar(root: str | os.PathLike, dataset: str = "cifar10") -> Path:
    """The folder holding the batch files: ``root/<official folder>`` or ``root`` itself."""
    layout = _layout(dataset)
    root = Path(root)
    for folder in (root / layout.folder, root):
        if all((folder / name).is_file() for name, _ in layout.train + layout.test):
            return folder
    raise FileNotFoundError(
        f"no {dataset} files under {root}: expected {root / layout.folder}/ with "
        f"{', '.join(name for name, _ in layout.train + layout.test)} "
        f"(download them with augmix.data.cifar.download_cifar({str(root)!r}, {dataset!r}))")


def _unpickle(path: Path, md5: str, verify: bool) -> dict:
    if verify:
        try:
            check_md5(path, md5)
        except ValueError as err:
            raise ValueError(f"{err}; this is not the released file (for a re-encoded or "
                             "subset copy, read it with verify=False / --no-verify)") from None
    try:
        with open(path, "rb") as f:
            batch = _SafeUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, UnicodeDecodeError, MemoryError) as err:
        raise ValueError(f"{path}: not a readable CIFAR batch ({type(err).__name__}: {err})") from None
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: not a CIFAR batch (a pickled {type(batch).__name__}, expected a dict)")
    return batch


def _field(batch: dict, key: bytes, path: Path) -> np.ndarray:
    if key not in batch:
        raise ValueError(f"{path}: not a CIFAR batch (no {key.decode()!r} entry)")
    return np.asarray(batch[key])


def load_cifar(root: str | os.PathLike, train: bool = True, dataset: str = "cifar10",
               verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and labels (N,) int64 of one split, in file order."""
    layout = _layout(dataset)
    folder = find_cifar(root, dataset)
    images, labels = [], []
    for name, md5 in layout.train if train else layout.test:
        path = folder / name
        batch = _unpickle(path, md5, verify)
        data, label = _field(batch, b"data", path), _field(batch, layout.label_key, path)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
            raise ValueError(f"{path}: expected uint8 rows of 3072 bytes, got {data.dtype} {data.shape}")
        if label.ndim != 1 or len(label) != len(data) or not np.issubdtype(label.dtype, np.integer):
            raise ValueError(f"{path}: expected one integer label per image ({len(data)}), got "
                             f"{label.dtype} {label.shape}")
        images.append(nchw_to_nhwc(data.reshape(-1, 3, 32, 32)))
        labels.append(label.astype(np.int64))
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)


def cifar_classes(root: str | os.PathLike, dataset: str = "cifar10", verify: bool = True) -> list[str]:
    layout = _layout(dataset)
    name, md5 = layout.meta
    meta = _unpickle(find_cifar(root, dataset) / name, md5, verify)
    return [n.decode() for n in meta[layout.names_key]]


def download_cifar(root: str | os.PathLike, dataset: str = "cifar10", *, url: str | None = None,
                   md5: str | None = None, progress: bool = True) -> Path:
    """Fetch and unpack the official archive under ``root`` unless already there.

    ``url`` and ``md5`` replace the official address and checksum (a mirror).
    """
    layout = _layout(dataset)
    root = Path(root)
    try:
        return find_cifar(root, dataset)
    except FileNotFoundError:
        pass
    archive = download(url or layout.url, root / Path(layout.url).name, md5=md5 or layout.archive_md5,
                       progress=progress)
    extract(archive, root)
    archive.unlink()
    return find_cifar(root, dataset)


class CIFAR(ArrayImageDataset):
    """CIFAR-10/100 as (PIL image, label), like torchvision's, without torchvision."""

    def __init__(self, root: str | os.PathLike, train: bool = True, dataset: str = "cifar10",
                 transform: Callable | None = None, download: bool = False, verify: bool = True):
        if download:
            download_cifar(root, dataset)
        images, labels = load_cifar(root, train, dataset, verify)
        super().__init__(images, labels, transform, cifar_classes(root, dataset, verify))
