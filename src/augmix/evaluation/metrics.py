"""Robustness and calibration metrics, computed exactly as published.

Definitions, constants and pitfalls: shared/spec/corruptions-and-metrics.md, sections 3 and 4.
Every function is pure, accepts numpy arrays or torch tensors, and computes in float64 numpy.
Errors, calibration errors, CE and mCE are returned as fractions (AlexNet's mCE is 1.0);
multiply by 100 for the percentages papers print.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

# The 15 benchmark corruptions in canonical order, the 4 validation ones (never in the mean
# corruption error or mCE, robustness#36) and the severities: defined once, in augmix.corruptions.
from augmix.corruptions.names import CORRUPTIONS, EXTRA_CORRUPTIONS, SEVERITIES

# The -P test perturbations averaged by mFR and mT5D: defined once, in augmix.perturbations.
from augmix.perturbations.names import PERTURBATIONS as P_PERTURBATIONS

# Torchvision AlexNet top-1 error on ImageNet-C per severity 1..5 (full 50 000 images per cell).
ALEXNET_ERRORS_BY_SEVERITY: dict[str, tuple[float, float, float, float, float]] = {
    "gaussian_noise": (0.69528, 0.82542, 0.93554, 0.98138, 0.99452),
    "shot_noise": (0.71224, 0.85108, 0.93574, 0.98182, 0.99146),
    "impulse_noise": (0.78374, 0.89808, 0.94870, 0.98720, 0.99548),
    "defocus_blur": (0.65624, 0.73202, 0.85036, 0.91364, 0.94714),
    "glass_blur": (0.64308, 0.75054, 0.88806, 0.91622, 0.93344),
    "motion_blur": (0.58430, 0.70048, 0.82108, 0.89750, 0.92638),
    "zoom_blur": (0.70008, 0.76992, 0.80784, 0.84198, 0.87198),
    "snow": (0.71726, 0.88392, 0.86468, 0.91870, 0.94952),
    "frost": (0.61390, 0.79734, 0.88790, 0.89942, 0.93430),
    "fog": (0.67474, 0.76050, 0.84378, 0.87260, 0.94500),
    "brightness": (0.45140, 0.48502, 0.54048, 0.62166, 0.72440),
    "contrast": (0.64548, 0.76150, 0.88874, 0.97760, 0.99270),
    "elastic_transform": (0.52596, 0.70116, 0.55686, 0.64076, 0.80554),
    "pixelate": (0.52218, 0.54620, 0.73728, 0.87092, 0.91262),
    "jpeg_compression": (0.51002, 0.54718, 0.57294, 0.65458, 0.74778),
    "speckle_noise": (0.66192, 0.74440, 0.90246, 0.94548, 0.97268),
    "gaussian_blur": (0.54732, 0.70444, 0.82574, 0.89864, 0.95940),
    "spatter": (0.47196, 0.62194, 0.75052, 0.84132, 0.90182),
    "saturate": (0.59342, 0.65514, 0.51174, 0.70834, 0.82260),
}
ALEXNET_CLEAN_ERROR: float = 0.4348
# AugMix's ALEXNET_ERR, derived rather than copied so the two can never disagree.
ALEXNET_MEAN_ERRORS: dict[str, float] = {
    name: float(np.mean(errs)) for name, errs in ALEXNET_ERRORS_BY_SEVERITY.items()
}

CorruptionTable = Mapping[str, Mapping[Any, float]]


# ----------------------------------------------------------------------------- input checks
def _to_numpy(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor, without importing torch
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be array-like, got {type(x).__name__}") from err


def _scores(x: Any, name: str) -> np.ndarray:
    arr = _to_numpy(x, name).astype(np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have shape (N, num_classes) with N, num_classes >= 1, "
                         f"got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def _labels(x: Any, n: int, num_classes: int, name: str = "labels") -> np.ndarray:
    arr = _to_numpy(x, name)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be integer class indices, got dtype {arr.dtype}")
    if n and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(f"{name} must lie in 0..{num_classes - 1}, got {arr.min()}..{arr.max()}")
    return arr.astype(np.int64)


def _probs(x: Any, name: str = "probs", atol: float = 1e-3) -> np.ndarray:
    arr = _scores(x, name)
    if arr.min() < 0 or arr.max() > 1:
        raise ValueError(f"{name} must be probabilities in [0, 1], got values in "
                         f"[{arr.min():.4g}, {arr.max():.4g}]; apply softmax to logits first")
    sums = arr.sum(axis=1)
    if np.any(np.abs(sums - 1) > atol):
        raise ValueError(f"{name} rows must sum to 1 (within {atol}), got row sums in "
                         f"[{sums.min():.6g}, {sums.max():.6g}]; apply softmax to logits first")
    return arr


def _fraction(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from err
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1], got {v}")
    return v


# ----------------------------------------------------------------------------- errors
def softmax(logits: Any) -> np.ndarray:
    """Row-wise softmax in float64 (numerically stable)."""
    z = _scores(logits, "logits")
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def topk_correct(scores: Any, labels: Any, k: int = 1) -> np.ndarray:
    """Per example: is the label among the k highest `scores` (N, C)? (bool, shape (N,)).

    Ties are broken by class index (the lower index ranks first), like `argmax`. Evaluators
    can keep these flags batch by batch instead of all the scores.
    """
    s = _scores(scores, "scores")
    y = _labels(labels, s.shape[0], s.shape[1])
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= s.shape[1]:
        raise ValueError(f"k must be an int in 1..{s.shape[1]}, got {k!r}")
    true = s[np.arange(len(y)), y][:, None]
    cls = np.arange(s.shape[1])[None, :]
    rank = np.sum((s > true) | ((s == true) & (cls < y[:, None])), axis=1)  # 0-based rank
    return rank < k


def error(scores: Any, labels: Any, k: int = 1) -> float:
    """Top-k error of logits or probabilities `scores` (N, C) against integer `labels` (N,)."""
    return float(np.mean(~topk_correct(scores, labels, k)))


def _normalize_table(errors: CorruptionTable, name: str = "errors") -> dict[str, dict[int, float]]:
    """Check a {corruption: {severity: error}} mapping; severities may be ints or "1".."5"."""
    if not isinstance(errors, Mapping):
        raise ValueError(f"{name} must be a mapping corruption -> {{severity: error}}, "
                         f"got {type(errors).__name__}")
    known = set(CORRUPTIONS) | set(EXTRA_CORRUPTIONS)
    table: dict[str, dict[int, float]] = {}
    for corruption, by_severity in errors.items():
        if corruption not in known:
            raise ValueError(f"{name} has unknown corruption {corruption!r}; expected one of "
                             f"{', '.join(CORRUPTIONS + EXTRA_CORRUPTIONS)}")
        if not isinstance(by_severity, Mapping):
            raise ValueError(f"{name}[{corruption!r}] must map severity -> error, "
                             f"got {type(by_severity).__name__}")
        row: dict[int, float] = {}
        for sev, value in by_severity.items():
            try:
                s = int(sev)
            except (TypeError, ValueError):
                s = None
            if s not in SEVERITIES or str(s) != str(sev).strip():
                raise ValueError(f"{name}[{corruption!r}] has severity {sev!r}; expected 1..5")
            row[s] = _fraction(value, f"{name}[{corruption!r}][{s}]")
        missing = [s for s in SEVERITIES if s not in row]
        if missing:
            raise ValueError(f"{name}[{corruption!r}] lacks severities {missing}; all of 1..5 "
                             "are needed")
        table[corruption] = row
    return table


def _require_benchmark(table: Mapping[str, Any], name: str) -> None:
    missing = [c for c in CORRUPTIONS if c not in table]
    if missing:
        raise ValueError(f"{name} lacks benchmark corruptions {missing}; all 15 are needed")


def error_table(outputs: Mapping[str, Mapping[Any, tuple[Any, Any]]], k: int = 1
                ) -> dict[str, dict[int, float]]:
    """{corruption: {severity: (scores, labels)}} -> {corruption: {severity: top-k error}}."""
    if not isinstance(outputs, Mapping):
        raise ValueError(f"outputs must be a mapping corruption -> {{severity: (scores, labels)}}, "
                         f"got {type(outputs).__name__}")
    table: dict[str, dict[Any, float]] = {}
    for c, by_severity in outputs.items():
        if not isinstance(by_severity, Mapping):
            raise ValueError(f"outputs[{c!r}] must map severity -> (scores, labels)")
        table[c] = {}
        for s, pair in by_severity.items():
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"outputs[{c!r}][{s!r}] must be a (scores, labels) pair")
            table[c][s] = error(pair[0], pair[1], k)
    return _normalize_table(table, "outputs")


def errors_by_corruption(errors: CorruptionTable) -> dict[str, float]:
    """Mean error over severities 1..5 for each corruption in `errors` ({name: {sev: err}})."""
    table = _normalize_table(errors)
    return {c: float(np.mean([row[s] for s in SEVERITIES])) for c, row in table.items()}


def errors_by_severity(errors: CorruptionTable) -> dict[int, float]:
    """Mean error over the 15 benchmark corruptions for each severity (extras are ignored)."""
    table = _normalize_table(errors)
    _require_benchmark(table, "errors")
    return {s: float(np.mean([table[c][s] for c in CORRUPTIONS])) for s in SEVERITIES}


def mean_corruption_error(errors: CorruptionTable) -> float:
    """CIFAR-10/100-C mean corruption error: the plain mean of the 15 x 5 (c, s) errors.

    No AlexNet normalization (AugMix Table 1). The 4 validation corruptions, if present,
    are left out, as the benchmark defines.
    """
    table = _normalize_table(errors)
    _require_benchmark(table, "errors")
    return float(np.mean([table[c][s] for c in CORRUPTIONS for s in SEVERITIES]))


def _baseline(baseline: CorruptionTable | None) -> dict[str, dict[int, float]]:
    if baseline is None:
        return {c: dict(zip(SEVERITIES, e)) for c, e in ALEXNET_ERRORS_BY_SEVERITY.items()}
    return _normalize_table(baseline, "baseline")


def corruption_errors(errors: CorruptionTable,
                      baseline: CorruptionTable | None = None) -> dict[str, float]:
    """ImageNet-C CE per corruption: sum_s E_{s,c} / sum_s E^baseline_{s,c} (AlexNet default)."""
    table, base = _normalize_table(errors), _baseline(baseline)
    out = {}
    for c, row in table.items():
        if c not in base:
            raise ValueError(f"baseline has no errors for corruption {c!r}")
        out[c] = sum(row.values()) / sum(base[c].values())
    return out


def mce(errors: CorruptionTable, baseline: CorruptionTable | None = None) -> float:
    """ImageNet-C mCE: the mean CE over the 15 benchmark corruptions (AlexNet gives 1.0)."""
    ce = corruption_errors(errors, baseline)
    _require_benchmark(ce, "errors")
    return float(np.mean([ce[c] for c in CORRUPTIONS]))


def relative_mce(errors: CorruptionTable, clean_error: float,
                 baseline: CorruptionTable | None = None,
                 baseline_clean_error: float | None = None) -> float:
    """Relative mCE: mean_c sum_s (E_{s,c} - E_clean) / sum_s (E^base_{s,c} - E^base_clean).

    The default baseline is AlexNet with clean error 0.4348; a custom `baseline` needs its own
    `baseline_clean_error`.
    """
    table, base = _normalize_table(errors), _baseline(baseline)
    _require_benchmark(table, "errors")
    clean = _fraction(clean_error, "clean_error")
    if baseline is None:
        base_clean = ALEXNET_CLEAN_ERROR if baseline_clean_error is None else baseline_clean_error
    elif baseline_clean_error is None:
        raise ValueError("baseline_clean_error is required with a custom baseline")
    else:
        base_clean = baseline_clean_error
    base_clean = _fraction(base_clean, "baseline_clean_error")
    rel = []
    for c in CORRUPTIONS:
        if c not in base:
            raise ValueError(f"baseline has no errors for corruption {c!r}")
        base_gap = sum(e - base_clean for e in base[c].values())
        if base_gap <= 0:
            raise ValueError(f"baseline errors on {c!r} must exceed baseline_clean_error "
                             f"{base_clean} on average")
        rel.append(sum(e - clean for e in table[c].values()) / base_gap)
    return float(np.mean(rel))


# ----------------------------------------------------------------------------- calibration
def confidence_and_correct(probs: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Max softmax probability and 1[argmax == label], the inputs of the calibration metrics."""
    p = _probs(probs)
    y = _labels(labels, p.shape[0], p.shape[1])
    return p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64)


def _calibration_inputs(confidences: Any, correct: Any) -> tuple[np.ndarray, np.ndarray]:
    conf = _to_numpy(confidences, "confidences").astype(np.float64)
    corr = _to_numpy(correct, "correct")
    if conf.ndim != 1 or conf.size == 0:
        raise ValueError(f"confidences must have shape (N,) with N >= 1, got {conf.shape}")
    if corr.shape != conf.shape:
        raise ValueError(f"correct must have shape {conf.shape} like confidences, got {corr.shape}")
    if not np.all((conf >= 0) & (conf <= 1)):
        raise ValueError("confidences must lie in [0, 1] (max softmax probabilities)")
    corr = corr.astype(np.float64)
    if not np.all((corr == 0) | (corr == 1)):
        raise ValueError("correct must hold only 0/1 or booleans")
    return conf, corr


def calibration_error(confidences: Any, correct: Any, p: float = 2, bin_size: int = 100,
                      drop_last_bin: bool = True) -> float:
    """Calibration error with adaptive (equal-mass) bins of `bin_size`, as Hendrycks' `calib_err`.

    Examples are sorted by confidence (stable sort) and cut into N // bin_size contiguous bins,
    the last one also taking the remainder. Gap g_b = |mean conf_b - mean correct_b|, weight
    n_b / N. p=2: RMS calibration error sqrt(sum w g^2) (AugMix's metric); p=1: sum w g;
    p=inf: max g.

    `drop_last_bin=True` reproduces the reference, which never counts the highest-confidence
    bin yet still divides by the full N; False is the corrected estimator over all bins.
    Needs N >= bin_size (and N >= 2 * bin_size when dropping the last bin, since otherwise
    nothing would be left to measure): fewer samples raise ValueError.
    """
    conf, corr = _calibration_inputs(confidences, correct)
    if p not in (1, 2, math.inf):
        raise ValueError(f"p must be 1, 2 or math.inf, got {p!r}")
    if not isinstance(bin_size, (int, np.integer)) or bin_size < 1:
        raise ValueError(f"bin_size must be a positive int, got {bin_size!r}")
    n = conf.size
    n_bins = n // bin_size
    needed = 2 * bin_size if drop_last_bin else bin_size
    if n < needed:
        raise ValueError(f"calibration error with bins of {bin_size} needs at least {needed} "
                         f"samples{' when drop_last_bin=True' if drop_last_bin else ''}, got {n}")
    order = np.argsort(conf, kind="stable")
    conf, corr = conf[order], corr[order]
    starts = np.arange(n_bins) * bin_size
    sizes = np.append(np.diff(starts), n - starts[-1])  # the last bin takes the remainder
    gaps = np.abs(np.add.reduceat(conf, starts) - np.add.reduceat(corr, starts)) / sizes
    weights = sizes / n
    if drop_last_bin:
        gaps, weights = gaps[:-1], weights[:-1]
    if p == 2:
        return float(np.sqrt(np.sum(weights * gaps ** 2)))
    if p == 1:
        return float(np.sum(weights * gaps))
    return float(gaps.max())


def rms_calibration_error(confidences: Any, correct: Any, bin_size: int = 100,
                          drop_last_bin: bool = True) -> float:
    """AugMix's RMS calibration error: `calibration_error` with p=2."""
    return calibration_error(confidences, correct, 2, bin_size, drop_last_bin)


def reliability_histogram(confidences: Any, correct: Any, n_bins: int = 15) -> dict[str, list]:
    """Equal-width confidence bins on [0, 1] (bin b holds (lo, hi], bin 0 also holds 0).

    Returns JSON-ready lists: `bin_edges` (n_bins + 1), and per bin `count`, `accuracy` and
    `confidence` (means; None for an empty bin). Enough to draw a reliability diagram and to
    compute ECE without keeping the raw predictions.
    """
    conf, corr = _calibration_inputs(confidences, correct)
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    acc_sum = np.bincount(idx, weights=corr, minlength=n_bins)
    conf_sum = np.bincount(idx, weights=conf, minlength=n_bins)
    return {
        "bin_edges": edges.tolist(),
        "count": count.tolist(),
        "accuracy": [float(a / c) if c else None for a, c in zip(acc_sum, count)],
        "confidence": [float(s / c) if c else None for s, c in zip(conf_sum, count)],
    }


def ece_from_histogram(histogram: Mapping[str, Sequence], p: float = 1) -> float:
    """ECE (p=1, Guo et al. 2017) or its L2 form (p=2) from a `reliability_histogram`."""
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    try:
        count = np.asarray(histogram["count"], dtype=np.float64)
        acc, conf = histogram["accuracy"], histogram["confidence"]
    except (KeyError, TypeError) as err:
        raise ValueError("histogram must have count, accuracy and confidence lists") from err
    if not len(count) == len(acc) == len(conf) or count.sum() <= 0:
        raise ValueError("histogram must have equally long count/accuracy/confidence lists "
                         "with a positive total count")
    if any(n and (a is None or c is None) for a, c, n in zip(acc, conf, count)):
        raise ValueError("histogram has a non-empty bin without accuracy or confidence")
    gaps = np.array([abs(a - c) if n else 0.0 for a, c, n in zip(acc, conf, count)])
    weights = count / count.sum()
    return float(np.sum(weights * gaps) if p == 1 else np.sqrt(np.sum(weights * gaps ** 2)))


def ece(confidences: Any, correct: Any, n_bins: int = 15, p: float = 1) -> float:
    """Expected calibration error with `n_bins` equal-width bins: sum_b |B_b|/N |acc_b - conf_b|."""
    return ece_from_histogram(reliability_histogram(confidences, correct, n_bins), p)


def nll(probs: Any, labels: Any, eps: float = 1e-12) -> float:
    """Mean negative log-likelihood of the true class, in nats.

    Probabilities are floored at `eps` so that one zero does not make the mean infinite
    (a floored example costs -log(eps) = 27.6 nats at the default).
    """
    pr = _probs(probs)
    y = _labels(labels, pr.shape[0], pr.shape[1])
    return float(-np.mean(np.log(np.maximum(pr[np.arange(len(y)), y], eps))))


def brier_score(probs: Any, labels: Any) -> float:
    """Multi-class Brier score: mean over examples of sum_c (p_c - 1[c == y])^2 (range 0..2)."""
    pr = _probs(probs)
    y = _labels(labels, pr.shape[0], pr.shape[1])
    onehot = np.zeros_like(pr)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.mean(np.sum((pr - onehot) ** 2, axis=1)))


# ----------------------------------------------------------------------------- -P sequences
def _videos(videos: Any, name: str, ndim: int) -> list[np.ndarray]:
    """A list of per-video arrays: one array (m, n, ...) or a sequence of (n_i, ...) arrays."""
    if hasattr(videos, "detach") or isinstance(videos, np.ndarray):
        arr = _to_numpy(videos, name)
        if arr.ndim != ndim + 1:
            raise ValueError(f"{name} must have {ndim + 1} dimensions (videos, frames"
                             f"{', classes' if ndim == 2 else ''}), got shape {arr.shape}")
        out = list(arr)
    else:
        out = [_to_numpy(v, f"{name}[{i}]") for i, v in enumerate(videos)]
    if not out:
        raise ValueError(f"{name} must hold at least one video")
    for i, v in enumerate(out):
        if v.ndim != ndim or v.shape[0] < 2:
            raise ValueError(f"{name}[{i}] must have {ndim} dimensions and at least 2 frames, "
                             f"got shape {v.shape}")
    return out


def _frame_pairs(n_frames: int, noise: bool, difficulty: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (earlier, later) of the frame pairs ImageNet-P compares in one video.

    Noise sequences compare every frame with frame 1; the others compare consecutive frames
    of each strided sub-sequence o, o+d, o+2d, ... for o in 0..d-1.
    """
    if noise:
        later = np.arange(1, n_frames)
        return np.zeros_like(later), later
    earlier = np.arange(n_frames - difficulty)
    return earlier, earlier + difficulty


def _sequence_mean(videos: list[np.ndarray],
                   distance: Callable[[np.ndarray, np.ndarray], np.ndarray],
                   noise: bool, difficulty: int) -> float:
    """ImageNet-P averaging: over each video's frame pairs, then over videos (`test.py`)."""
    if not isinstance(difficulty, (int, np.integer)) or difficulty < 1:
        raise ValueError(f"difficulty must be a positive int, got {difficulty!r}")
    if noise and difficulty != 1:
        raise ValueError("difficulty must be 1 for noise sequences (harder noise is a separate "
                         f"sequence, e.g. gaussian_noise_2), got {difficulty}")
    per_video = []
    for i, frames in enumerate(videos):
        earlier, later = _frame_pairs(len(frames), noise, difficulty)
        if earlier.size == 0:
            raise ValueError(f"video {i} has {len(frames)} frames, too few for "
                             f"difficulty {difficulty}")
        per_video.append(np.mean(distance(frames[earlier], frames[later])))
    return float(np.mean(per_video))


def flip_probability(predictions: Any, noise: bool = False, difficulty: int = 1) -> float:
    """Flip probability FP of top-1 `predictions` (videos, frames) over perturbation sequences.

    `noise=True` for noise perturbations (frames are independent draws, each compared with
    frame 1); `difficulty` strides the other, temporally ordered perturbations.
    """
    vids = _videos(predictions, "predictions", 1)
    return _sequence_mean(vids, np.not_equal, noise, difficulty)


def class_ranks(scores: Any) -> np.ndarray:
    """1-based rank of each class per row (rank 1 = highest score; ties by class index)."""
    s = _to_numpy(scores, "scores").astype(np.float64)
    if s.ndim < 1 or s.shape[-1] < 5:
        raise ValueError(f"scores must have a last axis of >= 5 classes, got shape {s.shape}")
    order = np.argsort(-s, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, s.shape[-1] + 1), axis=-1)
    return ranks


def top5_distance(scores_a: Any, scores_b: Any) -> np.ndarray | float:
    """Top-5 distance between the class rankings of two score vectors (or rows of two batches).

    With sigma(i) the rank under b of the class ranked i under a:
    d = sum_{i=1..5} |min(sigma(i), 6) - i|. Identical rankings give 0; pushing each of the
    top 5 classes down by one rank gives 5.
    """
    ra, rb = class_ranks(scores_a), class_ranks(scores_b)
    if ra.shape != rb.shape:
        raise ValueError(f"scores_b must have the shape of scores_a {ra.shape}, got {rb.shape}")
    top5_a = np.argsort(ra, axis=-1)[..., :5]  # classes ranked 1..5 under a
    sigma = np.take_along_axis(rb, top5_a, axis=-1)
    d = np.abs(np.minimum(sigma, 6) - np.arange(1, 6)).sum(axis=-1)
    return float(d) if d.ndim == 0 else d.astype(np.float64)


def mean_top5_distance(scores: Any, noise: bool = False, difficulty: int = 1) -> float:
    """Unnormalized top-5 distance uT5D of `scores` (videos, frames, classes), averaged as FP."""
    vids = _videos(scores, "scores", 2)
    return _sequence_mean(vids, top5_distance, noise, difficulty)


def _normalized_mean(values: Mapping[str, float], baseline: Mapping[str, float],
                     name: str) -> float:
    if not isinstance(values, Mapping) or not isinstance(baseline, Mapping):
        raise ValueError(f"{name} and baseline must be mappings perturbation -> value")
    missing = [p for p in P_PERTURBATIONS if p not in values]
    if missing:
        raise ValueError(f"{name} lacks test perturbations {missing}; all 10 are needed")
    missing = [p for p in P_PERTURBATIONS if p not in baseline]
    if missing:
        raise ValueError(f"baseline lacks test perturbations {missing}; all 10 are needed")
    ratios = []
    for p in P_PERTURBATIONS:
        if not float(baseline[p]) > 0:
            raise ValueError(f"baseline[{p!r}] must be positive, got {baseline[p]!r}")
        ratios.append(float(values[p]) / float(baseline[p]))
    return float(np.mean(ratios))


def mfr(flip_probabilities: Mapping[str, float], baseline: Mapping[str, float]) -> float:
    """mFR: mean over the 10 test perturbations of FP / FP^AlexNet.

    The AlexNet flip probabilities are published nowhere in code (robustness#49), so they are
    an explicit argument: compute them once with AlexNet on your copy of ImageNet-P.
    """
    return _normalized_mean(flip_probabilities, baseline, "flip_probabilities")


def mt5d(top5_distances: Mapping[str, float], baseline: Mapping[str, float]) -> float:
    """mT5D: mean over the 10 test perturbations of uT5D / uT5D^AlexNet (baseline given)."""
    return _normalized_mean(top5_distances, baseline, "top5_distances")
