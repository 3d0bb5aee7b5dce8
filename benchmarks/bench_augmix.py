"""Per-image AugMix throughput: the baseline the batched engine is measured against.

Prints AugMix views per second (one process, one thread) at 32 and 224 px on
synthetic images, and writes the figures as JSON.

    python benchmarks/bench_augmix.py [--seconds 5] [--out out/bench_augmix.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch
from PIL import Image

from augmix import AugMix
from augmix._util.atomic import atomic_write
from augmix.data.synthetic import make_synthetic


def views_per_second(images: list[Image.Image], seconds: float) -> float:
    augmix = AugMix(seed=0)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        augmix(images[count % len(images)])
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time per size")
    parser.add_argument("--out", default="out/bench_augmix.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    arrays, _ = make_synthetic(64, seed=0)
    results = {}
    for size in (32, 224):
        images = [Image.fromarray(a).resize((size, size), Image.Resampling.BILINEAR) for a in arrays]
        results[f"{size}px"] = views_per_second(images, args.seconds)
        print(f"per-image AugMix at {size:>3} px: {results[f'{size}px']:8.0f} views/s (1 process)")
    record = {"benchmark": "per-image AugMix (PIL)", "views_per_second": results,
              "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
              "numpy": np.__version__, "pil": Image.__version__}
    with atomic_write(args.out, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
