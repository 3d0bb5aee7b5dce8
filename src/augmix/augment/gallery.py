"""`augmix gallery`: a PNG grid of images, each AugMix chain and the final mix.

One row per image: the original, every chain's output (with its ops and
weight underneath) and the AugMix result, like the paper's Figure 4.
"""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from augmix._util.convert import chw_to_hwc, to_uint8
from augmix.augment.augmix import AugMixResult
from augmix.augment.plan import SIGNED_OPS, OpCall

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
    array = chw_to_hwc(to_uint8(tensor)).numpy()
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
