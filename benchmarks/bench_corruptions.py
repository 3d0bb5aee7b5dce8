"""Corruption speed: a whole CIFAR-10-C-style generation, and per-image 224 px times.

1. Writes all 19 corruptions x 5 severities for the first --images (5,000) real CIFAR-10 test
   images with `write_cifar_c` on all cores, and prints the wall time.
2. Per corruption at 224 px (severity 3, real CIFAR images upsampled), the library's time per
   image beside a per-image loop in the reference style (tests/corruption_oracle.py: the
   reference's own structure, glass blur's Python pixel loop, scikit-image/SciPy per image),
   as a ratio measured in the same run.

    PYTHONPATH=src python benchmarks/bench_corruptions.py [--images 5000] [--workers N]
Run it with OPENBLAS_NUM_THREADS=1 so BLAS threads do not compete with the worker processes.
Needs ../shared/data (real CIFAR-10 and the frost textures) and scikit-image (for the oracle).
"""
from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "tests"))

import corruption_oracle as oracle  # noqa: E402  (the reference-style loop lives with the tests)

from augmix.corruptions import ALL_CORRUPTIONS, RANDOM_CORRUPTIONS, corrupt, get_table  # noqa: E402
from augmix.data.generate import write_cifar_c  # noqa: E402


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


def reference_loop(name: str, images: np.ndarray, c, frost_dir: Path, rs: np.random.RandomState) -> None:
    for image in images:
        if name in oracle.DETERMINISTIC:
            oracle.DETERMINISTIC[name](image, c)
        elif name == "frost":
            oracle.frost(image, c, frost_dir, rs=rs)
        else:
            oracle.RANDOM[name](image, c, rs=rs)


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
    print(f"{'corruption':20s} {'augmix ms':>10s} {'reference-style ms':>19s} {'speed-up':>9s}")
    for name in ALL_CORRUPTIONS:
        c = table[name, 3]
        corrupt(big[:1], name, 3, rng=0, frost_dir=frost_dir)  # warm caches (frost textures)
        start = time.process_time()
        corrupt(big, name, 3, rng=0, frost_dir=frost_dir)
        ours = (time.process_time() - start) / len(big)
        start = time.process_time()
        reference_loop(name, big, c, frost_dir, np.random.RandomState(0))
        theirs = (time.process_time() - start) / len(big)
        marker = "  (random)" if name in RANDOM_CORRUPTIONS else ""
        print(f"{name:20s} {ours * 1e3:10.2f} {theirs * 1e3:19.2f} {theirs / ours:8.1f}x{marker}")


if __name__ == "__main__":
    main()
