"""CutMix (Yun et al., 2019): paste a random box from another image; mix labels by area.

Source: "CutMix: Regularization Strategy to Train Strong Classifiers with
Localizable Features", ICCV 2019 (arXiv:1905.04899); official code
github.com/clovaai/CutMix-PyTorch (train.py: ``rand_bbox`` and the training
step). Published CIFAR recipe (README, PyramidNet on CIFAR-100):
``--beta 1.0 --cutmix_prob 0.5``; ImageNet uses ``cutmix_prob 1.0``.

As in the official code, per batch: with probability ``prob``, draw
``lam ~ Beta(beta, beta)``, a random permutation of the batch, and a box of
side ``int(side * sqrt(1 - lam))`` centred at a uniform pixel, spanning
``[c - cut//2, c + cut//2)`` clipped to the image; paste the partner images'
box into every image, then recompute ``lam`` as the exact fraction of pixels
kept from the image itself (clipping and the even-sized box change it). The
loss is ``mixup_loss`` (re-exported here) with that ``lam``. When CutMix is
not applied the batch is returned unchanged with ``lam = 1``.
"""
from __future__ import annotations

import math

import torch

from augmix.baselines._sampling import random_permutation, sample_beta
from augmix.baselines.mixup import mixup_loss

__all__ = ["CIFAR_BETA", "CIFAR_PROB", "cutmix", "cutmix_box", "kept_fraction",
           "mixup_loss", "paste_box"]

CIFAR_BETA = 1.0
CIFAR_PROB = 0.5

Box = tuple[int, int, int, int]  # (y1, y2, x1, x2), half-open


def cutmix_box(height: int, width: int, lam: float, centre_y: int, centre_x: int) -> Box:
    """The box covering about ``1 - lam`` of the image around a centre, clipped to it."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam!r}")
    cut_ratio = math.sqrt(1.0 - lam)
    half_h, half_w = int(height * cut_ratio) // 2, int(width * cut_ratio) // 2
    y1, y2 = max(centre_y - half_h, 0), min(centre_y + half_h, height)
    x1, x2 = max(centre_x - half_w, 0), min(centre_x + half_w, width)
    return y1, y2, x1, x2


def kept_fraction(box: Box, height: int, width: int) -> float:
    """Fraction of the image outside ``box``: CutMix's label weight for the image itself."""
    y1, y2, x1, x2 = box
    return 1.0 - (y2 - y1) * (x2 - x1) / (height * width)


def paste_box(images: torch.Tensor, permutation: torch.Tensor, box: Box) -> torch.Tensor:
    """A copy of NCHW ``images`` whose ``box`` is taken from ``images[permutation]``."""
    y1, y2, x1, x2 = box
    mixed = images.clone()
    mixed[:, :, y1:y2, x1:x2] = images[permutation, :, y1:y2, x1:x2]
    return mixed


def cutmix(images: torch.Tensor, targets: torch.Tensor, generator: torch.Generator,
           beta: float = CIFAR_BETA, prob: float = CIFAR_PROB
           ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, float]]:
    """CutMix a batch (with probability ``prob``).

    Returns ``(mixed_images, (targets_a, targets_b, lam))`` for ``mixup_loss``,
    ``lam`` being the exact kept-area fraction.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be an NCHW tensor, got shape {tuple(images.shape)}")
    if images.shape[0] != targets.shape[0]:
        raise ValueError(f"images and targets must have the same batch size, got "
                         f"{images.shape[0]} and {targets.shape[0]}")
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"prob must be in [0, 1], got {prob!r}")
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta!r}")
    if torch.rand((), generator=generator, device=generator.device).item() >= prob:
        return images, (targets, targets, 1.0)
    lam = sample_beta(beta, beta, generator)
    permutation = random_permutation(images.shape[0], generator, images.device)
    height, width = images.shape[2], images.shape[3]
    centre = torch.randint(height * width, (), generator=generator,
                           device=generator.device).item()
    box = cutmix_box(height, width, lam, centre // width, centre % width)
    return paste_box(images, permutation, box), (targets, targets[permutation],
                                                 kept_fraction(box, height, width))
