"""`augmix compare`: arguments and output; the work is done by `augmix.evaluation.compare`."""
from __future__ import annotations

import argparse
from pathlib import Path

from augmix.evaluation.compare import compare, comparison_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--methods", nargs="+", default=["standard", "augmix"],
                        help="standard, augmix, augmix-no-jsd, cutout, mixup, cutmix, autoaugment, "
                             "adversarial, ... (default: standard augmix)")
    parser.add_argument("--recipe", help="training recipe shared by all methods")
    parser.add_argument("--out", type=Path, default=Path("runs/compare"))
    parser.add_argument("--data", help="synthetic | cifar10 | cifar100")
    parser.add_argument("--data-root", help="folder holding CIFAR")
    parser.add_argument("--no-verify", dest="verify", action="store_const", const=False, default=None,
                        help="skip the CIFAR md5 check (re-encoded copies)")
    parser.add_argument("--model")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--train-subset", type=int, help="train on the first N images only")
    parser.add_argument("--eval-limit", type=int, help="evaluate on the first N test images only")
    parser.add_argument("--seed", type=int, help="training seed, the same for every method")
    parser.add_argument("--workers", type=int, help="DataLoader workers and corruption processes")
    parser.add_argument("--corrupted", help="a released CIFAR-C folder (default: generate one)")
    parser.add_argument("--corruption-seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    fields = ("data", "data_root", "verify", "model", "epochs", "train_subset", "seed", "workers")
    overrides = {f: getattr(args, f) for f in fields if getattr(args, f) is not None}
    records = compare(args.methods, out=args.out, recipe=args.recipe, overrides=overrides,
                      corrupted=args.corrupted, corruption_seed=args.corruption_seed,
                      eval_limit=args.eval_limit, workers=args.workers, progress=not args.quiet)
    print(comparison_table(records))
    print(f"report: {args.out / 'report' / 'report.md'}")
    return 0
