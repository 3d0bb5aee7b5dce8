"""The JSD consistency loss against its definition, written out as sums in float64."""
import pytest
import torch
import torch.nn.functional as F

from augmix import AugMixLoss, jsd_consistency


def jsd_by_definition(logits_clean, logits_aug1, logits_aug2):
    """JS(p1; p2; p3) = (1/3) sum_i KL(p_i || m), m = mean_i p_i clamped to [1e-7, 1] (the
    paper's setting), KL summed over classes and averaged over the batch; in float64."""
    ps = [torch.softmax(x.double(), dim=1) for x in (logits_clean, logits_aug1, logits_aug2)]
    log_m = ((ps[0] + ps[1] + ps[2]) / 3).clamp(1e-7, 1).log()
    kls = [torch.where(p > 0, p * (p.clamp_min(1e-300).log() - log_m), 0.0).sum(dim=1) for p in ps]
    return ((kls[0] + kls[1] + kls[2]) / 3).mean()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("scale", [1.0, 10.0, 1e4])
def test_matches_reference_with_finite_values_and_gradients(dtype, scale):
    g = torch.Generator().manual_seed(int(scale) + len(str(dtype)))
    logits = (torch.randn(3 * 16, 10, generator=g) * scale).to(dtype).requires_grad_()
    loss = jsd_consistency(logits)
    assert loss.dtype == torch.float32
    expected = jsd_by_definition(*logits.detach().chunk(3))
    assert torch.isfinite(loss)
    assert loss.double().item() == pytest.approx(expected.item(), rel=1e-4, abs=1e-6)
    loss.backward()
    assert torch.isfinite(logits.grad).all()


def test_parts_and_concatenated_inputs_agree_and_probs_mode():
    g = torch.Generator().manual_seed(0)
    a, b, c = (torch.randn(8, 5, generator=g) for _ in range(3))
    whole = jsd_consistency(torch.cat([a, b, c]))
    assert torch.equal(whole, jsd_consistency(a, b, c))
    probs = jsd_consistency(*(x.softmax(1) for x in (a, b, c)), probs=True)
    assert probs.item() == pytest.approx(whole.item(), rel=1e-5)


def test_zero_for_equal_inputs_and_bounded_by_log3():
    x = torch.randn(8, 10)
    assert jsd_consistency(x, x, x).item() == pytest.approx(0.0, abs=1e-6)
    one_hot = torch.eye(3)[:, :3] * 1e4
    disjoint = jsd_consistency(one_hot[[0]], one_hot[[1]], one_hot[[2]])
    assert disjoint.item() == pytest.approx(torch.log(torch.tensor(3.0)).item(), rel=1e-5)


def test_float32_under_autocast():
    x = torch.randn(12, 10, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = AugMixLoss()(torch.nn.functional.linear(x, torch.eye(10)), torch.zeros(4, dtype=torch.long))
    assert loss.dtype == torch.float32


def test_augmix_loss_is_clean_ce_plus_lam_jsd():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3 * 6, 7, generator=g)
    targets = torch.randint(0, 7, (6,), generator=g)
    clean = logits[:6]
    expected = F.cross_entropy(clean, targets) + 12 * jsd_by_definition(*logits.chunk(3)).float()
    assert AugMixLoss()(logits, targets).item() == pytest.approx(expected.item(), rel=1e-5)
    assert AugMixLoss(lam=0)(tuple(logits.chunk(3)), targets).item() == pytest.approx(
        F.cross_entropy(clean, targets).item(), rel=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="lam"):
        AugMixLoss(lam=-1)
    with pytest.raises(ValueError, match="3B rows"):
        jsd_consistency(torch.randn(10, 4))
    with pytest.raises(ValueError, match="one shape"):
        jsd_consistency(torch.randn(2, 4), torch.randn(3, 4), torch.randn(2, 4))
    with pytest.raises(ValueError, match="all three"):
        jsd_consistency(torch.randn(3, 4), torch.randn(3, 4))
    with pytest.raises(ValueError, match="targets"):
        AugMixLoss()(torch.randn(9, 4), torch.zeros(9, dtype=torch.long))


@pytest.mark.parametrize("lam", [float("nan"), float("inf"), -1])
def test_lam_must_be_finite_and_non_negative(lam):
    with pytest.raises(ValueError, match="lam must be a finite number"):
        AugMixLoss(lam=lam)


def test_wrong_types_name_the_argument():
    import numpy as np

    with pytest.raises(TypeError, match="clean must be a floating-point torch.Tensor"):
        jsd_consistency(np.zeros((9, 4), np.float32))
    with pytest.raises(TypeError, match="aug1 must be"):
        jsd_consistency(torch.zeros(3, 4), torch.zeros(3, 4, dtype=torch.long), torch.zeros(3, 4))
    for targets in (torch.zeros(3), [0, 1, 2]):
        with pytest.raises(TypeError, match="targets must be an integer torch.Tensor"):
            AugMixLoss()(torch.randn(9, 4), targets)


def test_empty_batch_and_negative_probabilities_are_refused():
    with pytest.raises(ValueError, match="empty"):
        AugMixLoss()(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))
    p = torch.full((3, 4), 0.25)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        jsd_consistency(p, p, p - 0.5, probs=True)
    assert jsd_consistency(p, p, p, probs=True).item() == 0


