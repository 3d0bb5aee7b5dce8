"""PGD adversarial training examples (Madry et al., 2018), L-infinity threat model.

Source: "Towards Deep Learning Models Resistant to Adversarial Attacks",
ICLR 2018 (arXiv:1706.06083); official code github.com/MadryLab/cifar10_challenge
(pgd_attack.py, train.py, model.py). Published CIFAR-10 defaults, on the
[0, 255] pixel scale there: epsilon 8, step 2, a random start uniform in the
epsilon ball, 7 steps for the training adversary and 20 for evaluation (the
paper; the challenge repository's config.json runs 10). Here pixels are in
[0, 1]: epsilon 8/255, step 2/255.

Each step ascends the loss along the sign of the input gradient, then projects
onto the epsilon ball around the clean image and onto the valid pixel range
[0, 1], as pgd_attack.py does. Attacks run on unnormalized images;
``normalize`` maps them to what the model expects, so the projection is in
pixel space whatever the model's input normalization.

The model's mode during the attack must be chosen (``mode``): the official
training attacks the model built in train mode (batch-norm on batch
statistics, its moving averages updated by the attack's forward passes) and
evaluation attacks the eval-mode model. Every submodule's previous mode is
restored afterwards. Gradients are enabled even under ``torch.no_grad``, and
only input gradients are computed, so parameter ``.grad`` is left untouched.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from augmix._util.convert import mean_std, normalize

EPSILON = 8 / 255
STEP_SIZE = 2 / 255
TRAIN_STEPS = 7
EVAL_STEPS = 20

Normalize = Callable[[torch.Tensor], torch.Tensor]


def normalizer(mean: Sequence[float], std: Sequence[float]) -> Normalize:
    """``x -> (x - mean) / std`` per channel, for NCHW tensors on any device."""
    mean_t, std_t = mean_std(mean, std)

    def normalize_images(images: torch.Tensor) -> torch.Tensor:
        return normalize(images, mean_t, std_t)

    return normalize_images


def _identity(images: torch.Tensor) -> torch.Tensor:
    return images


def project(adversarial: torch.Tensor, clean: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Clip into the L-inf ball of radius ``epsilon`` around ``clean`` and into [0, 1]."""
    return torch.minimum(torch.maximum(adversarial, clean - epsilon), clean + epsilon).clamp(0, 1)


def pgd_attack(model: torch.nn.Module, images: torch.Tensor, targets: torch.Tensor, *,
               normalize: Normalize | None = None, epsilon: float = EPSILON,
               step_size: float = STEP_SIZE, steps: int = TRAIN_STEPS,
               random_start: bool = True, generator: torch.Generator | None = None,
               mode: str,
               loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
               ) -> torch.Tensor:
    """PGD adversarial versions of ``images`` (NCHW in [0, 1]); returns a detached tensor.

    ``mode`` is ``"train"`` (adversarial training, as the official code) or ``"eval"``
    (evaluating robustness): the model's mode during the attack.
    ``generator`` drives the random start and is required when ``random_start``.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be an NCHW tensor, got shape {tuple(images.shape)}")
    if images.numel() and (images.min() < 0 or images.max() > 1):
        raise ValueError("images must be in [0, 1] (unnormalized); pass the model's "
                         "normalization as `normalize`")
    if not epsilon >= 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon!r}")
    if not step_size > 0:
        raise ValueError(f"step_size must be > 0, got {step_size!r}")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if mode not in ("eval", "train"):
        raise ValueError(f"mode must be 'eval' or 'train', got {mode!r}")
    if random_start and generator is None:
        raise ValueError("generator must be given when random_start is True")
    normalize = normalize or _identity
    clean = images.detach()
    adversarial = clean.clone()
    if random_start:
        noise = torch.rand(clean.shape, generator=generator, device=generator.device)
        adversarial = project(clean + (2 * noise.to(clean) - 1) * epsilon, clean, epsilon)
    # Each submodule's own mode is restored (a model may keep some layers frozen in eval).
    modes = [(module, module.training) for module in model.modules()]
    model.train(mode == "train")
    try:
        with torch.enable_grad():  # also inside an evaluation loop's no_grad
            for _ in range(steps):
                adversarial.requires_grad_(True)
                loss = loss_fn(model(normalize(adversarial)), targets)
                (grad,) = torch.autograd.grad(loss, adversarial)
                adversarial = project(adversarial.detach() + step_size * grad.sign(), clean,
                                      epsilon)
    finally:
        for module, training in modes:
            module.training = training
    return adversarial.detach()
