"""`augmix gallery`: a PNG grid of images, each AugMix chain and the final mix.

One row per image: the original, every chain's output (with its ops and
weight underneath) and the AugMix result, like the paper's Figure 4.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from augmix.atomic import atomic_write
from augmix.augment import SIGNED_OPS, AugMix, AugMixResult, OpCall

TILE = 128
LINE_HEIGHT = 12


def _describe(call: OpCall) -> str:
    if call.param is None:
        return call.name
    sign = "+" if call.name in SIGNED_OPS else ""
    value = f"{call.param:{sign}.3f}" if isinstance(call.param, float) else f"{call.param:{sign}d}"
    return f"{call.name} {value}"


def _tile(image: Image.Image) -> Image.Image:
    return image.convert("RGB").resize((TILE, TILE), Image.Resampling.NEAREST)


def _to_image(tensor) -> Image.Image:
    array = (tensor.clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy())
    return Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)


def render_gallery(images: list[Image.Image], results: list[AugMixResult]) -> Image.Image:
    """Lay out the originals, chains and mixes (the AugMix must not be normalized)."""
    width = len(results[0].chain_images)
    columns = ["original"] + [f"chain {i + 1}" for i in range(width)] + ["AugMix"]
    caption_lines = 1 + max(len(chain) for r in results for chain in r.plan.chains)
    cell_h = TILE + caption_lines * LINE_HEIGHT + 6
    canvas = Image.new("RGB", (len(columns) * (TILE + 6) + 6, 22 + len(images) * cell_h), "white")
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    for c, title in enumerate(columns):
        draw.text((6 + c * (TILE + 6), 5), title, fill="black", font=font)
    for r, (image, result) in enumerate(zip(images, results)):
        y = 22 + r * cell_h
        tiles = [image, *result.chain_images, _to_image(result.image)]
        captions = [[]] + [[_describe(c) for c in chain] + [f"weight {w:.2f}"]
                           for chain, w in zip(result.plan.chains, result.plan.chain_weights)]
        captions.append([f"m = {float(result.plan.skip_weight):.2f}"])
        for c, (tile, caption) in enumerate(zip(tiles, captions)):
            x = 6 + c * (TILE + 6)
            canvas.paste(_tile(tile), (x, y))
            for k, line in enumerate(caption):
                draw.text((x, y + TILE + 2 + k * LINE_HEIGHT), line, fill="black", font=font)
    return canvas


def load_images(data: str | None, count: int, seed: int, verify: bool = True) -> list[Image.Image]:
    """`count` images: from the synthetic set, or CIFAR-10's test set under `data`."""
    if data is None:
        from augmix.data.synthetic import make_synthetic
        images, _ = make_synthetic(max(count, 10), seed=seed)
    else:
        from augmix.data.cifar import load_cifar
        images, _ = load_cifar(data, train=False, verify=verify)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(images), size=min(count, len(images)), replace=False)
    return [Image.fromarray(images[i]) for i in picks]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("out/gallery.png"), help="PNG to write")
    parser.add_argument("--data", default=None,
                        help="folder holding cifar-10-batches-py/ (default: the synthetic set)")
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
    if args.images < 1:
        raise ValueError(f"--images must be >= 1, got {args.images}")
    augmix = AugMix(args.severity, args.width, args.depth, args.alpha, args.all_ops, seed=args.seed)
    images = load_images(args.data, args.images, args.seed, args.verify)
    results = [augmix.augment(image) for image in images]
    with atomic_write(args.out) as f:
        render_gallery(images, results).save(f, format="PNG")
    print(f"wrote {args.out} ({len(images)} images x {args.width} chains)")
    return 0
