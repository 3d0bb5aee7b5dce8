"""Training methods as objects: what each does to every image, to every batch, and its loss.

A `Method` is registered in `augmix.baselines.METHODS` under its `--method` name.
The trainer calls its three hooks and never asks which method it runs:

- `image_transform(images, setup)`: the per-image stage (in DataLoader workers):
  crop and flip, the method's PIL policy if any, to tensor, seeded per sample;
- `batch_transform(images, targets, step)`: the per-batch stage on the device, with
  the step's generator; returns a `Batch` (the model's inputs and what the loss needs);
- `loss(logits, batch)`: the training loss of the model's logits on `batch.inputs`.

`configure(config)` gives the object for one run (AugMix reads its settings from the
run's `TrainConfig`; the baselines keep their published defaults) and rejects
settings the method cannot honour.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from augmix._util.convert import image_to_tensor as to_tensor
from augmix._util.convert import image_to_uint8_tensor
from augmix.augment.batch import BatchAugMix
from augmix.baselines.adversarial import pgd_attack
from augmix.baselines.autoaugment import AutoAugment as AutoAugmentPolicy
from augmix.baselines.autoaugment import RandomAutoAugment as RandomAutoAugmentPolicy
from augmix.baselines.cutmix import cutmix
from augmix.baselines.cutout import batch_cutout
from augmix.baselines.mixup import mixup, mixup_loss
from augmix.baselines.patch_uniform import patch_uniform
from augmix.data.augmix_dataset import AugMixDataset
from augmix.data.seeded import SeededTransform
from augmix.loss import AugMixLoss

ImageFn = Callable[[Image.Image, np.random.Generator], Image.Image]


@dataclass(frozen=True)
class ImageSetup:
    """What the trainer hands a method's per-image transform."""

    geometry: ImageFn   # the recipe's random crop and flip
    image_size: int
    seed: int           # stream of crop, flip and policy: sample i of epoch e draws from rng(seed, e, i)
    augment_seed: int   # a second stream, for a per-image engine with draws of its own (AugMix)


@dataclass(frozen=True)
class Step:
    """What a method's batch transform may use at one training step."""

    generator: torch.Generator   # batch-level draws, seeded by (seed, rank, step)
    seed: int                    # for an engine that keeps its own generator (batched AugMix)
    model: torch.nn.Module       # the bare model (adversarial examples are made against it)
    normalize: Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Batch:
    """One batch as the model sees it, and what the method's loss needs."""

    inputs: torch.Tensor
    targets: torch.Tensor                             # labels of the B clean images
    normalized: bool = False                          # inputs already normalized (Cutout)
    mixed_with: tuple[torch.Tensor, float] | None = None  # (partner labels, lam) of Mixup/CutMix


class ImagePipeline:
    """Per-image training transform: geometry (crop, flip), an optional PIL policy, finish."""

    def __init__(self, geometry: ImageFn, policy: ImageFn | None, finish: Callable):
        self.geometry, self.policy, self.finish = geometry, policy, finish

    def __call__(self, image, rng: np.random.Generator):
        image = self.geometry(image, rng)
        if self.policy is not None:
            image = self.policy(image, rng)
        return self.finish(image)


def _unchanged(image):
    return image


def _seeded(images, setup: ImageSetup, policy: ImageFn | None, finish: Callable) -> SeededTransform:
    return SeededTransform(images, ImagePipeline(setup.geometry, policy, finish), setup.seed)


@dataclass(frozen=True)
class Method:
    """A training method: published defaults and source, and the trainer's three hooks.

    `stage` says where it acts: "none" (the standard pipeline only), "pil" (per image,
    on the PIL image after crop and flip), "normalized" (on normalized tensors), "pixels"
    (on unnormalized batches in [0, 1]), "batch" (mixes pairs within a batch), "attack"
    (replaces each batch by adversarial examples against the current model).
    """

    name: str
    description: str
    stage: str
    defaults: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def configure(self, config: Any) -> Method:
        """This method for a run of `config` (a TrainConfig); ValueError for settings it cannot honour."""
        if config.jsd:
            raise ValueError(f"the JSD loss needs method 'augmix' (got {self.name!r}); pass --no-jsd")
        if config.augment_on == "device":
            raise ValueError("--augment-on device applies to method 'augmix' only")
        return self

    def policy(self, image_size: int) -> ImageFn | None:
        """The PIL policy applied to each training image after crop and flip (None: none)."""
        return None

    def image_transform(self, images, setup: ImageSetup) -> tuple[Any, list]:
        """The training set of `images`, and its layers that follow the epoch (`set_epoch`)."""
        dataset = _seeded(images, setup, self.policy(setup.image_size), to_tensor)
        return dataset, [dataset]

    def batch_transform(self, images: torch.Tensor, targets: torch.Tensor, step: Step) -> Batch:
        """The batch the model trains on (default: as loaded)."""
        return Batch(images, targets)

    def loss(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Cross-entropy against the batch's labels (in float32 under mixed precision)."""
        return F.cross_entropy(logits.float(), batch.targets)


@dataclass(frozen=True)
class Cutout(Method):
    """Zero squares of the normalized images (alone, or after an AutoAugment policy)."""

    def batch_transform(self, images, targets, step):
        length = self.defaults.get("length", self.defaults.get("cutout_length"))
        erased = batch_cutout(step.normalize(images), step.generator, length,
                                     self.defaults.get("n_holes", 1))
        return Batch(erased, targets, normalized=True)


@dataclass(frozen=True)
class AutoAugmentCutout(Cutout):
    """The learned AutoAugment policy per image (CIFAR or ImageNet by image size), then Cutout."""

    def policy(self, image_size):
        return AutoAugmentPolicy("imagenet" if image_size > 64 else "cifar10")


@dataclass(frozen=True)
class RandomAutoAugment(Method):
    def policy(self, image_size):
        return RandomAutoAugmentPolicy()


@dataclass(frozen=True)
class Mixup(Method):
    """Convex combinations of image pairs; the loss mixes the two labels' cross-entropies alike."""

    def mix(self, images, targets, generator):
        return mixup(images, targets, generator, alpha=self.defaults["alpha"])

    def batch_transform(self, images, targets, step):
        mixed, (targets_a, targets_b, lam) = self.mix(images, targets, step.generator)
        return Batch(mixed, targets_a, mixed_with=(targets_b, lam))

    def loss(self, logits, batch):
        targets_b, lam = batch.mixed_with
        return mixup_loss(F.cross_entropy, logits.float(), batch.targets, targets_b, lam)


@dataclass(frozen=True)
class CutMix(Mixup):
    def mix(self, images, targets, generator):
        return cutmix(images, targets, generator, beta=self.defaults["beta"],
                             prob=self.defaults["prob"])


@dataclass(frozen=True)
class PatchUniform(Method):
    def batch_transform(self, images, targets, step):
        noisy = patch_uniform(images, step.generator, self.defaults["patch_size"],
                                            self.defaults["max_scale"])
        return Batch(noisy, targets)


@dataclass(frozen=True)
class Adversarial(Method):
    def batch_transform(self, images, targets, step):
        d = self.defaults
        attacked = pgd_attack(
            step.model, images, targets, normalize=step.normalize, epsilon=d["epsilon"],
            step_size=d["step_size"], steps=d["steps"], random_start=d["random_start"],
            generator=step.generator, mode=d["mode"])
        return Batch(attacked, targets)


@dataclass(frozen=True)
class AugMix(Method):
    """AugMix per image in the DataLoader workers (or batched on the device), with or without
    the Jensen-Shannon consistency loss; its settings are the run's (`configure`)."""

    jsd: bool = True
    jsd_lambda: float = 12.0
    severity: float = 3
    width: int = 3
    depth: int = -1
    alpha: float = 1.0
    all_ops: bool = False
    on_device: bool = False

    def configure(self, config):
        return dataclasses.replace(
            self, jsd=config.jsd, jsd_lambda=config.jsd_lambda, severity=config.severity,
            width=config.width, depth=config.depth, alpha=config.alpha, all_ops=config.all_ops,
            on_device=config.augment_on == "device")

    @cached_property
    def jsd_loss(self) -> AugMixLoss:
        return AugMixLoss(self.jsd_lambda)

    @cached_property
    def engine(self) -> BatchAugMix:
        """`--augment-on device`: BatchAugMix, its draws on a CPU generator reseeded every step."""
        return BatchAugMix(self.severity, self.width, self.depth, self.alpha, self.all_ops,
                           generator=torch.Generator())

    def image_transform(self, images, setup):
        if self.on_device:  # crop and flip only; AugMix runs per batch
            geometric = _seeded(images, setup, None, image_to_uint8_tensor)
            return geometric, [geometric]
        geometric = _seeded(images, setup, None, _unchanged)
        mixed = AugMixDataset(geometric, to_tensor, jsd=self.jsd, severity=self.severity,
                              width=self.width, depth=self.depth, alpha=self.alpha,
                              all_ops=self.all_ops, seed=setup.augment_seed)
        return mixed, [geometric, mixed]

    def batch_transform(self, images, targets, step):
        """[clean; aug1; aug2] (3B) with the JSD loss, else the B AugMix views."""
        if self.on_device:
            self.engine.generator.manual_seed(step.seed)
            engine = self.engine.to(images.device)
            images = engine.jsd_views(images) if self.jsd else engine(images)
        elif self.jsd:  # the workers' (clean, aug1, aug2) tuples: one forward pass over 3B
            images = torch.cat(images)
        return Batch(images, targets)

    def loss(self, logits, batch):
        return self.jsd_loss(logits, batch.targets) if self.jsd else super().loss(logits, batch)
