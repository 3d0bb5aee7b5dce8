"""The names of the 19 common corruptions: one source of truth, free of heavy imports."""
from __future__ import annotations

import operator

from augmix._util.choice import check_choice

# The 15 benchmark corruptions in the order of the benchmark tables: noise, blur, weather, digital.
CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise", "shot_noise", "impulse_noise",
    "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
    "snow", "frost", "fog", "brightness",
    "contrast", "elastic_transform", "pixelate", "jpeg_compression",
)
# Validation corruptions: never part of the mean corruption error or mCE (robustness#36).
EXTRA_CORRUPTIONS: tuple[str, ...] = ("speckle_noise", "gaussian_blur", "spatter", "saturate")
ALL_CORRUPTIONS: tuple[str, ...] = CORRUPTIONS + EXTRA_CORRUPTIONS
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)

# Corruptions that draw random numbers; the others are deterministic functions of the image.
RANDOM_CORRUPTIONS: frozenset[str] = frozenset({
    "gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise", "glass_blur", "motion_blur",
    "snow", "frost", "fog", "elastic_transform", "spatter",
})


def check_name(name: str) -> str:
    """Return `name` if it is one of the 19 corruptions, else raise ValueError suggesting the nearest."""
    return check_choice(name, ALL_CORRUPTIONS, "corruption")


def check_severity(severity: int) -> int:
    """Return `severity` as an int if it is an integer in 1..5, else raise ValueError."""
    try:
        value = operator.index(severity)
    except TypeError:
        value = None
    if isinstance(severity, bool) or value not in SEVERITIES:
        raise ValueError(f"severity must be an integer in 1..5, got {severity!r}")
    return value
