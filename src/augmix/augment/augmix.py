"""The AugMix recipe: every random draw of the official code, in one place.

For each image: `width` chains of `depth` ops (1-3 at random when depth=-1),
each op drawn uniformly with replacement at a level ~ U(0.1, severity);
chain weights ~ Dirichlet(alpha), skip weight m ~ Beta(alpha, alpha);
result = (1 - m) * pre(image) + m * sum_i w_i * pre(chain_i(image)), mixed in
float32 after `pre` (never re-quantized). Draw order follows the official
`augment_and_mix.py`, so a transcription of it fed the same generator gives
the same output.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Real
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image

from augmix.augment.ops import pil as pil_ops

BASE_OPS = ("autocontrast", "equalize", "posterize", "rotate", "solarize",
            "shear_x", "shear_y", "translate_x", "translate_y")
# Off by default: they overlap the test corruptions (the paper withholds them).
ENHANCE_OPS = ("color", "contrast", "brightness", "sharpness")
ALL_OPS = BASE_OPS + ENHANCE_OPS
PARAMETERLESS_OPS = ("autocontrast", "equalize")
SIGNED_OPS = pil_ops.GEOMETRIC  # the official code flips these with probability 1/2
INT_OPS = ("posterize", "solarize", "rotate", "translate_x", "translate_y")
# The draws both engines share (augmix.batch samples the same distributions per sample):
LEVEL_LOW = 0.1        # level ~ U(LEVEL_LOW, severity)
RANDOM_DEPTHS = (1, 3)  # depth=-1: each chain has 1..3 ops, uniformly
SIGN_FLIP_ABOVE = 0.5   # a signed op's parameter is negated when U(0, 1) > this


def op_names(all_ops: bool) -> tuple[str, ...]:
    return ALL_OPS if all_ops else BASE_OPS


def _int_parameter(level, maxval):
    # int(level * maxval / 10) for positive levels; `// 1` keeps numpy arrays
    # and torch tensors working, so the batched engine shares this mapping.
    return level * maxval / 10 // 1


def _float_parameter(level, maxval):
    return level * maxval / 10.0


def magnitude(name: str, level, width: int, height: int):
    """The op's parameter (before the sign flip) for a level in [0.1, severity).

    Works elementwise on floats, numpy arrays and torch tensors. Translation
    is up to a third of the image's own width (x) or height (y).
    """
    if name == "posterize":
        return 4 - _int_parameter(level, 4)
    if name == "solarize":
        return 256 - _int_parameter(level, 256)
    if name == "rotate":
        return _int_parameter(level, 30)
    if name in ("shear_x", "shear_y"):
        return _float_parameter(level, 0.3)
    if name == "translate_x":
        return _int_parameter(level, width / 3)
    if name == "translate_y":
        return _int_parameter(level, height / 3)
    if name in ENHANCE_OPS:
        return _float_parameter(level, 1.8) + 0.1
    raise ValueError(f"magnitude: unknown op {name!r}; expected one of {ALL_OPS}")


@dataclass(frozen=True)
class OpCall:
    """One op application: its name, the drawn level and the resulting parameter."""
    name: str
    param: float | int | None
    level: float | None = None


@dataclass(frozen=True)
class MixPlan:
    """Everything AugMix drew for one image."""
    chain_weights: np.ndarray  # float32, (width,), sums to 1
    skip_weight: np.float32     # m: weight of the mixed chains against the original
    chains: tuple[tuple[OpCall, ...], ...]


@dataclass
class AugMixResult:
    """An augmented image with what produced it, for inspection."""
    image: torch.Tensor
    plan: MixPlan
    chain_images: list[Image.Image] = field(default_factory=list)


def check_params(severity: float, width: int, depth: int, alpha: float) -> None:
    """Validate the AugMix hyper-parameters; ValueError names the bad one."""
    if isinstance(severity, bool) or not isinstance(severity, Real) or not 1 <= severity <= 10:
        raise ValueError(f"severity must be a number in [1, 10], got {severity!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be an int >= 1 (number of chains), got {width!r}")
    if isinstance(depth, bool) or not isinstance(depth, int) or not (depth == -1 or depth >= 1):
        raise ValueError(f"depth must be -1 (random 1-3 per chain) or an int >= 1, got {depth!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not alpha > 0:
        raise ValueError(f"alpha must be a number > 0, got {alpha!r}")


def sample_op(rng: np.random.Generator, names: Sequence[str], severity: float,
              width: int, height: int) -> OpCall:
    """Draw one op, its level and sign as the official code does."""
    name = names[rng.integers(len(names))]
    if name in PARAMETERLESS_OPS:
        return OpCall(name, None)
    level = float(rng.uniform(LEVEL_LOW, severity))
    param = magnitude(name, level, width, height)
    param = int(param) if name in INT_OPS else float(param)
    if name in SIGNED_OPS and rng.uniform() > SIGN_FLIP_ABOVE:
        param = -param
    return OpCall(name, param, level)


def sample_plan(rng: np.random.Generator, image_size: tuple[int, int], *, severity: float = 3,
                width: int = 3, depth: int = -1, alpha: float = 1.0,
                all_ops: bool = False) -> MixPlan:
    """Draw the chains and weights for one image of `image_size` = (width, height)."""
    names = op_names(all_ops)
    chain_weights = np.float32(rng.dirichlet([alpha] * width))
    skip_weight = np.float32(rng.beta(alpha, alpha))
    chains = []
    for _ in range(width):
        n_ops = depth if depth > 0 else int(rng.integers(RANDOM_DEPTHS[0], RANDOM_DEPTHS[1] + 1))
        chains.append(tuple(sample_op(rng, names, severity, *image_size) for _ in range(n_ops)))
    return MixPlan(chain_weights, skip_weight, tuple(chains))


def apply_op(image: Image.Image, call: OpCall, fill: pil_ops.Fill = 0) -> Image.Image:
    fn = getattr(pil_ops, call.name)
    if call.name in SIGNED_OPS:
        return fn(image, call.param, fill)
    return fn(image, call.param)


def apply_chain(image: Image.Image, chain: Sequence[OpCall], fill: pil_ops.Fill = 0) -> Image.Image:
    for call in chain:
        image = apply_op(image, call, fill)
    return image


def to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL image -> float32 CxHxW in [0, 1] (what torchvision's ToTensor gives)."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div(255)


def make_preprocess(mean: Sequence[float] | None = None,
                    std: Sequence[float] | None = None) -> Callable[[Image.Image], torch.Tensor]:
    """to_tensor, then (x - mean) / std per channel when both are given."""
    if (mean is None) != (std is None):
        raise ValueError("mean and std must be given together (or neither)")
    if mean is None:
        return to_tensor
    mean_t = torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)
    if (std_t <= 0).any():
        raise ValueError(f"std must be positive, got {list(std)}")

    def preprocess(image: Image.Image) -> torch.Tensor:
        return (to_tensor(image) - mean_t) / std_t
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
            raise ValueError(f"image array must have dtype uint8, got {image.dtype}")
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        if image.ndim == 2:
            return Image.fromarray(image, mode="L")
        if image.ndim == 3 and image.shape[2] == 3:
            return Image.fromarray(image, mode="RGB")
        raise ValueError(f"image array must be HxW, HxWx1 or HxWx3, got shape {image.shape}")
    if isinstance(image, torch.Tensor):
        raise ValueError("image must be a PIL image or a numpy array; for tensors (NCHW "
                         "batches, any device) use augmix.BatchAugMix")
    raise ValueError(f"image must be a PIL image or a uint8 numpy array, got {type(image).__name__}")


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
    """AugMix for one image at a time (PIL or HxWxC uint8 array).

    Returns a float32 CxHxW tensor in [0, 1], or normalized with `mean`/`std`,
    or whatever `preprocess` makes of a PIL image. `seed` or `generator` makes
    the draws repeatable; `augment()` also returns what was drawn.

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
        self.preprocess = preprocess or make_preprocess(mean, std)
        self.rng = generator if generator is not None else np.random.default_rng(seed)

    def sample_plan(self, image_size: tuple[int, int], rng: np.random.Generator | None = None) -> MixPlan:
        return sample_plan(rng or self.rng, image_size, severity=self.severity, width=self.width,
                           depth=self.depth, alpha=self.alpha, all_ops=self.all_ops)

    def augment(self, image, rng: np.random.Generator | None = None,
                keep_chains: bool = True) -> AugMixResult:
        """Augment one image; the result also holds the plan and each chain's image."""
        image = as_pil(image)
        plan = self.sample_plan(image.size, rng)
        return mix(image, plan, self.preprocess, self.fill, keep_chains)

    def __call__(self, image, rng: np.random.Generator | None = None) -> torch.Tensor:
        return self.augment(image, rng, keep_chains=False).image

    def __repr__(self) -> str:
        return (f"AugMix(severity={self.severity}, width={self.width}, depth={self.depth}, "
                f"alpha={self.alpha}, all_ops={self.all_ops}, fill={self.fill})")
