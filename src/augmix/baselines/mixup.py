"""Mixup (Zhang et al., 2018): train on convex combinations of pairs of examples and labels.

Source: "mixup: Beyond Empirical Risk Minimization", ICLR 2018 (arXiv:1710.09412);
official code github.com/facebookresearch/mixup-cifar10 (train.py:
``mixup_data`` / ``mixup_criterion``). Published CIFAR default: ``alpha=1.0``.

As in the official code, one ``lam ~ Beta(alpha, alpha)`` per batch, pairs made
by a random permutation of the batch, and the loss is the same convex
combination of the two cross-entropies (equivalent to cross-entropy against
mixed one-hot labels), so the labels are mixed with the same ``lam`` as the
images. Applied to normalized inputs (a linear map, so before or after
normalization gives the same mix).
"""
from __future__ import annotations

from typing import Callable

import torch

from augmix.baselines._sampling import random_permutation, sample_beta

CIFAR_ALPHA = 1.0


def mix_pairs(images: torch.Tensor, permutation: torch.Tensor, lam: float) -> torch.Tensor:
    """``lam * images + (1 - lam) * images[permutation]``."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam!r}")
    return lam * images + (1.0 - lam) * images[permutation]


def mixup(images: torch.Tensor, targets: torch.Tensor, generator: torch.Generator,
          alpha: float = CIFAR_ALPHA
          ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, float]]:
    """Mix a batch with a shuffled copy of itself.

    Returns ``(mixed_images, (targets_a, targets_b, lam))`` for ``mixup_loss``.
    """
    if images.shape[0] != targets.shape[0]:
        raise ValueError(f"images and targets must have the same batch size, got "
                         f"{images.shape[0]} and {targets.shape[0]}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    lam = sample_beta(alpha, alpha, generator)
    permutation = random_permutation(images.shape[0], generator, images.device)
    return mix_pairs(images, permutation, lam), (targets, targets[permutation], lam)


def mixup_loss(criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
               logits: torch.Tensor, targets_a: torch.Tensor, targets_b: torch.Tensor,
               lam: float) -> torch.Tensor:
    """``lam * criterion(logits, a) + (1 - lam) * criterion(logits, b)`` (Mixup and CutMix)."""
    return lam * criterion(logits, targets_a) + (1.0 - lam) * criterion(logits, targets_b)
