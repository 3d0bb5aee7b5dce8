"""The -P perturbation sequences of CIFAR-10-P, Tiny-ImageNet-P and ImageNet-P, faithful and seeded.

    >>> from augmix.perturbations import perturb_sequence, PERTURBATIONS
    >>> frames = perturb_sequence(image, "rotate")            # uint8 (32, 32, 3) -> (31, 32, 32, 3)
    >>> frames = perturb_sequence(image, "shot_noise", rng=0)  # random sequences take a seed

Names and parameter tables import without OpenCV or SciPy; `perturb_sequence` loads them on first use.
"""
from __future__ import annotations

from typing import Any

from augmix.perturbations.names import (
    ALL_PERTURBATIONS,
    GEOMETRIC_PERTURBATIONS,
    HARDER_PERTURBATIONS,
    NOISE_PERTURBATIONS,
    PERTURBATIONS,
    RANDOM_PERTURBATIONS,
    VALIDATION_PERTURBATIONS,
    check_name,
)
from augmix.perturbations.tables import TABLES, PerturbationTable, get_table, table_for_shape

_LAZY = {"perturb_sequence": "augmix.perturbations.core", "sequence_rng": "augmix.perturbations.core"}

__all__ = ["ALL_PERTURBATIONS", "GEOMETRIC_PERTURBATIONS", "HARDER_PERTURBATIONS", "NOISE_PERTURBATIONS",
           "PERTURBATIONS", "RANDOM_PERTURBATIONS", "TABLES", "VALIDATION_PERTURBATIONS", "PerturbationTable",
           "check_name", "get_table", "perturb_sequence", "sequence_rng", "table_for_shape"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
