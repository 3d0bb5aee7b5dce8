"""Cutout (DeVries & Taylor, 2017): zero one square patch of each training image.

Source: "Improved Regularization of Convolutional Neural Networks with Cutout",
arXiv:1708.04552; official code github.com/uoguelph-mlrg/Cutout (util/cutout.py,
train.py). Published CIFAR-10 defaults: ``n_holes=1``, ``length=16``
(CIFAR-100: 8; SVHN: 20).

Definition followed here, as in the official code:

- the centre (y, x) is uniform over *all* pixels, so the square may hang over
  the border; it covers rows ``[y - length//2, y - length//2 + length)`` (and
  the same for columns), clipped to the image, so it is ``length`` x ``length``
  when fully inside and smaller at borders. The official code's
  ``[y - length//2, y + length//2)`` is one pixel shorter for odd lengths; the
  published lengths (16, 8, 20) are even, where both agree. The repository's
  first version clipped ``[y - length, y + length)``, a square twice the
  paper's 16x16, which is not followed here;
- the square is multiplied by 0 *after* ``ToTensor`` and ``Normalize``, so the
  erased value is 0 in normalized space (the dataset mean colour).

The per-image functions work on one CHW tensor (a dataset transform); the
``batch_`` functions on NCHW tensors, one centre per sample, with masks built
by broadcasting (no Python loop over samples), on any device.
"""
from __future__ import annotations

import torch

from augmix.baselines._sampling import generator_or_fresh

CIFAR10_LENGTH = 16
CIFAR10_N_HOLES = 1


def _check_length(length: int) -> None:
    if not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be a positive int, got {length!r}")


def _check_n_holes(n_holes: int) -> None:
    if not isinstance(n_holes, int) or n_holes < 1:
        raise ValueError(f"n_holes must be a positive int, got {n_holes!r}")


def square_masks(height: int, width: int, centres_y: torch.Tensor, centres_x: torch.Tensor,
                 length: int) -> torch.Tensor:
    """Boolean (N, H, W) masks, True inside the squares centred at (centres_y, centres_x).

    ``centres_y`` and ``centres_x`` are int tensors of shape (N, K): K squares per
    sample, each covering ``[c - length//2, c - length//2 + length)`` clipped to the image.
    """
    _check_length(length)
    if centres_y.shape != centres_x.shape or centres_y.dim() != 2:
        raise ValueError(f"centres_y and centres_x must both have shape (N, K), got "
                         f"{tuple(centres_y.shape)} and {tuple(centres_x.shape)}")
    start_y, start_x = centres_y - length // 2, centres_x - length // 2
    rows = torch.arange(height, device=centres_y.device)
    cols = torch.arange(width, device=centres_x.device)
    # (N, K, H) and (N, K, W) interval tests; their outer product is each square.
    in_rows = (rows >= start_y[..., None]) & (rows < (start_y + length)[..., None])
    in_cols = (cols >= start_x[..., None]) & (cols < (start_x + length)[..., None])
    squares = in_rows[..., :, None] & in_cols[..., None, :]
    return squares.any(dim=1)


def sample_centres(n: int, n_holes: int, height: int, width: int,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Centres uniform over all pixels, as int64 tensors of shape (n, n_holes) (generator None:
    fresh entropy in each process)."""
    _check_n_holes(n_holes)
    generator = generator_or_fresh(generator)
    device = generator.device
    centres_y = torch.randint(height, (n, n_holes), generator=generator, device=device)
    centres_x = torch.randint(width, (n, n_holes), generator=generator, device=device)
    return centres_y, centres_x


def batch_cutout_at(images: torch.Tensor, centres_y: torch.Tensor, centres_x: torch.Tensor,
                    length: int = CIFAR10_LENGTH) -> torch.Tensor:
    """Zero the squares at the given (N, K) centres of NCHW ``images`` (a new tensor)."""
    if images.dim() != 4:
        raise ValueError(f"images must be an NCHW tensor, got shape {tuple(images.shape)}")
    if centres_y.shape[0] != images.shape[0]:
        raise ValueError(f"centres must have one row per image ({images.shape[0]}), "
                         f"got {centres_y.shape[0]}")
    masks = square_masks(images.shape[2], images.shape[3], centres_y.to(images.device),
                         centres_x.to(images.device), length)
    return images.masked_fill(masks[:, None], 0.0)


def cutout_at(image: torch.Tensor, centres_y: torch.Tensor, centres_x: torch.Tensor,
              length: int = CIFAR10_LENGTH) -> torch.Tensor:
    """Zero the squares at the given (K,) centres of one CHW ``image`` (a new tensor)."""
    if image.dim() != 3:
        raise ValueError(f"image must be a CHW tensor, got shape {tuple(image.shape)}")
    return batch_cutout_at(image[None], centres_y.reshape(1, -1), centres_x.reshape(1, -1),
                           length)[0]


def cutout(image: torch.Tensor, generator: torch.Generator | None = None, length: int = CIFAR10_LENGTH,
           n_holes: int = CIFAR10_N_HOLES) -> torch.Tensor:
    """Cutout of one normalized CHW image: ``n_holes`` squares at random centres."""
    if image.dim() != 3:
        raise ValueError(f"image must be a CHW tensor, got shape {tuple(image.shape)}")
    centres_y, centres_x = sample_centres(1, n_holes, image.shape[1], image.shape[2], generator)
    return cutout_at(image, centres_y[0], centres_x[0], length)


def batch_cutout(images: torch.Tensor, generator: torch.Generator | None = None,
                 length: int = CIFAR10_LENGTH, n_holes: int = CIFAR10_N_HOLES) -> torch.Tensor:
    """Cutout of a normalized NCHW batch, an independent centre (or centres) per sample."""
    if images.dim() != 4:
        raise ValueError(f"images must be an NCHW tensor, got shape {tuple(images.shape)}")
    centres_y, centres_x = sample_centres(images.shape[0], n_holes, images.shape[2],
                                          images.shape[3], generator)
    return batch_cutout_at(images, centres_y, centres_x, length)
