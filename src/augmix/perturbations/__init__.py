"""Perturbation names of the -P benchmarks (CIFAR-10-P, ImageNet-P)."""

# The 10 test perturbations averaged by the mean flip probability, mFR and mT5D.
PERTURBATIONS: tuple[str, ...] = (
    "gaussian_noise", "shot_noise", "motion_blur", "zoom_blur", "snow",
    "brightness", "translate", "rotate", "tilt", "scale",
)
# The validation perturbations, never in the means.
VALIDATION_PERTURBATIONS: tuple[str, ...] = ("speckle_noise", "gaussian_blur", "spatter", "shear")
