"""Where `augmix eval` gets its images: the clean test set and its corrupted counterparts.

Every source ends as uint8 NHWC arrays (or array-likes that decode on slicing), the
form augmix.evaluation.evaluate consumes: CIFAR and the synthetic set in memory, released
CIFAR-C files memory-mapped, ImageNet-style trees decoded batch by batch.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
from PIL import Image

from augmix.data.folder import ImageFileArray, scan_tree


@dataclass
class CleanSet:
    images: np.ndarray  # or an ImageFileArray
    labels: np.ndarray
    dataset: str
    limit: int | None = None


def clean_test_set(data: str | None, dataset: str, *, verify: bool = True, limit: int | None = None,
                   synthetic_seed: int = 0) -> CleanSet:
    """The clean test images for `dataset` (synthetic, cifar10, cifar100, imagenet).

    The synthetic test set is the 2,000-image test split of `synthetic_seed` (0), the
    same for every run whatever its training seed, so runs compare on equal terms.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    cut = slice(None, limit)
    if dataset == "synthetic" or data == "synthetic":
        from augmix.data.sources import SYNTHETIC_SIZES
        from augmix.data.synthetic import SyntheticShapes
        test = SyntheticShapes("test", n=SYNTHETIC_SIZES[1], seed=synthetic_seed)
        return CleanSet(test.images[cut], test.labels[cut], "synthetic", limit)
    if data is None:
        raise ValueError(f"--data is required for dataset {dataset!r} (a folder holding its test set)")
    if dataset in ("cifar10", "cifar100"):
        from augmix.data.cifar import load_cifar
        images, labels = load_cifar(data, train=False, dataset=dataset, verify=verify)
        return CleanSet(images[cut], labels[cut], dataset, limit)
    if dataset == "imagenet":
        # Clean ImageNet val is always Resize(256)+CenterCrop(224): the images ImageNet-C was made from.
        paths, labels, _ = scan_tree(Path(data))
        return CleanSet(ImageFileArray(paths[cut], 224, resize=256), labels[cut], dataset, limit)
    raise ValueError(f"dataset must be synthetic, cifar10, cifar100 or imagenet, got {dataset!r}")


def locate_test_set(data: str, data_root: str | None = None) -> tuple[str, str | None]:
    """(dataset, where its test set is) for `data`: synthetic, cifar10, cifar100 (under
    `data_root`, default $AUGMIX_CACHE/cifar) or an image folder holding val/ (or the
    ImageNet-style val tree itself)."""
    if data == "synthetic":
        return data, None
    if data in ("cifar10", "cifar100"):
        from augmix.data.sources import cifar_root
        return data, str(cifar_root(data_root))
    folder = Path(data)
    if not folder.is_dir():
        raise FileNotFoundError(f"--data {data}: not synthetic, cifar10, cifar100 or an existing folder")
    return "imagenet", str(folder / "val" if (folder / "val").is_dir() else folder)


def corruption_names(names: Sequence[str] | None, extra: bool = False) -> list[str]:
    from augmix.corruptions import CORRUPTIONS, EXTRA_CORRUPTIONS, check_name
    chosen = list(names) if names else list(CORRUPTIONS)
    for name in chosen:
        check_name(name)
    return chosen + [n for n in EXTRA_CORRUPTIONS if extra and n not in chosen]


def source_kind(source: str) -> str:
    """'generated' (on the fly, or a folder `augmix corrupt` wrote: it leaves a meta.json),
    'none', or 'released' (the published CIFAR-C / ImageNet-C files)."""
    if source in ("generate", "none"):
        return {"generate": "generated", "none": "none"}[source]
    folder = Path(source)
    written = (folder / "meta.json").is_file() or any(folder.glob("*/meta.json"))
    return "generated" if written else "released"


def corrupted_sets(source: str, clean: CleanSet, names: Sequence[str], severities: Sequence[int], *,
                   seed: int = 0, verify: bool = True, eval_transform: str = "crop", workers: int = 1,
                   subset: int | None = None
                   ) -> tuple[Iterable[tuple[str, int, np.ndarray, np.ndarray]], int]:
    """(iterable of (corruption, severity, images, labels), number of sets) from `source`.

    Every set holds the corrupted copies of the clean images, the same first N: generated from
    them (in `workers` processes), or the first N rows of a released set, whose labels must
    then equal the clean ones. `subset` asks for the first `subset` images of each set instead,
    whatever the clean set holds (without that check).
    """
    for s in severities:
        if s not in (1, 2, 3, 4, 5):
            raise ValueError(f"severities must lie in 1..5, got {s}")
    if subset is not None and subset < 1:
        raise ValueError(f"the corrupted subset must be >= 1 images, got {subset}")
    total = len(names) * len(severities)
    if source == "none":
        return [], 0
    if source == "generate":
        if isinstance(clean.images, ImageFileArray):
            raise ValueError("generating ImageNet-C on the fly is not supported: use the released "
                             "JPEG tree (pitfall: in-memory corruptions differ from the q85 files), "
                             "or write one with `augmix corrupt`")
        from augmix.data.corrupted import iter_corrupted
        return iter_corrupted(clean.images[:subset], clean.labels[:subset], names, severities, seed=seed,
                              workers=workers), total
    root = Path(source)
    if any((folder / "labels.npy").is_file() for folder in (root, root / "CIFAR-10-C", root / "CIFAR-100-C")):
        sets = _released_cifar_c(root, clean, names, severities, verify, subset)
    elif root.is_dir():
        sets = _released_tree(root, clean, names, severities, eval_transform, subset)
    else:
        raise FileNotFoundError(f"--corrupted must be 'generate', 'none', a CIFAR-C folder (with "
                                f"labels.npy) or an ImageNet-C tree; {root} is neither")
    first = next(sets, None)  # checked now (files there, the same images), before any evaluation
    return itertools.chain([] if first is None else [first], sets), total


def _rows(name: str, severity: int, labels: np.ndarray, clean: CleanSet, subset: int | None) -> slice:
    """The rows of a released set to evaluate: the first `subset`, else those of the clean images,
    as many and with the same labels (a released set lists the test images in order)."""
    if subset is not None:
        return slice(None, subset)
    n = len(clean.labels)
    if len(labels) < n or not np.array_equal(labels[:n], clean.labels):
        why = (f"it has {len(labels)} images, the clean test set {n}" if len(labels) < n else
               f"the label of its image {int(np.argmax(labels[:n] != clean.labels))} is not the clean one's")
        raise ValueError(f"the {name} set at severity {severity} does not hold corrupted copies of the "
                         f"{n} clean test images ({why}); pass --corrupted-subset N to evaluate its "
                         f"first N images anyway (clean and corrupted numbers then come from "
                         f"different images)")
    return slice(None, n)


def _released_cifar_c(root: Path, clean: CleanSet, names, severities, verify: bool,
                      subset: int | None) -> Iterator:
    from augmix.data.corrupted import load_cifar_c
    for name in names:
        for severity in severities:
            images, labels = load_cifar_c(root, name, severity, verify=verify)
            if images.shape[1:] != tuple(clean.images.shape[1:]):
                raise ValueError(f"{root}: {name} images are {images.shape[1]}x{images.shape[2]}x"
                                 f"{images.shape[3]}, the clean test images "
                                 f"{'x'.join(map(str, clean.images.shape[1:]))}; is this the corrupted "
                                 f"copy of another data set?")
            rows = _rows(name, severity, labels, clean, subset)
            yield name, severity, images[rows], labels[rows]


def _released_tree(root: Path, clean: CleanSet, names, severities, eval_transform: str,
                   subset: int | None) -> Iterator:
    resize = 256 if eval_transform == "resize-crop" else None
    for name in names:
        for severity in severities:
            folder = root / name / str(severity)
            if not folder.is_dir():
                raise FileNotFoundError(f"missing {folder} (expected {root}/<corruption>/<1..5>/<wnid>/)")
            paths, labels, _ = scan_tree(folder)
            rows = _rows(name, severity, labels, clean, subset)
            size = 224 if resize else Image.open(paths[0]).size[0]
            yield name, severity, ImageFileArray(paths[rows], size, resize), labels[rows]


def perturbed_sets(source: str, clean: CleanSet, folder: str | os.PathLike, names: Sequence[str], *,
                   limit: int | None = None, seed: int = 0, workers: int | None = None,
                   progress: bool = True) -> tuple[list[tuple[str, np.ndarray]], Path]:
    """([(perturbation, memory-mapped uint8 (N, T, H, W, 3) sequences)], their folder) from
    `source`: a -P folder (CIFAR-10-P layout), or 'generate': sequences made from the first
    `limit` clean test images into `folder`, once (a complete folder is reused)."""
    from augmix.data.perturbed import read_perturbations, write_perturbations

    if source == "generate":
        if isinstance(clean.images, ImageFileArray):
            raise ValueError("generating perturbation sequences from an image folder is not supported: "
                             "give a -P folder of <perturbation>.npy files")
        folder, images = Path(folder), clean.images[:limit]
        if not all(_holds(folder / f"{name}.npy", len(images)) for name in names):
            write_perturbations(images, folder, names=names, seed=seed, workers=workers, progress=progress)
    else:
        folder = Path(source)
        if not folder.is_dir():
            raise FileNotFoundError(f"--perturbations must be 'generate' or a -P folder of "
                                    f"<perturbation>.npy files; {folder} is neither")
    sets = [(name, videos[:limit]) for name, videos in read_perturbations(folder, names)]
    for name, videos in sets:
        if videos.shape[2:] != tuple(clean.images.shape[1:]):
            raise ValueError(f"{folder}: {name} frames are {'x'.join(map(str, videos.shape[2:]))}, the clean "
                             f"test images {'x'.join(map(str, clean.images.shape[1:]))}; is this the -P "
                             "set of another data set?")
    return sets, folder


def _holds(file: Path, videos: int) -> bool:
    """Whether `file` is a -P array of at least `videos` sequences (the header alone is read)."""
    try:
        return file.is_file() and len(np.load(file, mmap_mode="r")) >= videos
    except (OSError, ValueError):
        return False
