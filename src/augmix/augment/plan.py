"""Every random draw of AugMix, for both engines, and the generators they come from.

Per image (`sample_plan`, numpy Generator): `width` chains of `depth` ops
(1-3 at random when depth=-1), each op drawn uniformly with replacement at a
level ~ U(0.1, severity), the geometric ops' parameter negated on a fair coin;
chain weights ~ Dirichlet(alpha), skip weight m ~ Beta(alpha, alpha). The draw
order follows the official `augment_and_mix.py`, so a transcription of it fed
the same generator draws the same plan.

Per batch (`sample_batch_plan`, torch.Generator): the same distributions,
drawn for N samples at once (a different order, so other numbers).

`ProcessGenerator` makes the generator of a transform lazily in each process,
so copies of one transform in DataLoader workers never repeat each other's
draws. The ops never draw.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from numbers import Real
from typing import Sequence

import numpy as np
import torch

from augmix._util import validate
from augmix.augment.ops.pil import GEOMETRIC

BASE_OPS = ("autocontrast", "equalize", "posterize", "rotate", "solarize",
            "shear_x", "shear_y", "translate_x", "translate_y")
# Off by default: they overlap the test corruptions (the paper withholds them).
ENHANCE_OPS = ("color", "contrast", "brightness", "sharpness")
ALL_OPS = BASE_OPS + ENHANCE_OPS
PARAMETERLESS_OPS = ("autocontrast", "equalize")
SIGNED_OPS = GEOMETRIC  # the official code flips these with probability 1/2
INT_OPS = ("posterize", "solarize", "rotate", "translate_x", "translate_y")
LEVEL_LOW = 0.1        # level ~ U(LEVEL_LOW, severity)
RANDOM_DEPTHS = (1, 3)  # depth=-1: each chain has 1..3 ops, uniformly
SIGN_FLIP_ABOVE = 0.5   # a signed op's parameter is negated when U(0, 1) > this


def op_names(all_ops: bool) -> tuple[str, ...]:
    return ALL_OPS if all_ops else BASE_OPS


def _int_parameter(level, maxval):
    # int(level * maxval / 10) for positive levels; `// 1` keeps numpy arrays
    # and torch tensors working, so both engines share this mapping.
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


MAX_WIDTH = MAX_DEPTH = 100  # chains per image, ops per chain: the paper uses 3 and 1-3


def check_params(severity: float, width: int, depth: int, alpha: float) -> None:
    """Validate the AugMix hyper-parameters; ValueError names the bad one."""
    if isinstance(severity, bool) or not isinstance(severity, Real) or not 1 <= severity <= 10:
        raise ValueError(f"severity must be a number in [1, 10], got {severity!r}")
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= MAX_WIDTH:
        raise ValueError(f"width must be an int from 1 to {MAX_WIDTH} (number of chains), got {width!r}")
    if isinstance(depth, bool) or not isinstance(depth, int) or not (depth == -1 or 1 <= depth <= MAX_DEPTH):
        raise ValueError(f"depth must be -1 (random 1-3 per chain) or an int from 1 to {MAX_DEPTH}, got {depth!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < alpha < math.inf:
        raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")


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


@dataclass(frozen=True)
class BatchPlan:
    """Everything BatchAugMix drew for N samples (CPU tensors).

    `ops[n, k, d]` indexes `names` for step d of chain k of sample n (-1 past the
    chain's depth); `params` holds the op's signed parameter (0 for the ops
    without one) and `levels` the drawn level.
    """
    names: tuple[str, ...]
    ops: torch.Tensor            # int64 (N, width, max_depth)
    levels: torch.Tensor         # float64 (N, width, max_depth)
    params: torch.Tensor         # float64 (N, width, max_depth)
    chain_weights: torch.Tensor  # float32 (N, width), rows sum to 1
    skip_weights: torch.Tensor   # float32 (N,)

    def __len__(self) -> int:
        return self.ops.shape[0]

    def to_mix_plans(self) -> list[MixPlan]:
        """The same draws as per-image plans (for `augmix.augment.augmix.mix`, inspection, tests)."""
        plans = []
        for n in range(len(self)):
            chains = []
            for k in range(self.ops.shape[1]):
                calls = []
                for d in range(self.ops.shape[2]):
                    index = int(self.ops[n, k, d])
                    if index < 0:
                        break
                    name = self.names[index]
                    if name in PARAMETERLESS_OPS:
                        calls.append(OpCall(name, None))
                        continue
                    param = float(self.params[n, k, d])
                    calls.append(OpCall(name, int(param) if name in INT_OPS else param,
                                        float(self.levels[n, k, d])))
                chains.append(tuple(calls))
            plans.append(MixPlan(self.chain_weights[n].numpy(), np.float32(self.skip_weights[n]),
                                 tuple(chains)))
        return plans


def sample_batch_plan(generator: torch.Generator, n: int, image_size: tuple[int, int], *,
                      severity: float = 3, width: int = 3, depth: int = -1, alpha: float = 1.0,
                      all_ops: bool = False) -> BatchPlan:
    """Draw AugMix plans for `n` images of `image_size` = (width, height), each independently.

    The draws are made on the generator's device and returned on the CPU (a few numbers per
    sample), so a CPU generator gives the same plan whatever device the images are on.
    """
    check_params(severity, width, depth, alpha)
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    names = op_names(all_ops)
    max_depth = depth if depth > 0 else RANDOM_DEPTHS[1]
    g, device = generator, generator.device
    shape = (n, width, max_depth)
    ops = torch.randint(len(names), shape, generator=g, device=device)
    if depth < 0:
        depths = torch.randint(RANDOM_DEPTHS[0], RANDOM_DEPTHS[1] + 1, (n, width), generator=g, device=device)
        ops = torch.where(torch.arange(max_depth, device=device) < depths[..., None], ops, -1)
    uniform = torch.rand(shape, generator=g, dtype=torch.float64, device=device)
    levels = LEVEL_LOW + (severity - LEVEL_LOW) * uniform
    flip = torch.rand(shape, generator=g, dtype=torch.float64, device=device) > SIGN_FLIP_ABOVE
    params = torch.zeros(shape, dtype=torch.float64, device=device)
    for index, name in enumerate(names):
        if name in PARAMETERLESS_OPS:
            continue
        value = magnitude(name, levels, *image_size)
        if name in SIGNED_OPS:
            value = torch.where(flip, -value, value)
        params = torch.where(ops == index, value, params)
    concentration = torch.full((n, width), float(alpha), dtype=torch.float64, device=device)
    chain_weights = torch._sample_dirichlet(concentration, generator=g).float()
    pair = torch._sample_dirichlet(torch.full((n, 2), float(alpha), dtype=torch.float64, device=device),
                                   generator=g)
    return BatchPlan(names, ops.cpu(), levels.cpu(), params.cpu(), chain_weights.cpu(),
                     pair[:, 0].float().cpu())


def _worker():
    info = torch.utils.data.get_worker_info()
    return None if info is None else (info.id, info.seed)


def mixed_seed(*keys: int) -> int:
    """One seed in [0, 2**63) from several non-negative ints (SeedSequence mixes them), for a
    generator that must differ for every combination of the keys."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1, np.uint64)[0] >> np.uint64(1))


class ProcessGenerator:
    """The generator of a random transform, made on first use in each process.

    A transform handed to a DataLoader is copied into every worker; a generator
    made once would be copied with it, so every worker (and, without persistent
    workers, every epoch) would repeat the same draws. This one is rebuilt in each
    new process and each new DataLoader worker:

    - seed None: fresh OS entropy in every process, so every worker and epoch draws
      its own stream;
    - seed s, in the main process: `numpy.random.default_rng(s)` (or
      `torch.Generator().manual_seed(s)`), one stream that goes on across calls;
    - seed s, in DataLoader worker k: seeded with (s, k, the worker's torch seed).
      torch draws the workers' base seed from the main process' RNG (or the
      DataLoader's `generator`) once per epoch, so the streams differ across workers
      and epochs, and repeat run to run when torch is seeded (`torch.manual_seed`)
      and the worker count is the same.
    """

    def __init__(self, seed: int | None = None, kind: str = "numpy"):
        if kind not in ("numpy", "torch"):
            raise ValueError(f"kind must be 'numpy' or 'torch', got {kind!r}")
        self.seed, self.kind = validate.seed(seed, optional=True), kind
        self._key, self._generator = None, None

    def _make(self, worker):
        if self.seed is None:
            if self.kind == "numpy":
                return np.random.default_rng()
            generator = torch.Generator()
            generator.seed()
            return generator
        if worker is None:
            entropy = self.seed
        else:
            entropy = mixed_seed(self.seed, *worker)
        if self.kind == "numpy":
            return np.random.default_rng(int(entropy))
        return torch.Generator().manual_seed(int(entropy))

    def __call__(self):
        """This process' generator (a numpy Generator or a torch.Generator)."""
        key = (os.getpid(), _worker())
        if key != self._key:
            self._generator, self._key = self._make(key[1]), key
        return self._generator

    def __getstate__(self) -> dict:
        return {"seed": self.seed, "kind": self.kind, "_key": None, "_generator": None}

    def __repr__(self) -> str:
        return f"ProcessGenerator(seed={self.seed}, kind={self.kind!r})"
