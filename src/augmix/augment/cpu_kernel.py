"""BatchAugMix's CPU kernel: every chain of every sample run to the end in compiled code.

On the CPU the tensor ops (`augmix.ops.tensor`) are bound by torch's per-call
cost at 32 px and by its generic gather and grid-sample kernels at 224 px,
both slower than Pillow's C loops. This module runs a whole `BatchPlan` on
uint8 images with numba instead: one compiled loop per sample applies that
sample's chains step by step on a private buffer that stays in cache, and mixes
them into the float32 output. It follows Pillow's C code (Geometry.c, Blend.c,
Filter.c, ImageOps) operation for operation, in the same precision (double for
the affine sampling, float for blends), so each chain is byte-identical to the
per-image PIL path; only the float32 mixing may round differently in the last
bit. The kernel holds no GIL, so Python threads running it on separate chunks
use all cores without numba's own threading layer (which is neither fork- nor
thread-safe).

numba is optional and imported only when the kernel first runs (`compiled()`,
which loads `augmix.augment.cpu_kernel_numba`); `available()` says whether it
is installed; without it BatchAugMix keeps using the tensor ops. The first call
compiles the kernel (about 25 s of CPU on the development machine); numba
caches it on disk for later processes.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
from pathlib import Path
from types import ModuleType

import numpy as np

from augmix.augment.ops.pillow import rotate_matrix

# Kernel op codes; a step with code NONE ends the chain.
NONE, AUTOCONTRAST, EQUALIZE, POSTERIZE, SOLARIZE, AFFINE, COLOR, CONTRAST, BRIGHTNESS, SHARPNESS = range(-1, 9)
_CODES = {"autocontrast": AUTOCONTRAST, "equalize": EQUALIZE, "posterize": POSTERIZE, "solarize": SOLARIZE,
          "rotate": AFFINE, "shear_x": AFFINE, "shear_y": AFFINE, "translate_x": AFFINE, "translate_y": AFFINE,
          "color": COLOR, "contrast": CONTRAST, "brightness": BRIGHTNESS, "sharpness": SHARPNESS}


def available() -> bool:
    """Whether numba is installed, so the compiled kernel can run (numba is not imported)."""
    return importlib.util.find_spec("numba") is not None


def compiled() -> ModuleType:
    """The compiled kernel (`mix_rows`, `unit_rows`): imports numba on first use."""
    _announce_first_compile()
    return importlib.import_module("augmix.augment.cpu_kernel_numba")


@functools.cache
def _announce_first_compile() -> None:
    # numba keeps compiled code beside the module (__pycache__/*.nbi); without it the first
    # batch waits while the kernel compiles, which a user should hear about.
    cache = Path(__file__).with_name("__pycache__")
    if not any(cache.glob("cpu_kernel_numba.*.nbi")):
        logging.getLogger("augmix").info(
            "compiling the CPU kernel of BatchAugMix (once, about half a minute; cached afterwards)")


# Where each geometric op puts its parameter in the affine matrix (a0 a1 a2 a3 a4 a5).
_SLOT = {"shear_x": 1, "shear_y": 3, "translate_x": 2, "translate_y": 5}


def kernel_steps(names, ops: np.ndarray, params: np.ndarray, width: int, height: int):
    """The plan's steps as kernel inputs: op codes (int8), one float parameter per step
    (bits, threshold or enhance factor) and one affine matrix per step (geometric ops)."""
    names = list(names)
    codes = np.array([_CODES[name] for name in names] + [NONE], np.int8)[ops]  # ops -1 -> NONE
    values = np.where(codes != AFFINE, params, 0.0)
    matrices = np.zeros(ops.shape + (6,), np.float64)
    matrices[..., 0] = matrices[..., 4] = 1.0
    for name, slot in _SLOT.items():
        if name in names:
            chosen = ops == names.index(name)
            matrices[chosen, slot] = params[chosen]
    if "rotate" in names:
        chosen = ops == names.index("rotate")
        degrees, which = np.unique(params[chosen], return_inverse=True)  # few distinct values
        table = np.array([rotate_matrix(float(d), width, height) for d in degrees]).reshape(-1, 6)
        matrices[chosen] = table[which]
    return codes, values, matrices
