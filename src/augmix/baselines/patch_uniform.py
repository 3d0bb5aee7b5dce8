"""Patch Uniform: uniform noise added inside one random square patch of each image.

The AugMix paper (Hendrycks et al., ICLR 2020, Table 4) lists Patch Uniform as
an ImageNet baseline, "similar to Patch Gaussian" but with uniform noise. Patch
Gaussian: Lopes et al., "Improving Robustness Without Sacrificing Accuracy with
Patch Gaussian Augmentation", arXiv:1906.02611 (2019): per image, a square
patch of side ``patch_size`` at a uniformly random centre (clipped at the
borders, like Cutout), Gaussian noise with a per-image scale drawn uniformly
from [0, ``max_scale``] added inside it on the [0, 1] pixel scale, then the
image clipped back to [0, 1]; applied before normalization.

Here the noise is uniform on ``[-scale, scale]`` (per pixel and channel) with
``scale ~ U(0, max_scale)`` per image. No reference code for the AugMix
paper's Patch Uniform was released, so these parameters are ours:
``patch_size=25`` and ``max_scale=1.0`` for 32x32 images, taken from Lopes et
al.'s CIFAR-10 Patch Gaussian setting (W=25, sigma=1.0) as recalled; that
value was not re-checked against the paper's text here. For ImageNet-sized
crops pass a ``patch_size`` scaled to the crop.
"""
from __future__ import annotations

import torch

from augmix.baselines._sampling import generator_or_fresh
from augmix.baselines.cutout import sample_centres, square_masks

CIFAR_PATCH_SIZE = 25
MAX_SCALE = 1.0


def patch_uniform_at(images: torch.Tensor, centres_y: torch.Tensor, centres_x: torch.Tensor,
                     noise: torch.Tensor, patch_size: int = CIFAR_PATCH_SIZE) -> torch.Tensor:
    """Add ``noise`` (NCHW) inside the squares at the (N, 1) centres, then clip to [0, 1]."""
    masks = square_masks(images.shape[2], images.shape[3], centres_y.to(images.device),
                         centres_x.to(images.device), patch_size)
    return torch.where(masks[:, None], (images + noise).clamp(0, 1), images)


def patch_uniform(images: torch.Tensor, generator: torch.Generator | None = None,
                  patch_size: int = CIFAR_PATCH_SIZE, max_scale: float = MAX_SCALE
                  ) -> torch.Tensor:
    """Patch Uniform on an unnormalized NCHW batch in [0, 1], independently per sample."""
    if images.dim() != 4:
        raise ValueError(f"images must be an NCHW tensor, got shape {tuple(images.shape)}")
    if not max_scale >= 0:
        raise ValueError(f"max_scale must be >= 0, got {max_scale!r}")
    n, _, height, width = images.shape
    generator = generator_or_fresh(generator)
    centres_y, centres_x = sample_centres(n, 1, height, width, generator)
    device = generator.device
    scales = max_scale * torch.rand((n, 1, 1, 1), generator=generator, device=device)
    unit = 2 * torch.rand(images.shape, generator=generator, device=device) - 1
    return patch_uniform_at(images, centres_y, centres_x, (scales * unit).to(images),
                            patch_size)
