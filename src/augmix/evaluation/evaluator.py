"""Robustness evaluation: a model against clean and corrupted test images -> one results record.

The data come as uint8 NHWC arrays (CIFAR-style tests, released -C `.npy` files,
corruptions generated on the fly); the model sees them converted to float,
normalized with the model's own mean/std, in batches. Data-pipeline and model
throughput are timed separately so the report can show which one bounds the run.
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from augmix._util import validate
from augmix._util.convert import mean_std, nhwc_to_nchw, normalize, to_unit_float
from augmix.evaluation import metrics
from augmix.evaluation.results import ResultsRecord

CorruptedSets = Iterable[tuple[str, int, np.ndarray, np.ndarray]]

# Images per forward pass. On a CPU larger batches are slower: activations over 32 MB are
# mapped and unmapped by the allocator at every pass (WRN-16-2 on 32 px images: 735
# images/s at 128, 523 at 256, on 2 cores).
BATCH_SIZE = 128


@dataclass
class Throughput:
    """Seconds spent and images seen by the data pipeline and by the model.

    The loader converts uint8 batches to normalized tensors; the source produces
    the corrupted sets (reading released files or generating corruptions), timed
    apart because on-the-fly generation can cost more than the model. With generation
    in worker processes, `source_s` is the time the model waited for the next set.
    """
    loader_s: float = 0.0
    model_s: float = 0.0
    images: int = 0
    source_s: float = 0.0
    source_images: int = 0

    def as_meta(self) -> dict[str, float | str]:
        out = {"loader_images_per_s": self.images / max(self.loader_s, 1e-9),
               "model_images_per_s": self.images / max(self.model_s, 1e-9)}
        if self.source_images:
            out["source_images_per_s"] = self.source_images / max(self.source_s, 1e-9)
        seconds = {"source": self.source_s, "loader": self.loader_s, "model": self.model_s}
        out.update({f"{part}_s": value for part, value in seconds.items()})
        out["bound_by"] = max(seconds, key=seconds.get)
        return out


def hardware(device: str | torch.device = "cpu") -> str:
    """A short description of what ran the model, for reports."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{os.cpu_count()}-core CPU ({platform.processor() or platform.machine()}), {torch.get_num_threads()} threads"


def _timed(sets: CorruptedSets, timer: Throughput) -> Iterator[tuple[str, int, np.ndarray, np.ndarray]]:
    """Yield from `sets`, adding the time spent producing each set to the timer."""
    iterator = iter(sets)
    while True:
        t0 = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        timer.source_s += time.perf_counter() - t0
        timer.source_images += len(item[3])
        yield item


@dataclass
class Predictions:
    """Softmax outputs and labels of one evaluated set."""
    probs: np.ndarray
    labels: np.ndarray
    extras: dict = field(default_factory=dict)

    def confidence_and_correct(self) -> tuple[np.ndarray, np.ndarray]:
        return metrics.confidence_and_correct(self.probs, self.labels)


def per_channel(mean: Sequence[float], std: Sequence[float], channels: int,
                names: str = "mean and std") -> tuple[torch.Tensor, torch.Tensor]:
    """Checked (mean, std) as (1, C, 1, 1) tensors with exactly one entry per image channel."""
    checked = mean_std(mean, std)
    if checked is None or len(checked[0]) != channels:
        raise ValueError(f"{names} must have one entry per channel ({channels}), "
                         f"got mean={mean!r} std={std!r}")
    return checked[0].view(1, -1, 1, 1), checked[1].view(1, -1, 1, 1)


def model_input(images: np.ndarray, mean: torch.Tensor, std: torch.Tensor,
                device: torch.device | str) -> torch.Tensor:
    """uint8 (N, H, W, C) images as the model's normalized float (N, C, H, W) batch on `device`."""
    batch = torch.from_numpy(np.array(images)).to(device)  # np.array: a writable copy
    return normalize(to_unit_float(nhwc_to_nchw(batch)), mean.to(device), std.to(device))


def prepare(model: torch.nn.Module, device: str | torch.device) -> torch.nn.Module:
    """`model` in eval mode and, on a CPU, with its 4-D weights in channels-last memory
    format (the same values; oneDNN's convolutions run about 1.5 times faster that way, and
    the input batches are channels-last already). Changes `model` in place."""
    model.eval()
    if torch.device(device).type == "cpu":
        model.to(memory_format=torch.channels_last)
    return model


def _batches(images: np.ndarray, batch_size: int, mean: torch.Tensor, std: torch.Tensor,
             device: torch.device, timer: Throughput) -> Iterator[torch.Tensor]:
    for start in range(0, len(images), batch_size):
        t0 = time.perf_counter()
        batch = model_input(images[start:start + batch_size], mean, std, device)
        timer.loader_s += time.perf_counter() - t0
        yield batch


@torch.no_grad()
def predict(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray, *,
            mean: Sequence[float], std: Sequence[float], batch_size: int = BATCH_SIZE,
            device: str | torch.device = "cpu", timer: Throughput | None = None) -> Predictions:
    """Softmax probabilities of `model` on uint8 (N, H, W, C) `images`.

    `images` may be any array-like with dtype, ndim, len and slicing (a memory-mapped
    file, an ImageFileArray decoding on demand): only one batch is in memory at once.
    """
    if not hasattr(images, "dtype"):
        images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"images must be uint8 (N, H, W, C), got {images.dtype} {images.shape}")
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must have shape ({len(images)},), got {labels.shape}")
    validate.integer(batch_size, "batch_size")
    device = validate.device(device)
    mean_t, std_t = (v.to(device) for v in per_channel(mean, std, images.shape[-1]))
    timer = timer if timer is not None else Throughput()
    prepare(model, device)
    outputs = []
    for batch in _batches(images, batch_size, mean_t, std_t, device, timer):
        t0 = time.perf_counter()
        outputs.append(torch.softmax(model(batch).float(), dim=1).cpu())
        timer.model_s += time.perf_counter() - t0
    timer.images += len(images)
    return Predictions(torch.cat(outputs).double().numpy(), labels.astype(np.int64))


def _cell_metrics(pred: Predictions) -> dict[str, float]:
    conf, correct = pred.confidence_and_correct()
    cell = {"error": metrics.error(pred.probs, pred.labels)}
    if len(conf) >= 200:  # the reference RMS calibration error needs two bins of 100; else omitted
        cell["rms_calibration_error"] = metrics.rms_calibration_error(conf, correct)
    return cell


def evaluate(model: torch.nn.Module, clean_images: np.ndarray, clean_labels: np.ndarray,
             corrupted: CorruptedSets, *, name: str, dataset: str, mean: Sequence[float],
             std: Sequence[float], batch_size: int = BATCH_SIZE, device: str | torch.device = "cpu",
             total_sets: int | None = None, meta: dict | None = None,
             progress: bool = True) -> ResultsRecord:
    """Evaluate on the clean set and every (corruption, severity, images, labels) set.

    Returns a summarized ResultsRecord when all 15 x 5 benchmark cells are
    present, otherwise an unsummarized one (still a valid record).
    """
    start = time.perf_counter()
    timer = Throughput()
    kwargs = dict(mean=mean, std=std, batch_size=batch_size, device=device, timer=timer)
    clean = predict(model, clean_images, clean_labels, **kwargs)
    conf, correct = clean.confidence_and_correct()
    record = ResultsRecord(name=name, dataset=dataset, clean={
        **_cell_metrics(clean),
        "top5_error": metrics.error(clean.probs, clean.labels, k=min(5, clean.probs.shape[1])),
        "ece": metrics.ece(conf, correct), "nll": metrics.nll(clean.probs, clean.labels),
        "brier": metrics.brier_score(clean.probs, clean.labels)}, images={"clean": len(clean.labels)})
    record.reliability["clean"] = metrics.reliability_histogram(conf, correct)

    pooled: dict[str, list[Predictions]] = {}
    sets = tqdm(_timed(corrupted, timer), total=total_sets, disable=not progress,
                desc=f"eval {name}", unit="set")
    for corruption, severity, images, labels in sets:
        if record.images.setdefault("corrupted", len(labels)) != len(labels):
            raise ValueError(f"corrupted sets must all have as many images: {corruption} at severity "
                             f"{severity} has {len(labels)}, the sets before it {record.images['corrupted']}")
        pred = predict(model, images, labels, **kwargs)
        record.add_cell(corruption, severity, **_cell_metrics(pred))
        pooled.setdefault(corruption, []).append(pred)
    benchmark_conf, benchmark_correct = [], []
    for corruption, preds in pooled.items():
        merged = Predictions(np.concatenate([p.probs for p in preds]),
                             np.concatenate([p.labels for p in preds]))
        record.corruptions_pooled[corruption] = _cell_metrics(merged)
        if corruption in metrics.CORRUPTIONS:
            c, k = merged.confidence_and_correct()
            benchmark_conf.append(c)
            benchmark_correct.append(k)
    if benchmark_conf:
        record.reliability["corrupted"] = metrics.reliability_histogram(
            np.concatenate(benchmark_conf), np.concatenate(benchmark_correct))
    record.meta.update(meta or {})
    record.meta.update(timer.as_meta())
    record.meta.update({"n_clean": int(len(clean_labels)), "wall_time_s": time.perf_counter() - start,
                        "device": str(device), "hardware": hardware(device), "torch": torch.__version__,
                        "load_average": os.getloadavg()[0]})
    complete = all(str(s) in record.corruptions.get(c, {})
                   for c in metrics.CORRUPTIONS for s in metrics.SEVERITIES)
    if complete:
        from augmix.evaluation.results import summarize
        record = summarize(record)
    return record


# ----------------------------------------------------------------------------- command line
