"""The whole ImageNet AugMix input pipeline on one core: images per second, stage by stage.

Writes JPEGs of ImageNet's typical size (500x375, quality 90, about 100 KB) from
the synthetic images (upscaled, with noise so they compress like photographs), then
times on one core, in this process, in alternating rounds:

- decode: reading the JPEG into an RGB PIL image;
- + crop: RandomResizedCrop(224) and a horizontal flip (the ImageNet recipe);
- per-image AugMix: the official training script's data set, one image at a time
  (`AugMixDataset` with JSD: the clean image and two AugMix views, each a
  normalized float32 tensor), collated into batches: the loop every DataLoader
  worker runs;
- batched AugMix: the same decode and crop per image, then one `BatchAugMix.jsd_views`
  per batch (what `AugMixDataset(batched=True)` runs in each worker), normalized in
  the kernel;
- timm's `augmix-m3-w3` transform with the same crop and collation, where timm is installed.

Prints a table (images per second and milliseconds per image of each stage), names
the stage that bounds each pipeline, and converts the rates into CPU cores per GPU for
a stated GPU rate. `--quick` runs tiny sizes (tests).

    python benchmarks/bench_pipeline.py [--seconds 5] [--rounds 3] [--out out/bench_pipeline.json]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image
from torch.utils.data import default_collate

from augmix import BatchAugMix
from augmix._util.atomic import atomic_write
from augmix._util.convert import image_to_tensor, nhwc_to_nchw, normalize
from augmix.data.augmix_dataset import AugMixDataset
from augmix.data.folder import read_rgb
from augmix.data.synthetic import make_synthetic
from augmix.data.transforms import imagenet_train

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
# ResNet-50 training on one A100 with AMP and channels-last: about 2,600 images/s
# (timm's benchmark.py, github.com/huggingface/pytorch-image-models/issues/1491).
GPU_IMAGES_PER_SECOND = 2600
# Noise on the upscaled synthetic images: JPEGs of about 100 KB at 500x375, quality 90, near
# ImageNet's training files (about 140 GB for 1.28 million images: some 110 KB each).
NOISE = 24


def write_jpegs(folder: Path, n: int, size: tuple[int, int], quality: int = 90) -> list[Path]:
    """n natural-looking JPEGs of `size` (width, height): synthetic images upscaled, plus noise."""
    arrays, _ = make_synthetic(n, seed=0, size=128)
    rng = np.random.default_rng(0)
    paths = []
    for i, array in enumerate(arrays):
        big = np.asarray(Image.fromarray(array).resize(size, Image.Resampling.BICUBIC), np.float32)
        noisy = np.clip(big + rng.normal(0, NOISE, big.shape), 0, 255).astype(np.uint8)
        path = folder / f"{i:05d}.jpg"
        Image.fromarray(noisy).save(path, quality=quality)
        paths.append(path)
    return paths


class _Crops:
    """(decoded, cropped and flipped PIL image, label) for each JPEG: the ImageNet training set."""

    def __init__(self, paths: list[Path], crop: Callable | None, seed: int = 0):
        self.paths, self.crop = paths, crop
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int):
        image = read_rgb(self.paths[index])
        return (image if self.crop is None else self.crop(image, self.rng)), 0


def _rate(step: Callable[[int], int], seconds: float) -> float:
    """Images per second of `step(i)` (which returns the images it handled), after one warm-up call."""
    step(0)
    done, i, start = 0, 1, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += step(i)
        i += 1
    return done / (time.perf_counter() - start)


def _timm_augment_and_mix():
    """timm's `augment_and_mix_transform` and a note, or None and why it is missing. timm's
    package imports torchvision, which may not load with this torch; its auto_augment module
    needs only PIL and numpy, so it is then loaded from timm's files on its own, unchanged."""
    spec = importlib.util.find_spec("timm")
    if spec is None:
        return None, "timm is not installed (pip install timm)"
    try:
        from timm.data.auto_augment import augment_and_mix_transform
        return augment_and_mix_transform, ""
    except Exception as err:  # a timm whose package import fails here
        path = Path(spec.submodule_search_locations[0]) / "data" / "auto_augment.py"
        module_spec = importlib.util.spec_from_file_location("_timm_auto_augment", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return module.augment_and_mix_transform, f"timm.data.auto_augment loaded alone ({type(err).__name__}: {err})"


def _timm_transform(size: int):
    """timm's 'augmix-m3-w3' JSD views after our crop and flip (or None), and a note."""
    augment_and_mix, note = _timm_augment_and_mix()
    if augment_and_mix is None:
        return None, note
    augment = augment_and_mix("augmix-m3-w3", {"translate_const": int(size * 0.45),
                                               "img_mean": tuple(round(255 * m) for m in IMAGENET_MEAN)})
    mean, std = torch.tensor(IMAGENET_MEAN).view(3, 1, 1), torch.tensor(IMAGENET_STD).view(3, 1, 1)

    def views(image):
        return tuple(normalize(image_to_tensor(v), mean, std) for v in (image, augment(image), augment(image)))
    return views, note


def measure(paths: list[Path], size: int, batch_size: int, seconds: float) -> dict:
    """One round: images per second on one core of each pipeline."""
    crop = imagenet_train(size)
    decoded, cropped = _Crops(paths, None), _Crops(paths, crop)
    per_image = AugMixDataset(_Crops(paths, crop), jsd=True, mean=IMAGENET_MEAN, std=IMAGENET_STD, seed=0)
    engine = BatchAugMix(mean=IMAGENET_MEAN, std=IMAGENET_STD, seed=0, threads=1)
    n = len(paths)

    def batched(i: int) -> int:
        images = [np.asarray(cropped[(i * batch_size + j) % n][0]) for j in range(batch_size)]
        engine.jsd_views(nhwc_to_nchw(torch.from_numpy(np.stack(images))))
        return batch_size

    def collated(item: Callable[[int], object]) -> Callable[[int], int]:
        """A batch of items collated into tensors, as a DataLoader worker makes it."""
        def step(i: int) -> int:
            default_collate([item((i * batch_size + j) % n) for j in range(batch_size)])
            return batch_size
        return step

    rates = {"decode": _rate(lambda i: (decoded[i % n], 1)[1], seconds),
             "decode_crop": _rate(lambda i: (cropped[i % n], 1)[1], seconds),
             "per_image_augmix": _rate(collated(lambda i: per_image[i]), seconds),
             "batched_augmix": _rate(batched, seconds)}
    timm_views, note = _timm_transform(size)
    if timm_views is not None:
        rates["timm_augmix"] = _rate(collated(lambda i: timm_views(cropped[i][0])), seconds)
    return {"rates": rates, "timm": note if timm_views is not None else None,
            "timm_skipped": None if timm_views is not None else note}


def summarize(rounds: list[dict], gpu_rate: float) -> dict:
    """Medians, milliseconds per image of each stage, the bounding stage and cores per GPU."""
    names = rounds[0]["rates"].keys()
    rate = {name: statistics.median(r["rates"][name] for r in rounds) for name in names}
    decode_ms, crop_ms = 1e3 / rate["decode"], 1e3 / rate["decode_crop"] - 1e3 / rate["decode"]
    pipelines = {}
    for name in ("per_image_augmix", "batched_augmix", "timm_augmix"):
        if name not in rate:
            continue
        total_ms = 1e3 / rate[name]
        stages = {"decode": decode_ms, "crop": max(crop_ms, 0.0),
                  "augmix": max(total_ms - 1e3 / rate["decode_crop"], 0.0)}
        # A JSD step feeds the model three inputs per image (clean + two views).
        cores = gpu_rate / 3 / rate[name]
        pipelines[name] = {"images_per_second": rate[name], "ms_per_image": total_ms, "stages_ms": stages,
                           "bound_by": max(stages, key=stages.get), "cores_per_gpu": cores}
    return {"medians": rate, "pipelines": pipelines}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64, help="JPEGs written and cycled through")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64, help="images per batched AugMix call")
    parser.add_argument("--gpu-rate", type=float, default=GPU_IMAGES_PER_SECOND,
                        help="model inputs per second one GPU trains on (default: ResNet-50, A100, AMP)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for tests (figures meaningless)")
    parser.add_argument("--out", type=Path, default=Path("out/bench_pipeline.json"))
    args = parser.parse_args(argv)
    size, jpeg_size = 224, (500, 375)
    if args.quick:
        args.images, args.seconds, args.rounds, args.batch_size = 4, 0.05, 1, 2
        size, jpeg_size = 32, (50, 40)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        paths = write_jpegs(Path(folder), args.images, jpeg_size)
        kilobytes = float(np.mean([p.stat().st_size for p in paths])) / 1024
        print(f"{args.images} JPEGs of {jpeg_size[0]}x{jpeg_size[1]} (quality 90, {kilobytes:.0f} KB on average), "
              f"crop {size} px, batches of {args.batch_size}; one core")
        rounds = []
        for index in range(args.rounds):
            load = os.getloadavg()
            row = measure(paths, size, args.batch_size, args.seconds)
            row.update(round=index, load_before=load)
            rounds.append(row)
            print(f"round {index}: " + "   ".join(f"{k} {v:7.1f}" for k, v in row["rates"].items())
                  + f"   images/s   load {load[0]:.2f}")
    if rounds[0]["timm_skipped"]:
        print(f"timm augmix-m3-w3 skipped: {rounds[0]['timm_skipped']}")
    elif rounds[0]["timm"]:
        print(f"timm augmix-m3-w3: {rounds[0]['timm']}")
    summary = summarize(rounds, args.gpu_rate)
    print(f"decode {summary['medians']['decode']:.0f} images/s, decode + crop "
          f"{summary['medians']['decode_crop']:.0f} images/s")
    print(f"{'pipeline (JSD: clean + 2 views)':34s} {'images/s':>9s} {'decode ms':>10s} {'crop ms':>8s} "
          f"{'AugMix ms':>10s}  {'bound by':9s} {'cores/GPU':>9s}")
    for name, p in summary["pipelines"].items():
        s = p["stages_ms"]
        print(f"{name:34s} {p['images_per_second']:9.1f} {s['decode']:10.2f} {s['crop']:8.2f} {s['augmix']:10.2f}  "
              f"{p['bound_by']:9s} {p['cores_per_gpu']:9.1f}")
    print(f"cores per GPU: a GPU training on {args.gpu_rate:.0f} model inputs/s takes {args.gpu_rate / 3:.0f} "
          f"JSD images/s (three inputs each)")
    record = {"benchmark": "ImageNet AugMix input pipeline, one core, images per second", "rounds": rounds,
              **summary, "images": args.images, "jpeg_size": jpeg_size, "jpeg_kilobytes": kilobytes,
              "crop": size, "batch_size": args.batch_size, "gpu_rate": args.gpu_rate, "quick": args.quick,
              "machine": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
              "torch": torch.__version__, "pil": Image.__version__,
              "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
