"""The draws of both engines (`augmix.augment.plan`): one statistical test per property, run on
the per-image sampler (numpy Generator) and on the batched one (torch.Generator)."""
from collections import Counter

import numpy as np
import pytest
import torch
from scipy import stats

from augmix.augment.plan import (
    ALL_OPS,
    BASE_OPS,
    ENHANCE_OPS,
    INT_OPS,
    SIGNED_OPS,
    magnitude,
    sample_batch_plan,
    sample_plan,
)

P_MIN = 1e-3  # fixed seeds: these tests are deterministic, the threshold only guards the model


def _per_image(n, seed=0, size=(32, 32), **kwargs):
    rng = np.random.default_rng(seed)
    return [sample_plan(rng, size, **kwargs) for _ in range(n)]


def _batched(n, seed=0, size=(32, 32), **kwargs):
    return sample_batch_plan(torch.Generator().manual_seed(seed), n, size, **kwargs).to_mix_plans()


SAMPLERS = pytest.mark.parametrize("draw", [_per_image, _batched], ids=["per_image", "batched"])


def _calls(plans):
    return [c for p in plans for chain in p.chains for c in chain]


@SAMPLERS
def test_op_choice_is_uniform_over_the_op_list_and_per_sample(draw):
    for all_ops, names in ((False, BASE_OPS), (True, ALL_OPS)):
        plans = draw(2000, all_ops=all_ops)
        counts = Counter(c.name for c in _calls(plans))
        assert set(counts) == set(names)
        assert stats.chisquare([counts[n] for n in names]).pvalue > P_MIN
        assert {p.chains[0][0].name for p in plans} == set(names)  # not one op for every image


@SAMPLERS
def test_depth_is_uniform_1_to_3_per_chain_or_fixed(draw):
    counts = Counter(len(chain) for p in draw(2000) for chain in p.chains)
    assert set(counts) == {1, 2, 3}
    assert stats.chisquare([counts[d] for d in (1, 2, 3)]).pvalue > P_MIN
    assert {len(c) for p in draw(50, depth=4) for c in p.chains} == {4}


@SAMPLERS
@pytest.mark.parametrize("severity", [1, 3, 10])
def test_levels_are_uniform_and_params_follow_the_official_scaling(draw, severity):
    calls = [c for c in _calls(draw(2000, severity=severity)) if c.level is not None]
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
    # the parameters' distribution equals that of the per-image sampler (another seed)
    reference = [c for c in _calls(_per_image(2000, seed=1, severity=severity)) if c.level is not None]
    for name in ("rotate", "shear_x", "translate_y", "solarize"):
        ours = [c.param for c in calls if c.name == name]
        theirs = [c.param for c in reference if c.name == name]
        assert stats.ks_2samp(ours, theirs).pvalue > P_MIN, name


@SAMPLERS
def test_translate_scales_with_the_image_size(draw):
    calls = _calls(draw(500, size=(224, 96), severity=10))
    tx = [abs(c.param) for c in calls if c.name == "translate_x"]
    ty = [abs(c.param) for c in calls if c.name == "translate_y"]
    assert max(tx) > 32 and max(tx) <= 224 // 3
    assert max(ty) <= 96 // 3


@SAMPLERS
def test_signs_are_fair_coins_and_only_on_geometric_ops(draw):
    calls = [c for c in _calls(draw(3000, all_ops=True)) if c.param is not None]
    for name in SIGNED_OPS:
        signs = [np.sign(c.param) for c in calls if c.name == name and c.param != 0]
        assert stats.binomtest(sum(s > 0 for s in signs), len(signs)).pvalue > P_MIN
    unsigned = [c.param for c in calls if c.name not in SIGNED_OPS]
    assert min(unsigned) > 0
    enhance = [c.param for c in calls if c.name in ENHANCE_OPS]
    assert 0.118 <= min(enhance) and max(enhance) < 0.1 + 0.18 * 3  # only ever reduces at s=3


@SAMPLERS
@pytest.mark.parametrize("alpha,width", [(1.0, 3), (0.5, 4), (2.0, 2)])
def test_dirichlet_and_beta_weights(draw, alpha, width):
    plans = draw(2000, alpha=alpha, width=width, depth=1)
    w = np.stack([p.chain_weights for p in plans])
    m = np.array([p.skip_weight for p in plans])
    assert w.dtype == np.float32 and m.dtype == np.float32
    assert np.allclose(w.sum(1), 1, atol=1e-6)
    # Dirichlet marginals are Beta(alpha, (width - 1) alpha).
    assert stats.kstest(w[:, 0], stats.beta(alpha, (width - 1) * alpha).cdf).pvalue > P_MIN
    assert stats.kstest(m, stats.beta(alpha, alpha).cdf).pvalue > P_MIN
