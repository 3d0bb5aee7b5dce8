"""`augmix corrupt`: arguments and output; the work is done by `augmix.data.generate`."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from augmix._util import validate
from augmix._util.atomic import atomic_write
from augmix.corruptions.names import ALL_CORRUPTIONS, SEVERITIES
from augmix.data.cifar import load_cifar
from augmix.data.folder import ImageFileArray
from augmix.data.generate import write_cifar_c, write_folder_c, write_imagenet_c
from augmix.data.sources import cifar_root


def load_preview_image(spec: str, *, data_root: str | None = None, dataset: str = "cifar10",
                       verify: bool = True, resize: int | None = 256, crop: int = 224) -> np.ndarray:
    """An image file (resized on its shorter side, centre-cropped) or a CIFAR test index (from `data_root`)."""
    if spec.isdigit():
        images, _ = load_cifar(cifar_root(data_root), train=False, dataset=dataset, verify=verify)
        if int(spec) >= len(images):
            raise ValueError(f"--preview index {spec} is out of range (the test set has {len(images)} images)")
        return images[int(spec)]
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"--preview {spec}: no such image file (or give a CIFAR test index)")
    return ImageFileArray([path], crop, resize, threads=1)[0:1][0]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from augmix.cli import add_old_spelling

    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="cifar10|cifar100|FOLDER",
                        help="corrupt this CIFAR test set (read from --data-root) into the released .npy "
                             "layout, or an image folder <class>/<image> into an ImageNet-C JPEG tree")
    source.add_argument("--folder", type=Path, metavar="FOLDER",
                        help="write a corrupted copy of every image below FOLDER, at its own size and in its "
                             "own format: OUT/<corruption>/<severity>/<path below FOLDER>")
    source.add_argument("--preview", metavar="IMAGE_OR_INDEX",
                        help="write one PNG grid of an image file (or a CIFAR test index, with "
                             "--data-root) under every corruption and severity")
    add_old_spelling(source, "--dataset", "data", choices=("cifar10", "cifar100"))
    add_old_spelling(source, "--images", "data")
    parser.add_argument("--data-root", help="folder holding the CIFAR python files (cifar-10-batches-py/; "
                                            "default $AUGMIX_CACHE/cifar)")
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder (with --preview: a .png file, or .jpg for a smaller one)")
    parser.add_argument("--corruptions", nargs="+", default=list(ALL_CORRUPTIONS), metavar="NAME",
                        help="corruptions to write (default: all 19)")
    parser.add_argument("--severities", nargs="+", type=int, default=list(SEVERITIES), metavar="S")
    parser.add_argument("--seed", type=int, default=0, help="base seed of every random draw")
    parser.add_argument("--table", default=None,
                        help="severity table: cifar, tiny, imagenet, inception (default: by image size; "
                             "with --folder, each image's own)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    parser.add_argument("--chunk", type=int, default=None, help="images per task (resume granularity)")
    parser.add_argument("--test-subset", type=int, default=None, metavar="N",
                        help="corrupt only the first N test images (with --folder: the first N files)")
    add_old_spelling(parser, "--limit", "test_subset", type=int)
    parser.add_argument("--resize", type=int, default=256,
                        help="image folders and previews: shorter side resized to this first (0: no resize)")
    parser.add_argument("--crop", type=int, default=224, help="image folders and previews: centre crop side")
    parser.add_argument("--tile", type=int, default=None, help="preview: cell side in pixels")
    parser.add_argument("--frost-dir", default=None, help="folder with frost1-5 (default: download and cache)")
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip the md5 check of the CIFAR files (for re-encoded copies)")


def _check(args: argparse.Namespace) -> None:
    """Every number and the output path, before anything is read or written."""
    validate.integer(args.workers, "--workers", high=validate.MAX_WORKERS)
    validate.optional_integer(args.chunk, "--chunk")
    validate.optional_integer(args.test_subset, "--test-subset")
    validate.seed(args.seed, "--seed")
    for severity in args.severities:
        validate.integer(severity, "--severities", low=min(SEVERITIES), high=max(SEVERITIES))
    validate.integer(args.resize, "--resize", low=0, high=validate.MAX_SIDE)
    validate.integer(args.crop, "--crop", high=validate.MAX_SIDE)
    validate.optional_integer(args.tile, "--tile", low=16, high=1024)
    (validate.out_file if args.preview is not None else validate.out_folder)(args.out)
    if args.folder is not None:
        validate.outside(args.out, args.folder, "--out", "--folder")


def resume_hint(args: argparse.Namespace) -> str:
    return "run the same command again to finish; what was written is kept"


def run(args: argparse.Namespace) -> int:
    _check(args)
    limit = args.test_subset
    if args.preview is not None:
        from augmix.corruptions.preview import render_preview
        image = load_preview_image(args.preview, data_root=args.data_root, dataset="cifar10", verify=args.verify,
                                   resize=args.resize or None, crop=args.crop)
        grid = render_preview(image, names=args.corruptions, seed=args.seed, table=args.table,
                              frost_dir=args.frost_dir, tile=args.tile)
        with atomic_write(args.out) as f:
            if args.out.suffix.lower() in (".jpg", ".jpeg"):  # much smaller for 224 px noise rows
                grid.save(f, format="JPEG", quality=92)
            else:
                grid.save(f, format="PNG", optimize=True)
        print(f"wrote {args.out} ({image.shape[0]} px image, {len(args.corruptions)} corruptions x 5)")
        return 0
    if args.folder is not None:
        return _copy_folder(args)
    if args.data in ("cifar10", "cifar100"):
        images, labels = load_cifar(cifar_root(args.data_root), train=False, dataset=args.data,
                                    verify=args.verify)
        out = write_cifar_c(images[:limit], labels[:limit], args.out, names=args.corruptions,
                            severities=args.severities, seed=args.seed, table=args.table,
                            workers=args.workers, chunk=args.chunk or 500, frost_dir=args.frost_dir)
    else:
        out = write_imagenet_c(Path(args.data), args.out, crop=args.crop, resize=args.resize or None,
                               names=args.corruptions, severities=args.severities, seed=args.seed,
                               table=args.table, workers=args.workers, chunk=args.chunk or 64,
                               frost_dir=args.frost_dir, limit=limit)
    print(f"wrote {out}")
    return 0


def _copy_folder(args: argparse.Namespace) -> int:
    copy = write_folder_c(args.folder, args.out, names=args.corruptions, severities=args.severities,
                          seed=args.seed, table=args.table, workers=args.workers, chunk=args.chunk,
                          frost_dir=args.frost_dir, limit=args.test_subset)
    skipped = f"; skipped {len(copy.skipped)} (listed above)" if copy.skipped else ""
    print(f"wrote {copy.out}: {copy.files} images x {len(args.corruptions)} corruptions x "
          f"{len(args.severities)} severities{skipped}")
    return 0
