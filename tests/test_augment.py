"""AugMix per image: fidelity to the official code, the sampling's statistics, errors."""
from collections import Counter

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import stats

from augmix import AugMix
from augmix.augment.augmix import (
    ALL_OPS,
    BASE_OPS,
    INT_OPS,
    SIGNED_OPS,
    magnitude,
    sample_plan,
)

P_MIN = 1e-3  # fixed seeds: these tests are deterministic, the threshold only guards the model


def _draw_plans(n, seed=0, size=(32, 32), **kwargs):
    rng = np.random.default_rng(seed)
    return [sample_plan(rng, size, **kwargs) for _ in range(n)]


def test_op_choice_is_uniform_over_the_op_list():
    for all_ops, names in ((False, BASE_OPS), (True, ALL_OPS)):
        calls = [c for p in _draw_plans(2000, all_ops=all_ops) for chain in p.chains for c in chain]
        counts = Counter(c.name for c in calls)
        assert set(counts) == set(names)
        assert stats.chisquare([counts[n] for n in names]).pvalue > P_MIN


def test_depth_is_uniform_1_to_3_per_chain_or_fixed():
    depths = [len(chain) for p in _draw_plans(2000) for chain in p.chains]
    counts = Counter(depths)
    assert set(counts) == {1, 2, 3}
    assert stats.chisquare([counts[d] for d in (1, 2, 3)]).pvalue > P_MIN
    assert {len(c) for p in _draw_plans(50, depth=4) for c in p.chains} == {4}


@pytest.mark.parametrize("severity", [1, 3, 10])
def test_levels_are_uniform_and_params_follow_the_official_scaling(severity):
    calls = [c for p in _draw_plans(2000, severity=severity) for chain in p.chains for c in chain
             if c.level is not None]
    levels = np.array([c.level for c in calls])
    assert levels.min() >= 0.1 and levels.max() < severity
    assert stats.kstest(levels, stats.uniform(0.1, severity - 0.1).cdf).pvalue > P_MIN
    for c in calls:
        expected = magnitude(c.name, c.level, 32, 32)
        assert abs(c.param) == (int(expected) if c.name in INT_OPS else expected)
    by_name = {n: [c.param for c in calls if c.name == n] for n in BASE_OPS}
    s = severity
    assert set(by_name["posterize"]) <= {4 - int(0.4 * lv) for lv in np.linspace(0.1, s, 500, endpoint=False)}
    assert min(by_name["solarize"]) >= 256 - int(25.6 * s) and max(by_name["solarize"]) <= 256
    assert max(abs(d) for d in by_name["rotate"]) <= int(3 * s)
    assert max(abs(f) for f in by_name["shear_x"]) <= 0.03 * s
    assert max(abs(t) for t in by_name["translate_x"]) <= int(s * (32 / 3) / 10)


def test_translate_scales_with_the_image_size():
    calls = [c for p in _draw_plans(500, size=(224, 96), severity=10) for ch in p.chains for c in ch]
    tx = [abs(c.param) for c in calls if c.name == "translate_x"]
    ty = [abs(c.param) for c in calls if c.name == "translate_y"]
    assert max(tx) > 32 and max(tx) <= 224 // 3
    assert max(ty) <= 96 // 3


def test_signs_are_fair_coins_and_only_on_geometric_ops():
    calls = [c for p in _draw_plans(3000, all_ops=True) for ch in p.chains for c in ch
             if c.param is not None]
    for name in SIGNED_OPS:
        signs = [np.sign(c.param) for c in calls if c.name == name and c.param != 0]
        assert stats.binomtest(sum(s > 0 for s in signs), len(signs)).pvalue > P_MIN
    unsigned = [c.param for c in calls if c.name not in SIGNED_OPS]
    assert min(unsigned) > 0
    enhance = [c.param for c in calls if c.name in ("color", "contrast", "brightness", "sharpness")]
    assert 0.118 <= min(enhance) and max(enhance) < 0.1 + 0.18 * 3  # only ever reduces at s=3


@pytest.mark.parametrize("alpha,width", [(1.0, 3), (0.5, 4), (2.0, 2)])
def test_dirichlet_and_beta_weights(alpha, width):
    plans = _draw_plans(2000, alpha=alpha, width=width, depth=1)
    w = np.stack([p.chain_weights for p in plans])
    m = np.array([p.skip_weight for p in plans])
    assert w.dtype == np.float32 and m.dtype == np.float32
    assert np.allclose(w.sum(1), 1, atol=1e-6)
    # Dirichlet marginals are Beta(alpha, (width - 1) alpha).
    assert stats.kstest(w[:, 0], stats.beta(alpha, (width - 1) * alpha).cdf).pvalue > P_MIN
    assert stats.kstest(m, stats.beta(alpha, alpha).cdf).pvalue > P_MIN


def test_output_type_range_and_normalization(cifar_images):
    image = cifar_images[0]
    out = AugMix(seed=0)(image)
    assert out.shape == (3, 32, 32) and out.dtype == torch.float32
    assert 0 <= out.min() and out.max() <= 1
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    normalized = AugMix(seed=0, mean=mean, std=std)(image)
    expected = (out - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    assert torch.allclose(normalized, expected, atol=1e-5)
    grey = AugMix(seed=0)(Image.fromarray(image).convert("L"))
    assert grey.shape == (1, 32, 32)


def test_mixing_is_not_requantized(cifar_images):
    out = AugMix(seed=1)(cifar_images[0]) * 255
    assert (out - out.round()).abs().max() > 1e-3


def test_same_seed_same_output_and_trace(cifar_images):
    a, b, c = AugMix(seed=5), AugMix(seed=5), AugMix(seed=6)
    outs = [[aug.augment(im) for im in cifar_images[:8]] for aug in (a, b, c)]
    for x, y, z in zip(*outs):
        assert torch.equal(x.image, y.image) and x.plan.chains == y.plan.chains
        assert len(x.chain_images) == len(x.plan.chains) == 3
    assert any(not torch.equal(x.image, z.image) for x, z in zip(outs[0], outs[2]))


def test_generator_argument(cifar_images):
    g1, g2 = np.random.default_rng(11), np.random.default_rng(11)
    assert torch.equal(AugMix(generator=g1)(cifar_images[0]), AugMix(generator=g2)(cifar_images[0]))


@pytest.mark.parametrize("kwargs,argument", [
    ({"severity": 0}, "severity"), ({"severity": 11}, "severity"), ({"severity": "3"}, "severity"),
    ({"width": 0}, "width"), ({"width": 2.5}, "width"),
    ({"depth": 0}, "depth"), ({"depth": -2}, "depth"),
    ({"alpha": 0}, "alpha"), ({"alpha": -1.0}, "alpha"),
    ({"mean": (0.5,)}, "mean and std"), ({"seed": 1, "generator": np.random.default_rng()}, "seed"),
])
def test_bad_parameters_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        AugMix(**kwargs)


@pytest.mark.parametrize("image,expected", [
    (Image.new("CMYK", (8, 8)), "mode 'CMYK'"),
    (Image.new("RGBA", (8, 8)), "mode 'RGBA'"),
    (Image.new("P", (8, 8)), "mode 'P'"),
    (np.zeros((8, 8, 3), np.float32), "dtype uint8"),
    (np.zeros((8, 8, 4), np.uint8), "shape"),
    (np.zeros((2, 8, 8, 3), np.uint8), "shape"),
    (torch.zeros(3, 8, 8, dtype=torch.uint8), "BatchAugMix"),
    ([[0, 1], [2, 3]], "numpy array"),
])
def test_bad_images_are_rejected_clearly(image, expected):
    with pytest.raises(ValueError, match=expected):
        AugMix(seed=0)(image)
