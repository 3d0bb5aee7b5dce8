"""`augmix eval`: arguments and output; the work is done by `augmix.evaluation.evaluator`."""
from __future__ import annotations

import torch

from augmix._util import validate
from augmix.cli import add_old_spelling, flag
from augmix.evaluation.evaluator import BATCH_SIZE, evaluate
from augmix.evaluation.results import ResultsRecord


def add_arguments(parser) -> None:
    parser.add_argument("checkpoint", nargs="?", default=None,
                        help="a run folder written by `augmix train`, or a checkpoint file (or give "
                             "exactly one of --model-file, --model, --arch, --torchvision, --timm instead)")
    models = parser.add_argument_group(
        "other models", "a model not written by `augmix train`; its normalization defaults to the "
        "data set's: mean = std = 0.5 per channel for synthetic and CIFAR (as the official AugMix "
        "cifar.py), ImageNet's mean and std for an image folder; for --torchvision and --timm, to "
        "the mean, std and input size their pretrained weights were trained with")
    models.add_argument("--model-file", default=None, metavar="FILE",
                        help="a TorchScript module (torch.jit.save) or a torch.export program "
                             "(torch.export.save), tried in that order")
    models.add_argument("--model", default=None, metavar="MODULE:FUNCTION",
                        help="call FUNCTION of MODULE (on PYTHONPATH or in the current folder), "
                             "which must return an nn.Module")
    models.add_argument("--model-kwargs", default=None, metavar="JSON",
                        help="keyword arguments for --model's function, a JSON object")
    models.add_argument("--arch", default=None, metavar="NAME",
                        help="a registered architecture (augmix.models.list_models()) for --weights")
    models.add_argument("--weights", default=None, metavar="FILE",
                        help="the state dict of --arch (ours, or the official AugMix code's layouts) "
                             "or of --model's module, read with torch.load(weights_only=True); a "
                             "`module.` prefix and a state_dict entry are allowed")
    models.add_argument("--torchvision", default=None, metavar="NAME[:WEIGHTS]",
                        help="a torchvision model with its DEFAULT (or named) pretrained weights, e.g. "
                             "resnet50 or resnet50:IMAGENET1K_V1, from torch.hub's cache (downloaded "
                             "once); mean, std and input size from the weights' transforms. Needs "
                             "torchvision")
    models.add_argument("--timm", default=None, metavar="NAME",
                        help="a timm model with its pretrained weights, e.g. resnet50.a1_in1k, from "
                             "the Hugging Face cache (downloaded once); mean, std and input size from "
                             "its data config (pretrained_cfg). Needs timm")
    models.add_argument("--input-size", type=int, default=None, metavar="N",
                        help="resize the test images to N x N (bilinear) before the model (default: "
                             "their own size; for --torchvision and --timm the weights' input size)")
    models.add_argument("--num-classes", type=int, default=None, metavar="N",
                        help="the model's classes (default: 10 for synthetic and cifar10, 100 for "
                             "cifar100, 1000 for an image folder)")
    models.add_argument("--mean", type=float, nargs="+", default=None,
                        help="per-channel mean the model expects (default: 0.5 0.5 0.5 for synthetic "
                             "and CIFAR; 0.485 0.456 0.406 for an image folder)")
    models.add_argument("--std", type=float, nargs="+", default=None,
                        help="per-channel std (default: 0.5 0.5 0.5 for synthetic and CIFAR; "
                             "0.229 0.224 0.225 for an image folder)")
    parser.add_argument("--data", default=None,
                        help="clean test set, as `augmix train --data`: synthetic | cifar10 | cifar100 | "
                             "FOLDER holding val/ (or the ImageNet-style val tree itself) (default: the "
                             "run's training data; synthetic for the other models)")
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
    stability = parser.add_argument_group(
        "stability (-P)", "flip probability and top-5 distance on perturbation sequences, in the same record")
    stability.add_argument("--perturbations", default=None, metavar="generate|DIR",
                           help="a -P folder of <perturbation>.npy files (CIFAR-10-P layout), or 'generate' "
                                "(sequences of the evaluated test images, written once next to the results)")
    stability.add_argument("--perturbation-names", nargs="+", default=None, metavar="NAME",
                           help="perturbations to evaluate (default: the 10 test perturbations)")
    stability.add_argument("--difficulty", type=int, default=1,
                           help="compare each frame of an ordered sequence with the one D frames earlier")
    stability.add_argument("--stability-baseline", default=None, metavar="JSON",
                           help="AlexNet's (or another baseline's) per-perturbation flip_probability and "
                                "top5_distance, for mFR and mT5D (default for ImageNet: computed once with "
                                "torchvision's AlexNet when installed, and cached)")
    parser.add_argument("--corrupted-subset", type=int, default=None, metavar="N",
                        help="the first N images of each corrupted set (default: the clean test "
                             "images, the same first N, so that clean and corrupted numbers come "
                             "from the same images)")
    parser.add_argument("--seed", type=int, default=0, help="seed of generated corruptions and sequences")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="processes generating the corruptions on the fly (default: all cores)")
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip md5 checks of CIFAR / CIFAR-C files (re-encoded copies)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help="images per forward pass (default: %(default)s)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--name", default=None, help="run name in reports (default: the run folder's)")
    parser.add_argument("--out", default=None,
                        help="results JSON to write (default: RUN/results.json, or results.json)")


def run(args) -> int:
    import os
    import shlex
    import sys
    from pathlib import Path

    from augmix.evaluation import sources as eval_sources
    from augmix.train.checkpoint import load_model

    validate.device(args.device, "--device")
    validate.seed(args.seed, "--seed")
    validate.integer(args.batch_size, "--batch-size")
    validate.optional_integer(args.test_subset, "--test-subset")
    validate.optional_integer(args.corrupted_subset, "--corrupted-subset")
    validate.optional_integer(args.workers, "--workers")
    source = _model_source(args)
    if source is None:
        checkpoint = Path(args.checkpoint)
        out = validate.out_file(args.out) if args.out else (
            checkpoint / "results.json" if checkpoint.is_dir() else Path("results.json"))
        model, meta = load_model(args.checkpoint, device=args.device)
        dataset, data, verify = _data_of_run(args, meta)
        clean = eval_sources.clean_test_set(data, dataset, verify=verify, limit=args.test_subset)
        name = args.name or (checkpoint.name if checkpoint.is_dir() else checkpoint.parent.name)
        model_meta = {"checkpoint": str(checkpoint), "model": meta["model"]}
    else:
        out = validate.out_file(args.out) if args.out else Path("results.json")
        dataset, data, verify = _data_of_run(args, {})
        model, meta = _other_model(args, source, dataset)
        clean = eval_sources.clean_test_set(data, dataset, verify=verify, limit=args.test_subset)
        _probe(args, model, meta, clean)
        name = args.name or meta.pop("name")
        model_meta = {"model": meta["model"], "model_source": meta["model_source"]}
    names = eval_sources.corruption_names(args.corruptions, args.extra)
    perturbed = _perturbed(args, clean, out) if args.perturbations else None  # bad input: before the long run
    corrupted, total = eval_sources.corrupted_sets(
        args.corrupted, clean, names, args.severities, seed=args.seed, verify=verify,
        eval_transform=args.eval_transform, workers=args.workers or os.cpu_count() or 1,
        subset=args.corrupted_subset)
    record = evaluate(model, clean.images, clean.labels, corrupted, name=name, dataset=dataset,
                      mean=meta["mean"], std=meta["std"], batch_size=args.batch_size,
                      device=args.device, total_sets=total,
                      meta={"command": shlex.join(["augmix", "eval"] + sys.argv[2:]), **model_meta,
                            "seed": args.seed,
                            "corruption_source": eval_sources.source_kind(args.corrupted),
                            "eval_transform": args.eval_transform if dataset == "imagenet" else None})
    if perturbed is not None:
        record.stability = _stability(args, model, meta, dataset, name, *perturbed)
    record.to_json(out)
    print(summary_line(record) + f" -> {out}")
    return 0


def _perturbed(args, clean, out):
    """The -P sequences to evaluate (generated, or read and checked) and their folder."""
    from augmix.evaluation import sources as eval_sources
    from augmix.evaluation.stability import check_names, load_baseline

    validate.integer(args.difficulty, "--difficulty")
    names = check_names(args.perturbation_names)
    if args.stability_baseline is not None:
        load_baseline(args.stability_baseline)
    return eval_sources.perturbed_sets(args.perturbations, clean, out.parent / f"{clean.dataset}-P", names,
                                       limit=args.test_subset, seed=args.seed)


def _stability(args, model, meta, dataset, name, sets, folder) -> dict:
    from augmix.evaluation.stability import evaluate_stability

    section = evaluate_stability(model, sets, dataset=dataset, mean=meta["mean"], std=meta["std"], folder=folder,
                                 baseline_file=args.stability_baseline, batch_size=args.batch_size,
                                 device=args.device, difficulty=args.difficulty, desc=f"stability {name}")
    return {**section, "source": "generated" if args.perturbations == "generate" else str(folder)}


def summary_line(record: ResultsRecord) -> str:
    mce = record.summary.get("mean_corruption_error")
    fp = record.stability.get("mean_flip_probability")
    return (f"{record.name}: clean error {100 * record.clean['error']:.2f}%"
            + (f", mean corruption error {100 * mce:.2f}%" if mce is not None else "")
            + (f", mean flip probability {100 * fp:.2f}%" if fp is not None else ""))


_OTHER_FLAGS = ("model_kwargs", "weights", "num_classes", "mean", "std", "input_size")
_SOURCES = ("checkpoint", "model_file", "model", "arch", "torchvision", "timm")


def _model_source(args) -> str | None:
    """Which model source the flags name: None for a training run, else model_file, model,
    arch, torchvision or timm; exactly one must be given, with only the flags that belong to it."""
    given = [dest for dest in _SOURCES if getattr(args, dest) is not None]
    if len(given) != 1:
        names = ["RUN_DIR" if d == "checkpoint" else flag(d) for d in given]
        raise ValueError("give exactly one model: RUN_DIR (an `augmix train` run), --model-file, "
                         "--model, --arch, --torchvision or --timm"
                         + (f"; got {' and '.join(names)}" if names else ""))
    source = given[0]
    if source == "checkpoint":
        extra = [flag(d) for d in _OTHER_FLAGS if getattr(args, d) is not None]
        if extra:
            raise ValueError(f"{extra[0]} is for the other model sources (--model-file, --model, ...); "
                             f"a training run knows its model, classes and normalization")
        return None
    if args.model_kwargs is not None and source != "model":
        raise ValueError("--model-kwargs goes with --model MODULE:FUNCTION")
    if source == "arch" and args.weights is None:
        raise ValueError("--arch NAME and --weights FILE go together")
    if args.weights is not None and source not in ("arch", "model"):
        raise ValueError("--weights FILE goes with --arch NAME or --model MODULE:FUNCTION")
    if (args.mean is None) != (args.std is None):
        raise ValueError("--mean and --std go together")
    validate.optional_integer(args.num_classes, "--num-classes", low=2)
    validate.optional_integer(args.input_size, "--input-size", high=16384)
    for name, values in (("--mean", args.mean), ("--std", args.std)):
        for value in values or ():
            validate.number(value, name, low=1e-12 if name == "--std" else -1e6, high=1e6)
    return source


def _other_model(args, source: str, dataset: str):
    """The model of --model-file / --model / --arch on args.device, and what the record says
    about it."""
    from pathlib import Path

    from augmix.evaluation import model_sources

    num_classes = args.num_classes or model_sources.NUM_CLASSES[dataset]
    value = getattr(args, source)
    what, defaults = f"{flag(source)} {value}", {}
    if source == "model_file":
        model, described, name = model_sources.load_model_file(value), str(value), Path(value).stem
    elif source == "model":
        model = model_sources.load_callable(value, args.model_kwargs)
        if args.weights is not None:
            model = model_sources.load_state(model, args.weights)
        described, name = value, value.rpartition(":")[2]
    elif source == "arch":
        model = model_sources.load_weights(value, args.weights, num_classes)
        described, name = value, Path(args.weights).stem
    else:
        load = model_sources.load_torchvision if source == "torchvision" else model_sources.load_timm
        model, defaults = load(value)
        described, name = f"{source}:{value}", value.replace(":", "-")
    mean, std = ((args.mean, args.std) if args.mean else (defaults["mean"], defaults["std"]) if defaults
                 else model_sources.default_normalization(dataset))
    input_size = args.input_size or defaults.get("input_size")
    if input_size:
        model = model_sources.Resized(model, input_size)
    return model.to(args.device), {
        "model": described, "name": name, "what": what, "dataset": dataset, "mean": list(mean),
        "std": list(std), "model_source": {"kind": source, "value": value, "weights": args.weights,
                                           "num_classes": num_classes, "input_size": input_size,
                                           "mean": list(mean), "std": list(std)}}


def _probe(args, model, meta: dict, clean) -> None:
    """Refuse, before evaluating, labels beyond the model's classes and a model that fails on
    (or answers with the wrong shape for) one tiny batch of the test images."""
    from augmix.evaluation import model_sources

    model_sources.probe(model, clean.images, meta["model_source"]["num_classes"], mean=meta["mean"],
                        std=meta["std"], device=args.device, what=meta["what"], labels=clean.labels,
                        dataset=meta["dataset"])


def _data_of_run(args, meta: dict) -> tuple[str, str | None, bool]:
    """(dataset, where its test set is, verify) from the flags, else from the training run."""
    from augmix.evaluation import sources as eval_sources

    config = meta.get("config", {})
    verify = args.verify and config.get("verify", True)
    data = args.data or config.get("data") or meta.get("dataset", "synthetic")
    return (*eval_sources.locate_test_set(data, args.data_root or config.get("data_root")), verify)
