"""Corruption speed per image against imagecorruptions, on one core; optionally a whole CIFAR-10-C run.

1. For each of the 19 corruptions at one severity (3), the CPU time per image of
   `augmix.corruptions.corrupt` and of `imagecorruptions.corrupt` (the reference code packaged
   for images of any size), at 224 x 224 and at 602 x 1200 (imagecorruptions' own test image
   size), on real CIFAR-10 test images upsampled (bicubic). Both sides use the ImageNet-C
   parameters at every size, as imagecorruptions does: augmix gets the `imagenet` table with
   the plasma map (fog) and frost texture scale made large enough for the image. One thread
   everywhere (BLAS, OpenMP, OpenCV). Rounds (of about 50 ms: fast corruptions run several
   times in one) alternate augmix and imagecorruptions; the figure is each side's fastest
   round (the least disturbed by other jobs), the ratio is theirs / ours, and "sum" compares
   the sums over the 19.
2. With --generate: all 19 x 5 for the first --images CIFAR-10 test images with
   `write_cifar_c` on --workers processes, timed (wall and CPU).

imagecorruptions is optional (`pip install --no-deps imagecorruptions 'setuptools<81'`, beside
scikit-image; it needs pkg_resources); without it only augmix's times are printed, with the reason. Version 1.1.2
predates NumPy 2 and scikit-image 0.19: where needed, its fog gets `numpy.float_` back (in
its module only) and its `multichannel=True` Gaussian calls (gaussian and glass blur) are
passed to scikit-image as `channel_axis=-1`, which is what that argument meant.

    PYTHONPATH=src python benchmarks/bench_corruptions.py [--severity 3] [--rounds 5] [--out bench.json]
    PYTHONPATH=src python benchmarks/bench_corruptions.py --quick --out /tmp/bench.json   # tiny, seconds
    PYTHONPATH=src python benchmarks/bench_corruptions.py --generate --images 5000 --workers 2
Needs ../shared/data (real CIFAR-10 and the frost textures).
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads BLAS
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
import warnings  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from augmix._util.atomic import atomic_write  # noqa: E402
from augmix.corruptions import ALL_CORRUPTIONS, SeverityTable, corrupt, get_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SIZES = ((224, 224), (602, 1200))
QUICK_SIZES = ((32, 32), (40, 64))
ONCE_SECONDS = 2.0  # a side slower than this per image is timed in one round only
ROUND_SECONDS = 0.05  # a round repeats fast corruptions for about this long


def load_cifar_test(n: int) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(SHARED / "cifar10-jpeg" / "cifar10_jpeg.npz")
    blob, offsets = data["test_jpeg"], data["test_offsets"]
    images = [np.asarray(Image.open(io.BytesIO(blob[offsets[i]:offsets[i + 1]].tobytes())).convert("RGB"))
              for i in range(n)]
    return np.stack(images), data["test_labels"][:n]


def load_imagecorruptions() -> tuple[types.ModuleType | None, list[str]]:
    """imagecorruptions, made to run on today's NumPy and scikit-image; or None and the reason."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its pkg_resources import warns
            import imagecorruptions
            import imagecorruptions.corruptions as module
    except ImportError as err:
        return None, [f"imagecorruptions is not installed ({err}): only augmix is timed; "
                      "pip install --no-deps imagecorruptions 'setuptools<81' (beside scikit-image) "
                      "for the comparison"]
    notes = []
    if not hasattr(np, "float_"):
        numpy_shim = types.ModuleType("numpy")
        numpy_shim.__dict__.update(np.__dict__)
        numpy_shim.float_ = np.float64
        module.np = numpy_shim
        notes.append("imagecorruptions' fog uses numpy.float_ (removed in NumPy 2): given float64 in its module")
    import inspect

    from skimage.filters import gaussian
    if "multichannel" not in inspect.signature(gaussian).parameters:
        def gaussian_multichannel(image, *args, multichannel=False, **kwargs):
            return gaussian(image, *args, channel_axis=-1 if multichannel else None, **kwargs)
        module.gaussian = gaussian_multichannel
        notes.append("imagecorruptions' gaussian and glass blur pass multichannel=True to scikit-image "
                     "(removed in 0.19): passed on as channel_axis=-1")
    return imagecorruptions, notes


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children: less sensitive than wall time to other jobs."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(fn, calls: int = 1) -> float:
    """CPU seconds per call of `fn(i)`, over `calls` calls (i = 1, 2, ...)."""
    start = time.process_time()
    for i in range(1, calls + 1):
        fn(i)
    return (time.process_time() - start) / calls


def compare(images: np.ndarray, severity: int, rounds: int, round_seconds: float, table: SeverityTable,
            frost_dir: Path, theirs: types.ModuleType | None) -> dict:
    """Per corruption: each side's CPU milliseconds per image in every round, the fastest, their ratio."""
    rows = {}
    for name in ALL_CORRUPTIONS:
        def ours(i: int) -> None:
            corrupt(images[i % len(images)], name, severity, rng=i, table=table, frost_dir=frost_dir)

        def reference(i: int) -> None:
            np.random.seed(i)
            theirs.corrupt(images[i % len(images)], severity=severity, corruption_name=name)

        sides = {"ours": ours} | ({"theirs": reference} if theirs is not None else {})
        times, calls, once = {}, {}, {}
        for side, fn in sides.items():  # the first call warms caches; one that slow is the only round
            first = _timed(lambda i: fn(0))
            once[side] = first > ONCE_SECONDS
            times[side] = [first] if once[side] else []
            calls[side] = max(1, round(round_seconds / first))
        for _ in range(rounds):  # alternating, so that both sides see the same load
            for side, fn in sides.items():
                if not once[side]:
                    times[side].append(_timed(fn, calls[side]))
        row = {f"{side}_ms": min(ts) * 1e3 for side, ts in times.items()}
        row |= {f"{side}_rounds_ms": [round(t * 1e3, 3) for t in ts] for side, ts in times.items()}
        if theirs is not None:
            row["ratio"] = row["theirs_ms"] / row["ours_ms"]
        rows[name] = row
        print(_line(name, row), flush=True)
    return rows


def _line(label: str, row: dict) -> str:
    theirs = f"{row['theirs_ms']:12.2f} {row['ratio']:8.2f}" if "theirs_ms" in row else f"{'-':>12s}"
    return f"{label:20s} {row['ours_ms']:10.2f} {theirs}"


def summary(rows: dict) -> dict:
    ours = sum(r["ours_ms"] for r in rows.values())
    out = {"ours_ms": ours}
    if all("theirs_ms" in r for r in rows.values()):
        theirs = sum(r["theirs_ms"] for r in rows.values())
        out |= {"theirs_ms": theirs, "ratio": theirs / ours,
                "min_ratio": min(r["ratio"] for r in rows.values()),
                "slowest_vs_theirs": min(rows, key=lambda n: rows[n]["ratio"])}
    return out


def generate(n: int, workers: int, frost_dir: Path) -> dict:
    from augmix.data.generate import write_cifar_c

    images, labels = load_cifar_test(n)
    with tempfile.TemporaryDirectory() as tmp:
        cpu_before = _cpu_seconds()
        start = time.perf_counter()
        write_cifar_c(images, labels, tmp, workers=workers, frost_dir=frost_dir)
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before
    print(f"all 19 x 5 for {n} CIFAR images, {workers} processes: {seconds:.1f} s wall, "
          f"{cpu:.1f} s CPU ({cpu / (19 * 5 * n) * 1e6:.1f} us CPU per corrupted image); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return {"images": n, "workers": workers, "wall_s": seconds, "cpu_s": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--severity", type=int, default=3, choices=range(1, 6))
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per corruption and side")
    parser.add_argument("--quick", action="store_true",
                        help="tiny images (32 x 32, 40 x 64), one call per round and side: checks that it runs")
    parser.add_argument("--out", help="write the figures as JSON here")
    parser.add_argument("--generate", action="store_true", help="also time a whole CIFAR-10-C-style run")
    parser.add_argument("--images", type=int, default=5000, help="CIFAR images for --generate")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for --generate")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    cv2.setNumThreads(1)
    frost_dir = SHARED / "frost"
    sizes, rounds, round_seconds = (QUICK_SIZES, 1, 0.0) if args.quick else (SIZES, args.rounds, ROUND_SECONDS)
    theirs, notes = load_imagecorruptions()
    for note in notes:
        print(f"note: {note}")
    record = {"benchmark": "corruption CPU time per image, one thread", "severity": args.severity,
              "rounds": rounds, "load_average_before": os.getloadavg(), "cpu_count": os.cpu_count(),
              "machine": platform.processor() or platform.machine(), "numpy": np.__version__,
              "opencv": cv2.__version__, "imagecorruptions": theirs and metadata.version("imagecorruptions"),
              "notes": notes, "sizes": {}}
    cifar, _ = load_cifar_test(4 if not args.quick else 2)
    for height, width in sizes:
        images = np.stack([np.asarray(Image.fromarray(im).resize((width, height), Image.Resampling.BICUBIC))
                           for im in cifar])
        print(f"\n{height} x {width}, severity {args.severity}, ms of CPU per image (fastest of {rounds} "
              f"rounds), load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:")
        print(f"{'corruption':20s} {'augmix':>10s} {'imagecorr.':>12s} {'ratio':>8s}")
        rows = compare(images, args.severity, rounds, round_seconds, get_table("imagenet"),
                       frost_dir, theirs)
        total = summary(rows)
        print(_line("sum", total))
        if "min_ratio" in total:
            print(f"every corruption faster than imagecorruptions: {total['min_ratio'] >= 1} "
                  f"(lowest ratio {total['min_ratio']:.2f}, {total['slowest_vs_theirs']})")
        record["sizes"][f"{height}x{width}"] = {"corruptions": rows, "sum": total,
                                                "load_average_after": os.getloadavg()}
    if args.generate:
        record["generate"] = generate(args.images, args.workers, frost_dir)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(args.out, "w") as f:
            json.dump(record, f, indent=2)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
