"""Golden tests for augmix.metrics: published constants, hand-computed cases, error messages."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from augmix.evaluation import metrics as M

# ALEXNET_ERR as printed in AugMix's imagenet.py and the spec's mean column (6 decimals).
PUBLISHED_ALEXNET_ERR = {
    "gaussian_noise": 0.886428, "shot_noise": 0.894468, "impulse_noise": 0.922640,
    "defocus_blur": 0.819880, "glass_blur": 0.826268, "motion_blur": 0.785948,
    "zoom_blur": 0.798360, "snow": 0.866816, "frost": 0.826572, "fog": 0.819324,
    "brightness": 0.564592, "contrast": 0.853204, "elastic_transform": 0.646056,
    "pixelate": 0.717840, "jpeg_compression": 0.606500,
}


def alexnet_table(scale: float = 1.0) -> dict[str, dict[str, float]]:
    """AlexNet's own per-severity errors, with string severities as a JSON record has them."""
    return {c: {str(s): scale * e for s, e in zip(M.SEVERITIES, errs)}
            for c, errs in M.ALEXNET_ERRORS_BY_SEVERITY.items() if c in M.CORRUPTIONS}


# ----------------------------------------------------------------------------- AlexNet, mCE
def test_alexnet_means_rederived_from_per_severity_table():
    assert list(PUBLISHED_ALEXNET_ERR) == list(M.CORRUPTIONS)
    for name, published in PUBLISHED_ALEXNET_ERR.items():
        assert M.ALEXNET_MEAN_ERRORS[name] == pytest.approx(published, abs=5e-7), name


def test_alexnet_mce_and_relative_mce_are_100_percent():
    assert M.mce(alexnet_table()) == pytest.approx(1.0, abs=1e-12)
    assert M.relative_mce(alexnet_table(), M.ALEXNET_CLEAN_ERROR) == pytest.approx(1.0, abs=1e-12)
    ce = M.corruption_errors(alexnet_table())
    assert all(v == pytest.approx(1.0) for v in ce.values())


def test_mce_scales_and_ignores_extra_corruptions():
    half = alexnet_table(0.5)
    assert M.mce(half) == pytest.approx(0.5)
    half["saturate"] = {s: 0.0 for s in M.SEVERITIES}  # validation corruption: not averaged
    assert M.mce(half) == pytest.approx(0.5)
    # relative mCE with the clean error moved: hand formula for one constant model
    flat = {c: {s: 0.6 for s in M.SEVERITIES} for c in M.CORRUPTIONS}
    expected = np.mean([5 * (0.6 - 0.2) / sum(e - 0.4348 for e in M.ALEXNET_ERRORS_BY_SEVERITY[c])
                        for c in M.CORRUPTIONS])
    assert M.relative_mce(flat, 0.2) == pytest.approx(expected)


def test_mce_custom_baseline():
    flat = {c: {s: 0.3 for s in M.SEVERITIES} for c in M.CORRUPTIONS}
    base = {c: {s: 0.6 for s in M.SEVERITIES} for c in M.CORRUPTIONS}
    assert M.mce(flat, baseline=base) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="baseline_clean_error"):
        M.relative_mce(flat, 0.1, baseline=base)
    assert M.relative_mce(flat, 0.1, baseline=base, baseline_clean_error=0.2) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="must exceed baseline_clean_error"):
        M.relative_mce(flat, 0.1, baseline=base, baseline_clean_error=0.6)


def test_mce_rejects_missing_and_unknown_corruptions():
    table = alexnet_table()
    del table["fog"]
    with pytest.raises(ValueError, match="lacks benchmark corruptions.*fog"):
        M.mce(table)
    with pytest.raises(ValueError, match="unknown corruption 'fogg'"):
        M.mce({**alexnet_table(), "fogg": {s: 0.5 for s in M.SEVERITIES}})
    bad = alexnet_table()
    del bad["snow"]["3"]
    with pytest.raises(ValueError, match=r"errors\['snow'\] lacks severities \[3\]"):
        M.mce(bad)
    bad = alexnet_table()
    bad["snow"]["6"] = 0.5
    with pytest.raises(ValueError, match="severity '6'"):
        M.mce(bad)
    bad = alexnet_table()
    bad["snow"]["1"] = 71.7  # a percentage where a fraction is expected
    with pytest.raises(ValueError, match=r"errors\['snow'\]\[1\] must be a fraction"):
        M.mce(bad)


# ----------------------------------------------------------------------------- CIFAR mean error
def test_mean_corruption_error_is_plain_mean_of_75_cells():
    table = {c: {s: 0.01 * i + 0.001 * s for s in M.SEVERITIES} for i, c in enumerate(M.CORRUPTIONS)}
    expected = 0.01 * np.mean(range(15)) + 0.001 * 3
    assert M.mean_corruption_error(table) == pytest.approx(expected)
    table["spatter"] = {s: 1.0 for s in M.SEVERITIES}
    assert M.mean_corruption_error(table) == pytest.approx(expected)
    by_c = M.errors_by_corruption(table)
    assert by_c["contrast"] == pytest.approx(0.01 * 11 + 0.003)
    by_s = M.errors_by_severity(table)
    assert by_s[5] - by_s[1] == pytest.approx(0.004)
    del table["contrast"]
    with pytest.raises(ValueError, match="contrast"):
        M.mean_corruption_error(table)


def test_error_table_from_outputs():
    scores = np.eye(4)
    outputs = {"fog": {s: (scores, np.array([0, 1, 2, (3 + s) % 4])) for s in M.SEVERITIES}}
    table = M.error_table(outputs)
    assert table == {"fog": {1: 0.25, 2: 0.25, 3: 0.25, 4: 0.0, 5: 0.25}}
    with pytest.raises(ValueError, match=r"outputs\['fog'\] lacks severities \[5\]"):
        M.error_table({"fog": {s: (scores, np.arange(4)) for s in range(1, 5)}})
    with pytest.raises(ValueError, match="unknown corruption 'fogg'"):
        M.error_table({"fogg": {s: (scores, np.arange(4)) for s in M.SEVERITIES}})


# ----------------------------------------------------------------------------- top-k error
def test_topk_error_numpy_and_torch_with_ties():
    scores = np.array([[0.1, 0.7, 0.2],    # label 1: rank 0
                       [0.5, 0.5, 0.0],    # label 1 ties with 0; lower index first -> rank 1
                       [0.6, 0.3, 0.1]])   # label 2: rank 2
    labels = np.array([1, 1, 2])
    assert M.error(scores, labels) == pytest.approx(2 / 3)
    assert M.error(scores, labels, k=2) == pytest.approx(1 / 3)
    assert M.error(scores, labels, k=3) == 0.0
    assert M.error(torch.tensor(scores, dtype=torch.float32), torch.tensor(labels)) == \
        pytest.approx(2 / 3)
    # agrees with argmax on random logits
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(500, 10))
    y = rng.integers(0, 10, 500)
    assert M.error(logits, y) == pytest.approx(np.mean(logits.argmax(1) != y))


def test_topk_correct_flags():
    scores = torch.tensor([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]])
    np.testing.assert_array_equal(M.topk_correct(scores, torch.tensor([1, 2]), k=2), [True, False])


def test_error_rejects_bad_input():
    with pytest.raises(ValueError, match=r"scores must have shape \(N, num_classes\)"):
        M.error(np.zeros(5), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        M.error(np.zeros((3, 4)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="labels must lie in 0..3"):
        M.error(np.zeros((2, 4)), np.array([0, 4]))
    with pytest.raises(ValueError, match="labels must be integer"):
        M.error(np.zeros((2, 4)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="k must be an int in 1..4"):
        M.error(np.zeros((2, 4)), np.array([0, 1]), k=5)


# ----------------------------------------------------------------------------- RMS calibration
def _shuffled(conf: list[float], correct: list[int], seed: int = 0):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(conf))
    return np.asarray(conf)[order], np.asarray(correct)[order]


def _block(n: int, conf: float, n_correct: int):
    return [conf] * n, [1] * n_correct + [0] * (n - n_correct)


def test_rms_calibration_error_three_equal_bins_by_hand():
    # bins after sorting: conf .5 acc .3 (gap .2) | conf .7 acc .7 (gap 0) | conf .9 acc 0 (gap .9)
    c1, k1 = _block(100, 0.5, 30)
    c2, k2 = _block(100, 0.7, 70)
    c3, k3 = _block(100, 0.9, 0)
    conf, correct = _shuffled(c1 + c2 + c3, k1 + k2 + k3)
    # reference: highest-confidence bin dropped, weights still n_b / N with N = 300
    assert M.rms_calibration_error(conf, correct) == pytest.approx(math.sqrt(0.2 ** 2 / 3))
    assert M.rms_calibration_error(conf, correct, drop_last_bin=False) == \
        pytest.approx(math.sqrt((0.2 ** 2 + 0.9 ** 2) / 3))
    assert M.calibration_error(conf, correct, p=1) == pytest.approx(0.2 / 3)
    assert M.calibration_error(conf, correct, p=math.inf, drop_last_bin=False) == \
        pytest.approx(0.9)
    # torch inputs, booleans for correctness
    assert M.rms_calibration_error(torch.tensor(conf), torch.tensor(correct).bool()) == \
        pytest.approx(math.sqrt(0.2 ** 2 / 3))


def test_rms_calibration_error_last_bin_takes_remainder():
    # N = 250 -> 2 bins: [0, 100) and [100, 250), the second holding the 50 remainder
    c1, k1 = _block(100, 0.5, 30)
    c2, k2 = _block(100, 0.7, 70)
    c3, k3 = _block(50, 0.9, 0)
    conf, correct = _shuffled(c1 + c2 + c3, k1 + k2 + k3, seed=1)
    assert M.rms_calibration_error(conf, correct) == pytest.approx(math.sqrt(0.4 * 0.2 ** 2))
    gap2 = abs((100 * 0.7 + 50 * 0.9) / 150 - 70 / 150)  # = 0.3
    assert gap2 == pytest.approx(0.3)
    assert M.rms_calibration_error(conf, correct, drop_last_bin=False) == \
        pytest.approx(math.sqrt(0.4 * 0.2 ** 2 + 0.6 * gap2 ** 2))


def test_rms_calibration_error_small_samples_raise_value_error():
    c, k = _block(99, 0.8, 50)
    with pytest.raises(ValueError, match="needs at least 200 samples when drop_last_bin=True, got 99"):
        M.rms_calibration_error(c, k)
    with pytest.raises(ValueError, match="needs at least 100 samples, got 99"):
        M.rms_calibration_error(c, k, drop_last_bin=False)
    c, k = _block(150, 0.8, 60)  # one bin only: the reference would drop it and report 0
    with pytest.raises(ValueError, match="at least 200 samples"):
        M.rms_calibration_error(c, k)
    assert M.rms_calibration_error(c, k, drop_last_bin=False) == pytest.approx(0.4)
    # bins of 5: gaps |.2 - 1| and |.8 - 1|, half the weight each
    assert M.rms_calibration_error([0.8] * 5 + [0.2] * 5, [1] * 10, bin_size=5,
                                   drop_last_bin=False) == \
        pytest.approx(np.sqrt(0.5 * 0.8 ** 2 + 0.5 * 0.2 ** 2))


def test_calibration_rejects_bad_input():
    with pytest.raises(ValueError, match="correct must have shape"):
        M.rms_calibration_error(np.full(300, 0.5), np.ones(299))
    with pytest.raises(ValueError, match=r"confidences must lie in \[0, 1\]"):
        M.rms_calibration_error(np.full(300, 1.5), np.ones(300))
    with pytest.raises(ValueError, match="correct must hold only 0/1"):
        M.rms_calibration_error(np.full(300, 0.5), np.full(300, 0.5))
    with pytest.raises(ValueError, match="p must be 1, 2 or math.inf"):
        M.calibration_error(np.full(300, 0.5), np.ones(300), p=3)


def test_confidence_and_correct_requires_probabilities():
    probs = np.array([[0.2, 0.8], [0.9, 0.1], [0.5, 0.5]])
    conf, correct = M.confidence_and_correct(probs, np.array([1, 1, 0]))
    np.testing.assert_allclose(conf, [0.8, 0.9, 0.5])
    np.testing.assert_array_equal(correct, [1, 0, 1])
    with pytest.raises(ValueError, match="probs rows must sum to 1.*softmax"):
        M.confidence_and_correct(np.array([[0.2, 0.2]]), np.array([0]))
    with pytest.raises(ValueError, match=r"probs must be probabilities in \[0, 1\]"):
        M.confidence_and_correct(np.array([[3.0, -2.0]]), np.array([0]))
    np.testing.assert_allclose(M.softmax(np.array([[0.0, np.log(3.0)]])), [[0.25, 0.75]])


# ----------------------------------------------------------------------------- ECE, NLL, Brier
def test_ece_by_hand():
    conf = [0.05, 0.95, 0.95, 0.55]
    correct = [0, 1, 0, 1]
    # bins of 0.1: gaps .05 (w .25), .45 (w .5), .45 (w .25)
    assert M.ece(conf, correct, n_bins=10) == pytest.approx(0.25 * 0.05 + 0.5 * 0.45 + 0.25 * 0.45)
    hist = M.reliability_histogram(conf, correct, n_bins=10)
    assert hist["count"] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 2]
    assert hist["accuracy"][1] is None and hist["accuracy"][9] == 0.5
    assert hist["confidence"][9] == pytest.approx(0.95)
    # a confidence on an edge belongs to the bin it closes: (0, 0.1] is bin 0
    assert M.reliability_histogram([0.1, 0.0, 1.0], [1, 1, 1], n_bins=10)["count"] == \
        [2, 0, 0, 0, 0, 0, 0, 0, 0, 1]


def test_ece_near_zero_for_a_calibrated_predictor():
    rng = np.random.default_rng(1234)
    conf = rng.uniform(0.1, 1.0, 200_000)
    correct = rng.random(conf.size) < conf  # right exactly with probability conf
    assert M.ece(conf, correct) < 0.005
    overconfident = rng.random(conf.size) < conf - 0.1
    assert M.ece(conf, overconfident) == pytest.approx(0.1, abs=0.01)


def test_nll_and_brier_by_hand():
    probs = np.array([[0.25, 0.75], [0.5, 0.5]])
    labels = np.array([1, 0])
    assert M.nll(probs, labels) == pytest.approx(-(np.log(0.75) + np.log(0.5)) / 2)
    assert M.brier_score(probs, labels) == pytest.approx((2 * 0.25 ** 2 + 2 * 0.5 ** 2) / 2)
    assert M.nll(np.array([[1.0, 0.0]]), np.array([1])) == pytest.approx(-np.log(1e-12))
    assert M.brier_score(torch.eye(3), torch.arange(3)) == 0.0


# ----------------------------------------------------------------------------- -P metrics
def test_top5_distance_identical_and_shift_by_one():
    a = np.arange(20, 0, -1, dtype=float)  # class 0 ranked 1, class 1 ranked 2, ...
    assert M.top5_distance(a, a) == 0
    b = a.copy()
    b[10] = 100.0  # a new top class: the former top 5 each move down one rank
    assert M.top5_distance(a, b) == 5
    swap = a.copy()
    swap[[0, 1]] = swap[[1, 0]]
    assert M.top5_distance(a, swap) == 2
    drop = a.copy()
    drop[0] = -1.0  # rank 1 -> last (counts as 6, distance 5); ranks 2..5 each move up one
    assert M.top5_distance(a, drop) == 5 + 4
    np.testing.assert_array_equal(M.top5_distance(np.stack([a, a]), np.stack([a, b])), [0, 5])
    with pytest.raises(ValueError, match="scores_b must have the shape"):
        M.top5_distance(a, a[:10])


def test_flip_probability_orders_noise_and_difficulty():
    preds = np.array([[0, 0, 1, 1], [2, 2, 2, 2]])
    assert M.flip_probability(preds) == pytest.approx((1 / 3 + 0) / 2)
    assert M.flip_probability(preds, noise=True) == pytest.approx((2 / 3 + 0) / 2)
    assert M.flip_probability(preds, difficulty=2) == pytest.approx((1.0 + 0) / 2)
    # videos of different lengths: the mean is per video, then over videos
    assert M.flip_probability([np.array([0, 1]), np.array([0, 0, 0])]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="difficulty must be 1 for noise"):
        M.flip_probability(preds, noise=True, difficulty=2)
    with pytest.raises(ValueError, match="at least 2 frames"):
        M.flip_probability([np.array([0])])


def test_mean_top5_distance_and_normalized_means():
    a = np.arange(10, 0, -1, dtype=float)
    b = a.copy()
    b[7] = 50.0
    video = np.stack([a, b, b])  # distances: 5 then 0 (consecutive) or 5, 5 (noise)
    assert M.mean_top5_distance(video[None]) == pytest.approx(2.5)
    assert M.mean_top5_distance(video[None], noise=True) == pytest.approx(5.0)
    # difficulty d compares frames j and j + d (every strided sub-sequence), per video
    rng = np.random.default_rng(5)
    videos = rng.normal(size=(3, 7, 10))
    naive = np.mean([np.mean([M.top5_distance(v[j], v[j + 2]) for j in range(5)])
                     for v in videos])
    assert M.mean_top5_distance(videos, difficulty=2) == pytest.approx(naive)
    base = {p: 0.1 * (i + 1) for i, p in enumerate(M.P_PERTURBATIONS)}
    assert M.mfr(base, base) == pytest.approx(1.0)
    assert M.mt5d({p: v / 2 for p, v in base.items()}, base) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="lacks test perturbations.*tilt"):
        M.mfr({p: v for p, v in base.items() if p != "tilt"}, base)
