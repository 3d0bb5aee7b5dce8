"""AugMix, the front end: one image (PIL or HWC array), one CHW tensor or an NCHW batch.

For each image: `width` chains of `depth` ops (1-3 at random when depth=-1),
each op drawn uniformly with replacement at a level ~ U(0.1, severity);
chain weights ~ Dirichlet(alpha), skip weight m ~ Beta(alpha, alpha);
result = (1 - m) * pre(image) + m * sum_i w_i * pre(chain_i(image)), mixed in
float32 after `pre` (never re-quantized). The draws live in `augmix.augment.plan`;
PIL images and arrays run the per-image path below (the official code's draw
order), tensors run the batched engine (`augmix.augment.batch`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image

from augmix._util.convert import image_to_tensor, mean_std, normalize
from augmix.augment.batch import BatchAugMix, check_batch
from augmix.augment.ops import pil as pil_ops
from augmix.augment.plan import SIGNED_OPS, MixPlan, OpCall, ProcessGenerator, check_params, sample_plan


@dataclass
class AugMixResult:
    """An augmented image with what produced it, for inspection."""
    image: torch.Tensor
    plan: MixPlan
    chain_images: list[Image.Image] = field(default_factory=list)


def apply_op(image: Image.Image, call: OpCall, fill: pil_ops.Fill = 0) -> Image.Image:
    fn = getattr(pil_ops, call.name)
    if call.name in SIGNED_OPS:
        return fn(image, call.param, fill)
    return fn(image, call.param)


def apply_chain(image: Image.Image, chain: Sequence[OpCall], fill: pil_ops.Fill = 0) -> Image.Image:
    for call in chain:
        image = apply_op(image, call, fill)
    return image


def make_preprocess(mean: Sequence[float] | None = None,
                    std: Sequence[float] | None = None) -> Callable[[Image.Image], torch.Tensor]:
    """image_to_tensor, then (x - mean) / std per channel when both are given."""
    stats = mean_std(mean, std)
    if stats is None:
        return image_to_tensor

    def preprocess(image: Image.Image) -> torch.Tensor:
        return normalize(image_to_tensor(image), *stats)
    return preprocess


def as_pil(image) -> Image.Image:
    """Accept an RGB/L PIL image or an HxW / HxWx{1,3} uint8 array."""
    if isinstance(image, Image.Image):
        if image.mode not in ("RGB", "L"):
            raise ValueError(f"image must be an RGB or L PIL image, got mode {image.mode!r}; "
                             f"convert it first, e.g. image.convert('RGB')")
        return image
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise ValueError(f"image array must have dtype uint8 (HxWxC, 0..255), got {image.dtype}")
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        if image.ndim == 2:
            return Image.fromarray(image, mode="L")
        if image.ndim == 3 and image.shape[2] == 3:
            return Image.fromarray(image, mode="RGB")
        raise ValueError(f"image array must be HxW, HxWx1 or HxWx3, got shape {image.shape}")
    raise TypeError(f"image must be a PIL image, an HxWxC uint8 numpy array, a CHW tensor or an "
                    f"NCHW batch, got {type(image).__name__}")


def mix(image: Image.Image, plan: MixPlan, preprocess: Callable[[Image.Image], torch.Tensor],
        fill: pil_ops.Fill = 0, keep_chains: bool = False) -> AugMixResult:
    """Apply a plan: run each chain, mix in float after `preprocess`."""
    clean = preprocess(image)
    mixed = torch.zeros_like(clean)
    chain_images = []
    for weight, chain in zip(plan.chain_weights, plan.chains):
        augmented = apply_chain(image.copy(), chain, fill)
        mixed += float(weight) * preprocess(augmented)
        if keep_chains:
            chain_images.append(augmented)
    m = float(plan.skip_weight)
    return AugMixResult((1 - m) * clean + m * mixed, plan, chain_images)


class AugMix:
    """AugMix for any image form; every draw is per image.

    ===========================================  ===========================================
    input                                        output
    ===========================================  ===========================================
    PIL image, RGB or L                          float32 CxHxW tensor (C = 3 or 1) in [0, 1]
    HxW, HxWx1 or HxWx3 uint8 numpy array        the same
    CxHxW tensor, uint8 (0..255) or float [0,1]  float32 CxHxW tensor in [0, 1], same device
    NxCxHxW batch, uint8 or float in [0, 1]      float32 NxCxHxW in [0, 1], a draw per sample
    ===========================================  ===========================================

    With `mean`/`std` every output is normalized; `preprocess` (PIL image ->
    tensor) replaces the default conversion for PIL images and arrays only.
    PIL images and arrays take the per-image path (the official code's draw
    order, `augment()` also returns the plan and each chain's image); tensors
    (C in {1, 3}, any device) take the batched engine, `BatchAugMix`. Float
    tensors must hold unnormalized values in [0, 1].

    Randomness: `seed=None` draws fresh entropy, `seed=s` repeats; either way
    the generator is made on first use in each process, so copies of this
    transform in DataLoader workers never repeat each other (see
    `augmix.augment.plan.ProcessGenerator` for exactly what repeats). A
    `generator` given here is used as it is (and copied into every worker);
    `rng=` on a call overrides both.

    >>> aug = AugMix(seed=0)
    >>> aug(np.zeros((32, 32, 3), np.uint8)).shape
    torch.Size([3, 32, 32])
    """

    def __init__(self, severity: float = 3, width: int = 3, depth: int = -1, alpha: float = 1.0,
                 all_ops: bool = False, *, fill: pil_ops.Fill = 0,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
                 preprocess: Callable[[Image.Image], torch.Tensor] | None = None,
                 seed: int | None = None, generator: np.random.Generator | None = None):
        check_params(severity, width, depth, alpha)
        if preprocess is not None and mean is not None:
            raise ValueError("give either preprocess or mean/std, not both")
        if seed is not None and generator is not None:
            raise ValueError("give either seed or generator, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise ValueError(f"generator must be a numpy.random.Generator, got {type(generator).__name__}")
        self.severity, self.width, self.depth, self.alpha = severity, width, depth, alpha
        self.all_ops, self.fill = bool(all_ops), fill
        self.mean, self.std = mean, std
        self.preprocess = preprocess or make_preprocess(mean, std)
        self.custom_preprocess = preprocess is not None
        self._generator = generator
        self._process_generator = ProcessGenerator(seed)
        self._batch_engine: BatchAugMix | None = None

    @property
    def rng(self) -> np.random.Generator:
        """The generator of this process (see the class docstring)."""
        return self._generator if self._generator is not None else self._process_generator()

    def sample_plan(self, image_size: tuple[int, int], rng: np.random.Generator | None = None) -> MixPlan:
        return sample_plan(rng or self.rng, image_size, severity=self.severity, width=self.width,
                           depth=self.depth, alpha=self.alpha, all_ops=self.all_ops)

    def augment(self, image, rng: np.random.Generator | None = None,
                keep_chains: bool = True) -> AugMixResult:
        """Augment one PIL image or array; the result also holds the plan and each chain's image."""
        image = as_pil(image)
        plan = self.sample_plan(image.size, rng)
        return mix(image, plan, self.preprocess, self.fill, keep_chains)

    @property
    def batch_engine(self) -> BatchAugMix:
        """The batched engine with these parameters (made on first use)."""
        if self._batch_engine is None:
            self._batch_engine = BatchAugMix(self.severity, self.width, self.depth, self.alpha, self.all_ops,
                                             fill=self.fill, mean=self.mean, std=self.std)
        return self._batch_engine

    def _augment_tensor(self, x: torch.Tensor, rng: np.random.Generator | None) -> torch.Tensor:
        if self.custom_preprocess:
            raise ValueError("preprocess takes PIL images: for tensors give mean/std instead")
        check_batch(x, "image", single_ok=True)
        single = x.ndim == 3
        seed = int((rng or self.rng).integers(2 ** 63))
        out = self.batch_engine(x[None] if single else x, torch.Generator().manual_seed(seed))
        return out[0] if single else out

    def __call__(self, image, rng: np.random.Generator | None = None) -> torch.Tensor:
        """The AugMix view of `image` (a table of input and output forms: the class docstring)."""
        if isinstance(image, torch.Tensor):
            return self._augment_tensor(image, rng)
        return self.augment(image, rng, keep_chains=False).image

    def __repr__(self) -> str:
        return (f"AugMix(severity={self.severity}, width={self.width}, depth={self.depth}, "
                f"alpha={self.alpha}, all_ops={self.all_ops}, fill={self.fill})")

