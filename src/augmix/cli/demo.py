"""augmix demo, what `make demo` runs: the paper's experiment in miniature on this CPU.

On the embedded synthetic set, train a Standard model and an AugMix+JSD model with the
same architecture, budget and seed; corrupt the synthetic test set once with the 15
benchmark corruptions at 5 severities (CIFAR-10-C parameters); evaluate both; print the
comparison and write the report. Sized to finish in about five minutes on two cores: a
small Wide ResNet trained long enough to learn the task (the paper's recipe otherwise:
SGD Nesterov, cosine learning rate, weight decay 5e-4, AugMix severity 3, width 3, JSD
weight 12), so the comparison shows the paper's effect at a small scale.
"""
from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

# The demo's budget, identical for both methods: about five minutes on a 2-core CPU. Batch 32
# gives twice the steps of 64 for the same compute, which AugMix+JSD needs to reach Standard's
# clean error; channels-last runs the convolutions about 1.6 times faster on a CPU; the
# images are in memory, so the training data are read in the main process (no loader
# workers competing with the model for the cores) and AugMix runs batched (BatchAugMix).
DEMO_SETTINGS = {"data": "synthetic", "model": "wrn-10-1", "train_subset": 3000, "test_subset": 1000,
                 "epochs": 24, "batch_size": 32, "eval_batch_size": 200, "channels_last": True,
                 "augment_on": "device", "workers": 0, "seed": 1}
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
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="processes corrupting the test set (default: all cores)")
    parser.add_argument("--seed", type=int, default=DEMO_SETTINGS["seed"],
                        help="seed of the training runs (data order, initialization, augmentation)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from augmix._util import validate
    from augmix.evaluation.compare import compare, comparison_table

    validate.out_folder(args.out)
    validate.optional_integer(args.workers, "--workers", low=0, high=validate.MAX_WORKERS)
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    settings = {**DEMO_SETTINGS, "epochs": args.epochs, "train_subset": args.train_subset,
                "test_subset": args.test_subset, "model": args.model, "seed": args.seed}
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
        calibration = [100 * (r.summary.get("mean_rms_calibration_error_corrupted") or 0) for r in records]
        print(f"\nAugMix+JSD changes the mean corruption error by {change:+.1f}% (relative) and the "
              f"clean error by {100 * (records[1].clean['error'] - records[0].clean['error']):+.2f} points;\n"
              f"under corruption its RMS calibration error is {calibration[1]:.1f}% (Standard "
              f"{calibration[0]:.1f}%). The paper (CIFAR-10-C, WRN-40-2): 26.9% -> 11.2% mean "
              f"corruption error.")
    print(stability_line(records))
    wall = time.perf_counter() - start
    trained = [r.meta.get("train_wall_time_s") or 0.0 for r in records]
    print(f"report: {args.out / 'report' / 'report.md'}")
    print(f"time: {wall:.0f} s in all (training {trained[0]:.0f} s Standard, {trained[1]:.0f} s AugMix+JSD; "
          f"{wall - sum(trained):.0f} s data, per-epoch tests, corrupting, stability, evaluation, report); "
          f"CPU time {_cpu_seconds() - cpu_start:.0f} s on {os.cpu_count()} cores")
    return 0


def stability_line(records) -> str:
    """One line comparing the two runs' mean flip probability on the perturbation sequences."""
    standard, augmix = (r.stability.get("mean_flip_probability") for r in records)
    if standard is None or augmix is None:
        return "Stability: not measured."
    return (f"Mean flip probability over the 10 perturbation sequences: {100 * standard:.2f}% (Standard) vs "
            f"{100 * augmix:.2f}% (AugMix+JSD), lower is more stable.")


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (DataLoader workers, corruption pool)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
