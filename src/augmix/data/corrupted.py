"""Corrupted test sets: the released CIFAR-10-C / CIFAR-100-C files, ImageNet-C style JPEG trees,
their downloads, and corruptions generated on the fly.

Formats, checksums and pitfalls: shared/spec/corruptions-and-metrics.md section 2 and 4.
CIFAR-C: OUT/<corruption>.npy, uint8 (5N, 32, 32, 3), rows [(s-1)N, sN) hold severity s, plus
labels.npy (5N,) repeating the N test labels. Sets written by `augmix corrupt` carry a
meta.json naming their severities (they may hold fewer than five blocks).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch

from augmix._util.download import download, extract, md5_file
from augmix.corruptions.names import CORRUPTIONS, SEVERITIES, check_name, check_severity
from augmix.data.folder import read_rgb, scan_tree

ZENODO = "https://zenodo.org/record"
# Released archives: dataset -> [(url, md5 or None)] and the folder they extract to.
ARCHIVES: dict[str, tuple[list[tuple[str, str]], str]] = {
    "cifar10": ([(f"{ZENODO}/2535967/files/CIFAR-10-C.tar", "56bf5dcef84df0e2308c6dcbcbbd8499")], "CIFAR-10-C"),
    "cifar100": ([(f"{ZENODO}/3555552/files/CIFAR-100-C.tar", "11f0ed0f1191edbf9fa23466ae6021d3")], "CIFAR-100-C"),
    "imagenet": ([(f"{ZENODO}/2235448/files/{name}.tar", md5) for name, md5 in (
        ("noise", "e80562d7f6c3f8834afb1ecf27252745"), ("blur", "2d8e81fdd8e07fef67b9334fa635e45c"),
        ("weather", "33ffea4db4d93fe4a428c40a6ce0c25d"), ("digital", "89157860d7b10d5797849337ca2e5c03"),
        ("extra", "d492dfba5fc162d8ec2c3cd8ee672984"))], "ImageNet-C"),
    # The record the robustness README names (2536630) has no published checksum; this one
    # holds the same set with checksums, the 4 extra corruptions in a second archive.
    "tiny": ([(f"{ZENODO}/8206060/files/Tiny-ImageNet-C.tar", "f9c9a9dbdc11469f0b850190f7ad8be1"),
              (f"{ZENODO}/8206060/files/Tiny-ImageNet-C-extra.tar", "0db0588d243cf403ef93449ec52b70eb")],
             "Tiny-ImageNet-C"),
}

# Published per-file md5 sums of the released .npy files (torch-uncertainty's list).
CIFAR_C_MD5: dict[str, dict[str, str]] = {
    "cifar10": {
        "fog": "7b397314b5670f825465fbcd1f6e9ccd", "jpeg_compression": "2b9cc4c864e0193bb64db8d7728f8187",
        "zoom_blur": "6ea8e63f1c5cdee1517533840641641b", "speckle_noise": "ef00b87611792b00df09c0b0237a1e30",
        "glass_blur": "7361fb4019269e02dbf6925f083e8629", "spatter": "8a5a3903a7f8f65b59501a6093b4311e",
        "shot_noise": "3a7239bb118894f013d9bf1984be7f11", "defocus_blur": "7d1322666342a0702b1957e92f6254bc",
        "elastic_transform": "9421657c6cd452429cf6ce96cc412b5f",
        "gaussian_blur": "c33370155bc9b055fb4a89113d3c559d", "frost": "31f6ab3bce1d9934abfb0cc13656f141",
        "saturate": "1cfae0964219c5102abbb883e538cc56", "brightness": "0a81ef75e0b523c3383219c330a85d48",
        "snow": "bb238de8555123da9c282dea23bd6e55", "gaussian_noise": "ecaf8b9a2399ffeda7680934c33405fd",
        "motion_blur": "fffa5f852ff7ad299cfe8a7643f090f4", "contrast": "3c8262171c51307f916c30a3308235a8",
        "impulse_noise": "2090e01c83519ec51427e65116af6b1a", "labels": "c439b113295ed5254878798ffe28fd54",
        "pixelate": "0f14f7e2db14288304e1de10df16832f",
    },
    "cifar100": {
        "fog": "4efc7ebd5e82b028bdbe13048e3ea564", "jpeg_compression": "c851b7f1324e1d2ffddeb76920576d11",
        "zoom_blur": "0204613400c034a81c4830d5df81cb82", "speckle_noise": "e3f215b1a0f9fd9fd6f0d1cf94a7ce99",
        "glass_blur": "0bf384f38e5ccbf8dd479d9059b913e1", "spatter": "12ccf41d62564d36e1f6a6ada5022728",
        "shot_noise": "b0a1fa6e1e465a747c1b204b1914048a", "defocus_blur": "d923e3d9c585a27f0956e2f2ad832564",
        "elastic_transform": "a0792bd6581f6810878be71acedfc65a",
        "gaussian_blur": "5204ba0d557839772ef5a4196a052c3e", "frost": "3a39c6823bdfaa0bf8b12fe7004b8117",
        "saturate": "c0697e9fdd646916a61e9c312c77bf6b", "brightness": "f22d7195aecd6abb541e27fca230c171",
        "snow": "0237be164583af146b7b144e73b43465", "gaussian_noise": "ecc4d366eac432bdf25c024086f5e97d",
        "motion_blur": "732a7e2e54152ff97c742d4c388c5516", "contrast": "322bb385f1d05154ee197ca16535f71e",
        "impulse_noise": "3b3c210ddfa0b5cb918ff4537a429fef", "labels": "bb4026e9ce52996b95f439544568cdb2",
        "pixelate": "96c00c60f144539e14cffb02ddbd0640",
    },
}

_VERIFIED: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> md5, once per process


def _md5_cached(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        _VERIFIED[key] = md5_file(path)
    return _VERIFIED[key]


def find_cifar_c(root: str | os.PathLike) -> Path:
    """The folder holding labels.npy: `root` itself, or root/CIFAR-10-C or root/CIFAR-100-C."""
    root = Path(root)
    for folder in (root, root / "CIFAR-10-C", root / "CIFAR-100-C"):
        if (folder / "labels.npy").is_file():
            return folder
    raise FileNotFoundError(f"no CIFAR-C set under {root} (expected labels.npy and <corruption>.npy "
                            f"in {root}, {root}/CIFAR-10-C or {root}/CIFAR-100-C)")


def _released_dataset(folder: Path) -> str:
    labels_md5 = _md5_cached(folder / "labels.npy")
    for dataset, sums in CIFAR_C_MD5.items():
        if sums["labels"] == labels_md5:
            return dataset
    raise ValueError(f"md5 mismatch for {folder / 'labels.npy'}: {labels_md5} is neither CIFAR-10-C's "
                     f"nor CIFAR-100-C's published sum (pass verify=False for other copies)")


def _layout(folder: Path) -> tuple[list[int], int | None]:
    """(severity blocks in file order, images per block or None if unknown) of a CIFAR-C folder.

    A released set has the five severities; one written by `augmix corrupt` says in meta.json."""
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        return list(SEVERITIES), None
    try:
        meta = json.loads(meta_path.read_text())
        severities, n = meta["severities"], meta.get("images")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise ValueError(f"{meta_path}: not the meta.json `augmix corrupt` writes ({err})") from None
    if (not isinstance(severities, list) or not severities or len(set(severities)) != len(severities)
            or not all(isinstance(v, int) and v in SEVERITIES for v in severities)
            or not (n is None or (isinstance(n, int) and n > 0))):
        raise ValueError(f"{meta_path}: severities must be distinct values of 1..5 and images a positive "
                         f"count, got {severities!r} and {n!r}")
    return severities, n


def _read_npy(path: Path, mmap: bool) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"{path}: not a complete .npy array ({err}); a truncated download or copy? "
                         f"Fetch or write it again") from None


def load_cifar_c(root: str | os.PathLike, corruption: str, severity: int, *, mmap: bool = True,
                 verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 32, 32, 3), labels int64 (N,)) of one corruption at one severity.

    With `mmap` the images stay a read-only memory map of the .npy file. With `verify`, a
    released set is md5-checked against the published per-file sums (once per process and
    file); sets written by `augmix corrupt` (with meta.json) have no published sums to check.
    """
    corruption, severity = check_name(corruption), check_severity(severity)
    folder = find_cifar_c(root)
    path = folder / f"{corruption}.npy"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found (the CIFAR-C set in {folder} lacks {corruption})")
    severities, per_block = _layout(folder)
    if severity not in severities:
        raise ValueError(f"{folder} holds severities {severities}, not {severity}")
    if verify and not (folder / "meta.json").is_file():
        dataset = _released_dataset(folder)
        expected = CIFAR_C_MD5[dataset][corruption]
        if _md5_cached(path) != expected:
            raise ValueError(f"md5 mismatch for {path}: expected {expected} (published for "
                             f"{ARCHIVES[dataset][1]}), got {_md5_cached(path)}")
    images, labels = _read_npy(path, mmap), _read_npy(folder / "labels.npy", False)
    blocks = len(severities)
    rows = f"{blocks} x {per_block}" if per_block else f"{blocks} x N"
    if (images.ndim != 4 or images.dtype != np.uint8 or images.shape[3] != 3 or len(images) % blocks
            or len(labels) != len(images) or (per_block and len(images) != blocks * per_block)):
        raise ValueError(f"{path}: expected uint8 ({rows}, H, W, 3) images with as many labels, got "
                         f"{images.dtype} {images.shape} and {len(labels)} labels")
    n = len(images) // blocks
    block = slice(severities.index(severity) * n, (severities.index(severity) + 1) * n)
    return images[block], labels[block].astype(np.int64)


def iter_cifar_c(root: str | os.PathLike, corruptions: Sequence[str] = CORRUPTIONS,
                 severities: Sequence[int] = SEVERITIES, **kwargs) -> Iterator[tuple[str, int, np.ndarray, np.ndarray]]:
    """(corruption, severity, images, labels) for every requested cell, the form `evaluate` consumes."""
    for name in corruptions:
        for severity in severities:
            yield (name, severity, *load_cifar_c(root, name, severity, **kwargs))


def iter_corrupted(images: np.ndarray, labels: np.ndarray, names: Sequence[str] = CORRUPTIONS,
                   severities: Sequence[int] = SEVERITIES, *, seed: int = 0, table=None,
                   frost_dir: str | os.PathLike | None = None, workers: int = 1
                   ) -> Iterator[tuple[str, int, np.ndarray, np.ndarray]]:
    """Corrupt `images` on the fly, one (corruption, severity) at a time, in `workers`
    processes (the next sets are made while the current one is used).

    The images equal the rows `augmix corrupt` writes with the same seed and table, whatever
    the number of workers.
    """
    from augmix.corruptions.sizes import table_for_shape
    from augmix.corruptions.tables import get_table
    from augmix.data.generate import corrupted_sets

    names = [check_name(n) for n in names]
    severities = [check_severity(s) for s in severities]
    table = table_for_shape(*images.shape[1:3]) if table is None else get_table(table)
    labels = np.asarray(labels, dtype=np.int64)
    for name, severity, block in corrupted_sets(np.asarray(images), names, severities, seed=seed,
                                                table=table, frost_dir=frost_dir, workers=workers):
        yield name, severity, block, labels


class CorruptedImageFolder(torch.utils.data.Dataset):
    """One (corruption, severity) of an ImageNet-C / Tiny-ImageNet-C tree: (PIL image, label).

    Reads root/<corruption>/<severity>/<wnid>/<image>; the class index comes from the sorted
    wnids (torchvision ImageFolder order: the standard ImageNet index, and for Tiny-ImageNet-C
    an ImageFolder over tiny-imagenet-200/train, not wnids.txt). Images are decoded with PIL.
    """

    def __init__(self, root: str | os.PathLike, corruption: str, severity: int,
                 transform: Callable | None = None):

        folder = Path(root) / check_name(corruption) / str(check_severity(severity))
        if not folder.is_dir():
            raise FileNotFoundError(f"missing {folder} (expected {root}/<corruption>/<1..5>/<wnid>/<image>)")
        self.paths, self.labels, self.classes = scan_tree(folder)
        self.class_to_idx = {wnid: i for i, wnid in enumerate(self.classes)}
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int):
        image = read_rgb(self.paths[index])
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])


def download_corrupted(root: str | os.PathLike, dataset: str = "cifar10", *, keep_archive: bool = False,
                       progress: bool = True, urls: Sequence[tuple[str, str]] | None = None) -> Path:
    """Download and extract a released set into `root`; returns the extracted folder.

    `dataset` is cifar10, cifar100 (about 2.9 GB each), imagenet (five tars, about 62 GB)
    or tiny. Archives are md5-checked and resumed if interrupted.
    """
    if dataset not in ARCHIVES:
        raise ValueError(f"dataset must be one of {', '.join(ARCHIVES)}, got {dataset!r}")
    default_urls, folder = ARCHIVES[dataset]
    root = Path(root)
    for url, md5 in urls or default_urls:
        archive = download(url, root / url.rsplit("/", 1)[-1], md5=md5, progress=progress)
        # ImageNet-C's tars and Tiny-ImageNet-C's extra tar hold corruption folders without
        # the top folder; the other archives hold it.
        into_folder = dataset == "imagenet" or url.endswith("-extra.tar")
        extract(archive, root / folder if into_folder else root)
        if not keep_archive:
            archive.unlink()
    return root / folder
