"""`augmix gallery`: arguments and output; the work is done by `augmix.augment.gallery`."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from augmix._util import validate
from augmix._util.atomic import atomic_write
from augmix.augment.augmix import AugMix
from augmix.augment.gallery import render_gallery
from augmix.data.cifar import load_cifar
from augmix.data.sources import cifar_root
from augmix.data.synthetic import make_synthetic

MAX_ROWS = 100  # images in one grid


def load_images(data: str, count: int, seed: int, data_root: str | None = None,
                verify: bool = True) -> list[Image.Image]:
    """`count` images: from the synthetic set, or the CIFAR-10/100 test set under `data_root`."""
    if data == "synthetic":
        images, _ = make_synthetic(max(count, 10), seed=seed)
    else:
        images, _ = load_cifar(cifar_root(data_root), train=False, dataset=data, verify=verify)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(images), size=min(count, len(images)), replace=False)
    return [Image.fromarray(images[i]) for i in picks]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("out/gallery.png"), help="PNG to write")
    parser.add_argument("--data", default="synthetic", choices=("synthetic", "cifar10", "cifar100"),
                        help="images from this data set's test split (default: synthetic)")
    parser.add_argument("--data-root", default=None,
                        help="folder holding CIFAR (default $AUGMIX_CACHE/cifar)")
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip the md5 check of the CIFAR files (for re-encoded copies)")
    parser.add_argument("--images", type=int, default=4, help="number of rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--severity", type=float, default=3)
    parser.add_argument("--width", type=int, default=3)
    parser.add_argument("--depth", type=int, default=-1)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--all-ops", action="store_true")


def run(args: argparse.Namespace) -> int:
    validate.integer(args.images, "--images", high=MAX_ROWS)
    validate.seed(args.seed, "--seed")
    validate.out_file(args.out)
    augmix = AugMix(args.severity, args.width, args.depth, args.alpha, args.all_ops, seed=args.seed)
    images = load_images(args.data, args.images, args.seed, args.data_root, args.verify)
    results = [augmix.augment(image) for image in images]
    with atomic_write(args.out) as f:
        render_gallery(images, results).save(f, format="PNG")
    print(f"wrote {args.out} ({len(images)} images x {args.width} chains)")
    return 0
