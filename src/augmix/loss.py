"""The Jensen-Shannon consistency loss of AugMix.

JS(p_clean; p_aug1; p_aug2) = mean_i KL(p_i || M), M = clamp(mean_i p_i, 1e-7, 1),
each KL averaged over the batch ("batchmean"), as in the official cifar.py.
Computed in float32 whatever the autocast state, from log-probabilities so
logits as large as 1e4 give finite values and gradients.
"""
from __future__ import annotations

from numbers import Real

import torch
import torch.nn.functional as F
from torch import nn


def _three_parts(clean: torch.Tensor, aug1: torch.Tensor | None,
                 aug2: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    if (aug1 is None) != (aug2 is None):
        raise ValueError("give either one [clean; aug1; aug2] tensor or all three parts")
    if aug1 is None:
        if clean.dim() != 2 or clean.shape[0] % 3:
            raise ValueError("a single input must be 2-D with 3B rows ([clean; aug1; aug2] from one "
                             f"forward pass), got shape {tuple(clean.shape)}")
        return tuple(clean.chunk(3))  # type: ignore[return-value]
    parts = (clean, aug1, aug2)
    if any(p.dim() != 2 for p in parts) or len({tuple(p.shape) for p in parts}) != 1:
        raise ValueError("clean, aug1 and aug2 must be 2-D (batch, classes) of one shape, got "
                         f"{[tuple(p.shape) for p in parts]}")
    return parts


def jsd_consistency(clean: torch.Tensor, aug1: torch.Tensor | None = None,
                    aug2: torch.Tensor | None = None, *, probs: bool = False) -> torch.Tensor:
    """Jensen-Shannon divergence among the predictions on the three views.

    Inputs are logits (or probabilities with `probs=True`), either as the
    three (B, K) parts or as one (3B, K) tensor [clean; aug1; aug2].
    """
    parts = _three_parts(clean, aug1, aug2)
    with torch.autocast(device_type=parts[0].device.type, enabled=False):
        if probs:
            targets, log_target = [x.float() for x in parts], False
            p = targets
        else:
            # Log-probabilities as targets: finite for any finite logits, so no 0 * log 0.
            targets, log_target = [F.log_softmax(x.float(), dim=1) for x in parts], True
            p = [t.exp() for t in targets]
        log_mixture = torch.clamp((p[0] + p[1] + p[2]) / 3.0, 1e-7, 1).log()
        return sum(F.kl_div(log_mixture, t, reduction="batchmean", log_target=log_target)
                   for t in targets) / 3.0


class AugMixLoss(nn.Module):
    """Cross-entropy on the clean third plus `lam` times the JSD consistency.

    `forward(logits, targets)`: logits of one forward pass over the (3B, K)
    batch [clean; aug1; aug2] (or a tuple of the three parts), targets (B,).
    """

    def __init__(self, lam: float = 12.0):
        super().__init__()
        if isinstance(lam, bool) or not isinstance(lam, Real) or lam < 0:
            raise ValueError(f"lam must be a number >= 0, got {lam!r}")
        self.lam = float(lam)

    def forward(self, logits: torch.Tensor | tuple[torch.Tensor, ...],
                targets: torch.Tensor) -> torch.Tensor:
        parts = _three_parts(*logits) if isinstance(logits, (tuple, list)) else _three_parts(logits, None, None)
        if targets.dim() != 1 or targets.shape[0] != parts[0].shape[0]:
            raise ValueError(f"targets must be 1-D with one label per clean image ({parts[0].shape[0]}), "
                             f"got shape {tuple(targets.shape)}")
        with torch.autocast(device_type=parts[0].device.type, enabled=False):
            loss = F.cross_entropy(parts[0].float(), targets)
        return loss + self.lam * jsd_consistency(*parts)

    def extra_repr(self) -> str:
        return f"lam={self.lam}"
