"""Corruption speed: a whole CIFAR-10-C-style generation, and per-image 224 px times.

1. Writes all 19 corruptions x 5 severities for the first --images (5,000) real CIFAR-10 test
   images with `write_cifar_c` on all cores, and prints the wall time.
2. Per corruption at 224 px (severity 3, real CIFAR images upsampled), the library's CPU time
   per image. For glass blur, beside it, the naive algorithm as the spec describes it
   (`naive_glass_blur` below, written for this benchmark: SciPy Gaussian, then a Python loop
   over the pixels with one RandomState `randint` call per pixel, the cost profile of the
   reference's loop), as a ratio measured in the same run.

    PYTHONPATH=src python benchmarks/bench_corruptions.py [--images 5000] [--workers N]
Run it with OPENBLAS_NUM_THREADS=1 so BLAS threads do not compete with the worker processes.
Needs ../shared/data (real CIFAR-10 and the frost textures).
"""
from __future__ import annotations

import argparse
import io
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from augmix.corruptions import ALL_CORRUPTIONS, RANDOM_CORRUPTIONS, corrupt, get_table
from augmix.data.generate import write_cifar_c

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def load_cifar_test(n: int) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(SHARED / "cifar10-jpeg" / "cifar10_jpeg.npz")
    blob, offsets = data["test_jpeg"], data["test_offsets"]
    images = [np.asarray(Image.open(io.BytesIO(blob[offsets[i]:offsets[i + 1]].tobytes())).convert("RGB"))
              for i in range(n)]
    return np.stack(images), data["test_labels"][:n]


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children: less sensitive than wall time to other jobs."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def naive_glass_blur(image: np.ndarray, c: tuple, rs: np.random.RandomState) -> np.ndarray:
    """Glass blur the slow, obvious way, from the spec's description (section 1.2).

    Blur each channel with a Gaussian of sigma c[0] (nearest edges, 4 sigma), scale to 0..255 and
    truncate to uint8; then c[2] times, for every pixel from the bottom-right interior corner
    back to the top-left one (c[1] pixels in from each edge), draw an offset pair in
    [-c[1], c[1] - 1] and copy the pixel that far away into it; blur again.
    """
    sigma, delta, passes = c
    blur = (sigma, sigma, 0)
    x = (ndimage.gaussian_filter(image / 255.0, blur, mode="nearest") * 255).astype(np.uint8)
    height, width = x.shape[:2]
    for _ in range(passes):
        for row in range(height - delta, delta, -1):
            for col in range(width - delta, delta, -1):
                dx, dy = rs.randint(-delta, delta, size=2)
                x[row, col] = x[row + dy, col + dx]
    return np.clip(ndimage.gaussian_filter(x / 255.0, blur, mode="nearest"), 0, 1) * 255


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--per-image", type=int, default=4, help="224 px images timed per corruption")
    args = parser.parse_args()
    frost_dir = SHARED / "frost"
    images, labels = load_cifar_test(args.images)

    with tempfile.TemporaryDirectory() as tmp:
        cpu_before = _cpu_seconds()
        start = time.perf_counter()
        write_cifar_c(images, labels, tmp, workers=args.workers, frost_dir=frost_dir)
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before
    print(f"all 19 x 5 for {args.images} CIFAR images, {args.workers} processes: {seconds:.1f} s wall, "
          f"{cpu:.1f} s CPU ({cpu / (19 * 5 * args.images) * 1e6:.1f} us CPU per corrupted image); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    big = np.stack([np.asarray(Image.fromarray(im).resize((224, 224), Image.Resampling.BICUBIC))
                    for im in images[:args.per_image]])
    table = get_table("imagenet")
    print(f"\nper image at 224 px, severity 3 ({args.per_image} images, one process, CPU time):")
    print(f"{'corruption':20s} {'augmix ms':>10s}")
    for name in ALL_CORRUPTIONS:
        corrupt(big[:1], name, 3, rng=0, frost_dir=frost_dir)  # warm caches (frost textures)
        start = time.process_time()
        corrupt(big, name, 3, rng=0, frost_dir=frost_dir)
        ours = (time.process_time() - start) / len(big)
        marker = "  (random)" if name in RANDOM_CORRUPTIONS else ""
        print(f"{name:20s} {ours * 1e3:10.2f}{marker}")
        if name == "glass_blur":
            rs = np.random.RandomState(0)
            start = time.process_time()
            for image in big:
                naive_glass_blur(image, table[name, 3], rs)
            naive = (time.process_time() - start) / len(big)
            print(f"{'  naive pixel loop':20s} {naive * 1e3:10.2f}  ({naive / ours:.0f}x the library's time)")


if __name__ == "__main__":
    main()
