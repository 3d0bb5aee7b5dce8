"""Training throughput of `augmix train`: images per second per pipeline, as ratios.

Trains a few steps of each setting on the synthetic set and reads the
images/s of the last epoch (the first pays for worker start-up): plain
training (crop + flip, the reference), AugMix per image in DataLoader workers
with and without the JSD loss (the JSD loss triples the forward batch), and
AugMix batched on the device (`augmix.BatchAugMix`; workers only crop and flip). The
DataLoader alone is timed too, to show whether the data or the model bounds
the step. All figures come from this one run on this machine.

    python benchmarks/bench_train.py [--model wrn-40-2] [--device cpu] [--steps 8]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from augmix._util.atomic import atomic_write
from augmix.train.checkpoint import read_checkpoint
from augmix.train.config import make_config
from augmix.train.trainer import Trainer, train

SETTINGS = {
    "standard (crop+flip, reference)": dict(method="standard", jsd=False),
    "augmix workers, no JSD": dict(method="augmix", jsd=False),
    "augmix workers, JSD": dict(method="augmix", jsd=True),
    "augmix device, no JSD": dict(method="augmix", jsd=False, augment_on="device"),
    "augmix device, JSD": dict(method="augmix", jsd=True, augment_on="device"),
}


def loader_images_per_s(config) -> float:
    """Images/s of the training DataLoader alone (second pass, workers warm)."""
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config, Path(tmp), progress=False)
        for epoch in range(2):
            trainer.sampler.set_epoch(epoch)
            for layer in trainer.epoch_aware:
                layer.set_epoch(epoch)
            start, seen = time.perf_counter(), 0
            for _, targets in trainer.loader:
                seen += targets.shape[0]
        return seen / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="wrn-40-2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per epoch (2 epochs)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--amp", default="none", choices=("none", "bf16", "fp16"))
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--out", default="out/bench_train.json")
    args = parser.parse_args()
    base = dict(data="synthetic", model=args.model, device=args.device, batch_size=args.batch_size,
                train_subset=args.steps * args.batch_size, test_subset=args.batch_size, epochs=2,
                workers=args.workers, amp=args.amp, channels_last=args.channels_last,
                eval_batch_size=args.batch_size)
    results: dict[str, dict[str, float]] = {}
    print(f"{args.model}, batch {args.batch_size}, {args.workers} workers, device {args.device}, "
          f"amp {args.amp}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    for name, setting in SETTINGS.items():
        config = make_config(**base, **setting)
        with tempfile.TemporaryDirectory() as tmp:
            run = train(config, out=Path(tmp) / "run", progress=False)
            record = read_checkpoint(run)["records"][-1]
        results[name] = {"train_images_per_s": record["images_per_s"],
                         "loader_images_per_s": loader_images_per_s(config)}
    reference = results["standard (crop+flip, reference)"]["train_images_per_s"]
    print(f"{'setting':36s} {'train img/s':>12s} {'vs ref':>7s} {'loader img/s':>13s}")
    for name, figures in results.items():
        figures["ratio_to_reference"] = figures["train_images_per_s"] / reference
        print(f"{name:36s} {figures['train_images_per_s']:12.1f} {figures['ratio_to_reference']:7.2f} "
              f"{figures['loader_images_per_s']:13.1f}")
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} at the end (other processes share the CPUs: compare ratios)")
    with atomic_write(Path(args.out), "w") as f:
        json.dump({"args": vars(args), "torch": torch.__version__, "load_average_end": load,
                   "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
