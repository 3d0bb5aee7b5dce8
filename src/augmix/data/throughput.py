"""AugMix views per second (what `augmix bench` measures): per-image path against the batched engine.

(a) the per-image path: `AugMixDataset` (PIL ops, one image at a time) in a
DataLoader with N workers; (b) `BatchAugMix` in this process with N threads,
on the same decoded uint8 images (on the CPU its compiled kernel); with
`--tensor-ops`, also (c) the same engine forced onto its tensor ops (what it
runs on GPUs), which shows what the compiled kernel buys. Both make JSD training batches
(clean + two AugMix views; a view is one AugMix output). The two are measured
in alternating rounds of the same run, so a busy machine slows both, and the
load average is recorded beside every round.
"""
from __future__ import annotations

import os
import statistics
import time
from typing import Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

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
    """Alternate (a), (b) and optionally (c) `rounds` times per size; medians, ratios, loads.

    `log` receives one line per round and one summary per size, as they are measured."""
    results = {}
    for size in sizes:
        arrays, _ = make_synthetic(images_per_size, seed=0, size=size)
        tensor = nhwc_to_nchw(torch.from_numpy(arrays)).contiguous()
        rows = []
        for round_index in range(rounds):
            load_before = os.getloadavg()
            a = per_image_views_per_second(arrays, workers, batch_size, seconds)
            b = batched_views_per_second(tensor, workers, batch_size, seconds, device)
            row = {"round": round_index, "per_image": a, "batched": b, "ratio": b / a}
            line = (f"{size:>4} px  round {round_index}: (a) per-image {a:8.0f} views/s   "
                    f"(b) batched {b:8.0f} views/s   (b)/(a) {b / a:5.2f}")
            if tensor_ops:
                c = batched_views_per_second(tensor, workers, batch_size, seconds, device, compiled=False)
                row.update(tensor_ops=c, kernel_vs_tensor_ops=b / c)
                line += f"   (c) tensor ops {c:7.0f}   (b)/(c) {b / c:5.2f}"
            row.update(load_before=load_before, load_after=os.getloadavg())
            rows.append(row)
            log(f"{line}   load {load_before[0]:.2f}")
        a_med = statistics.median(r["per_image"] for r in rows)
        b_med = statistics.median(r["batched"] for r in rows)
        results[f"{size}px"] = {"per_image_median": a_med, "batched_median": b_med,
                                "ratio_of_medians": b_med / a_med, "rounds": rows}
        summary = f"{size:>4} px  median: (a) {a_med:8.0f}   (b) {b_med:8.0f}   (b)/(a) {b_med / a_med:5.2f}"
        if tensor_ops:
            c_med = statistics.median(r["tensor_ops"] for r in rows)
            results[f"{size}px"].update(tensor_ops_median=c_med, kernel_vs_tensor_ops=b_med / c_med)
            summary += f"   (c) {c_med:7.0f}   (b)/(c) {b_med / c_med:5.2f}"
        log(summary)
    return results
