"""-P sets in the CIFAR-10-P layout: one `<perturbation>.npy` per perturbation, uint8
(N videos, T frames, H, W, 3)."""
from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from augmix._util.atomic import atomic_write
from augmix.perturbations import PERTURBATIONS, VALIDATION_PERTURBATIONS


def read_perturbations(path: str | os.PathLike, names: Sequence[str] | None = None
                       ) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (name, memory-mapped uint8 (N, T, H, W, 3) array) for each perturbation."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"-P folder not found: {folder}")
    known = PERTURBATIONS + VALIDATION_PERTURBATIONS
    for name in names if names is not None else PERTURBATIONS:
        if name not in known:
            near = difflib.get_close_matches(str(name), known, n=1, cutoff=0.5)
            raise ValueError(f"unknown perturbation {name!r}"
                             + (f"; did you mean {near[0]!r}?" if near else f"; expected one of {', '.join(known)}"))
        file = folder / f"{name}.npy"
        if not file.is_file():
            raise FileNotFoundError(f"missing {file}")
        videos = np.load(file, mmap_mode="r")
        if videos.dtype != np.uint8 or videos.ndim != 5 or videos.shape[-1] != 3:
            raise ValueError(f"{file} must hold uint8 (videos, frames, H, W, 3), got {videos.dtype} {videos.shape}")
        if videos.shape[0] < 1 or videos.shape[1] < 2:
            raise ValueError(f"{file} must hold at least one video of at least 2 frames, got {videos.shape}")
        yield name, videos


def write_perturbations(images: np.ndarray, out_dir: str | os.PathLike, names: Sequence[str] = PERTURBATIONS,
                        seed: int = 0, workers: int | None = None, progress: bool = True) -> Path:
    """Placeholder until the perturbation generators arrive: 31-frame brightness ramps for every name."""
    out = Path(out_dir)
    steps = np.arange(31, dtype=np.int16)[None, :, None, None, None]
    videos = np.clip(np.asarray(images, np.int16)[:, None] + steps, 0, 255).astype(np.uint8)
    for name in names:
        with atomic_write(out / f"{name}.npy") as f:
            np.save(f, videos)
    return out
