"""`augmix bench`: arguments and output; the work is done by `augmix.data.throughput`."""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from augmix._util import validate
from augmix._util.atomic import atomic_write
from augmix.data.throughput import run_benchmark

MAX_SIZE, MAX_BATCH = 1024, 4096  # pixels, images: beyond them a batch outgrows memory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 224], help="image sizes in px")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="N: DataLoader workers for (a) and torch threads for (b) (default: CPU count)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of every measurement per size")
    parser.add_argument("--device", default="cpu", help="device of the batched engine (cpu, cuda)")
    parser.add_argument("--tensor-ops", action="store_true",
                        help="also measure (c): the engine on its tensor ops instead of the CPU kernel")
    parser.add_argument("--out", type=Path, default=Path("out/bench_batched.json"), help="JSON to write")


def run(args: argparse.Namespace) -> int:
    validate.integer(args.workers, "--workers", high=validate.MAX_WORKERS)
    validate.integer(args.batch_size, "--batch-size", high=MAX_BATCH)
    validate.integer(args.rounds, "--rounds")
    if not 0 < args.seconds <= 3600:
        raise ValueError(f"--seconds must be a number of seconds in (0, 3600], got {args.seconds}")
    if any(s < 8 for s in args.sizes):
        raise ValueError(f"--sizes must be >= 8 pixels, got {args.sizes}")
    for size in args.sizes:
        validate.integer(size, "--sizes", low=8, high=MAX_SIZE)
    validate.device(args.device, "--device")
    validate.out_file(args.out)
    results = run_benchmark(args.sizes, args.workers, args.batch_size, args.seconds, args.rounds, args.device,
                            tensor_ops=args.tensor_ops, log=print)
    record = {"benchmark": "AugMix JSD views per second: (p) the per-image PIL loop on one core, (a) per-image "
                           "AugMixDataset in a DataLoader with N workers, (b) BatchAugMix with N threads, "
                           "(k) BatchAugMix with one thread"
                           + (", (c) BatchAugMix on its tensor ops" if args.tensor_ops else ""),
              "n": args.workers, "batch_size": args.batch_size, "seconds": args.seconds,
              "device": args.device, "results": results, "cpu_count": os.cpu_count(),
              "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
              "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with atomic_write(args.out, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {args.out}")
    return 0
