"""The Jensen-Shannon consistency loss of AugMix.

JS(p_clean; p_aug1; p_aug2) = mean_i KL(p_i || M), M = clamp(mean_i p_i, 1e-7, 1),
each KL averaged over the batch ("batchmean"), as in the official cifar.py.
Computed in float32 whatever the autocast state, from log-probabilities so
logits as large as 1e4 give finite values and gradients.
"""
from __future__ import annotations

import math
from numbers import Real

import torch
import torch.nn.functional as F
from torch import nn


def _describe(value) -> str:
    return f"a tensor of {value.dtype}" if isinstance(value, torch.Tensor) else type(value).__name__


def _three_parts(clean: torch.Tensor, aug1: torch.Tensor | None,
                 aug2: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    for name, part in (("clean", clean), ("aug1", aug1), ("aug2", aug2)):
        if part is not None and not (isinstance(part, torch.Tensor) and part.is_floating_point()):
            raise TypeError(f"{name} must be a floating-point torch.Tensor of logits or probabilities, "
                            f"got {_describe(part)}")
    if (aug1 is None) != (aug2 is None):
        raise ValueError("give either one [clean; aug1; aug2] tensor or all three parts")
    if aug1 is None:
        if clean.dim() != 2 or clean.shape[0] % 3:
            raise ValueError("a single input must be 2-D with 3B rows ([clean; aug1; aug2] from one "
                             f"forward pass), got shape {tuple(clean.shape)}")
        parts = tuple(clean.chunk(3))
    else:
        parts = (clean, aug1, aug2)
    if any(p.dim() != 2 for p in parts) or len({tuple(p.shape) for p in parts}) != 1:
        raise ValueError("clean, aug1 and aug2 must be 2-D (batch, classes) of one shape, got "
                         f"{[tuple(p.shape) for p in parts]}")
    if parts[0].shape[0] == 0:
        raise ValueError("the batch is empty: the loss of no images is undefined")
    return parts  # type: ignore[return-value]


def jsd_consistency(clean: torch.Tensor, aug1: torch.Tensor | None = None,
                    aug2: torch.Tensor | None = None, *, probs: bool = False) -> torch.Tensor:
    """Jensen-Shannon divergence among the predictions on the three views.

    Inputs are logits (or probabilities with `probs=True`), either as the
    three (B, K) parts or as one (3B, K) tensor [clean; aug1; aug2].
    """
    parts = _three_parts(clean, aug1, aug2)
    if probs and any(bool(((p < 0) | (p > 1)).any()) for p in parts):
        raise ValueError("with probs=True the inputs must be probabilities in [0, 1]; for logits "
                         "leave probs=False")
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
        if isinstance(lam, bool) or not isinstance(lam, Real) or not 0 <= lam < math.inf:
            raise ValueError(f"lam must be a finite number >= 0, got {lam!r}")
        self.lam = float(lam)

    def forward(self, logits: torch.Tensor | tuple[torch.Tensor, ...],
                targets: torch.Tensor) -> torch.Tensor:
        parts = _three_parts(*logits) if isinstance(logits, (tuple, list)) else _three_parts(logits, None, None)
        if not isinstance(targets, torch.Tensor) or targets.is_floating_point() or targets.is_complex():
            raise TypeError(f"targets must be an integer torch.Tensor of class indices, got {_describe(targets)}")
        if targets.dim() != 1 or targets.shape[0] != parts[0].shape[0]:
            raise ValueError(f"targets must be 1-D with one label per clean image ({parts[0].shape[0]}), "
                             f"got shape {tuple(targets.shape)}")
        with torch.autocast(device_type=parts[0].device.type, enabled=False):
            loss = F.cross_entropy(parts[0].float(), targets)
        return loss + self.lam * jsd_consistency(*parts)

    def extra_repr(self) -> str:
        return f"lam={self.lam}"
