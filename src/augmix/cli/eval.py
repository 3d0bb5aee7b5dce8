"""`augmix eval`: arguments and output; the work is done by `augmix.evaluation.evaluator`."""
from __future__ import annotations

import torch

from augmix._util import validate
from augmix.evaluation.evaluator import evaluate
from augmix.evaluation.results import ResultsRecord


def add_arguments(parser) -> None:
    from augmix.cli import add_old_spelling

    parser.add_argument("checkpoint", help="a run folder written by `augmix train`, or a checkpoint file")
    parser.add_argument("--data", default=None,
                        help="clean test set, as `augmix train --data`: synthetic | cifar10 | cifar100 | "
                             "FOLDER holding val/ (or the ImageNet-style val tree itself) (default: the "
                             "run's training data)")
    parser.add_argument("--data-root", default=None,
                        help="folder holding CIFAR (default: the run's, else $AUGMIX_CACHE/cifar)")
    parser.add_argument("--corrupted", default="generate",
                        help="'generate' (corrupt the clean test set on the fly), a folder of released "
                             "CIFAR-10-C/100-C .npy files, an ImageNet-C / Tiny-ImageNet-C tree, or 'none'")
    parser.add_argument("--corruptions", nargs="+", default=None,
                        help="names to evaluate (default: the 15 benchmark corruptions)")
    parser.add_argument("--extra", action="store_true", help="also the 4 validation corruptions")
    parser.add_argument("--severities", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument("--eval-transform", choices=("crop", "resize-crop"), default="crop",
                        help="ImageNet-C images: centre crop only (official test.py), or "
                             "Resize(256)+CenterCrop(224) as AugMix's imagenet.py and RobustBench do")
    parser.add_argument("--test-subset", type=int, default=None, metavar="N",
                        help="evaluate on the first N test images only")
    add_old_spelling(parser, "--limit", "test_subset", type=int)
    parser.add_argument("--seed", type=int, default=0, help="seed of generated corruptions")
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip md5 checks of CIFAR / CIFAR-C files (re-encoded copies)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--name", default=None, help="run name in reports (default: the run folder's)")
    parser.add_argument("--out", default=None,
                        help="results JSON to write (default: RUN/results.json, or results.json)")


def run(args) -> int:
    import shlex
    import sys
    from pathlib import Path

    from augmix.evaluation import sources as eval_sources
    from augmix.train.checkpoint import load_model

    validate.device(args.device, "--device")
    validate.seed(args.seed, "--seed")
    validate.integer(args.batch_size, "--batch-size")
    validate.optional_integer(args.test_subset, "--test-subset")
    checkpoint = Path(args.checkpoint)
    out = validate.out_file(args.out) if args.out else (
        checkpoint / "results.json" if checkpoint.is_dir() else Path("results.json"))
    model, meta = load_model(args.checkpoint, device=args.device)
    dataset, data, verify = _data_of_run(args, meta)
    clean = eval_sources.clean_test_set(data, dataset, verify=verify, limit=args.test_subset)
    names = eval_sources.corruption_names(args.corruptions, args.extra)
    corrupted, total = eval_sources.corrupted_sets(
        args.corrupted, clean, names, args.severities, seed=args.seed, verify=verify,
        eval_transform=args.eval_transform)
    name = args.name or (checkpoint.name if checkpoint.is_dir() else checkpoint.parent.name)
    record = evaluate(model, clean.images, clean.labels, corrupted, name=name, dataset=dataset,
                      mean=meta["mean"], std=meta["std"], batch_size=args.batch_size,
                      device=args.device, total_sets=total,
                      meta={"command": shlex.join(["augmix", "eval"] + sys.argv[2:]),
                            "checkpoint": str(checkpoint), "seed": args.seed, "model": meta["model"],
                            "corruption_source": eval_sources.source_kind(args.corrupted),
                            "eval_transform": args.eval_transform if dataset == "imagenet" else None})
    record.to_json(out)
    print(summary_line(record) + f" -> {out}")
    return 0


def summary_line(record: ResultsRecord) -> str:
    mce = record.summary.get("mean_corruption_error")
    return (f"{record.name}: clean error {100 * record.clean['error']:.2f}%"
            + (f", mean corruption error {100 * mce:.2f}%" if mce is not None else ""))


def _data_of_run(args, meta: dict) -> tuple[str, str | None, bool]:
    """(dataset, where its test set is, verify) from the flags, else from the training run."""
    from pathlib import Path

    config = meta.get("config", {})
    verify = args.verify and config.get("verify", True)
    data = args.data or config.get("data") or meta.get("dataset", "synthetic")
    if data == "synthetic":
        return data, None, verify
    if data in ("cifar10", "cifar100"):
        from augmix.data.sources import cifar_root
        return data, str(cifar_root(args.data_root or config.get("data_root"))), verify
    # An image folder: the one holding train/ and val/ (as for training), or a val tree itself.
    folder = Path(data)
    if not folder.is_dir():
        raise FileNotFoundError(f"--data {data}: not synthetic, cifar10, cifar100 or an existing folder")
    return "imagenet", str(folder / "val" if (folder / "val").is_dir() else folder), verify
