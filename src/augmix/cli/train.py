"""`augmix train`: arguments and output; the work is done by `augmix.train.trainer`.

Its settings flags are generated from the `TrainConfig` fields (`add_config_arguments`),
which `augmix compare` shares.
"""
from __future__ import annotations

import argparse
import dataclasses
import shlex
import types
import typing
from pathlib import Path
from typing import Any

from augmix._util import validate
from augmix.cli import add_old_spelling, flag
from augmix.train.checkpoint import FILENAME
from augmix.train.config import TrainConfig, load_recipe, make_config, recipe_names, resumed_config
from augmix.train.trainer import default_run_dir, train


def add_config_arguments(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """One flag per `TrainConfig` field (help, choices and old spellings from its metadata),
    each defaulting to None: only the flags given override the recipe."""
    hints = typing.get_type_hints(TrainConfig)
    for f in dataclasses.fields(TrainConfig):
        meta = f.metadata
        if f.name in skip or not meta.get("flag", True):
            continue
        kind = hints[f.name]
        if typing.get_origin(kind) is types.UnionType:  # X | None: the flag takes an X
            kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
        options: dict[str, Any] = {"dest": f.name, "default": None, "help": meta["help"]}
        if kind is bool:
            switch, help = ((f"--no-{f.name.replace('_', '-')}", f"without {meta['help']}")
                            if f.default else (flag(f.name), meta["help"]))
            parser.add_argument(switch, action="store_const", const=not f.default,
                                **{**options, "help": help})
            continue
        if typing.get_origin(kind) is list:
            kind, options["nargs"] = typing.get_args(kind)[0], "+"
        options.update(type=kind, choices=meta["choices"], metavar=meta["metavar"])
        parser.add_argument(flag(f.name), **options)
        for old in meta["aliases"]:
            add_old_spelling(parser, old, f.name, type=kind, nargs=options.get("nargs"))


def config_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The `TrainConfig` fields given on the command line."""
    names = (f.name for f in dataclasses.fields(TrainConfig))
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def check_execution(args: argparse.Namespace) -> None:
    """The flags that decide where a run executes and writes (`augmix train`, `compare`), before any work."""
    if args.device not in (None, "auto"):
        validate.device(args.device, "--device")
    if args.out is not None:
        validate.out_folder(args.out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="run folder (default runs/RECIPE or runs/MODEL)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last checkpoint")
    parser.add_argument("--list", action="store_true", help="list recipes and models, then exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_arguments(parser.add_argument_group("settings (override the recipe's)"))


def run(args: argparse.Namespace) -> int:
    if args.list:
        from augmix.models import MODELS

        for name in recipe_names():
            print(f"recipe {name}: {load_recipe(name).get('description', '')}")
        for name, spec in MODELS.items():
            print(f"model  {name}: {spec.description}")
        return 0
    overrides = config_overrides(args)
    check_execution(args)
    recipe = overrides.pop("recipe", None)
    if args.method not in (None, "augmix") and args.jsd is None:
        overrides["jsd"] = False  # baselines train with plain cross-entropy
    if args.resume:
        if args.out is None:
            raise ValueError("--resume needs --out RUN_DIR (the run to continue)")
        if recipe:
            raise ValueError("--resume takes the recipe saved in the run; drop --recipe")
        config = resumed_config(args.out, **overrides)
    else:
        config = make_config(recipe, **overrides)
    args.out = args.out if args.out is not None else default_run_dir(config)  # for resume_hint
    train(config, out=args.out, resume=args.resume, progress=not args.quiet)
    return 0


def resume_hint(args: argparse.Namespace) -> str | None:
    """What to type after Ctrl-C: the run keeps its last end-of-epoch checkpoint."""
    if getattr(args, "list", False) or args.out is None:
        return None
    if not (Path(args.out) / FILENAME).is_file():
        return "no epoch had finished, so no checkpoint was written: run the same command again"
    return f"continue from the last checkpoint with: augmix train --out {shlex.quote(str(args.out))} --resume"
