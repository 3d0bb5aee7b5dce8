"""ImageFolder: an image-classification tree (root/CLASS/**/IMAGE) as a data set, no torchvision.

Classes are the sorted names of the subfolders of `root`, labelled 0..K-1;
images are the files below each with a known extension, in sorted order, so
the same tree always gives the same indices (as torchvision's ImageFolder,
whose layout ImageNet training scripts expect).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image

from augmix.data.transforms import CenterCrop, Compose, imagenet_eval

EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")


class UnreadableImageError(ValueError):
    """An image file that cannot be decoded (unreadable, truncated, oversized, no 8-bit scale),
    `path`. A ValueError, so callers that catch bad input catch it too."""

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        super().__init__(message)
        self.path = None if path is None else str(path)


def read_rgb(path: str | os.PathLike) -> Image.Image:
    """An image file as an 8-bit RGB PIL image.

    16-bit images are scaled to 8 bits (not clipped at 255, which is what Pillow's
    convert does); an unreadable, truncated or oversized file is an UnreadableImageError
    (a ValueError) naming it.
    """
    return _read_8bit(path, lambda image: "RGB")


def read_image(path: str | os.PathLike) -> Image.Image:
    """An image file as an 8-bit PIL image of the file's kind: gray ('L') or colour ('RGB'),
    with its alpha channel ('LA', 'RGBA') if it has one.

    Read as `read_rgb` reads (16-bit scaled, the stored orientation: EXIF rotation is not
    applied), with the file's EXIF block and, unless the file was CMYK, its ICC profile in
    `info`, so that a copy written with them is shown as the file is.
    """
    return _read_8bit(path, _kind_of)


_GRAY_MODES = ("1", "L", "LA")
_ALPHA_MODES = ("LA", "RGBA", "PA")


def _kind_of(image: Image.Image) -> str:
    alpha = image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info)
    return ("L" if image.mode in _GRAY_MODES else "RGB") + ("A" if alpha else "")


def _read_8bit(path: str | os.PathLike, mode_for: Callable[[Image.Image], str]) -> Image.Image:
    """The file decoded and converted to the 8-bit mode `mode_for` picks for it (its info kept)."""
    try:
        with Image.open(path) as image:
            image.load()
            info = dict(image.info)
            if image.mode in _SIXTEEN_BIT:
                wide = np.asarray(image).astype(np.uint32)
                image = Image.fromarray(((wide * 255 + 32767) // 65535).astype(np.uint8), mode="L")
            elif image.mode in ("I", "F"):
                raise ValueError(f"{image.mode!r} ({'32-bit integer' if image.mode == 'I' else 'float'}) "
                                 f"pixels have no standard 8-bit scale; convert the file to 8 or 16 bits")
            elif image.mode == "CMYK":
                info.pop("icc_profile", None)  # it describes CMYK, not the RGB pixels returned
            converted = image.convert(mode_for(image))
            converted.info = info
            return converted
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise UnreadableImageError(f"{path}: cannot read the image ({err})", path) from None


def image_files(folder: Path, extensions: tuple[str, ...] = EXTENSIONS) -> list[Path]:
    """The files below `folder`, at any depth, whose extension is one of `extensions`
    (lower case; matched case-insensitively), in sorted order."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in extensions)


class ImageFolder(torch.utils.data.Dataset):
    """`(PIL RGB image, label)` pairs, or `(transform(image), label)`."""

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 extensions: tuple[str, ...] = EXTENSIONS):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"image folder {self.root} does not exist or is not a folder")
        self.classes = sorted(p.name for p in self.root.iterdir()
                              if p.is_dir() and not p.name.startswith("."))
        if not self.classes:
            raise ValueError(f"image folder {self.root} has no class subfolders "
                             f"(expected root/CLASS/IMAGE files)")
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        wanted = tuple(e.lower() for e in extensions)
        self.samples: list[tuple[Path, int]] = []
        for name in self.classes:
            self.samples += [(p, self.class_to_idx[name]) for p in image_files(self.root / name, wanted)]
        if not self.samples:
            raise ValueError(f"image folder {self.root} has no images with extensions {wanted}")
        self.targets = [label for _, label in self.samples]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, label = self.samples[index]
        image = read_rgb(path)
        if self.transform is not None:
            image = self.transform(image)
        return image, label


class ImageFileArray:
    """Image files seen as a read-only uint8 (N, S, S, 3) array, decoded when sliced.

    With ``resize`` the shorter side is first scaled to that length (ImageNet's
    Resize(256)+CenterCrop(224)); without, only the centre ``size`` crop is taken
    (a no-op on ImageNet-C's 224 px files). Decoding runs in a thread pool.
    """

    dtype = np.dtype(np.uint8)
    ndim = 4

    def __init__(self, paths: Sequence[Path], size: int, resize: int | None = None, threads: int = 0):
        self.paths, self.size = list(paths), size
        self.transform = imagenet_eval(size, resize) if resize else Compose([CenterCrop(size)])
        self.threads = threads or min(8, os.cpu_count() or 1)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.paths), self.size, self.size, 3)

    def __len__(self) -> int:
        return len(self.paths)

    def _load(self, path: Path) -> np.ndarray:
        image = read_rgb(path)
        try:
            return np.asarray(self.transform(image))
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None

    def __getitem__(self, index: slice) -> np.ndarray:
        if not isinstance(index, slice):
            raise TypeError("ImageFileArray supports slicing only")
        paths = self.paths[index]
        if not paths:
            return np.empty((0,) + self.shape[1:], np.uint8)
        with ThreadPoolExecutor(self.threads) as pool:
            return np.stack(list(pool.map(self._load, paths)))


def scan_tree(root: Path) -> tuple[list[Path], np.ndarray, list[str]]:
    """Files and labels of a ``root/<wnid>/<image>`` tree; class index from sorted wnids."""
    folder = ImageFolder(root)
    return ([path for path, _ in folder.samples], np.asarray(folder.targets, dtype=np.int64),
            folder.classes)
