"""ImageFolder: an image-classification tree (root/CLASS/**/IMAGE) as a data set, no torchvision.

Classes are the sorted names of the subfolders of `root`, labelled 0..K-1;
images are the files below each with a known extension, in sorted order, so
the same tree always gives the same indices (as torchvision's ImageFolder,
whose layout ImageNet training scripts expect).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import torch
from PIL import Image

EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


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
            files = sorted(p for p in (self.root / name).rglob("*")
                           if p.is_file() and p.suffix.lower() in wanted)
            self.samples += [(p, self.class_to_idx[name]) for p in files]
        if not self.samples:
            raise ValueError(f"image folder {self.root} has no images with extensions {wanted}")
        self.targets = [label for _, label in self.samples]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, label = self.samples[index]
        with Image.open(path) as image:
            image = image.convert("RGB")
        if self.transform is not None:
            image = self.transform(image)
        return image, label
