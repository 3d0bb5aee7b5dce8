"""AugMix views per second (what `augmix bench` measures): per-image path against the batched engine.

(p) the per-image PIL loop on one core: `AugMixDataset` items taken one after
another in this process and collated into batches, which is what every
DataLoader worker of the official training script runs (the figure a user
measures per core); (a) the same per-image path in a
DataLoader with N workers; (b) `BatchAugMix` in this process with N threads,
on the same decoded uint8 images (on the CPU its compiled kernel), and (k) with
one thread; with `--tensor-ops`, also (c) the engine forced onto its tensor ops
(what it runs on GPUs), which shows what the compiled kernel buys. All make JSD
training batches (clean + two AugMix views; a view is one AugMix output). They
are measured in alternating rounds of the same run, so a busy machine slows
each, and the load average is recorded beside every round. (k)/(p) is the
per-core speed-up of the kernel.
"""
from __future__ import annotations

import os
import statistics
import time
from typing import Callable

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, default_collate

from augmix._util.convert import nhwc_to_nchw
from augmix.augment.batch import BatchAugMix
from augmix.data.augmix_dataset import AugMixDataset
from augmix.data.synthetic import make_synthetic


class _Images(Dataset):
    """Decoded HxWx3 uint8 images with dummy labels (the cost of decoding is left out of both)."""

    def __init__(self, images: np.ndarray):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.images[index], 0


def per_image_loop_views_per_second(images: list, batch_size: int, seconds: float) -> float:
    """(p): what each DataLoader worker of the official training script runs, on one core:
    AugMixDataset items (clean, aug1, aug2) one after another, collated into a batch."""
    dataset = AugMixDataset(images, jsd=True, seed=0)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)

    def batch(first: int) -> None:
        default_collate([dataset[(first + i) % len(dataset)] for i in range(batch_size)])
    try:
        dataset[0]  # warm up
        views, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            batch(views // 2)
            views += 2 * batch_size
        return views / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)


def per_image_views_per_second(images: np.ndarray, workers: int, batch_size: int, seconds: float) -> float:
    """(a): AugMixDataset in a DataLoader with `workers` processes, timed after the first batch."""
    loader = DataLoader(AugMixDataset(_Images(images), jsd=True, seed=0), batch_size=batch_size,
                        shuffle=True, num_workers=workers, drop_last=True)
    views, start = 0, None
    while start is None or time.perf_counter() - start < seconds:
        for (_, aug1, aug2), _ in loader:
            if start is None:
                start = time.perf_counter()
                continue
            views += len(aug1) + len(aug2)
            if time.perf_counter() - start >= seconds:
                break
    return views / (time.perf_counter() - start)


def batched_views_per_second(images: torch.Tensor, threads: int, batch_size: int, seconds: float,
                             device: str, compiled: bool | None = None) -> float:
    """(b): BatchAugMix.jsd_views on uint8 NCHW batches with `threads` threads ((c): compiled=False)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        engine = BatchAugMix(seed=0, threads=threads, compiled=compiled)
        batches = images.split(batch_size)
        batches = [b.to(device) for b in batches if len(b) == batch_size]
        engine.jsd_views(batches[0])  # warm up
        views, index, start = 0, 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            engine.jsd_views(batches[index % len(batches)])
            views += 2 * batch_size
            index += 1
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return views / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)


def run_benchmark(sizes: list[int], workers: int, batch_size: int, seconds: float, rounds: int,
                  device: str = "cpu", images_per_size: int = 512, tensor_ops: bool = False,
                  log: Callable[[str], None] = lambda line: None) -> dict:
    """Alternate (p), (a), (b), (k) and optionally (c) `rounds` times per size; medians,
    per-core figures (views/s divided by the cores used), ratios and loads.

    `log` receives one line per round and one summary per size, as they are measured."""
    results = {}
    for size in sizes:
        arrays, _ = make_synthetic(images_per_size, seed=0, size=size)
        pictures = [(Image.fromarray(a), 0) for a in arrays[:64]]
        tensor = nhwc_to_nchw(torch.from_numpy(arrays)).contiguous()
        rows = []
        for round_index in range(rounds):
            load_before = os.getloadavg()
            p = per_image_loop_views_per_second(pictures, batch_size, seconds)
            a = per_image_views_per_second(arrays, workers, batch_size, seconds)
            b = batched_views_per_second(tensor, workers, batch_size, seconds, device)
            k = b if workers == 1 or device != "cpu" else batched_views_per_second(
                tensor, 1, batch_size, seconds, device)
            row = {"round": round_index, "per_image_loop": p, "per_image": a, "batched": b,
                   "kernel_one_thread": k, "ratio": b / a, "kernel_vs_loop": k / p}
            line = (f"{size:>4} px  round {round_index}: per core, views/s: (p) per-image loop {p:6.0f}   "
                    f"(a) DataLoader {a / workers:6.0f}   (b) batched {b / workers:7.0f}   "
                    f"(k) kernel, 1 thread {k:7.0f}   (k)/(p) {k / p:5.2f}   (b)/(a) {b / a:5.2f}")
            if tensor_ops:
                c = batched_views_per_second(tensor, workers, batch_size, seconds, device, compiled=False)
                row.update(tensor_ops=c, kernel_vs_tensor_ops=b / c)
                line += f"   (c) tensor ops {c / workers:6.0f}   (b)/(c) {b / c:5.2f}"
            row.update(load_before=load_before, load_after=os.getloadavg())
            rows.append(row)
            log(f"{line}   load {load_before[0]:.2f}")
        med = {key: statistics.median(r[key] for r in rows)
               for key in ("per_image_loop", "per_image", "batched", "kernel_one_thread")}
        results[f"{size}px"] = {
            "per_image_loop_median": med["per_image_loop"], "per_image_median": med["per_image"],
            "batched_median": med["batched"], "kernel_one_thread_median": med["kernel_one_thread"],
            "per_core_median": {"per_image_loop": med["per_image_loop"], "per_image": med["per_image"] / workers,
                                "batched": med["batched"] / workers, "kernel": med["kernel_one_thread"]},
            "ratio_of_medians": med["batched"] / med["per_image"],
            "kernel_vs_loop": med["kernel_one_thread"] / med["per_image_loop"], "rounds": rows}
        summary = (f"{size:>4} px  median per core: (p) {med['per_image_loop']:6.0f}   "
                   f"(a) {med['per_image'] / workers:6.0f}   (b) {med['batched'] / workers:7.0f}   "
                   f"(k) {med['kernel_one_thread']:7.0f}   "
                   f"(k)/(p) {med['kernel_one_thread'] / med['per_image_loop']:5.2f}   "
                   f"(b)/(a) {med['batched'] / med['per_image']:5.2f}")
        if tensor_ops:
            c_med = statistics.median(r["tensor_ops"] for r in rows)
            results[f"{size}px"].update(tensor_ops_median=c_med, kernel_vs_tensor_ops=med["batched"] / c_med)
            summary += f"   (c) {c_med / workers:6.0f}   (b)/(c) {med['batched'] / c_med:5.2f}"
        log(summary)
    return results
