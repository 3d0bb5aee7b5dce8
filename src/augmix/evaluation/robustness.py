"""`augmix.evaluation.evaluate`: any model's robustness in one call.

A model (any `nn.Module` mapping a normalized NCHW batch to logits) against a clean test set
and its corrupted copies -> one results record, with what `augmix eval` does around the
evaluator: the test set found by name, the corrupted sets generated on all cores or read
from released files, clean and corrupted numbers from the same images, a probe batch first.
"""
from __future__ import annotations

import os
from typing import Iterable, Sequence

import numpy as np
from torch import nn

from augmix.evaluation.evaluator import BATCH_SIZE
from augmix.evaluation.results import ResultsRecord

SEVERITIES = (1, 2, 3, 4, 5)


def evaluate(model: nn.Module, data: str | tuple = "cifar10",
             corrupted: str | Iterable[tuple[str, int, np.ndarray, np.ndarray]] = "generate",
             *sets, mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
             dataset: str | None = None, data_root: str | None = None, test_subset: int | None = None,
             corruptions: Sequence[str] | None = None, extra: bool = False,
             severities: Sequence[int] = SEVERITIES, seed: int = 0, workers: int | None = None,
             corrupted_subset: int | None = None, verify: bool = True, eval_transform: str = "crop",
             input_size: int | None = None, batch_size: int = BATCH_SIZE, device: str = "cpu",
             name: str = "model", meta: dict | None = None, progress: bool = True) -> ResultsRecord:
    """Evaluate `model` on a clean test set and its corrupted copies; returns the record.

    data: "cifar10" (under `data_root`, default $AUGMIX_CACHE/cifar), "cifar100", "synthetic",
        an ImageNet-style folder, or a pair (uint8 NHWC images, labels) named by `dataset`.
    corrupted: "generate" (the clean images corrupted on the fly in `workers` processes,
        default all cores, seeded by `seed`), "none", a CIFAR-C folder (released or written by
        `augmix corrupt`), an ImageNet-C tree, or an iterable of (corruption, severity,
        images, labels). Corrupted sets hold the same first `test_subset` images as the clean
        set unless `corrupted_subset` asks otherwise.
    mean, std: the model's input normalization (default: the data set's usual one, 0.5 per
        channel for CIFAR and synthetic, ImageNet's for a folder).
    input_size: resize the images to this side before the model (default: their own).

    The former array form `evaluate(model, images, labels, sets, name=..., dataset=...)` still
    works. `record.to_json(path)` writes the record; `augmix report` reads it.
    """
    from augmix._util import validate
    from augmix.evaluation import model_sources, sources
    from augmix.evaluation.evaluator import evaluate as evaluate_sets

    device = validate.device(device)
    if hasattr(data, "dtype"):  # the array form: (model, images, labels, sets)
        data, corrupted = (data, corrupted), (sets[0] if sets else [])
    elif sets:
        raise TypeError("evaluate takes model, data and corrupted by position, the rest by keyword")
    if isinstance(data, tuple):
        images, labels = data
        dataset = dataset or "custom"
        clean = sources.CleanSet(images[:test_subset], np.asarray(labels)[:test_subset], dataset)
    else:
        dataset, location = sources.locate_test_set(data, data_root)
        clean = sources.clean_test_set(location, dataset, verify=verify, limit=test_subset)
    if mean is None and std is None:
        mean, std = model_sources.default_normalization(dataset)
    elif mean is None or std is None:
        raise ValueError("mean and std go together")
    if input_size is not None:
        model = model_sources.Resized(model, input_size)
    model = model.to(device)
    num_classes = model_sources.NUM_CLASSES.get(dataset)
    if num_classes is not None:
        model_sources.probe(model, clean.images, num_classes, mean=mean, std=std, device=device,
                            labels=clean.labels, dataset=dataset)

    if isinstance(corrupted, str):
        names = sources.corruption_names(corruptions, extra)
        corrupted_sets, total = sources.corrupted_sets(
            corrupted, clean, names, severities, seed=seed, verify=verify,
            eval_transform=eval_transform, workers=workers or os.cpu_count() or 1,
            subset=corrupted_subset)
        source = sources.source_kind(corrupted)
    else:
        corrupted_sets, total = corrupted, len(corrupted) if hasattr(corrupted, "__len__") else None
        source = "given"
    return evaluate_sets(model, clean.images, clean.labels, corrupted_sets, name=name, dataset=dataset,
                         mean=mean, std=std, batch_size=batch_size, device=device, total_sets=total,
                         progress=progress,
                         meta={"model": type(model).__name__, "seed": seed, "corruption_source": source,
                               **(meta or {})})
