"""A PNG grid of one image under every corruption (rows) and severity (columns)."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from augmix.corruptions.core import corrupt, image_rng
from augmix.corruptions.names import ALL_CORRUPTIONS, EXTRA_CORRUPTIONS, SEVERITIES, check_name
from augmix.corruptions.sizes import table_for_shape
from augmix.corruptions.tables import SeverityTable, get_table

LABEL_WIDTH = 130
HEADER = 20
GAP = 4


def _tile(image: np.ndarray, side: int) -> Image.Image:
    tile = Image.fromarray(image)
    method = Image.Resampling.NEAREST if image.shape[0] < side else Image.Resampling.LANCZOS
    return tile.resize((side, side), method)


def render_preview(image: np.ndarray, *, names: Sequence[str] = ALL_CORRUPTIONS, seed: int = 0,
                   table: str | int | SeverityTable | None = None,
                   frost_dir: str | os.PathLike | None = None, tile: int | None = None) -> Image.Image:
    """Rows: corruptions (validation ones marked); columns: the clean image and severities 1..5.

    Each cell is `tile` pixels wide (default 128 for small images, 160 otherwise).
    """
    names = [check_name(n) for n in names]
    table = table_for_shape(*image.shape[:2]) if table is None else get_table(table)
    if tile is not None and tile < 16:
        raise ValueError(f"tile must be >= 16 pixels, got {tile}")
    side = tile or (128 if image.shape[0] <= 64 else 160)
    cell = side + GAP
    canvas = Image.new("RGB", (LABEL_WIDTH + 6 * cell, HEADER + len(names) * cell), "white")
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    for col, title in enumerate(["clean"] + [f"severity {s}" for s in SEVERITIES]):
        draw.text((LABEL_WIDTH + col * cell + 4, 4), title, fill="black", font=font)
    for row, name in enumerate(names):
        y = HEADER + row * cell
        label = name + (" (extra)" if name in EXTRA_CORRUPTIONS else "")
        draw.text((4, y + side // 2 - 6), label, fill="black", font=font)
        canvas.paste(_tile(image, side), (LABEL_WIDTH, y))
        for s in SEVERITIES:
            out = corrupt(image, name, s, rng=image_rng(seed, name, s, 0), table=table, frost_dir=frost_dir)
            canvas.paste(_tile(out, side), (LABEL_WIDTH + s * cell, y))
    return canvas
