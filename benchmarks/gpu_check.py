"""The GPU check: everything that needs a CUDA device, in one command of a few minutes.

    PYTHONPATH=src python benchmarks/gpu_check.py OUT [--shared DIR]    # on a machine with a GPU
    python benchmarks/gpu_check.py OUT --dry-run                       # the same steps, tiny, on the CPU

Steps, each recorded as ok, skipped (with the reason) or failed (with the error), so one
broken step never hides the others' figures:

1. environment: torch, CUDA device, the optional packages;
2. the CUDA tests (`pytest -m cuda`);
3. `BatchAugMix` views/s at 32 and 224 px on the device, against torchvision's
   `v2.AugMix` on the same batch where torchvision imports;
4. the WRN-40-2 AugMix+JSD training step (bf16 autocast, channels-last) with AugMix on the
   device, against the same step on pre-augmented tensors;
5. one epoch of CIFAR-10 AugMix+JSD WRN-40-2 (the paper's recipe, AugMix on the device) with
   its images/s and the projected time of the paper's 100 epochs.

Real CIFAR-10 is read from `--shared` (a folder holding data/cifar10-jpeg/, default the
`shared` folder beside the repository); without it the synthetic set stands in, and the
summary says so. Writes OUT/gpu-check.json and OUT/gpu-check.md.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "benchmarks")]

import bench_train_step  # noqa: E402
import torch  # noqa: E402

from augmix._util.atomic import atomic_write  # noqa: E402


class Skipped(Exception):
    """A step that cannot run here; its message is the reason."""


def log(message: str) -> None:
    print(message, flush=True)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _per_second(fn, count: int, device: torch.device, min_seconds: float) -> float:
    """`count` items per call of fn(): items per second over at least `min_seconds`, after a warm-up."""
    fn()
    _sync(device)
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < min_seconds:
        fn()
        calls += 1
        _sync(device)
    return count * calls / (time.perf_counter() - start)


def cifar_npz(shared: Path) -> Path | None:
    path = shared / "data" / "cifar10-jpeg" / "cifar10_jpeg.npz"
    return path if path.exists() else None


# --- the steps ----------------------------------------------------------------------------------

def environment(args, device: torch.device) -> dict:
    info = {"python": platform.python_version(), "torch": torch.__version__, "device": str(device),
            "cpu_count": os.cpu_count(), "dry_run": args.dry_run,
            "cifar10": str(cifar_npz(args.shared) or "absent: synthetic data stands in")}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(device_name=props.name, memory_gib=round(props.total_memory / 2**30, 1),
                    cuda=torch.version.cuda)
    for name in ("numpy", "numba", "scipy", "cv2", "torchvision", "timm"):
        try:
            info[name] = getattr(importlib.import_module(name), "__version__", "present")
        except Exception as e:  # any import failure only means "not usable here"
            info[name] = f"not importable ({type(e).__name__})"
    return info


def cuda_tests(args, device: torch.device) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
           "AUGMIX_SHARED_DIR": str(args.shared)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "cuda", "tests"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.tests_timeout)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)", summary)}
    result = {"command": " ".join(command[2:]), "summary": summary, "returncode": done.returncode, **counts}
    if done.returncode not in (0, 5) or counts.get("failed") or counts.get("error") or counts.get("errors"):
        raise RuntimeError(f"CUDA tests failed: {summary}\n{done.stdout[-3000:]}")
    if device.type == "cuda" and not counts.get("passed"):
        raise RuntimeError(f"no CUDA test ran on {device}: {summary}")
    return result


def augmix_throughput(args, device: torch.device) -> dict:
    import torch.nn.functional as F

    from augmix import BatchAugMix

    try:
        from torchvision.transforms import v2
    except Exception as e:
        v2, missing = None, f"torchvision not importable here ({type(e).__name__})"
    result = {}
    for size in (32, 224):
        n = args.sizes[size]
        g = torch.Generator().manual_seed(0)
        x = torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8)
        if size != 32:  # a smooth 224 px image, like an upscaled photo, not noise
            x = F.interpolate(x.float(), size=(size, size), mode="bilinear").round().to(torch.uint8)
        x = x.to(device)
        engine = BatchAugMix(seed=0).to(device)
        row = {"batch": n, "batch_augmix_views_per_s": _per_second(lambda: engine(x), n, device, args.seconds)}
        if v2 is not None:
            tv = v2.AugMix()
            row["torchvision_views_per_s"] = _per_second(lambda: tv(x), n, device, args.seconds)
            row["ratio"] = row["batch_augmix_views_per_s"] / row["torchvision_views_per_s"]
        else:
            row["torchvision"] = missing
        log(f"  {size} px: BatchAugMix {row['batch_augmix_views_per_s']:,.0f} views/s"
            + (f", torchvision v2.AugMix {row['torchvision_views_per_s']:,.0f} ({row['ratio']:.1f}x)"
               if v2 is not None else f" ({missing})"))
        result[f"{size}px"] = row
    return result


def train_step(args, device: torch.device) -> dict:
    return bench_train_step.measure(device, args.model, args.batch_size, 32, args.steps, args.rounds,
                                    amp="bf16", channels_last=True, log=lambda m: log("  " + m))


def one_epoch(args, device: torch.device) -> dict:
    from augmix.train import train

    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    npz = cifar_npz(args.shared)
    if npz is not None and not args.dry_run:
        script = npz.parent / "to_cifar_batches.py"
        subprocess.run([sys.executable, str(script), str(work / "cifar")], check=True, capture_output=True)
        data = {"recipe": "cifar10-wrn-40-2", "data_root": str(work / "cifar"), "verify": False}
    else:
        data = {"recipe": "synthetic-wrn-16-2", "model": "wrn-40-2"}
    config = {**data, "epochs": 100, "stop_after": 1, "augment_on": "device", "amp": "bf16",
              "channels_last": True, "device": str(device), "workers": args.workers}
    if args.dry_run:
        config.update(model="wrn-10-1", train_subset=64, test_subset=32, batch_size=16, eval_batch_size=32)
    start = time.perf_counter()
    run = train(config, out=work / "run", progress=False)
    wall = time.perf_counter() - start
    epoch = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    result = {"settings": {k: v for k, v in config.items() if k != "data_root"},
              "data": "CIFAR-10 (real)" if "data_root" in config else "synthetic (CIFAR-10 absent)",
              "train_images": epoch["train_images"], "epoch_s": epoch["epoch_s"],
              "images_per_s": epoch["images_per_s"], "test_error": epoch["test_error"],
              "wall_s_with_setup_and_test": wall,
              "projected_100_epochs_h": 100 * epoch["epoch_s"] / 3600 * (50_000 / epoch["train_images"])}
    log(f"  {epoch['train_images']} images in {epoch['epoch_s']:.1f} s = {epoch['images_per_s']:,.0f} img/s; "
        f"100 epochs on 50,000 images: about {result['projected_100_epochs_h']:.2f} h")
    return result


STEPS = [("environment", environment), ("cuda_tests", cuda_tests), ("augmix_throughput", augmix_throughput),
         ("train_step", train_step), ("one_epoch", one_epoch)]


def run_steps(args, device: torch.device) -> dict:
    record = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "steps": {}}
    for name, step in STEPS:
        log(f"[{name}]")
        start = time.perf_counter()
        try:
            entry = {"status": "ok", **step(args, device)}
        except Skipped as e:
            entry = {"status": "skipped", "reason": str(e)}
        except Exception as e:  # recorded, and the remaining steps still run
            entry = {"status": "failed", "error": f"{type(e).__name__}: {e}",
                     "traceback": traceback.format_exc()[-4000:]}
            log(f"  FAILED: {entry['error']}")
        entry["seconds"] = round(time.perf_counter() - start, 2)
        record["steps"][name] = entry
    record["ok"] = all(s["status"] != "failed" for s in record["steps"].values())
    return record


def markdown(record: dict) -> str:
    steps = record["steps"]
    env = steps["environment"]
    lines = [f"# GPU check ({record['started']})", "",
             f"Device: {env.get('device_name', env.get('device'))}, torch {env.get('torch')}"
             + (" (dry run on the CPU: tiny sizes, figures mean nothing)" if env.get("dry_run") else ""),
             f"Data: {env.get('cifar10')}", "", "| step | status | seconds | result |", "|---|---|---:|---|"]
    for name, s in steps.items():
        lines.append(f"| {name} | {s['status']} | {s['seconds']} | {_headline(name, s)} |")
    return "\n".join(lines) + "\n"


def _headline(name: str, s: dict) -> str:
    if s["status"] == "failed":
        return s["error"].splitlines()[0][:200]
    if s["status"] == "skipped":
        return s["reason"]
    if name == "cuda_tests":
        return s["summary"]
    if name == "augmix_throughput":
        return "; ".join(f"{size}: {r['batch_augmix_views_per_s']:,.0f} views/s"
                         + (f" ({r['ratio']:.1f}x torchvision)" if "ratio" in r else "") for size, r in s.items()
                         if isinstance(r, dict))
    if name == "train_step":
        return (f"{s['model']} batch {s['batch_size']}, bf16, channels-last: {s['median_on_device_s'] * 1e3:.1f} "
                f"ms/step with AugMix on the device, overhead {100 * s['median_overhead']:.1f}% over "
                f"pre-augmented")
    if name == "one_epoch":
        return (f"{s['images_per_s']:,.0f} img/s, {s['epoch_s']:.1f} s/epoch ({s['data']}); "
                f"100 epochs: {s['projected_100_epochs_h']:.2f} h")
    return ", ".join(f"{k} {v}" for k, v in s.items() if k in ("torch", "cuda", "torchvision", "timm"))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for gpu-check.json and gpu-check.md")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared",
                        help="folder holding data/cifar10-jpeg/ (real CIFAR-10) and data/frost/")
    parser.add_argument("--dry-run", action="store_true",
                        help="run every step on the CPU at tiny sizes (checks the script, not the GPU)")
    args = parser.parse_args(argv)
    tiny = args.dry_run
    args.sizes = {32: 8, 224: 2} if tiny else {32: 1024, 224: 128}
    args.seconds = 0.05 if tiny else 2.0
    args.model, args.batch_size = ("wrn-10-1", 8) if tiny else ("wrn-40-2", 128)
    args.steps, args.rounds = (1, 1) if tiny else (20, 3)
    args.workers = 0 if tiny else min(8, os.cpu_count() or 1)
    args.tests_timeout = 600
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.dry_run:
        device = torch.device("cpu")
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    else:
        log("gpu_check: no CUDA device here (use --dry-run to check the script on the CPU)")
        return 2
    with contextlib.suppress(Exception):
        torch.backends.cudnn.benchmark = device.type == "cuda"
    record = run_steps(args, device)
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out / "gpu-check.json", "w") as f:
        json.dump(record, f, indent=2, default=str)
    with atomic_write(args.out / "gpu-check.md", "w") as f:
        f.write(markdown(record))
    log(markdown(record))
    log(f"wrote {args.out / 'gpu-check.json'} and {args.out / 'gpu-check.md'}")
    return 0 if record["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
