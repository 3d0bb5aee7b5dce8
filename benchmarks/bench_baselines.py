"""Cost of each baseline, as ratios against a reference measured in the same run.

- Cutout: per-image loop (one CHW call per sample) vs the batched NCHW version.
- AutoAugment (CIFAR-10 policy) and Random AutoAugment: PIL images per second,
  against converting the same images to tensors (the work every pipeline does).
- PGD: one 7-step (training) and one 20-step (evaluation) attack, in units of
  one clean forward + backward pass of the same small CNN.

    PYTHONPATH=src python benchmarks/bench_baselines.py [--batch 128] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from augmix.baselines import adversarial, autoaugment, cutout


def best_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def small_cnn() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.BatchNorm2d(32), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(64, 10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    n = args.batch
    images = torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(0))

    loop = best_seconds(lambda: torch.stack(
        [cutout.cutout(img, torch.Generator().manual_seed(i)) for i, img in enumerate(images)]),
        args.repeats)
    batched = best_seconds(lambda: cutout.batch_cutout(images, torch.Generator().manual_seed(0)),
                           args.repeats)
    print(f"cutout, {n} images: per-image loop {loop * 1e3:.1f} ms, batched "
          f"{batched * 1e3:.2f} ms, speed-up x{loop / batched:.1f}")

    pils = [Image.fromarray(a) for a in
            np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)]
    to_tensor = best_seconds(lambda: [torch.from_numpy(np.array(p)) for p in pils],
                             args.repeats)
    for name, augment in (("autoaugment cifar10", autoaugment.AutoAugment("cifar10")),
                          ("random autoaugment", autoaugment.RandomAutoAugment())):
        rng = np.random.default_rng(0)
        seconds = best_seconds(lambda: [augment(p, rng) for p in pils], args.repeats)
        print(f"{name}: {n / seconds:,.0f} images/s, {seconds / to_tensor:.1f}x the cost "
              f"of converting them to tensors")

    model, labels = small_cnn(), torch.randint(10, (n,))

    def clean_step() -> None:
        model.zero_grad()
        F.cross_entropy(model(images), labels).backward()

    clean = best_seconds(clean_step, args.repeats)
    for steps in (adversarial.TRAIN_STEPS, adversarial.EVAL_STEPS):
        attack = best_seconds(lambda: adversarial.pgd_attack(
            model, images, labels, steps=steps, generator=torch.Generator().manual_seed(0),
            mode="train"), args.repeats)
        print(f"pgd {steps} steps, {n} images: {attack * 1e3:.0f} ms = "
              f"{attack / clean:.1f}x one clean forward+backward ({clean * 1e3:.0f} ms)")


if __name__ == "__main__":
    main()
