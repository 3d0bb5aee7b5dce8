"""AugMix and the baselines of the AugMix paper's comparison, one registry of training methods.

``METHODS`` maps each ``augmix train --method`` name to a `Method` object
(``augmix.baselines.methods``): where it acts in the pipeline, its published
defaults and their source, and the hooks the trainer calls (per-image transform,
per-batch transform, loss). Each baseline's module docstring gives the details.
Stages:

- ``"none"``: the standard pipeline only (random crop with 4-pixel padding and
  horizontal flip on CIFAR);
- ``"pil"``: per training image, on the PIL image after crop and flip, before
  ``ToTensor`` (numpy ``Generator``);
- ``"normalized"``: per training image or batch, on normalized tensors;
- ``"pixels"``: on unnormalized batches in [0, 1], before normalization;
- ``"batch"``: mixes pairs within a batch and returns
  ``(targets_a, targets_b, lam)`` for ``mixup_loss``;
- ``"attack"``: replaces each batch by PGD examples against the current model.
"""
from __future__ import annotations

from augmix.baselines import adversarial, autoaugment, cutmix, cutout, mixup, patch_uniform
from augmix.baselines.methods import (
    Adversarial,
    AugMix,
    AutoAugmentCutout,
    Batch,
    CutMix,
    Cutout,
    ImageSetup,
    Method,
    Mixup,
    PatchUniform,
    RandomAutoAugment,
    Step,
)


def _registry(*methods: Method) -> dict[str, Method]:
    return {method.name: method for method in methods}


METHODS: dict[str, Method] = _registry(
    AugMix(
        "augmix", "AugMix per image (mixed chains of 1-3 ops, blended with the original), with "
        "the Jensen-Shannon consistency loss unless --no-jsd; settings from the run's config",
        "pil", {}, "Hendrycks et al. ICLR 2020, arXiv:1912.02781; github.com/google-research/augmix"),
    Method(
        "standard", "random crop (pad 4) and horizontal flip only", "none", {},
        "the AugMix paper's 'Standard' row"),
    Cutout(
        "cutout", "zero one random 16x16 square per image, after normalization", "normalized",
        {"length": cutout.CIFAR10_LENGTH, "n_holes": cutout.CIFAR10_N_HOLES},
        "DeVries & Taylor 2017, arXiv:1708.04552; github.com/uoguelph-mlrg/Cutout"),
    Mixup(
        "mixup", "convex combinations of image pairs and their labels, lam ~ Beta(1, 1) per batch",
        "batch", {"alpha": mixup.CIFAR_ALPHA},
        "Zhang et al. ICLR 2018, arXiv:1710.09412; github.com/facebookresearch/mixup-cifar10"),
    CutMix(
        "cutmix", "paste a random box from a partner image, labels mixed by exact area, "
        "on half of the batches", "batch",
        {"beta": cutmix.CIFAR_BETA, "prob": cutmix.CIFAR_PROB},
        "Yun et al. ICCV 2019, arXiv:1905.04899; github.com/clovaai/CutMix-PyTorch"),
    AutoAugmentCutout(
        "autoaugment", "the learned AutoAugment CIFAR-10 policy (25 sub-policies), then Cutout "
        "16x16 as in the AutoAugment paper's CIFAR recipe", "pil",
        {"policy": "cifar10", "fill": autoaugment.FILL, "cutout_length": 16},
        "Cubuk et al. CVPR 2019, arXiv:1805.09501; ranges as github.com/DeepVoltaire/AutoAugment"),
    RandomAutoAugment(
        "random-autoaugment", "a random sub-policy from the AutoAugment search space per image",
        "pil", {"fill": autoaugment.FILL},
        "AugMix paper (ImageNet table); sampling choices documented in autoaugment.py"),
    Adversarial(
        "adversarial", "train on L-inf PGD examples (random start) against the current model",
        "attack",
        {"epsilon": adversarial.EPSILON, "step_size": adversarial.STEP_SIZE,
         "steps": adversarial.TRAIN_STEPS, "eval_steps": adversarial.EVAL_STEPS,
         "random_start": True, "mode": "train", "eval_mode": "eval"},
        "Madry et al. ICLR 2018, arXiv:1706.06083; github.com/MadryLab/cifar10_challenge"),
    PatchUniform(
        "patch-uniform", "uniform noise inside one random square patch per image, clipped to "
        "[0, 1]", "pixels",
        {"patch_size": patch_uniform.CIFAR_PATCH_SIZE, "max_scale": patch_uniform.MAX_SCALE},
        "AugMix paper (ImageNet table), after Patch Gaussian, Lopes et al. arXiv:1906.02611; "
        "parameters ours, see patch_uniform.py"),
)

__all__ = ["METHODS", "Batch", "ImageSetup", "Method", "Step", "adversarial", "autoaugment",
           "cutmix", "cutout", "mixup", "patch_uniform"]
