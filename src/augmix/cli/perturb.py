"""`augmix perturb`: arguments and output; the work is done by `augmix.data.perturbed`."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from augmix._util import validate
from augmix.perturbations.names import PERTURBATIONS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from augmix.cli import add_old_spelling

    parser.add_argument("--data", required=True, metavar="cifar10|cifar100|FOLDER",
                        help="perturb this CIFAR test set (read from --data-root) into CIFAR-10-P .npy files, "
                             "or an image folder <class>/<image> into an ImageNet-P video tree")
    parser.add_argument("--data-root", help="folder holding the CIFAR python files (cifar-10-batches-py/; "
                                            "default $AUGMIX_CACHE/cifar)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--names", nargs="+", default=list(PERTURBATIONS), metavar="NAME",
                        help="perturbations to write (default: the 10 test perturbations); also "
                             "speckle_noise, gaussian_blur, spatter, shear and <noise>_2, <noise>_3")
    add_old_spelling(parser, "--perturbations", "names", nargs="+")
    parser.add_argument("--seed", type=int, default=0, help="base seed of every random draw")
    parser.add_argument("--table", default=None, type=_table,
                        help="CIFAR: parameter table cifar, tiny or imagenet, or an image side 32, 64 or 224 "
                             "(default: by image size)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    parser.add_argument("--test-subset", type=int, default=None, metavar="N",
                        help="perturb only the first N test images")
    add_old_spelling(parser, "--limit", "test_subset", type=int)
    parser.add_argument("--video", choices=("mp4", "png"), default="mp4",
                        help="image folders: one .mp4 per sequence (lossy, like ImageNet-P) or a folder "
                             "of lossless PNG frames")
    parser.add_argument("--resize", type=int, default=256,
                        help="image folders: shorter side resized to this first (0: no resize)")
    parser.add_argument("--crop", type=int, default=224, help="image folders: centre crop side of the frames")
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip the md5 check of the CIFAR files (for re-encoded copies)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _table(text: str) -> str | int:
    """A table name, or an image side given as digits."""
    return int(text) if text.isdigit() else text


def _check(args: argparse.Namespace) -> None:
    """Every number, name and the output path, before anything is read or written."""
    from augmix.perturbations.names import check_name
    from augmix.perturbations.tables import get_table

    validate.integer(args.workers, "--workers", high=validate.MAX_WORKERS)
    validate.optional_integer(args.test_subset, "--test-subset")
    validate.seed(args.seed, "--seed")
    validate.integer(args.resize, "--resize", low=0, high=validate.MAX_SIDE)
    validate.integer(args.crop, "--crop", high=validate.MAX_SIDE)
    for name in args.names:
        check_name(name)
    if args.table is not None:
        get_table(args.table)
    validate.out_folder(args.out)


def run(args: argparse.Namespace) -> int:
    _check(args)
    from augmix.data.perturbed import write_imagenet_p, write_perturbations

    if args.data in ("cifar10", "cifar100"):
        from augmix.data.cifar import load_cifar
        from augmix.data.sources import cifar_root

        images, _ = load_cifar(cifar_root(args.data_root), train=False, dataset=args.data, verify=args.verify)
        out = write_perturbations(images[:args.test_subset], args.out, names=args.names, seed=args.seed,
                                  workers=args.workers, progress=not args.quiet, table=args.table)
    else:
        folder = Path(args.data)
        if not folder.is_dir():
            raise FileNotFoundError(f"--data {args.data}: not cifar10, cifar100 or an image folder")
        out = write_imagenet_p(folder, args.out, names=args.names, crop=args.crop, resize=args.resize or None,
                               seed=args.seed, video=args.video, workers=args.workers, limit=args.test_subset,
                               progress=not args.quiet)
    print(f"wrote {out}")
    return 0
