"""The settings of a training run: `TrainConfig`, the shipped recipes, and how they combine.

A recipe is a JSON object of `TrainConfig` fields (`augmix/train/recipes/*.json`, or
any file a user copies and edits). `make_config` layers defaults, a recipe and
explicit overrides and validates the result; `resumed_config` takes a run's
saved settings and allows only the overrides that do not change its results.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from augmix.augment.plan import check_params
from augmix.baselines import METHODS
from augmix.models import model_spec
from augmix.train.checkpoint import FILENAME, read_checkpoint
from augmix.train.schedules import SCHEDULES

AMP = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}
AUGMENT_ON = ("workers", "device")
METHOD_NAMES = ("augmix", *METHODS)  # AugMix and the baselines of augmix.baselines
# Fields that may differ when resuming: they change how a run executes, not what it computes.
RESUMABLE_OVERRIDES = ("workers", "stop_after", "eval_batch_size", "data_root", "download", "device")


@dataclass
class TrainConfig:
    """Everything that defines a training run. Defaults: the official AugMix CIFAR recipe
    (WRN-40-2, 100 epochs, SGD Nesterov 0.9, lr 0.1 per-step cosine, wd 5e-4, batch 128,
    AugMix severity 3 width 3 with the JSD loss) on the embedded synthetic set."""

    model: str = "wrn-40-2"
    data: str = "synthetic"
    extra_train: list[str] | None = None
    data_root: str | None = None
    download: bool = False
    verify: bool = True
    train_subset: int | None = None
    test_subset: int | None = None
    epochs: int = 100
    batch_size: int = 128
    eval_batch_size: int = 500
    lr: float = 0.1
    lr_schedule: str = "cosine"
    lr_min: float = 1e-6
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    method: str = "augmix"
    jsd: bool = True
    jsd_lambda: float = 12.0
    severity: float = 3
    width: int = 3
    depth: int = -1
    alpha: float = 1.0
    all_ops: bool = False
    augment_on: str = "workers"
    amp: str = "none"
    channels_last: bool = False
    seed: int = 1
    workers: int = 2
    device: str = "auto"
    stop_after: int | None = None
    recipe: str | None = None
    description: str = ""
    source: str = ""
    mean: list[float] | None = None
    std: list[float] | None = None

    def __post_init__(self) -> None:
        # One type whether set from Python, the CLI or a checkpoint, so a resumed run compares equal.
        if isinstance(self.extra_train, tuple):
            self.extra_train = list(self.extra_train)

    def validate(self) -> None:
        """ValueError naming the first bad field."""
        model_spec(self.model)
        ints = {"epochs": 1, "batch_size": 1, "eval_batch_size": 1, "workers": 0, "seed": 0}
        for name, low in ints.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        for name in ("train_subset", "test_subset", "stop_after"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be an int >= 1 or None, got {value!r}")
        for name in ("lr", "weight_decay", "momentum", "lr_min", "jsd_lambda"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.lr == 0:
            raise ValueError("lr must be > 0")
        choices = {"lr_schedule": SCHEDULES, "method": METHOD_NAMES, "augment_on": AUGMENT_ON,
                   "amp": tuple(AMP)}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        check_params(self.severity, self.width, self.depth, self.alpha)
        if self.jsd and self.method != "augmix":
            raise ValueError(f"the JSD loss needs method 'augmix' (got {self.method!r}); pass --no-jsd")
        if self.augment_on == "device" and self.method != "augmix":
            raise ValueError("--augment-on device applies to method 'augmix' only")
        if self.extra_train is not None and (
                not isinstance(self.extra_train, list) or not self.extra_train
                or not all(isinstance(p, str) and p for p in self.extra_train)):
            raise ValueError(f"extra_train must be a non-empty list of folder paths or None, "
                             f"got {self.extra_train!r}")
        if (self.mean is None) != (self.std is None):
            raise ValueError("mean and std must be given together (or neither)")


def recipe_names() -> list[str]:
    """Names of the recipes shipped in augmix/train/recipes/."""
    folder = resources.files("augmix.train") / "recipes"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_recipe(name_or_path: str) -> dict[str, Any]:
    """A recipe's settings by name (see `recipe_names()`) or from a JSON file path."""
    path = Path(name_or_path)
    if path.suffix == ".json" or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"recipe file {path} does not exist")
        text, label = path.read_text(), str(path)
    elif name_or_path in recipe_names():
        text = (resources.files("augmix.train") / "recipes" / f"{name_or_path}.json").read_text()
        label = name_or_path
    else:
        raise ValueError(f"unknown recipe {name_or_path!r}; expected one of {recipe_names()} "
                         f"or a path to a .json file")
    try:
        recipe = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"recipe {label} is not valid JSON: {err}") from None
    if not isinstance(recipe, dict):
        raise ValueError(f"recipe {label} must be a JSON object of TrainConfig fields")
    recipe.setdefault("recipe", label)
    return recipe


def make_config(recipe: str | None = None, **overrides: Any) -> TrainConfig:
    """A validated TrainConfig: defaults, then the recipe's settings, then `overrides`."""
    settings = load_recipe(recipe) if recipe else {}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise ValueError(f"unknown training settings {unknown}; expected TrainConfig fields {sorted(names)}")
    config = TrainConfig(**settings)
    config.validate()
    return config


def resumed_config(run_dir: str | Path, **overrides: Any) -> TrainConfig:
    """The configuration saved in a run's checkpoint, with execution-only `overrides` applied."""
    payload = read_checkpoint(Path(run_dir) / FILENAME)
    saved = dict(payload["config"])
    changed = {k: v for k, v in overrides.items() if v is not None and saved.get(k) != v}
    fixed = sorted(set(changed) - set(RESUMABLE_OVERRIDES))
    if fixed:
        raise ValueError(f"cannot change {fixed} when resuming {run_dir} (the run's results depend "
                         f"on them); only {list(RESUMABLE_OVERRIDES)} may change")
    saved.update(changed)
    config = TrainConfig(**saved)
    config.validate()
    return config
