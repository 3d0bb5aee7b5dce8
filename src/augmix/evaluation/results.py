"""One evaluated model as a JSON results record (schema: docs/results-schema.md).

An evaluator fills `clean`, one `add_cell` per (corruption, severity), optionally
`corruptions_pooled`, `reliability` and `stability` (-P sets), then calls `summarize` and `to_json`. Reports only
read records, never raw predictions.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from augmix._util.atomic import atomic_write
from augmix.evaluation import metrics

SCHEMA_VERSION = 2
# Versions still read: 1 lacks `stability` and `images` (its meta.n_clean, when there, fills images.clean).
READABLE_VERSIONS = (1, 2)
# Datasets whose corrupted counterpart is ImageNet-C, the only one with an AlexNet baseline.
IMAGENET_DATASETS = ("imagenet", "imagenet-c")


class CleanMetrics(TypedDict, total=False):
    error: float  # required: top-1 error, a fraction
    top5_error: float
    rms_calibration_error: float
    ece: float
    nll: float
    brier: float


class CellMetrics(TypedDict, total=False):
    error: float  # required
    rms_calibration_error: float
    top5_error: float
    ece: float
    nll: float


class ReliabilityHistogram(TypedDict):
    bin_edges: list[float]
    count: list[int]
    accuracy: list[float | None]
    confidence: list[float | None]


class ImageCounts(TypedDict, total=False):
    clean: int  # images of the clean test set
    corrupted: int | None  # images in each corrupted set (all the same); None without any


class Summary(TypedDict, total=False):
    mean_corruption_error: float
    mce: float | None
    relative_mce: float | None
    mce_baseline: str | None
    mean_rms_calibration_error_corrupted: float | None
    rms_calibration_aggregation: str | None


class PerturbationMetrics(TypedDict, total=False):
    flip_probability: float  # required: a fraction
    top5_distance: float  # 0..15
    flip_rate: float  # flip_probability / the baseline's
    top5_distance_ratio: float  # top5_distance / the baseline's
    videos: int
    frames: int


class Stability(TypedDict, total=False):
    perturbations: dict[str, PerturbationMetrics]  # required
    difficulty: int
    source: str
    mean_flip_probability: float | None  # over the 10 test perturbations
    mean_top5_distance: float | None
    mfr: float | None
    mt5d: float | None
    baseline: str | None
    baseline_values: dict[str, dict[str, float]]
    note: str
    wall_time_s: float
    frames_per_s: float


@dataclass
class ResultsRecord:
    """Metrics of one model on one dataset; all errors are fractions in [0, 1]."""

    name: str
    dataset: str
    clean: CleanMetrics
    # corruption -> severity "1".."5" -> metrics of that cell
    corruptions: dict[str, dict[str, CellMetrics]] = field(default_factory=dict)
    # corruption -> metrics over all its severities pooled (how AugMix-lineage code aggregates
    # calibration under corruption); optional
    corruptions_pooled: dict[str, CellMetrics] = field(default_factory=dict)
    summary: Summary = field(default_factory=dict)
    # "clean" and/or "corrupted" -> equal-width reliability histogram; optional
    reliability: dict[str, ReliabilityHistogram] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    # -P sequences: flip probability and top-5 distance per perturbation and their means; optional
    stability: Stability = field(default_factory=dict)
    # how many images the numbers come from: records compare only on the same images
    images: ImageCounts = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def add_cell(self, corruption: str, severity: int, **cell_metrics: float) -> None:
        """Record the metrics of one (corruption, severity) cell; `error` is required."""
        if "error" not in cell_metrics:
            raise ValueError("add_cell needs error=...")
        self.corruptions.setdefault(corruption, {})[str(severity)] = dict(cell_metrics)
        self.validate()

    def table(self, key: str = "error") -> dict[str, dict[int, float]]:
        """{corruption: {severity: value}} of one cell metric, the input of `augmix.metrics`."""
        out: dict[str, dict[int, float]] = {}
        for c, cells in self.corruptions.items():
            values = {int(s): cell[key] for s, cell in cells.items() if key in cell}
            if values:
                out[c] = values
        return out

    def validate(self) -> None:
        """Raise ValueError on anything the schema does not allow."""
        for attr in ("name", "dataset"):
            if not isinstance(getattr(self, attr), str) or not getattr(self, attr):
                raise ValueError(f"{attr} must be a non-empty string, got {getattr(self, attr)!r}")
        for attr in ("corruptions", "corruptions_pooled", "summary", "reliability", "meta", "stability", "images"):
            if not isinstance(getattr(self, attr), dict):
                raise ValueError(f"{attr} must be a dict, got {type(getattr(self, attr)).__name__}")
        if not isinstance(self.clean, dict) or "error" not in self.clean:
            raise ValueError("clean must be a dict with at least 'error'")
        _check_metrics(self.clean, "clean")
        known = set(metrics.CORRUPTIONS) | set(metrics.EXTRA_CORRUPTIONS)
        for c, cells in self.corruptions.items():
            if c not in known:
                raise ValueError(f"corruptions has unknown corruption {c!r}")
            if not isinstance(cells, dict):
                raise ValueError(f"corruptions[{c!r}] must map severity '1'..'5' to metrics")
            for s, cell in cells.items():
                if s not in {str(v) for v in metrics.SEVERITIES}:
                    raise ValueError(f"corruptions[{c!r}] has severity key {s!r}; "
                                     "expected the strings '1'..'5'")
                if not isinstance(cell, dict) or "error" not in cell:
                    raise ValueError(f"corruptions[{c!r}][{s!r}] must be a dict with 'error'")
                _check_metrics(cell, f"corruptions[{c!r}][{s!r}]")
        for c, cell in self.corruptions_pooled.items():
            if c not in known:
                raise ValueError(f"corruptions_pooled has unknown corruption {c!r}")
            if not isinstance(cell, dict):
                raise ValueError(f"corruptions_pooled[{c!r}] must be a dict of metrics")
            _check_metrics(cell, f"corruptions_pooled[{c!r}]")
        for key, count in self.images.items():
            if key not in ("clean", "corrupted"):
                raise ValueError(f"images key must be 'clean' or 'corrupted', got {key!r}")
            if not (count is None and key == "corrupted") and (
                    isinstance(count, bool) or not isinstance(count, int) or count < 0):
                raise ValueError(f"images[{key!r}] must be a count of images, got {count!r}")
        for key, hist in self.reliability.items():
            if key not in ("clean", "corrupted"):
                raise ValueError(f"reliability key must be 'clean' or 'corrupted', got {key!r}")
            metrics.ece_from_histogram(hist)  # checks its shape
        if self.stability:
            _check_stability(self.stability)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResultsRecord:
        if not isinstance(data, dict):
            raise ValueError(f"a results record must be a JSON object, got {type(data).__name__}")
        version = data.get("schema_version", 1)
        if version not in READABLE_VERSIONS:
            raise ValueError(f"schema_version {version!r} is not supported (expected one of "
                             f"{list(READABLE_VERSIONS)})")
        if version == 1 and "images" not in data:
            n_clean = (data.get("meta") or {}).get("n_clean")
            data = {**data, "images": {"clean": n_clean} if isinstance(n_clean, int) else {}}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown results record fields {unknown}")
        missing = [k for k in ("name", "dataset", "clean") if k not in data]
        if missing:
            raise ValueError(f"results record lacks fields {missing}")
        record = cls(**{**data, "schema_version": SCHEMA_VERSION})
        record.validate()
        return record

    def to_json(self, path: str | os.PathLike) -> Path:
        """Validate and write atomically (temporary file, then rename)."""
        self.validate()
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        path = Path(path)
        with atomic_write(path) as f:
            f.write((text + "\n").encode("utf-8"))
        return path

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> ResultsRecord:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"results record not found: {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{path} is not a results record (JSON written by `augmix eval`): {err}") from None
        try:
            return cls.from_dict(data)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{path}: {err}") from err


def _check_metrics(values: dict[str, Any], where: str) -> None:
    for key, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"{where}[{key!r}] must be a finite number, got {v!r}")
        if key != "nll" and not 0 <= v <= 2:  # errors and calibration are fractions, Brier <= 2
            raise ValueError(f"{where}[{key!r}] must be a fraction, got {v!r} "
                             "(store 0.112, not 11.2)")


def _check_stability(section: dict[str, Any]) -> None:
    per = section.get("perturbations")
    if not isinstance(per, dict) or not per:
        raise ValueError("stability must hold 'perturbations': name -> {flip_probability, ...}")
    for name, values in per.items():
        where = f"stability['perturbations'][{name!r}]"
        if not isinstance(values, dict) or "flip_probability" not in values:
            raise ValueError(f"{where} must be a dict with 'flip_probability'")
        for key, v in values.items():
            high = {"flip_probability": 1, "top5_distance": 15}.get(key, math.inf)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= high:
                raise ValueError(f"{where}[{key!r}] must be a number in [0, {high}], got {v!r}")
    for key in ("mean_flip_probability", "mean_top5_distance", "mfr", "mt5d", "wall_time_s", "frames_per_s"):
        v = section.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < math.inf):
            raise ValueError(f"stability[{key!r}] must be a finite number >= 0 or null, got {v!r}")
    difficulty = section.get("difficulty", 1)
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or difficulty < 1:
        raise ValueError(f"stability['difficulty'] must be an int >= 1, got {difficulty!r}")


def summarize(record: ResultsRecord, baseline: metrics.CorruptionTable | None = None,
              baseline_clean_error: float | None = None) -> ResultsRecord:
    """A copy of `record` with its summary computed from the per-corruption cells.

    - mean_corruption_error: plain mean of the 15 x 5 errors (CIFAR-C style; always).
    - mce, relative_mce: AlexNet-normalized for ImageNet datasets, or against `baseline`
      ({corruption: {severity: error}}) when given; None otherwise.
    - mean_rms_calibration_error_corrupted: the mean over the 15 corruptions of
      `corruptions_pooled[c].rms_calibration_error` when all are there (severities pooled per
      corruption), else the mean over the 75 cells; `rms_calibration_aggregation` says which.
    Needs all 15 benchmark corruptions at severities 1..5 (ValueError otherwise).
    """
    record.validate()
    errors = record.table("error")
    summary: Summary = {"mean_corruption_error": metrics.mean_corruption_error(errors)}

    if baseline is not None or record.dataset.lower() in IMAGENET_DATASETS:
        summary["mce"] = metrics.mce(errors, baseline)
        summary["relative_mce"] = metrics.relative_mce(errors, record.clean["error"], baseline,
                                                       baseline_clean_error)
        summary["mce_baseline"] = "alexnet" if baseline is None else "custom"
    else:
        summary["mce"] = summary["relative_mce"] = summary["mce_baseline"] = None

    pooled = [record.corruptions_pooled.get(c, {}).get("rms_calibration_error")
              for c in metrics.CORRUPTIONS]
    cells = [record.corruptions[c][str(s)].get("rms_calibration_error")
             for c in metrics.CORRUPTIONS for s in metrics.SEVERITIES]
    if all(v is not None for v in pooled):
        summary["mean_rms_calibration_error_corrupted"] = sum(pooled) / len(pooled)
        summary["rms_calibration_aggregation"] = "per_corruption_pooled"
    elif all(v is not None for v in cells):
        summary["mean_rms_calibration_error_corrupted"] = sum(cells) / len(cells)
        summary["rms_calibration_aggregation"] = "per_cell"
    else:
        summary["mean_rms_calibration_error_corrupted"] = None
        summary["rms_calibration_aggregation"] = None
    return dataclasses.replace(copy.deepcopy(record), summary=summary)
