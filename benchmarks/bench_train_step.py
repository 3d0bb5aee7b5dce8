"""Training-step cost of AugMix + JSD on the device, against the same step on pre-augmented tensors.

(i) pre-augmented: the [clean; aug1; aug2] float batch is already on the device;
the step is forward + AugMixLoss + backward + SGD. (ii) on-device: the step
starts from the decoded uint8 batch and runs `BatchAugMix.jsd_views` first.
Both are timed in alternating rounds of the same run (CUDA synchronized), and
the overhead (ii)/(i) - 1 is printed and written as JSON with the load average.

    python benchmarks/bench_train_step.py --device cuda [--model wrn-40-2] [--amp bf16] [--channels-last]
    python benchmarks/bench_train_step.py --device cpu --model wrn-10-1 --batch-size 8 --steps 2   # smoke
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import time

import torch

from augmix import AugMixLoss, BatchAugMix
from augmix._util.atomic import atomic_write
from augmix.models import create_model

AMP = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}


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


def measure(device: str | torch.device, model: str = "wrn-40-2", batch_size: int = 128, size: int = 32,
            steps: int = 20, rounds: int = 3, amp: str = "none", channels_last: bool = False,
            log=print) -> dict:
    """Both steps timed in `rounds` alternating rounds; the record written by this script."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda: no CUDA device is available")
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    net = create_model(model, num_classes=10).to(device, memory_format=memory_format)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    loss_fn = AugMixLoss(lam=12.0)
    engine = BatchAugMix(seed=0, mean=(0.5,) * 3, std=(0.25,) * 3).to(device)
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (batch_size, 3, size, size), generator=g, dtype=torch.uint8).to(device)
    labels = torch.randint(0, 10, (batch_size,), generator=g).to(device)
    prepared = engine.jsd_views(images)

    def autocast():
        if AMP[amp] is None:
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=AMP[amp])

    def train_on(batch: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            logits = net(batch.contiguous(memory_format=memory_format))
        loss_fn(logits.float(), labels).backward()
        optimizer.step()

    net.train()
    rows = []
    for round_index in range(rounds):
        load = os.getloadavg()
        pre = time_steps(lambda: train_on(prepared), steps, device)
        on_device = time_steps(lambda: train_on(engine.jsd_views(images)), steps, device)
        rows.append({"round": round_index, "pre_augmented_s": pre, "on_device_s": on_device,
                     "overhead": on_device / pre - 1, "load_before": load})
        log(f"round {round_index}: pre-augmented {pre * 1e3:8.2f} ms/step   AugMix+JSD on {device.type} "
            f"{on_device * 1e3:8.2f} ms/step   overhead {100 * (on_device / pre - 1):6.1f}%")
    overhead = statistics.median(r["overhead"] for r in rows)
    on_device_s = statistics.median(r["on_device_s"] for r in rows)
    log(f"median overhead {100 * overhead:.1f}%")
    return {"benchmark": "training step: AugMix+JSD on the device vs pre-augmented tensors",
            "model": model, "batch_size": batch_size, "size": size, "device": str(device),
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "amp": amp, "channels_last": channels_last, "torch": torch.__version__,
            "median_overhead": overhead,
            "median_pre_augmented_s": statistics.median(r["pre_augmented_s"] for r in rows),
            "median_on_device_s": on_device_s,
            "images_per_s_on_device": batch_size / on_device_s, "rounds": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--model", default="wrn-40-2")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--size", type=int, default=32, help="image size in px")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--amp", choices=tuple(AMP), default="none", help="autocast dtype of the forward pass")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--out", default="out/bench_train_step.json")
    args = parser.parse_args()
    try:
        record = measure(args.device, args.model, args.batch_size, args.size, args.steps, args.rounds,
                         args.amp, args.channels_last)
    except ValueError as e:
        raise SystemExit(str(e))
    with atomic_write(args.out, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
