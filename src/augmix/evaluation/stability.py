"""Stability under perturbation sequences (CIFAR-10-P, ImageNet-P): flip probability and top-5 distance.

A -P set holds, per perturbation, N short videos of T frames (uint8 (N, T, H, W, 3)). The
model sees every frame; its top-1 predictions give the flip probability FP (how often the
prediction changes between the compared frames) and its class rankings the top-5 distance
uT5D (how far the top 5 move). Noise sequences (a name containing "noise") are independent
draws, each frame compared with the first; the others are ordered in time, each frame
compared with the one `difficulty` frames before (as ImageNet-P's `test.py`). Definitions:
`augmix.metrics.flip_probability` and `mean_top5_distance`.

CIFAR reports the plain mean over the 10 test perturbations (AugMix's CIFAR-10-P
evaluation); ImageNet normalizes by AlexNet's values per perturbation (mFR, mT5D). Those
are published in no code, so they come from a JSON file or are computed once with
torchvision's AlexNet (when installed) and cached.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from tqdm.auto import tqdm

from augmix._util import validate
from augmix._util.atomic import atomic_write
from augmix._util.choice import check_choice
from augmix.evaluation import metrics
from augmix.evaluation.evaluator import BATCH_SIZE, model_input, per_channel, prepare
from augmix.perturbations import PERTURBATIONS, VALIDATION_PERTURBATIONS

PerturbedSets = Iterable[tuple[str, np.ndarray]]
# The baseline computed when none is given: torchvision's pretrained AlexNet (ImageNet-P's
# test.py loads an earlier file of it, alexnet-owt-4df8aa71).
ALEXNET_WEIGHTS = "torchvision alexnet IMAGENET1K_V1"
_METRICS = ("flip_probability", "top5_distance")
log = logging.getLogger("augmix")


def is_noise(name: str) -> bool:
    """Noise sequences are independent draws: each frame is compared with the first."""
    return "noise" in name


def check_names(names: Sequence[str] | None) -> list[str]:
    """The perturbations asked for (default: the 10 test ones), each a known name."""
    known = PERTURBATIONS + VALIDATION_PERTURBATIONS
    chosen = list(names) if names else list(PERTURBATIONS)
    for name in chosen:
        check_choice(name, known, "perturbation")
    return chosen


def _check_videos(name: str, videos: Any, difficulty: int) -> None:
    shape = getattr(videos, "shape", None)
    if getattr(videos, "dtype", None) != np.uint8 or len(shape or ()) != 5 or shape[0] < 1:
        raise ValueError(f"perturbation {name!r}: sequences must be uint8 (videos, frames, H, W, C) "
                         f"with at least one video, got {getattr(videos, 'dtype', type(videos).__name__)} "
                         f"{shape}")
    needed = 2 if is_noise(name) else difficulty + 1
    if shape[1] < needed:
        raise ValueError(f"perturbation {name!r}: {shape[1]} frame(s) per video, at least {needed} needed"
                         + ("" if is_noise(name) else f" for difficulty {difficulty}"))


@torch.no_grad()
def sequence_logits(model: torch.nn.Module, videos: np.ndarray, *, mean: Sequence[float],
                    std: Sequence[float], batch_size: int = BATCH_SIZE, device: str | torch.device = "cpu"
                    ) -> Iterator[np.ndarray]:
    """Logits (k, T, classes) of successive groups of k videos of uint8 (N, T, H, W, C) `videos`.

    Frames go through the model `batch_size` at a time; `videos` may be memory-mapped, only
    one group is read at once.
    """
    n, t = videos.shape[:2]
    mean_t, std_t = (v.to(device) for v in per_channel(mean, std, videos.shape[-1]))
    prepare(model, device)
    group = max(1, batch_size // t)
    for start in range(0, n, group):
        frames = np.asarray(videos[start:start + group]).reshape(-1, *videos.shape[2:])
        logits = [model(model_input(frames[i:i + batch_size], mean_t, std_t, device)).float().cpu()
                  for i in range(0, len(frames), batch_size)]
        yield torch.cat(logits).numpy().reshape(len(frames) // t, t, -1)


def sequence_metrics(logits: np.ndarray, name: str, difficulty: int = 1) -> dict[str, float]:
    """FP (and uT5D, with 5 classes or more) of (videos, frames, classes) logits, averaged
    over videos: the per-perturbation numbers of `stability`."""
    noise = is_noise(name)
    d = 1 if noise else difficulty  # harder noise is a separate sequence (`<name>_2`), not a stride
    out = {"flip_probability": metrics.flip_probability(np.argmax(logits, axis=-1), noise, d)}
    if logits.shape[-1] >= 5:
        out["top5_distance"] = metrics.mean_top5_distance(logits, noise, d)
    return out


def perturbation_stability(model: torch.nn.Module, name: str, videos: np.ndarray, *,
                           mean: Sequence[float], std: Sequence[float], batch_size: int = BATCH_SIZE,
                           device: str | torch.device = "cpu", difficulty: int = 1,
                           bar: tqdm | None = None) -> dict[str, float]:
    """FP and uT5D of `model` on one perturbation's uint8 (N, T, H, W, C) sequences."""
    _check_videos(name, videos, difficulty)
    sums: dict[str, float] = {}
    for logits in sequence_logits(model, videos, mean=mean, std=std, batch_size=batch_size, device=device):
        # every video has T frames, so the mean over videos is the group-size-weighted mean
        for key, value in sequence_metrics(logits, name, difficulty).items():
            sums[key] = sums.get(key, 0.0) + value * len(logits)
        if bar is not None:
            bar.update(len(logits))
    n, t = videos.shape[:2]
    return {**{key: total / n for key, total in sums.items()}, "videos": int(n), "frames": int(t)}


def _means(per: Mapping[str, Mapping[str, float]], key: str) -> float | None:
    """The plain mean over the 10 test perturbations, when all of them are there."""
    if not all(key in per.get(p, {}) for p in PERTURBATIONS):
        return None
    return float(np.mean([per[p][key] for p in PERTURBATIONS]))


def stability(model: torch.nn.Module, sets: PerturbedSets, *, mean: Sequence[float], std: Sequence[float],
              batch_size: int = BATCH_SIZE, device: str | torch.device = "cpu", difficulty: int = 1,
              baseline: Mapping[str, Mapping[str, float]] | None = None, baseline_name: str | None = None,
              progress: bool = True, desc: str = "stability") -> dict[str, Any]:
    """The `stability` section of a results record: per perturbation FP and uT5D, their means
    over the 10 test perturbations and, against a `baseline` ({name: {flip_probability,
    top5_distance}}, AlexNet's for mFR and mT5D), the normalized ones.

    `sets` yields (name, uint8 (N, T, H, W, C) sequences), e.g. `augmix.data.perturbed.
    read_perturbations`; memory-mapped arrays are read a few videos at a time.
    """
    validate.integer(difficulty, "difficulty")
    validate.integer(batch_size, "batch_size")
    device = validate.device(device)
    sets = list(sets)
    for name, videos in sets:
        _check_videos(name, videos, difficulty)
    start, frames = time.perf_counter(), 0
    per: dict[str, dict[str, float]] = {}
    with tqdm(total=sum(len(v) for _, v in sets), unit="video", desc=desc, disable=not progress) as bar:
        for name, videos in sets:
            bar.set_postfix_str(name)
            per[name] = perturbation_stability(model, name, videos, mean=mean, std=std, batch_size=batch_size,
                                               device=device, difficulty=difficulty, bar=bar)
            frames += videos.shape[0] * videos.shape[1]
    wall = time.perf_counter() - start
    section: dict[str, Any] = {"difficulty": difficulty, "perturbations": per,
                               "mean_flip_probability": _means(per, "flip_probability"),
                               "mean_top5_distance": _means(per, "top5_distance"),
                               "mfr": None, "mt5d": None, "baseline": None,
                               "wall_time_s": wall, "frames_per_s": frames / max(wall, 1e-9)}
    if baseline is not None:
        section.update(normalized(per, baseline), baseline=baseline_name or "custom",
                       baseline_values={p: dict(v) for p, v in baseline.items()})
    return section


def normalized(per: Mapping[str, dict[str, float]], baseline: Mapping[str, Mapping[str, float]]
               ) -> dict[str, float | None]:
    """FR and T5D per perturbation (written into `per`), and mFR / mT5D when all 10 are there."""
    for name, values in per.items():
        base = baseline.get(name, {})
        if base.get("flip_probability"):
            values["flip_rate"] = values["flip_probability"] / base["flip_probability"]
        if base.get("top5_distance") and "top5_distance" in values:
            values["top5_distance_ratio"] = values["top5_distance"] / base["top5_distance"]
    out: dict[str, float | None] = {"mfr": None, "mt5d": None}
    for key, field, fn in (("mfr", "flip_probability", metrics.mfr), ("mt5d", "top5_distance", metrics.mt5d)):
        mine = {p: v[field] for p, v in per.items() if field in v}
        theirs = {p: v[field] for p, v in baseline.items() if field in v}
        if all(p in mine and theirs.get(p) for p in PERTURBATIONS):
            out[key] = fn(mine, theirs)
    return out


# ----------------------------------------------------------------------------- baselines
def load_baseline(path: str | os.PathLike) -> dict[str, dict[str, float]]:
    """A baseline JSON file: {perturbation: {"flip_probability": FP, "top5_distance": uT5D}}."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"stability baseline not found: {path}")
    text = path.read_text(encoding="utf-8", errors="replace")
    return check_baseline(validate.json_object(text, str(path), "a JSON object: perturbation -> "
                                               "{flip_probability, top5_distance}"), str(path))


def check_baseline(data: Any, where: str = "baseline") -> dict[str, dict[str, float]]:
    example = '{"gaussian_noise": {"flip_probability": 0.2, "top5_distance": 3.1}, ...}'
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{where} must map perturbation names to their values, e.g. {example}")
    out = {}
    for name, values in data.items():
        check_names([name])
        if not isinstance(values, dict) or not set(values) & set(_METRICS) or set(values) - set(_METRICS):
            raise ValueError(f"{where}[{name!r}] must hold flip_probability and/or top5_distance, e.g. {example}")
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{where}[{name!r}][{key!r}] must be a positive number, got {value!r}")
        out[name] = {k: float(v) for k, v in values.items()}
    return out


def fingerprint(folder: str | os.PathLike, sets: Sequence[tuple[str, np.ndarray]], difficulty: int) -> str:
    """A key naming exactly these sequences (files, sizes, dates, shapes) and difficulty."""
    folder = Path(folder).resolve()
    parts = [str(folder), str(difficulty)]
    for name, videos in sets:
        file = folder / f"{name}.npy"
        stat = file.stat() if file.is_file() else None
        parts.append(f"{name}:{tuple(videos.shape)}:{stat and (stat.st_size, stat.st_mtime_ns)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _torchvision_alexnet() -> torch.nn.Module | None:
    """torchvision's pretrained AlexNet, or None when torchvision is missing or does not load."""
    try:
        from torchvision.models import alexnet
    except Exception:  # not installed, or its wheel does not load with this torch
        return None
    return alexnet(weights="IMAGENET1K_V1")


def alexnet_baseline(sets: Sequence[tuple[str, np.ndarray]], key: str, *, batch_size: int = 64,
                     device: str | torch.device = "cpu", difficulty: int = 1, progress: bool = True,
                     ) -> tuple[dict[str, dict[str, float]], Path] | None:
    """AlexNet's FP and uT5D on `sets`, read from the cache or computed once (with
    torchvision) and cached under $AUGMIX_CACHE/stability; None without torchvision."""
    from augmix._util.download import cache_dir
    from augmix.data.sources import IMAGENET_MEAN, IMAGENET_STD

    cache = cache_dir() / "stability" / f"alexnet-{key}.json"
    if cache.is_file():
        return check_baseline(json.loads(cache.read_text())["values"], str(cache)), cache
    model = _torchvision_alexnet()
    if model is None:
        return None
    log.info("computing AlexNet's flip probabilities and top-5 distances on these sequences once "
             "(cached in %s)", cache)
    section = stability(model.to(device), sets, mean=IMAGENET_MEAN, std=IMAGENET_STD, batch_size=batch_size,
                        device=device, difficulty=difficulty, progress=progress, desc="stability AlexNet")
    values = {name: {k: v[k] for k in _METRICS if k in v} for name, v in section["perturbations"].items()}
    with atomic_write(cache) as f:
        f.write(json.dumps({"weights": ALEXNET_WEIGHTS, "key": key, "values": values}, indent=2).encode())
    return values, cache


def evaluate_stability(model: torch.nn.Module, sets: PerturbedSets, *, dataset: str,
                       mean: Sequence[float], std: Sequence[float], folder: str | os.PathLike | None = None,
                       baseline_file: str | os.PathLike | None = None, batch_size: int = BATCH_SIZE,
                       device: str | torch.device = "cpu", difficulty: int = 1, progress: bool = True,
                       desc: str = "stability") -> dict[str, Any]:
    """`stability` with the baseline chosen as the benchmark asks: `baseline_file` when given;
    else, for ImageNet, AlexNet's values (cached, or computed with torchvision from the
    sequences in `folder`); else none: CIFAR's plain means, or ImageNet's unnormalized ones
    with a `note` saying why."""
    from augmix.evaluation.results import IMAGENET_DATASETS

    sets = list(sets)
    baseline, name, note = None, None, None
    if baseline_file is not None:
        baseline, name = load_baseline(baseline_file), f"file {baseline_file}"
    elif dataset.lower() in IMAGENET_DATASETS:
        found = None if folder is None else alexnet_baseline(
            sets, fingerprint(folder, sets, difficulty), batch_size=batch_size, device=device,
            difficulty=difficulty, progress=progress)
        if found is None:
            note = ("no AlexNet baseline (give a JSON file of its flip probabilities and top-5 distances, "
                    "or install torchvision to compute them): mFR and mT5D are not computed")
        else:
            baseline, name = found[0], f"{ALEXNET_WEIGHTS}, computed on these sequences (cache {found[1]})"
    section = stability(model, sets, mean=mean, std=std, batch_size=batch_size, device=device,
                        difficulty=difficulty, baseline=baseline, baseline_name=name, progress=progress,
                        desc=desc)
    if note:
        section["note"] = note
    return section
