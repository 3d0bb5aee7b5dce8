"""The names of the -P perturbation sequences: one source of truth, free of heavy imports."""
from __future__ import annotations

from augmix._util.choice import check_choice

# The 10 test perturbations of ImageNet-P / CIFAR-10-P, in the order of the benchmark tables.
PERTURBATIONS: tuple[str, ...] = (
    "gaussian_noise", "shot_noise", "motion_blur", "zoom_blur", "snow",
    "brightness", "translate", "rotate", "tilt", "scale",
)
# Validation perturbations: never part of the mean flip rate.
VALIDATION_PERTURBATIONS: tuple[str, ...] = ("speckle_noise", "gaussian_blur", "spatter", "shear")
# Harder noise: the same sequence with stronger noise (`_2`, `_3`), as in the released ImageNet-P.
HARDER_PERTURBATIONS: tuple[str, ...] = tuple(
    f"{name}_{level}" for name in ("gaussian_noise", "shot_noise", "speckle_noise") for level in (2, 3))
ALL_PERTURBATIONS: tuple[str, ...] = PERTURBATIONS + VALIDATION_PERTURBATIONS + HARDER_PERTURBATIONS

# Sequences of independent noise draws around a clean first frame: their frames are compared
# with the first one, the others frame to frame (the reference tests `'noise' in name`).
NOISE_PERTURBATIONS: frozenset[str] = frozenset(n for n in ALL_PERTURBATIONS if "noise" in n)
# Sequences that draw random numbers; the others are deterministic functions of the image.
RANDOM_PERTURBATIONS: frozenset[str] = NOISE_PERTURBATIONS | {"snow", "spatter"}
# Sequences that move pixels: on an image larger than the output they act on the whole image
# and are cropped afterwards (ImageNet-P's Resize(256) then CenterCrop(224)), so no black
# border comes into view; the others crop first.
GEOMETRIC_PERTURBATIONS: frozenset[str] = frozenset({"zoom_blur", "translate", "rotate", "tilt", "scale", "shear"})


def check_name(name: str) -> str:
    """Return `name` if it is a perturbation, else raise ValueError suggesting the nearest."""
    return check_choice(name, ALL_PERTURBATIONS, "perturbation")


def base_name(name: str) -> str:
    """The sequence a harder variant strengthens: gaussian_noise_2 -> gaussian_noise."""
    return name[:-2] if name in HARDER_PERTURBATIONS else name
