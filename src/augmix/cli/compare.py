"""`augmix compare`: arguments and output; the work is done by `augmix.evaluation.compare`."""
from __future__ import annotations

import argparse
from pathlib import Path

from augmix._util import validate
from augmix.cli.train import add_config_arguments, check_execution, config_overrides
from augmix.data.corrupted import find_cifar_c
from augmix.evaluation.compare import compare, comparison_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--methods", nargs="+", default=["standard", "augmix"],
                        help="standard, augmix, augmix-no-jsd, cutout, mixup, cutmix, autoaugment, "
                             "adversarial, ... (default: standard augmix)")
    parser.add_argument("--out", type=Path, default=Path("runs/compare"))
    parser.add_argument("--corrupted", help="a released CIFAR-C folder (default: generate one)")
    parser.add_argument("--corruption-seed", type=int, default=0, help="seed of the generated corruptions "
                        "and perturbation sequences")
    parser.add_argument("--perturbations", default=None, metavar="generate|DIR",
                        help="also measure stability: a CIFAR-10-P style folder of <perturbation>.npy files, "
                             "or 'generate' (sequences of the test images, written once under --out)")
    parser.add_argument("--stability-subset", type=int, default=None, metavar="N",
                        help="perturbation sequences evaluated (default: --test-subset)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_arguments(parser.add_argument_group(
        "settings shared by every method (override the recipe's); --test-subset also limits "
        "the final evaluation, --workers also the corruption processes"),
        skip=("method", "jsd"))


def run(args: argparse.Namespace) -> int:
    check_execution(args)
    validate.seed(args.corruption_seed, "--corruption-seed")
    validate.optional_integer(args.stability_subset, "--stability-subset")
    if args.corrupted is not None:
        find_cifar_c(args.corrupted)  # before the first method trains
    if args.perturbations not in (None, "generate"):
        from augmix.data.perturbed import read_perturbations
        from augmix.perturbations import PERTURBATIONS

        # every test perturbation's file header, before the first method trains
        list(read_perturbations(args.perturbations, PERTURBATIONS))
    overrides = config_overrides(args)
    records = compare(args.methods, out=args.out, recipe=overrides.pop("recipe", None),
                      overrides=overrides, corrupted=args.corrupted,
                      corruption_seed=args.corruption_seed, workers=args.workers,
                      progress=not args.quiet, perturbations=args.perturbations,
                      stability_subset=args.stability_subset)
    print(comparison_table(records))
    print(f"report: {args.out / 'report' / 'report.md'}")
    return 0
