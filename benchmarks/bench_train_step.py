"""Training-step cost of AugMix + JSD on the device, against the same step on pre-augmented tensors.

(i) pre-augmented: the [clean; aug1; aug2] float batch is already on the device;
the step is forward + AugMixLoss + backward + SGD. (ii) on-device: the step
starts from the decoded uint8 batch and runs `BatchAugMix.jsd_views` first.
Both are timed in alternating rounds of the same run (CUDA synchronized), and
the overhead (ii)/(i) - 1 is printed and written as JSON with the load average.

    python benchmarks/bench_train_step.py --device cuda [--model wrn-40-2] [--batch-size 128]
    python benchmarks/bench_train_step.py --device cpu --model wrn-10-1 --batch-size 8 --steps 2   # smoke
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch

from augmix import AugMixLoss, BatchAugMix
from augmix._util.atomic import atomic_write
from augmix.models import create_model


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(step, steps: int, device: torch.device) -> float:
    """Seconds per call of step() over `steps` calls, after one warm-up call."""
    step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--model", default="wrn-40-2")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--size", type=int, default=32, help="image size in px")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="out/bench_train_step.json")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available")
    model = create_model(args.model, num_classes=10).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    loss_fn = AugMixLoss(lam=12.0)
    engine = BatchAugMix(seed=0, mean=(0.5,) * 3, std=(0.25,) * 3).to(device)
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (args.batch_size, 3, args.size, args.size), generator=g,
                           dtype=torch.uint8).to(device)
    labels = torch.randint(0, 10, (args.batch_size,), generator=g).to(device)
    prepared = engine.jsd_views(images)

    def train_on(batch: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(batch), labels).backward()
        optimizer.step()

    model.train()
    rows = []
    for round_index in range(args.rounds):
        load = os.getloadavg()
        pre = time_steps(lambda: train_on(prepared), args.steps, device)
        on_device = time_steps(lambda: train_on(engine.jsd_views(images)), args.steps, device)
        rows.append({"round": round_index, "pre_augmented_s": pre, "on_device_s": on_device,
                     "overhead": on_device / pre - 1, "load_before": load})
        print(f"round {round_index}: pre-augmented {pre * 1e3:8.2f} ms/step   AugMix+JSD on {device.type} "
              f"{on_device * 1e3:8.2f} ms/step   overhead {100 * (on_device / pre - 1):6.1f}%")
    overhead = statistics.median(r["overhead"] for r in rows)
    print(f"median overhead {100 * overhead:.1f}%")
    record = {"benchmark": "training step: AugMix+JSD on the device vs pre-augmented tensors",
              "model": args.model, "batch_size": args.batch_size, "size": args.size, "device": str(device),
              "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "torch": torch.__version__, "median_overhead": overhead, "rounds": rows}
    with atomic_write(args.out, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
