"""`augmix train`: arguments and output; the work is done by `augmix.train.trainer`."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from augmix.train.config import (
    AMP,
    AUGMENT_ON,
    METHOD_NAMES,
    load_recipe,
    make_config,
    recipe_names,
    resumed_config,
)
from augmix.train.schedules import SCHEDULES
from augmix.train.trainer import train

# -- command line ------------------------------------------------------------------------
_FLAGS: list[tuple[str, dict[str, Any]]] = [
    ("--model", dict(help="architecture (augmix.models registry, or wrn-DEPTH-WIDTH)")),
    ("--data", dict(help="synthetic | cifar10 | cifar100 | FOLDER with train/ and val/")),
    ("--extra-train", dict(nargs="+", metavar="DIR", help="image folders (CLASS/IMAGE, the classes "
                           "of FOLDER/train) added to the training set, e.g. Stylized-ImageNet")),
    ("--data-root", dict(help="folder holding (or receiving) CIFAR; default $AUGMIX_CACHE/cifar")),
    ("--train-subset", dict(type=int, help="train on the first N images only")),
    ("--test-subset", dict(type=int, help="evaluate on the first N test images only")),
    ("--epochs", dict(type=int)),
    ("--batch-size", dict(type=int, help="global batch size (split over torchrun processes)")),
    ("--eval-batch-size", dict(type=int)),
    ("--lr", dict(type=float, help="initial learning rate")),
    ("--lr-schedule", dict(choices=SCHEDULES)),
    ("--wd", dict(type=float, dest="weight_decay", help="weight decay")),
    ("--momentum", dict(type=float)),
    ("--method", dict(choices=METHOD_NAMES, help="augmix or a baseline")),
    ("--severity", dict(type=float)),
    ("--width", dict(type=int, help="AugMix chains per image")),
    ("--depth", dict(type=int, help="ops per chain, -1 for 1-3 at random")),
    ("--alpha", dict(type=float, help="Dirichlet and Beta coefficient")),
    ("--augment-on", dict(choices=AUGMENT_ON, help="AugMix per image in DataLoader workers, or "
                          "batched on the device (augmix.BatchAugMix)")),
    ("--amp", dict(choices=tuple(AMP), help="mixed precision")),
    ("--seed", dict(type=int)),
    ("--workers", dict(type=int, help="DataLoader worker processes")),
    ("--device", dict(help="auto | cpu | cuda | cuda:N")),
    ("--stop-after", dict(type=int, help="end this invocation after N epochs in all (the schedule "
                          "still spans --epochs); continue later with --resume")),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipe", help=f"a recipe name ({', '.join(recipe_names())}) or a JSON file")
    parser.add_argument("--out", type=Path, help="run folder (default runs/RECIPE or runs/MODEL)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last checkpoint")
    parser.add_argument("--list", action="store_true", help="list recipes and models, then exit")
    for flag, options in _FLAGS:
        parser.add_argument(flag, default=None, **options)
    parser.add_argument("--no-jsd", dest="jsd", action="store_const", const=False, default=None,
                        help="plain cross-entropy instead of the JSD consistency loss")
    parser.add_argument("--all-ops", action="store_const", const=True, default=None,
                        help="add color, contrast, brightness, sharpness (overlap the test corruptions)")
    parser.add_argument("--channels-last", action="store_const", const=True, default=None)
    parser.add_argument("--download", action="store_const", const=True, default=None,
                        help="fetch CIFAR from the official site into --data-root if missing")
    parser.add_argument("--no-verify", dest="verify", action="store_const", const=False,
                        default=None, help="skip the CIFAR md5 check (re-encoded copies)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    if args.list:
        from augmix.models import MODELS

        for name in recipe_names():
            print(f"recipe {name}: {load_recipe(name).get('description', '')}")
        for name, spec in MODELS.items():
            print(f"model  {name}: {spec.description}")
        return 0
    overrides = {dest: getattr(args, dest) for dest in (
        "model", "data", "data_root", "train_subset", "test_subset", "epochs", "batch_size",
        "eval_batch_size", "lr", "lr_schedule", "weight_decay", "momentum", "method", "severity",
        "width", "depth", "alpha", "augment_on", "amp", "seed", "workers", "device", "stop_after",
        "jsd", "all_ops", "channels_last", "download", "verify", "extra_train")}
    if args.method not in (None, "augmix") and args.jsd is None:
        overrides["jsd"] = False  # baselines train with plain cross-entropy
    if args.resume:
        if args.out is None:
            raise ValueError("--resume needs --out RUN_DIR (the run to continue)")
        if args.recipe:
            raise ValueError("--resume takes the recipe saved in the run; drop --recipe")
        config = resumed_config(args.out, **overrides)
    else:
        config = make_config(args.recipe, **overrides)
    train(config, out=args.out, resume=args.resume, progress=not args.quiet)
    return 0
