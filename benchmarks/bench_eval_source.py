"""Corruptions generated on the fly for `augmix eval`: one process against N worker processes.

Corrupts the first N test images with the 15 benchmark corruptions x 5 severities, as
`augmix eval --corrupted generate` does (no model), in alternating rounds of 1 and
`--workers` processes, and prints corrupted images per second and the ratio; the images are
checked to be identical. Real CIFAR-10 test images with --data-root, else the synthetic set.

    python benchmarks/bench_eval_source.py [--images 200] [--workers 2] [--rounds 2]
        [--data-root DIR] [--out out/bench_eval_source.json]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from augmix._util.atomic import atomic_write
from augmix.corruptions import CORRUPTIONS
from augmix.data.corrupted import iter_corrupted
from augmix.evaluation.sources import clean_test_set


def generate(images: np.ndarray, labels: np.ndarray, workers: int) -> tuple[float, list[np.ndarray]]:
    start = time.perf_counter()
    sets = [block for _, _, block, _ in iter_corrupted(images, labels, CORRUPTIONS, [1, 2, 3, 4, 5],
                                                       seed=0, workers=workers)]
    return time.perf_counter() - start, sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data-root", default=None, help="folder holding cifar-10-batches-py")
    parser.add_argument("--out", default="out/bench_eval_source.json")
    args = parser.parse_args()
    clean = (clean_test_set(args.data_root, "cifar10", verify=False, limit=args.images) if args.data_root
             else clean_test_set(None, "synthetic", limit=args.images))
    total = len(clean.labels) * len(CORRUPTIONS) * 5
    seconds: dict[int, list[float]] = {1: [], args.workers: []}
    for round_ in range(args.rounds):
        one_s, one = generate(clean.images, clean.labels, 1)
        many_s, many = generate(clean.images, clean.labels, args.workers)
        assert all(np.array_equal(a, b) for a, b in zip(one, many)), "worker processes changed the images"
        seconds[1].append(one_s)
        seconds[args.workers].append(many_s)
        print(f"round {round_ + 1}: 1 process {total / one_s:6.0f} images/s, {args.workers} workers "
              f"{total / many_s:6.0f} images/s ({one_s / many_s:.2f}x), load {os.getloadavg()[0]:.1f}")
    best = {n: total / min(s) for n, s in seconds.items()}
    print(f"best of {args.rounds}: {best[1]:.0f} vs {best[args.workers]:.0f} images/s "
          f"({best[args.workers] / best[1]:.2f}x) for {total} corrupted images")
    with atomic_write(args.out, "w") as f:
        json.dump({"benchmark": "eval corruption source", "images": len(clean.labels), "total": total,
                   "seconds": {str(k): v for k, v in seconds.items()}, "load_average": os.getloadavg()},
                  f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
