"""The 19 common corruptions of CIFAR-10-C, Tiny-ImageNet-C and ImageNet-C, faithful and seeded.

    >>> from augmix.corruptions import corrupt, CORRUPTIONS
    >>> corrupted = corrupt(images, "glass_blur", 3, rng=0)   # uint8 (N, 32, 32, 3) -> same
    >>> foggy = corrupt(photo, "fog", 3, rng=0)               # any size >= 32 px, (H, W) grey too

Names and severity tables import without OpenCV or SciPy; `corrupt` loads them on first use.
"""
from __future__ import annotations

from typing import Any

from augmix.corruptions.names import (
    ALL_CORRUPTIONS,
    CORRUPTIONS,
    EXTRA_CORRUPTIONS,
    RANDOM_CORRUPTIONS,
    SEVERITIES,
    check_name,
    check_severity,
)
from augmix.corruptions.sizes import table_for_shape
from augmix.corruptions.tables import TABLES, SeverityTable, get_table

_LAZY = {"corrupt": "augmix.corruptions.core", "image_rng": "augmix.corruptions.core"}

__all__ = ["ALL_CORRUPTIONS", "CORRUPTIONS", "EXTRA_CORRUPTIONS", "RANDOM_CORRUPTIONS", "SEVERITIES",
           "TABLES", "SeverityTable", "check_name", "check_severity", "corrupt", "get_table",
           "image_rng", "table_for_shape"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
