"""`augmix corrupt`: write a -C data set (CIFAR .npy layout, an ImageNet-C JPEG tree, or a
corrupted copy of any image folder at native sizes).

The work is split into tasks of at most `chunk` images of one (corruption, severity); each task
writes its own file atomically, so an interrupted run resumes where it stopped. Every random
image draws from `image_rng(seed, corruption, severity, index)` (for a folder copy the index
is a hash of the file's path below the folder), so the bytes written do not depend on the
number of worker processes.

CIFAR layout (the released CIFAR-10-C / CIFAR-100-C): OUT/<corruption>.npy, uint8
(len(severities) * N, 32, 32, 3), severity blocks in order, plus OUT/labels.npy and
OUT/meta.json (severities, seed, table). Image-folder layout (ImageNet-C):
OUT/<corruption>/<severity>/<class>/<stem>.JPEG at quality 85, plus OUT/meta.json. Folder
copy (COCO-C style): OUT/<corruption>/<severity>/<path below the folder>, same format and size.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from augmix._util import validate
from augmix._util.atomic import atomic_write
from augmix._util.lock import folder_lock
from augmix._util.pool import WorkerPool, bounded_map
from augmix.corruptions.core import corrupt, image_rng
from augmix.corruptions.names import ALL_CORRUPTIONS, RANDOM_CORRUPTIONS, SEVERITIES, check_name, check_severity
from augmix.corruptions.sizes import MIN_SIDE, table_for_shape
from augmix.corruptions.tables import SeverityTable, get_table
from augmix.data.folder import EXTENSIONS, ImageFileArray, UnreadableImageError, image_files, read_image, scan_tree

JPEG_QUALITY = 85
PARTS = ".parts"


@dataclass(frozen=True)
class Task:
    name: str
    severity: int
    start: int
    stop: int


@dataclass
class _Job:
    """What every worker needs: the images (array or ImageFileArray), where to write (if
    anywhere), how."""
    images: object
    out: Path | None
    seed: int
    table: SeverityTable
    frost_dir: str | None
    files: list[Path] | None = None  # image-folder layout: output paths relative to a severity folder


_JOB: _Job | None = None


def _init_worker(job: _Job | _FolderJob) -> None:
    global _JOB
    _JOB = job


def corrupt_block(images: np.ndarray, name: str, severity: int, start: int, *, seed: int,
                  table: SeverityTable, frost_dir: str | os.PathLike | None = None) -> np.ndarray:
    """Corrupt `images`, whose first row is image `start` of the data set, reproducibly."""
    if name not in RANDOM_CORRUPTIONS:
        return corrupt(images, name, severity, table=table)
    return np.stack([corrupt(img, name, severity, rng=image_rng(seed, name, severity, start + i),
                             table=table, frost_dir=frost_dir) for i, img in enumerate(images)])


def _part_path(out: Path, task: Task) -> Path:
    # Keyed by both ends: a rerun with another chunk size never takes a part for another.
    return out / PARTS / task.name / f"s{task.severity}_{task.start:08d}-{task.stop:08d}.npy"


def _remove_leftovers(out: Path) -> None:
    """Temporary files of killed runs (only ever called with the folder's lock held)."""
    for tmp in out.rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def _corrupt_task(task: Task) -> np.ndarray:
    job = _JOB
    return corrupt_block(np.asarray(job.images[task.start:task.stop]), task.name, task.severity,
                         task.start, seed=job.seed, table=job.table, frost_dir=job.frost_dir)


def _run_npy_task(task: Task) -> tuple[int, dict[str, str]]:
    block = _corrupt_task(task)
    with atomic_write(_part_path(_JOB.out, task)) as f:
        np.save(f, block)
    return task.stop - task.start, {}


def _run_tree_task(task: Task) -> tuple[int, dict[str, str]]:
    job = _JOB
    targets = [job.out / task.name / str(task.severity) / rel for rel in job.files[task.start:task.stop]]
    if all(t.exists() for t in targets):
        return len(targets), {}
    block = _corrupt_task(task)
    for target, image in zip(targets, block):
        if not target.exists():
            with atomic_write(target) as f:
                Image.fromarray(image).save(f, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return len(targets), {}


def _tasks(names: Sequence[str], severities: Sequence[int], n: int, chunk: int) -> list[Task]:
    return [Task(name, s, start, min(start + chunk, n))
            for name in names for s in severities for start in range(0, n, chunk)]


def _fetch_frost(tasks: list[Task], job: _Job | _FolderJob) -> None:
    if any(t.name == "frost" for t in tasks):
        from augmix.corruptions.frost import frost_paths
        frost_paths(job.frost_dir)  # fetched once here, before the workers need the textures


def _execute(fn, tasks: list[Task], job: _Job | _FolderJob, workers: int, desc: str,
             progress: bool = True) -> dict[str, str]:
    """Run `fn` on every task (in `workers` processes); the files the tasks skipped, and why."""
    total = sum(t.stop - t.start for t in tasks)
    _fetch_frost(tasks, job)
    skipped: dict[str, str] = {}
    with tqdm(total=total, unit="img", desc=desc, disable=total == 0 or not progress) as bar, contextlib.ExitStack() as stack:
        if workers <= 1 or len(tasks) <= 1:
            _init_worker(job)
            results = map(fn, tasks)
        else:
            pool = stack.enter_context(WorkerPool(workers, initializer=_init_worker, initargs=(job,)))
            results = pool.map(fn, tasks)
        for done, skips in results:
            bar.update(done)
            skipped.update(skips)
    return skipped


def corrupted_sets(images: np.ndarray, names: Sequence[str], severities: Sequence[int], *, seed: int,
                   table: SeverityTable, frost_dir: str | os.PathLike | None = None, workers: int = 1
                   ) -> Iterator[tuple[str, int, np.ndarray]]:
    """(corruption, severity, corrupted images) for every cell in order, made in memory by
    `workers` processes; equal, byte for byte, to what one process (or `write_cifar_c`) makes.

    Each cell is split into one chunk per worker; at most two chunks per worker are made
    ahead of the consumer, so memory stays bounded when the consumer (a model) is slower.
    """
    n = len(images)
    job = _Job(images, None, seed, table, None if frost_dir is None else str(frost_dir))
    tasks = _tasks(names, severities, n, max(1, min(500, -(-n // max(workers, 1)))))
    _fetch_frost(tasks, job)
    if workers <= 1 or n == 0:
        _init_worker(job)
        results = map(_corrupt_task, tasks)
        yield from _cells(tasks, results)
        return
    with WorkerPool(workers, initializer=_init_worker, initargs=(job,)) as pool:
        yield from _cells(tasks, bounded_map(pool, _corrupt_task, ((t,) for t in tasks), ahead=2 * workers))


def _cells(tasks: list[Task], blocks: Iterator[np.ndarray]) -> Iterator[tuple[str, int, np.ndarray]]:
    """Join the chunks of each (corruption, severity), which come in task order."""
    parts: list[np.ndarray] = []
    for i, (task, block) in enumerate(zip(tasks, blocks)):
        parts.append(block)
        last = i + 1 == len(tasks) or (tasks[i + 1].name, tasks[i + 1].severity) != (task.name, task.severity)
        if last:
            yield task.name, task.severity, parts[0] if len(parts) == 1 else np.concatenate(parts)
            parts = []


def _npy_complete(path: Path, shape: tuple[int, ...]) -> bool:
    """Whether `path` is a finished uint8 array of `shape`, to its exact size in bytes."""
    try:
        existing = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return (existing.shape == shape and existing.dtype == np.uint8
            and path.stat().st_size == existing.offset + existing.nbytes)


def _assemble(out: Path, name: str, severities: Sequence[int], n: int, chunk: int,
              image_shape: tuple[int, ...]) -> None:
    """Stream the parts of one corruption into OUT/<name>.npy (atomically), then drop them."""
    shape = (len(severities) * n,) + image_shape
    with atomic_write(out / f"{name}.npy") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": shape})
        for s in severities:
            for start in range(0, n, chunk):
                f.write(np.load(_part_path(out, Task(name, s, start, min(start + chunk, n)))).tobytes())
    shutil.rmtree(out / PARTS / name)


def write_cifar_c(images: np.ndarray, labels: np.ndarray, out: str | os.PathLike, *,
                  names: Sequence[str] = ALL_CORRUPTIONS, severities: Sequence[int] = SEVERITIES,
                  seed: int = 0, table: str | int | SeverityTable | None = None, workers: int = 1,
                  chunk: int = 500, frost_dir: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """Write the released CIFAR-C layout for uint8 (N, H, W, 3) `images`; resumes a partial run."""
    names, severities = _check_choice(names, severities)
    if images.ndim != 4 or images.dtype != np.uint8 or images.shape[-1] != 3:
        raise ValueError(f"images must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
    if len(labels) != len(images):
        raise ValueError(f"labels must have one entry per image: {len(labels)} labels, {len(images)} images")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    table = table_for_shape(*images.shape[1:3]) if table is None else get_table(table)
    with folder_lock(out, wait=False, what="a corrupted set"):
        return _write_cifar_c(images, labels, Path(out), names, severities, seed, table, workers, chunk,
                              frost_dir, progress)


def _write_cifar_c(images: np.ndarray, labels: np.ndarray, out: Path, names: list[str],
                   severities: list[int], seed: int, table: SeverityTable, workers: int, chunk: int,
                   frost_dir: str | os.PathLike | None, progress: bool) -> Path:
    _remove_leftovers(out)
    meta = {"severities": list(severities), "seed": seed, "table": table.name, "images": len(images)}
    _check_meta(out, meta)
    n = len(images)
    todo = [name for name in names if not _npy_complete(out / f"{name}.npy", (len(severities) * n,) + images.shape[1:])]
    tasks = [t for t in _tasks(todo, severities, n, chunk) if not _part_path(out, t).exists()]
    job = _Job(images, out, seed, table, None if frost_dir is None else str(frost_dir))
    _execute(_run_npy_task, tasks, job, workers, "corrupt", progress)
    for name in todo:
        _assemble(out, name, severities, n, chunk, images.shape[1:])
    if (out / PARTS).exists() and not any((out / PARTS).iterdir()):
        (out / PARTS).rmdir()
    with atomic_write(out / "labels.npy") as f:
        np.save(f, np.tile(labels.astype(_labels_dtype(labels)), len(severities)))
    return out


def _labels_dtype(labels: np.ndarray) -> type:
    """uint8 like the released labels.npy when the labels fit, else int64."""
    return np.uint8 if len(labels) == 0 or (labels.min() >= 0 and labels.max() < 256) else np.int64


def _check_meta(out: Path, meta: dict) -> None:
    path = out / "meta.json"
    if path.exists():
        old = json.loads(path.read_text())
        if old != meta:
            raise ValueError(f"{out} holds a generation with other settings ({old}); "
                             f"use another --out or delete it to start again with {meta}")
        return
    with atomic_write(path, "w") as f:
        json.dump(meta, f, indent=2)


def _check_choice(names: Sequence[str], severities: Sequence[int]) -> tuple[list[str], list[int]]:
    names = [check_name(n) for n in names]
    severities = [check_severity(s) for s in severities]
    if not names or not severities:
        raise ValueError("choose at least one corruption and one severity")
    if len(set(names)) != len(names) or len(set(severities)) != len(severities):
        raise ValueError("corruptions and severities must not repeat")
    return names, sorted(severities)


def write_imagenet_c(folder: str | os.PathLike, out: str | os.PathLike, *, crop: int = 224,
                     resize: int | None = 256, names: Sequence[str] = ALL_CORRUPTIONS,
                     severities: Sequence[int] = SEVERITIES, seed: int = 0,
                     table: str | int | SeverityTable | None = None, workers: int = 1, chunk: int = 64,
                     frost_dir: str | os.PathLike | None = None, limit: int | None = None) -> Path:
    """Write OUT/<corruption>/<severity>/<class>/<stem>.JPEG (q85) from FOLDER/<class>/<image>.

    Images are resized (shorter side to `resize`, bilinear) and centre-cropped to `crop`
    before corruption, as ImageNet-C was (Resize(256) + CenterCrop(224)).
    """
    names, severities = _check_choice(names, severities)
    paths, labels, classes = scan_tree(Path(folder))
    paths = paths[:limit]
    if not paths:
        raise FileNotFoundError(f"no images under {folder} (expected {folder}/<class>/<image files>)")
    files = _output_names(Path(folder), paths, [classes[label] for label in labels[:limit]])
    table = table_for_shape(crop, crop) if table is None else get_table(table)
    out = Path(out)
    with folder_lock(out, wait=False, what="a corrupted set"):
        _remove_leftovers(out)
        _write_tree(paths, files, out, crop, resize, names, severities, seed, table, workers, chunk, frost_dir)
    return out


def _output_names(root: Path, paths: list[Path], classes: list[str]) -> list[Path]:
    """<class>/<path below the class folder>.JPEG for every input, refusing inputs that would
    share one output (a.png and a.jpg)."""
    files, seen = [], {}
    for path, cls in zip(paths, classes):
        name = path.relative_to(root / cls).with_suffix(".JPEG")
        name = Path(cls) / name
        if name in seen:
            raise ValueError(f"{seen[name]} and {path} would both be written as {name}; rename one "
                             f"(the corrupted tree keeps the class folder and file stem)")
        seen[name] = path
        files.append(name)
    return files


def _write_tree(paths: list[Path], files: list[Path], out: Path, crop: int, resize: int | None, names: list[str],
                severities: list[int], seed: int, table: SeverityTable, workers: int, chunk: int,
                frost_dir: str | os.PathLike | None) -> None:
    _check_meta(out, {"severities": list(severities), "seed": seed, "table": table.name,
                      "images": len(paths), "crop": crop, "resize": resize})
    job = _Job(ImageFileArray(paths, crop, resize, threads=1), out, seed, table,
               None if frost_dir is None else str(frost_dir), files)
    tasks = [t for t in _tasks(names, severities, len(paths), chunk)
             if not all((out / t.name / str(t.severity) / f).exists() for f in files[t.start:t.stop])]
    _execute(_run_tree_task, tasks, job, workers, "corrupt")


@dataclass
class FolderCopy:
    """What `write_folder_c` wrote: `files` images per corruption and severity under `out`, but
    those in `skipped` (path below the folder -> why)."""
    out: Path
    files: int
    skipped: dict[str, str]


@dataclass
class _FolderJob:
    """What every worker of `write_folder_c` needs."""
    root: Path
    files: list[Path]  # below root, and below every OUT/<corruption>/<severity>
    out: Path
    seed: int
    table: SeverityTable | None  # None: the table for each image's size
    frost_dir: str | None


def write_folder_c(folder: str | os.PathLike, out: str | os.PathLike, *,
                   names: Sequence[str] = ALL_CORRUPTIONS, severities: Sequence[int] = SEVERITIES,
                   seed: int = 0, table: str | int | SeverityTable | None = None, workers: int = 1,
                   chunk: int | None = None, frost_dir: str | os.PathLike | None = None,
                   limit: int | None = None) -> FolderCopy:
    """Write a corrupted copy of every image below `folder`, each at its own size and in its own
    format: OUT/<corruption>/<severity>/<path below folder> (the COCO-C and ImageNet-C layout).

    JPEG copies are written at quality 85 (as ImageNet-C's), every other format losslessly;
    gray images stay gray, an alpha channel is copied unchanged, the EXIF block (JPEG, PNG,
    WebP) and ICC profile are kept; pixels are read as `read_rgb` reads them (EXIF rotation
    not applied, 16-bit scaled to 8).
    Each file draws from `image_rng(seed, corruption, severity, <its path below folder>)`, so
    the bytes do not depend on `workers` or `chunk`. Files are written atomically and a rerun
    skips those already there, so an interrupted run finishes where it stopped. Files that
    cannot be corrupted (unreadable, or under 32 px on a side) are skipped and logged.
    """
    names, severities = _check_choice(names, severities)
    validate.seed(seed)
    validate.integer(workers, "workers", high=validate.MAX_WORKERS)
    validate.optional_integer(chunk, "chunk")
    validate.optional_integer(limit, "limit")
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {folder} does not exist or is not a folder")
    out = validate.outside(validate.out_folder(out, "out"), folder, "out", "folder")
    table = None if table is None else get_table(table)
    files = [path.relative_to(folder) for path in image_files(folder)][:limit]
    if not files:
        raise ValueError(f"folder {folder} holds no images (files ending in {', '.join(EXTENSIONS)})")
    chunk = chunk or min(64, -(-len(files) // (4 * workers)))  # a few tasks per worker, no huge task list
    job = _FolderJob(folder, files, out, seed, table, None if frost_dir is None else str(frost_dir))
    with folder_lock(out, wait=False, what="a corrupted copy"):
        _remove_leftovers(out)
        _check_meta(out, {"layout": "folder copy", "seed": seed, "jpeg_quality": JPEG_QUALITY,
                          "table": "by image size" if table is None else table.name})
        skipped = _execute(_run_folder_task, _tasks(names, severities, len(files), chunk), job, workers,
                           "corrupt")
    for relative, why in sorted(skipped.items()):
        logging.getLogger("augmix").warning("skipped %s: %s", relative, why)
    return FolderCopy(out, len(files), dict(sorted(skipped.items())))


def _run_folder_task(task: Task) -> tuple[int, dict[str, str]]:
    job, skipped = _JOB, {}
    for relative in job.files[task.start:task.stop]:
        target = job.out / task.name / str(task.severity) / relative
        if not target.exists():
            why = _write_corrupted_copy(job, relative, target, task.name, task.severity)
            if why:
                skipped[relative.as_posix()] = why
    return task.stop - task.start, skipped


def _path_key(relative: Path) -> int:
    """A file's path below the folder as a 64-bit number, the same on every system and run."""
    return int.from_bytes(hashlib.blake2b(relative.as_posix().encode(), digest_size=8).digest(), "big")


def _write_corrupted_copy(job: _FolderJob, relative: Path, target: Path, name: str,
                          severity: int) -> str | None:
    """Corrupt one file into `target`, in the file's format; None, or why it could not be."""
    source = job.root / relative
    try:
        image = read_image(source)
    except UnreadableImageError as err:
        return str(err).removeprefix(f"{source}: ")
    if min(image.size) < MIN_SIDE:
        return f"{image.width}x{image.height} px; the corruptions need at least {MIN_SIDE} px on each side"
    pixels = np.asarray(image).reshape(image.height, image.width, -1)
    channels = 3 if image.mode.startswith("RGB") else 1
    rng = image_rng(job.seed, name, severity, _path_key(relative))
    try:
        colour = corrupt(pixels[..., :channels], name, severity, rng=rng, table=job.table,
                         frost_dir=job.frost_dir)  # gray (H, W, 1) stays gray
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None
    copy = np.concatenate([colour, pixels[..., channels:]], axis=-1)  # alpha, if any, unchanged
    _save_like(Image.fromarray(copy[..., 0] if copy.shape[-1] == 1 else copy), target, image.info)
    return None


def _save_like(image: Image.Image, target: Path, info: dict) -> None:
    """Write `image` atomically in the format its name says: JPEG at quality 85, the rest
    lossless, with the source's EXIF block and ICC profile where it had them."""
    fmt = Image.registered_extensions()[target.suffix.lower()]
    options = {"JPEG": {"quality": JPEG_QUALITY, "optimize": True}, "WEBP": {"lossless": True}}.get(fmt, {})
    options.update({key: info[key] for key in ("exif", "icc_profile") if info.get(key)})
    with atomic_write(target) as f:
        image.save(f, fmt, **options)
