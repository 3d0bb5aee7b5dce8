"""Perturbed (-P) test sets: CIFAR-10-P style .npy files and ImageNet-P style video trees,
written on all cores from `augmix.perturbations` and read back for the flip-probability metrics.

CIFAR-P: OUT/<perturbation>.npy, uint8 (N, T, H, W, 3), sequence i of image i, frame 0 first
(the released CIFAR-10-P / CIFAR-100-P layout, 10,000 x T x 32 x 32 x 3; no labels are
needed), plus OUT/meta.json (seed, table, images) for sets written here.

ImageNet-P: OUT/<perturbation>/<wnid>/<stem>.mp4 (one video per validation image; class
index = position of the wnid among the sorted class folders). Sets written here hold either
.mp4 files (lossy MPEG-4 through OpenCV, like the released H.264 videos) or lossless folders
OUT/<perturbation>/<wnid>/<stem>/<frame>.png; `iter_imagenet_p` reads both.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from concurrent.futures import Executor
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from augmix._util.atomic import atomic_write
from augmix._util.lock import folder_lock
from augmix._util.pool import WorkerPool, bounded_map
from augmix.data.corrupted import _read_npy
from augmix.data.folder import read_rgb, scan_tree
from augmix.data.generate import _check_meta, _npy_complete, _output_names, _remove_leftovers
from augmix.data.transforms import Resize
from augmix.perturbations.names import ALL_PERTURBATIONS, PERTURBATIONS, check_name
from augmix.perturbations.tables import get_table, table_for_shape

VIDEO_FORMATS = ("mp4", "png")
CHUNK = 32  # images per task: small enough for an even split, large enough to amortize a task


def _check_names(names: Sequence[str]) -> list[str]:
    if isinstance(names, str):
        names = [names]
    names = [check_name(n) for n in names]
    if not names:
        raise ValueError("names must hold at least one perturbation")
    if len(set(names)) != len(names):
        raise ValueError(f"names must not repeat, got {names}")
    return names


def _workers(workers: int | None) -> int:
    if workers is None:
        return os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be None (all cores) or an int >= 1, got {workers!r}")
    return workers


def perturb_block(images: np.ndarray, name: str, start: int, *, seed: int, table: str,
                  crop: int | None = None) -> np.ndarray:
    """The sequences of `images` (uint8 (n, H, W, 3)), whose first row is image `start` of the set."""
    from augmix.perturbations.core import perturb_sequence, sequence_rng

    return np.stack([perturb_sequence(image, name, sequence_rng(seed, name, start + i), table=table, crop=crop)
                     for i, image in enumerate(images)])


@contextlib.contextmanager
def _pool(workers: int) -> Iterator[Executor | None]:
    if workers <= 1:
        yield None
        return
    with WorkerPool(workers) as pool:
        yield pool


def write_perturbations(images: np.ndarray, out_dir: str | os.PathLike, names: Sequence[str] = PERTURBATIONS,
                        seed: int = 0, workers: int | None = None, progress: bool = True, *,
                        table: str | int | None = None) -> Path:
    """Write CIFAR-10-P style OUT_DIR/<name>.npy, uint8 (N, T, H, W, 3), for uint8 (N, H, W, 3) `images`.

    Sequence i draws from `sequence_rng(seed, name, i)`, so the bytes do not depend on
    `workers` (default: all cores). Each file is written atomically; files already complete
    are skipped, so an interrupted run resumes. `table` (cifar, tiny, imagenet or 32/64/224)
    defaults to the image size.
    """
    names = _check_names(names)
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4 \
            or images.shape[-1] != 3 or len(images) == 0:
        shape = getattr(images, "shape", None)
        raise ValueError(f"images must be a non-empty uint8 array (N, H, W, 3), got "
                         f"{getattr(images, 'dtype', type(images).__name__)} {shape}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 63:
        raise ValueError(f"seed must be an int from 0 to 2**63 - 1, got {seed!r}")
    workers = _workers(workers)
    table = table_for_shape(*images.shape[1:3]) if table is None else get_table(table)
    out = Path(out_dir)
    with folder_lock(out, wait=False, what="a perturbed set"):
        _remove_leftovers(out)
        _check_meta(out, {"seed": int(seed), "table": table.name, "images": len(images)})
        n = len(images)
        todo = [name for name in names
                if not _npy_complete(out / f"{name}.npy", (n, table.frames(name)) + images.shape[1:])]
        with _pool(workers) as pool, tqdm(total=n * len(todo), unit="seq", desc="perturb",
                                          disable=not progress or not todo) as bar:
            for name in todo:
                bar.set_postfix_str(name)
                shape = (n, table.frames(name)) + images.shape[1:]
                tasks = ((images[start:start + CHUNK], name, start) for start in range(0, n, CHUNK))
                fn = _Perturb(int(seed), table.name)
                with atomic_write(out / f"{name}.npy") as f:
                    np.lib.format.write_array_header_1_0(
                        f, {"descr": "|u1", "fortran_order": False, "shape": shape})
                    for block in bounded_map(pool, fn, tasks, 2 * workers):
                        f.write(np.ascontiguousarray(block).tobytes())
                        bar.update(len(block))
    return out


class _Perturb:
    """perturb_block with the set's settings bound (a picklable callable for worker processes)."""

    def __init__(self, seed: int, table: str, crop: int | None = None):
        self.seed, self.table, self.crop = seed, table, crop

    def __call__(self, images: np.ndarray, name: str, start: int) -> np.ndarray:
        return perturb_block(images, name, start, seed=self.seed, table=self.table, crop=self.crop)


def _check_sequences(path: Path, array: np.ndarray) -> None:
    if array.dtype != np.uint8:
        raise ValueError(f"{path}: expected uint8 sequences, got dtype {array.dtype}")
    if array.ndim != 5 or array.shape[-1] != 3:
        raise ValueError(f"{path}: expected sequences of shape (N, T, H, W, 3), got {array.shape}")
    if array.shape[1] < 2:
        raise ValueError(f"{path}: sequences need at least 2 frames to compare, got {array.shape[1]}")


def read_perturbations(path: str | os.PathLike, names: Sequence[str] | None = None
                       ) -> Iterator[tuple[str, np.ndarray]]:
    """(name, uint8 (N, T, H, W, 3) read-only memory map) for each PATH/<name>.npy.

    Reads sets written by `write_perturbations` and the released CIFAR-10-P / CIFAR-100-P
    files. `names=None` takes every perturbation file present, in the benchmark's order.
    Every file is checked (uint8, 5-D, T >= 2, one N for all) before the first is yielded.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (expected a -P set, <perturbation>.npy files)")
    if names is None:
        names = [n for n in ALL_PERTURBATIONS if (folder / f"{n}.npy").is_file()]
        if not names:
            raise FileNotFoundError(f"{folder} holds no perturbation files (<perturbation>.npy, e.g. "
                                    f"{PERTURBATIONS[0]}.npy); write one with `augmix perturb`")
    names = _check_names(names)
    arrays = {}
    for name in names:
        file = folder / f"{name}.npy"
        if not file.is_file():
            raise FileNotFoundError(f"{file}: no such file (perturbation {name!r} is not in this set)")
        arrays[name] = _read_npy(file, mmap=True)
        _check_sequences(file, arrays[name])
    counts = {len(a) for a in arrays.values()}
    if len(counts) > 1:
        sizes = ", ".join(f"{n}.npy: {len(a)}" for n, a in arrays.items())
        raise ValueError(f"{folder}: the files hold different numbers of sequences ({sizes})")
    yield from arrays.items()


# --- ImageNet-P: video trees ---------------------------------------------------------------------

def write_video(frames: np.ndarray, path: str | os.PathLike) -> Path:
    """Write uint8 (T, H, W, 3) RGB `frames` atomically: PATH.mp4 (MPEG-4, lossy) or, for any other
    PATH, a folder of lossless PATH/<frame>.png (00.png, 01.png, ...)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        if path.suffix == ".mp4":
            _write_mp4(frames, tmp / path.name)
            os.replace(tmp / path.name, path)
            tmp.rmdir()
        else:
            digits = len(str(len(frames) - 1))
            for i, frame in enumerate(frames):
                Image.fromarray(frame).save(tmp / f"{i:0{digits}d}.png")
            os.chmod(tmp, 0o777 & ~_umask())
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_mp4(frames: np.ndarray, path: Path) -> None:
    import cv2

    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 1, (w, h))
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot write MPEG-4 video here; write PNG frame folders instead")
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))
    finally:
        writer.release()


def read_video(path: str | os.PathLike) -> np.ndarray:
    """The frames of one video as uint8 (T, H, W, 3) RGB: an .mp4 (or other file OpenCV decodes,
    no resize, no ffmpeg binary needed) or a folder of frame images in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted((p for p in path.iterdir() if p.suffix.lower() == ".png"), key=lambda p: (len(p.stem), p.stem))
        frames = [np.asarray(read_rgb(p)) for p in files]
    else:
        frames = _decode(path)
    if len(frames) < 2:
        raise ValueError(f"{path}: a perturbation sequence needs at least 2 frames, found {len(frames)}")
    if len({f.shape for f in frames}) > 1:
        raise ValueError(f"{path}: frames differ in size ({sorted({f.shape for f in frames})})")
    return np.stack(frames)


def _decode(path: Path) -> list[np.ndarray]:
    import cv2

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such video file")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise ValueError(f"{path}: OpenCV cannot decode this video (not a video file, or truncated)")
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                return frames
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()


def imagenet_p_videos(root: str | os.PathLike, name: str) -> tuple[list[Path], np.ndarray, list[str]]:
    """(videos, labels, classes) of ROOT/<name>/<wnid>/<video>: every .mp4 file or frame folder,
    its class index among the sorted wnids, and those wnids."""
    folder = Path(root) / check_name(name)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (expected ImageNet-P's <perturbation>/<wnid>/<video>.mp4)")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    videos, labels = [], []
    for label, wnid in enumerate(classes):
        for entry in sorted((folder / wnid).iterdir()):
            if entry.name.startswith("."):
                continue  # a writer's temporary file or folder
            if entry.suffix.lower() == ".mp4" or entry.is_dir():
                videos.append(entry)
                labels.append(label)
    if not videos:
        raise FileNotFoundError(f"{folder} holds no videos (expected <wnid>/<video>.mp4 or <wnid>/<video>/<frame>.png)")
    return videos, np.asarray(labels, dtype=np.int64), classes


def iter_imagenet_p(root: str | os.PathLike, names: Sequence[str] | None = None
                    ) -> Iterator[tuple[str, np.ndarray, int]]:
    """(perturbation, frames uint8 (T, H, W, 3) RGB, class index) for every video of an ImageNet-P tree.

    Perturbation after perturbation (`names=None`: every perturbation folder present, in the
    benchmark's order), video after video, each decoded when reached.
    """
    root = Path(root)
    if names is None:
        names = [n for n in ALL_PERTURBATIONS if (root / n).is_dir()]
        if not names:
            raise FileNotFoundError(f"{root} holds no perturbation folders (expected ImageNet-P's "
                                    f"<perturbation>/<wnid>/<video>.mp4)")
    for name in _check_names(names):
        videos, labels, _ = imagenet_p_videos(root, name)
        for video, label in zip(videos, labels):
            yield name, read_video(video), int(label)


def write_imagenet_p(folder: str | os.PathLike, out: str | os.PathLike, *, names: Sequence[str] = PERTURBATIONS,
                     crop: int = 224, resize: int | None = 256, seed: int = 0, video: str = "mp4",
                     workers: int | None = None, limit: int | None = None, progress: bool = True) -> Path:
    """Write OUT/<perturbation>/<wnid>/<stem>.mp4 (or <stem>/ PNG frames with video="png") from
    FOLDER/<wnid>/<image>.

    Each image is resized (shorter side to `resize`, bilinear) and perturbed, the frames
    centre-cropped to `crop`, as ImageNet-P was made (Resize(256), CenterCrop(224)). Videos
    already written are skipped, so an interrupted run resumes.
    """
    names = _check_names(names)
    if video not in VIDEO_FORMATS:
        raise ValueError(f"video must be one of {', '.join(VIDEO_FORMATS)}, got {video!r}")
    table = table_for_shape(crop, crop)
    if resize is not None and crop > resize:
        raise ValueError(f"crop ({crop} px) must be at most resize ({resize} px, the shorter side)")
    paths, labels, classes = scan_tree(Path(folder))
    paths = paths[:limit]
    files = [f.with_suffix(".mp4" if video == "mp4" else "")
             for f in _output_names(Path(folder), paths, [classes[label] for label in labels[:limit]])]
    workers, out = _workers(workers), Path(out)
    with folder_lock(out, wait=False, what="a perturbed set"):
        for leftover in list(out.rglob(".*.tmp")):  # of killed runs: files and frame folders
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink(missing_ok=True)
        _check_meta(out, {"seed": int(seed), "table": table.name, "images": len(paths), "crop": crop,
                          "resize": resize})
        tasks = [(name, i) for name in names for i in range(len(paths))
                 if not (out / name / files[i]).exists()]
        job = _VideoJob(paths, out, resize, crop, int(seed), table.name, files)
        with _pool(workers) as pool, tqdm(total=len(tasks), unit="video", desc="perturb",
                                          disable=not progress or not tasks) as bar:
            for _ in bounded_map(pool, job, tasks, 2 * workers):
                bar.update()
    return out


class _VideoJob:
    """One image's sequence under one perturbation, written as a video (picklable, for workers)."""

    def __init__(self, paths: list[Path], out: Path, resize: int | None, crop: int, seed: int, table: str,
                 files: list[Path]):
        self.paths, self.out, self.resize, self.crop = paths, out, resize, crop
        self.seed, self.table, self.files = seed, table, files

    def __call__(self, name: str, index: int) -> None:
        image = read_rgb(self.paths[index])
        if self.resize:
            image = Resize(self.resize)(image)
        frames = perturb_block(np.asarray(image)[None], name, index, seed=self.seed, table=self.table,
                               crop=self.crop)[0]
        write_video(frames, self.out / name / self.files[index])
