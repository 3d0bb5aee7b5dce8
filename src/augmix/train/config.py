"""The settings of a training run: `TrainConfig`, the shipped recipes, and how they combine.

A recipe is a JSON object of `TrainConfig` fields (`augmix/train/recipes/*.json`, or
any file a user copies and edits). `make_config` layers defaults, a recipe and
explicit overrides and validates the result; `resumed_config` takes a run's
saved settings and allows only the overrides that do not change its results.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from augmix._util import validate
from augmix.augment.plan import check_params
from augmix.baselines import METHODS
from augmix.models import model_spec
from augmix.train.checkpoint import FILENAME, read_checkpoint
from augmix.train.schedules import SCHEDULES

AMP = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}
AUGMENT_ON = ("workers", "device")
METHOD_NAMES = tuple(METHODS)  # AugMix and the baselines: the registry of augmix.baselines
# Fields that may differ when resuming: they change how a run executes, not what it computes.
# skip_bad_images too: a run stopped by an unreadable file continues with it.
RESUMABLE_OVERRIDES = ("workers", "stop_after", "eval_batch_size", "data_root", "download", "device",
                       "skip_bad_images")
# Fields that only label a run.
LABELS = ("recipe", "description", "source")


def setting(default: Any = None, help: str = "", *, choices: tuple | None = None,
            metavar: str | None = None, aliases: tuple[str, ...] = (), flag: bool = True) -> Any:
    """A TrainConfig field with what its command-line flag needs (`augmix train`, `compare`):
    `help`, `choices` (also checked by `validate`), `metavar`, hidden old spellings
    `aliases`, and `flag=False` for fields that are not set from the command line."""
    metadata = {"help": help, "choices": choices, "metavar": metavar, "aliases": aliases, "flag": flag}
    return field(default=default, metadata=metadata)


@dataclass
class TrainConfig:
    """Everything that defines a training run. Defaults: the official AugMix CIFAR recipe
    (WRN-40-2, 100 epochs, SGD Nesterov 0.9, lr 0.1 per-step cosine, wd 5e-4, batch 128,
    AugMix severity 3 width 3 with the JSD loss) on the embedded synthetic set.

    Each field is also a flag of `augmix train` (`--field-name`; a bool field that
    defaults to True is switched off by `--no-field-name`, its help read after "without")."""

    model: str = setting("wrn-40-2", "architecture (augmix.models registry, or wrn-DEPTH-WIDTH)")
    data: str = setting("synthetic", "data set: synthetic | cifar10 | cifar100 | FOLDER holding "
                        "train/ and val/ (ImageNet-style CLASS/IMAGE trees)")
    extra_train: list[str] | None = setting(
        None, "image folders (CLASS/IMAGE, the classes of FOLDER/train) added to the training set, "
        "e.g. Stylized-ImageNet", metavar="DIR")
    data_root: str | None = setting(None, "folder holding (or receiving) CIFAR; default "
                                    "$AUGMIX_CACHE/cifar")
    download: bool = setting(False, "fetch CIFAR from the official site into --data-root if missing")
    verify: bool = setting(True, "the CIFAR md5 check (skip it for re-encoded copies)")
    skip_bad_images: bool = setting(False, "skip image files that cannot be read (unreadable, truncated, "
                                    "oversized), each named in a warning and counted in the epoch's "
                                    "record, instead of stopping at the first")
    train_subset: int | None = setting(None, "train on the first N training images only",
                                       metavar="N", aliases=("--train-size",))
    test_subset: int | None = setting(None, "test on the first N test images only", metavar="N",
                                      aliases=("--eval-limit",))
    epochs: int = setting(100, "epochs of the schedule")
    batch_size: int = setting(128, "global batch size (split over torchrun processes)")
    eval_batch_size: int = setting(500, "batch size of the per-epoch test")
    lr: float = setting(0.1, "initial learning rate")
    lr_schedule: str = setting("cosine", "per-step cosine (CIFAR) or step thirds (ImageNet)",
                               choices=SCHEDULES)
    lr_min: float = setting(1e-6, "final learning rate of the cosine schedule")
    momentum: float = setting(0.9, "SGD momentum")
    nesterov: bool = setting(True, "Nesterov momentum")
    weight_decay: float = setting(5e-4, "weight decay", aliases=("--wd",))
    method: str = setting("augmix", "augmix or a baseline (augmix.baselines.METHODS)",
                          choices=METHOD_NAMES)
    jsd: bool = setting(True, "the Jensen-Shannon consistency loss (without: plain cross-entropy)")
    jsd_lambda: float = setting(12.0, "weight of the consistency term")
    severity: float = setting(3, "AugMix op severity (1-10)")
    width: int = setting(3, "AugMix chains per image")
    depth: int = setting(-1, "ops per chain, -1 for 1-3 at random")
    alpha: float = setting(1.0, "Dirichlet and Beta coefficient of the mix")
    all_ops: bool = setting(False, "add color, contrast, brightness, sharpness (they overlap the "
                            "test corruptions)")
    augment_on: str = setting("workers", "AugMix per image in DataLoader workers, or batched on "
                              "the device (augmix.BatchAugMix)", choices=AUGMENT_ON)
    amp: str = setting("none", "mixed precision", choices=tuple(AMP))
    channels_last: bool = setting(False, "channels-last memory format")
    seed: int = setting(1, "seed of every random stream of the run")
    workers: int = setting(2, "DataLoader worker processes")
    device: str = setting("auto", "auto | cpu | cuda | cuda:N")
    stop_after: int | None = setting(None, "end this invocation after N epochs in all (the "
                                     "schedule still spans --epochs); continue later with --resume",
                                     metavar="N")
    recipe: str | None = setting(None, "a shipped recipe's name (augmix train --list) or a JSON "
                                 "file of these settings")
    description: str = setting("", flag=False)
    source: str = setting("", flag=False)
    mean: list[float] | None = setting(None, "per-channel normalization mean (default: the data "
                                       "set's)", metavar="M")
    std: list[float] | None = setting(None, "per-channel normalization std (default: the data "
                                      "set's)", metavar="S")

    def __post_init__(self) -> None:
        # One type whether set from Python, the CLI or a checkpoint, so a resumed run compares equal.
        if isinstance(self.extra_train, tuple):
            self.extra_train = list(self.extra_train)

    def validate(self) -> None:
        """ValueError naming the first bad field."""
        model_spec(self.model)
        for name, low in {"epochs": 1, "batch_size": 1, "eval_batch_size": 1, "workers": 0, "seed": 0}.items():
            validate.integer(getattr(self, name), name, low)
        for name in ("train_subset", "test_subset", "stop_after"):
            validate.optional_integer(getattr(self, name), name)
        for name in ("lr", "weight_decay", "momentum", "lr_min", "jsd_lambda"):
            validate.number(getattr(self, name), name, low=0)
        if self.lr == 0:
            raise ValueError("lr must be > 0")
        for f in dataclasses.fields(self):
            allowed = f.metadata.get("choices")
            if allowed and getattr(self, f.name) not in allowed:
                raise ValueError(f"{f.name} must be one of {allowed}, got {getattr(self, f.name)!r}")
        check_params(self.severity, self.width, self.depth, self.alpha)
        METHODS[self.method].configure(self)  # what the method cannot honour (e.g. JSD for a baseline)
        if self.extra_train is not None and (
                not isinstance(self.extra_train, list) or not self.extra_train
                or not all(isinstance(p, str) and p for p in self.extra_train)):
            raise ValueError(f"extra_train must be a non-empty list of folder paths or None, "
                             f"got {self.extra_train!r}")
        if self.device != "auto":  # auto: CUDA when this machine has it, else the CPU
            validate.device(self.device, "device", expected="auto, cpu, cuda or cuda:N")
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
        try:
            text, label = path.read_text(encoding="utf-8"), str(path)
        except (UnicodeDecodeError, IsADirectoryError) as err:
            raise ValueError(f"recipe file {path} is not a JSON text file ({err})") from None
    elif name_or_path in recipe_names():
        text = (resources.files("augmix.train") / "recipes" / f"{name_or_path}.json").read_text()
        label = name_or_path
    else:
        raise ValueError(f"unknown recipe {name_or_path!r}; expected one of {recipe_names()} "
                         f"or a path to a .json file")
    recipe = validate.json_object(text, f"recipe {label}", "a JSON object of TrainConfig fields")
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
    path = Path(run_dir) / FILENAME
    payload = read_checkpoint(path)
    unknown = sorted(set(payload["config"]) - {f.name for f in dataclasses.fields(TrainConfig)})
    if unknown:
        raise ValueError(f"{path}: its configuration holds settings that this version of augmix does "
                         f"not know: {unknown}")
    # --stop-after ends one invocation; the continued run goes to the end unless given again.
    saved = {**payload["config"], "stop_after": None}
    changed = {k: v for k, v in overrides.items() if v is not None and saved.get(k) != v}
    fixed = sorted(set(changed) - set(RESUMABLE_OVERRIDES))
    if fixed:
        raise ValueError(f"cannot change {fixed} when resuming {run_dir} (the run's results depend "
                         f"on them); only {list(RESUMABLE_OVERRIDES)} may change")
    saved.update(changed)
    config = TrainConfig(**saved)
    config.validate()
    return config


def changed_settings(saved: dict[str, Any], config: TrainConfig) -> dict[str, tuple[Any, Any]]:
    """name -> (saved, asked) for each setting of `config` that differs from a run's `saved`
    configuration and changes its results (execution-only settings and labels aside)."""
    def plain(value: Any) -> Any:  # tuples and lists alike, as the checkpoint stores them
        return json.loads(json.dumps(value))

    ignored = set(RESUMABLE_OVERRIDES) | set(LABELS)
    changed = {}
    for f in dataclasses.fields(TrainConfig):
        old, new = plain(saved.get(f.name, f.default)), plain(getattr(config, f.name))
        if f.name not in ignored and old != new:
            changed[f.name] = (old, new)
    return changed
