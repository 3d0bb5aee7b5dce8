"""Batch-level random draws from an explicit ``torch.Generator``."""
from __future__ import annotations

import torch
from scipy.special import betaincinv

from augmix.augment.plan import ProcessGenerator

_FRESH = ProcessGenerator(kind="torch")


def generator_or_fresh(generator: torch.Generator | None) -> torch.Generator:
    """`generator`, or (None) a CPU generator with fresh entropy in each process, so the
    per-image transforms never repeat another DataLoader worker's draws."""
    return _FRESH() if generator is None else generator


def sample_beta(alpha: float, beta: float, generator: torch.Generator) -> float:
    """One draw from Beta(alpha, beta) by inverting its CDF at a uniform from ``generator``.

    torch's own Beta sampler takes no generator; the inverse CDF is exact and
    keeps every draw on the caller's generator.
    """
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")
    u = torch.rand((), generator=generator, device=generator.device).item()
    return float(betaincinv(alpha, beta, u))


def random_permutation(n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """A uniform random permutation of range(n), drawn on ``generator``, moved to ``device``."""
    return torch.randperm(n, generator=generator, device=generator.device).to(device)
