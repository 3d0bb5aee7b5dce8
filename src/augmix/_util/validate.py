"""Argument checks shared by the library and the command line.

Each check returns the value (converted where that helps) or raises a ValueError whose
one-line message names the argument, as
the caller spells it (`seed` in Python, `--seed` on the command line), and what was expected.
"""
from __future__ import annotations

import json
import math
import os
from numbers import Real
from pathlib import Path

import torch

MAX_INT = 2**63 - 1  # what a C long long (torch, numpy, Pillow sizes) holds
MAX_SIDE = 8192  # pixels: crops and resizes (one 8192 px RGB image is 200 MB)
MAX_WORKERS = 1024  # processes or threads


def integer(value, name: str, low: int = 1, high: int = MAX_INT) -> int:
    """An int in [low, high] (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if not low <= value <= high:
        bounds = f">= {low} (below 2**63)" if high == MAX_INT else f"from {low} to {high}"
        raise ValueError(f"{name} must be an int {bounds}, got {value}")
    return value


def optional_integer(value, name: str, low: int = 1, high: int = MAX_INT) -> int | None:
    """None, or an int in [low, high]."""
    return None if value is None else integer(value, name, low, high)


def seed(value, name: str = "seed", optional: bool = False) -> int | None:
    """A seed: an int from 0 to 2**63 - 1 (or None where `optional`)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise ValueError(f"{name} must be {'None or ' if optional else ''}an int from 0 to 2**63 - 1, "
                         f"got {value!r}")
    return value


def number(value, name: str, low: float = -math.inf, high: float = math.inf) -> float:
    """A finite real number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) \
            or not low <= value <= high:
        bounds = "" if (low, high) == (-math.inf, math.inf) else f" in [{low:g}, {high:g}]"
        raise ValueError(f"{name} must be a finite number{bounds}, got {value!r}")
    return float(value)


def json_object(text: str, name: str, expected: str = "a JSON object") -> dict:
    """The JSON object in `text`; ValueError naming `name` when it is not valid JSON or not an object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{name} is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be {expected}")
    return value


def device(value, name: str = "device", expected: str = "cpu, cuda or cuda:N") -> torch.device:
    """`cpu`, `cuda` or `cuda:N`, present on this machine (`expected` lists what the caller
    accepts, e.g. with an `auto` that it resolves itself)."""
    text = str(value)
    try:
        parsed = torch.device(value)
    except (RuntimeError, TypeError):
        parsed = None
    if parsed is None or parsed.type not in ("cpu", "cuda"):
        raise ValueError(f"{name} must be {expected}, got {text!r}")
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"{name} {text!r} asked for, but this machine has no CUDA device that torch "
                             f"can use (torch {torch.__version__}); use cpu")
        if parsed.index is not None and parsed.index >= count:
            raise ValueError(f"{name} {text!r} asked for, but this machine has {count} CUDA device(s): "
                             f"cuda:0 to cuda:{count - 1}")
    return parsed


def _no_file_above(path: Path, name: str) -> None:
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{name} {path}: {parent} is a file, not a folder")
            return


def out_file(path: str | os.PathLike, name: str = "--out") -> Path:
    """A file to (over)write: not an existing folder, and no file where a parent folder must be."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{name} {path} is a folder; expected a file path")
    _no_file_above(path, name)
    return path


def out_folder(path: str | os.PathLike, name: str = "--out") -> Path:
    """A folder to write into: not an existing file, and no file where a parent folder must be."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} {path} is a file; expected a folder")
    _no_file_above(path, name)
    return path


def outside(path: str | os.PathLike, folder: str | os.PathLike, name: str = "--out",
            folder_name: str = "--folder") -> Path:
    """`path`, a folder to write, refused when it is `folder` or lies inside it (what is written
    there would be read back as input on the next run)."""
    path, folder = Path(path), Path(folder)
    resolved, source = path.resolve(), folder.resolve()
    if resolved == source or source in resolved.parents:
        raise ValueError(f"{name} {path} is inside {folder_name} {folder}; choose a folder outside it")
    return path
