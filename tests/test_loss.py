"""The JSD consistency loss against the official formula."""
import pytest
import torch
import torch.nn.functional as F

from augmix import AugMixLoss, jsd_consistency


def official_jsd(logits_clean, logits_aug1, logits_aug2):
    """cifar.py's consistency term, evaluated in float64 as the reference."""
    p_clean, p_aug1, p_aug2 = (F.softmax(x.double(), dim=1) for x in (logits_clean, logits_aug1, logits_aug2))
    p_mixture = torch.clamp((p_clean + p_aug1 + p_aug2) / 3., 1e-7, 1).log()
    return (F.kl_div(p_mixture, p_clean, reduction='batchmean')
            + F.kl_div(p_mixture, p_aug1, reduction='batchmean')
            + F.kl_div(p_mixture, p_aug2, reduction='batchmean')) / 3.


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("scale", [1.0, 10.0, 1e4])
def test_matches_reference_with_finite_values_and_gradients(dtype, scale):
    g = torch.Generator().manual_seed(int(scale) + len(str(dtype)))
    logits = (torch.randn(3 * 16, 10, generator=g) * scale).to(dtype).requires_grad_()
    loss = jsd_consistency(logits)
    assert loss.dtype == torch.float32
    expected = official_jsd(*logits.detach().chunk(3))
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
    expected = F.cross_entropy(clean, targets) + 12 * official_jsd(*logits.chunk(3)).float()
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
