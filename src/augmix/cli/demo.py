"""augmix demo, what `make demo` runs: the paper's experiment in miniature on this CPU.

On the embedded synthetic set, train a Standard model and an AugMix+JSD model with the
same architecture, budget and seed; corrupt the synthetic test set once with the 15
benchmark corruptions at 5 severities (CIFAR-10-C parameters); evaluate both; print the
comparison and write the report. Sized to finish in minutes on two cores, so the models
are small and briefly trained: the numbers show the pipeline and the method's direction,
not the paper's scale (for that, `augmix compare` with a CIFAR recipe).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

# The demo's budget: chosen for run time on a 2-core CPU, identical for both methods.
DEMO_SETTINGS = {"data": "synthetic", "model": "wrn-10-1", "train_subset": 5000, "test_subset": 500,
                 "epochs": 5, "batch_size": 128, "eval_batch_size": 500, "workers": 2, "seed": 1}
# Stability (-P): generated perturbation sequences of the first test images (few: each is 31 frames).
DEMO_STABILITY_SUBSET = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from augmix.cli import add_old_spelling

    parser.add_argument("--out", type=Path, default=Path("out/demo"),
                        help="folder for the two runs, the corrupted test set and the report")
    parser.add_argument("--epochs", type=int, default=DEMO_SETTINGS["epochs"])
    parser.add_argument("--train-subset", type=int, metavar="N",
                        default=DEMO_SETTINGS["train_subset"], help="synthetic training images")
    parser.add_argument("--test-subset", type=int, metavar="N", default=DEMO_SETTINGS["test_subset"],
                        help="synthetic test images evaluated (clean and under each corruption)")
    add_old_spelling(parser, "--train-size", "train_subset", type=int)
    add_old_spelling(parser, "--eval-limit", "test_subset", type=int)
    parser.add_argument("--model", default=DEMO_SETTINGS["model"])
    parser.add_argument("--workers", type=int, default=DEMO_SETTINGS["workers"])
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from augmix._util import validate
    from augmix.evaluation.compare import compare, comparison_table

    validate.out_folder(args.out)
    start = time.perf_counter()
    settings = {**DEMO_SETTINGS, "epochs": args.epochs, "train_subset": args.train_subset,
                "test_subset": args.test_subset, "model": args.model, "workers": args.workers}
    print(f"augmix demo: Standard vs AugMix+JSD, {settings['model']}, {settings['epochs']} epochs on "
          f"{settings['train_subset']} synthetic images; evaluated on {args.test_subset} test images, "
          f"clean and under 15 corruptions x 5 severities -> {args.out}")
    records = compare(["standard", "augmix"], out=args.out, recipe="synthetic-wrn-16-2",
                      overrides=settings, workers=args.workers,
                      progress=not args.quiet, perturbations="generate",
                      stability_subset=min(DEMO_STABILITY_SUBSET, args.test_subset))
    print()
    print(comparison_table(records))
    standard, augmix = (r.summary.get("mean_corruption_error") for r in records)
    if standard and augmix is not None:
        change = 100 * (augmix - standard) / standard
        print(f"\nAugMix+JSD changes the mean corruption error by {change:+.1f}% (relative) and the "
              f"clean error by {100 * (records[1].clean['error'] - records[0].clean['error']):+.2f} points.")
    print(stability_line(records))
    print(f"report: {args.out / 'report' / 'report.md'}  ({time.perf_counter() - start:.0f} s in all)")
    return 0


def stability_line(records) -> str:
    """One line comparing the two runs' mean flip probability on the perturbation sequences."""
    standard, augmix = (r.stability.get("mean_flip_probability") for r in records)
    if standard is None or augmix is None:
        return "Stability: not measured."
    return (f"Mean flip probability over the 10 perturbation sequences: {100 * standard:.2f}% (Standard) vs "
            f"{100 * augmix:.2f}% (AugMix+JSD), lower is more stable.")
