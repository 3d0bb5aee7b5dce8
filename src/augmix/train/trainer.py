"""`augmix train`: the paper's training recipes, on one CPU, one GPU or many (torchrun).

    augmix train --recipe cifar10-wrn-40-2 --data-root ~/data/cifar --out runs/wrn
    torchrun --nproc_per_node 4 -m augmix train --recipe cifar10-wrn-40-2 --out runs/wrn
    augmix train --out runs/wrn --resume

A run is one `TrainConfig` (a recipe from `augmix/train/recipes/*.json`, or a JSON
file, plus overrides). Every random stream is a pure function of the seed and
its position: model init of (seed), the sampler's permutation of (seed, epoch),
crops and AugMix draws of (seed, epoch, sample), batch-level draws (Mixup,
CutMix, Cutout, PGD starts, batched AugMix) of (seed, rank, step), and the
global torch / numpy / python generators are reseeded from (seed, rank, epoch)
at each epoch start. A checkpoint written after each epoch holds the model,
optimizer, schedule, gradient scaler, epoch and step, so `--resume` continues
bit-identically, whatever the number of DataLoader workers.

`--batch-size` is the global batch: with N processes each takes batch/N.
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import random
import shutil
import time
import typing
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from augmix._util.atomic import atomic_write
from augmix._util.convert import image_to_tensor as to_tensor
from augmix._util.errors import TrainingError
from augmix._util.lock import folder_lock
from augmix.baselines import METHODS, ImageSetup, Step
from augmix.baselines.adversarial import normalizer
from augmix.data.cifar import download_cifar
from augmix.data.folder import UnreadableImageError
from augmix.data.sources import cifar_root, training_sets
from augmix.data.transforms import cifar_train, imagenet_train
from augmix.models import create_model
from augmix.train import distributed
from augmix.train.checkpoint import FILENAME, read_checkpoint, restore_model, save_checkpoint
from augmix.train.config import AMP, TrainConfig, make_config
from augmix.train.schedules import Cosine, StepThirds

# Stream ids for derive_seed: one per independent use of the run's seed.
_INIT, _GLOBAL, _BATCH, _GEOMETRY, _AUGMIX, _LOADER, _DEVICE_AUGMIX = range(7)
RUN_FILES = (FILENAME, "config.json", "metrics.jsonl", "metrics.csv")


def derive_seed(seed: int, stream: int, *keys: int) -> int:
    """A 63-bit seed for one random stream, from the run's seed and the stream's position."""
    return int(np.random.SeedSequence([seed, stream, *keys]).generate_state(2, np.uint32)
               .astype(np.uint64) @ np.array([1 << 31, 1], np.uint64)) & ((1 << 63) - 1)


def _resolve_device(config: TrainConfig, group: distributed.Group) -> torch.device:
    if config.device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", group.local_rank)
        return torch.device("cpu")
    device = torch.device(config.device)  # one this machine has: TrainConfig.validate checked it
    if device.type == "cuda" and group.distributed:
        device = torch.device("cuda", group.local_rank)
    return device


def _seed_globals(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def _write_records(run_dir: Path, records: list[dict]) -> bool:
    """metrics.jsonl and metrics.csv from `records`, each rewritten (atomically) only where it
    differs from what is on disk; True when something was written."""
    buffer = io.StringIO()
    if records:
        columns = list(dict.fromkeys(key for record in records for key in record))
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(records)
    texts = {"metrics.jsonl": "".join(json.dumps(record) + "\n" for record in records),
             "metrics.csv": buffer.getvalue()}
    written = False
    for name, text in texts.items():
        path, data = run_dir / name, text.encode()
        if path.is_file() and path.read_bytes() == data:
            continue
        with atomic_write(path, "wb") as f:
            f.write(data)
        written = True
    return written


def repair_records(run_dir: str | Path) -> bool:
    """Make a run's metrics.jsonl and metrics.csv hold its checkpoint's records, when a process
    stopped between writing the checkpoint and the records; True when they were rewritten."""
    run_dir = Path(run_dir)
    with folder_lock(run_dir, wait=False, what="a training run"):
        return _write_records(run_dir, read_checkpoint(run_dir / FILENAME)["records"])


def _tensorboard(run_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard not installed: JSONL and CSV records only
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))


def _fingerprint(model: torch.nn.Module) -> str:
    """A hash of every parameter's bytes, to compare replicas."""
    digest = hashlib.sha256()
    for p in model.parameters():
        digest.update(p.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


class Trainer:
    """One training run; `run()` trains to the end (or `stop_after`) and returns the run folder."""

    def __init__(self, config: TrainConfig, run_dir: Path, *, resume: bool = False,
                 progress: bool = True):
        self.config, self.run_dir, self.progress = config, Path(run_dir), progress
        probe = "cuda" if (config.device.startswith("cuda") or
                           (config.device == "auto" and torch.cuda.is_available())) else "cpu"
        self.group = distributed.init_from_env(probe)
        self.device = _resolve_device(config, self.group)
        if config.batch_size % self.group.world_size:
            raise ValueError(f"batch_size {config.batch_size} must be divisible by the number of "
                             f"processes ({self.group.world_size}); it is the global batch")
        self.local_batch = config.batch_size // self.group.world_size
        if config.download and config.data in ("cifar10", "cifar100"):
            if self.group.local_rank == 0:  # one download per machine, the others wait for it
                download_cifar(cifar_root(config.data_root), config.data)
            distributed.barrier(self.group)
        train_base, test_base, self.info = training_sets(
            config.data, root=config.data_root,
            verify=config.verify, train_subset=config.train_subset,
            test_subset=config.test_subset, seed=config.seed, extra_train=config.extra_train)
        self.mean = tuple(config.mean) if config.mean is not None else self.info.mean
        self.std = tuple(config.std) if config.std is not None else self.info.std
        self.normalize = normalizer(self.mean, self.std)
        self.method = METHODS[config.method].configure(config)
        size = self.info.image_size
        self.train_set, self.epoch_aware = self.method.image_transform(train_base, ImageSetup(
            cifar_train(size) if size <= 64 else imagenet_train(size), size,
            seed=derive_seed(config.seed, _GEOMETRY) % 2**62,
            augment_seed=derive_seed(config.seed, _AUGMIX) % 2**62))
        self.sampler = torch.utils.data.DistributedSampler(
            self.train_set, num_replicas=self.group.world_size, rank=self.group.rank,
            shuffle=True, seed=config.seed, drop_last=False)
        loader_gen = torch.Generator().manual_seed(derive_seed(config.seed, _LOADER, self.group.rank))
        self.loader = torch.utils.data.DataLoader(
            _Guarded(self.train_set), batch_size=self.local_batch, sampler=self.sampler,
            num_workers=config.workers, pin_memory=self.device.type == "cuda",
            persistent_workers=config.workers > 0, generator=loader_gen, collate_fn=_collate)
        shard = range(self.group.rank, len(test_base), self.group.world_size)
        self.test_loader = torch.utils.data.DataLoader(
            _Guarded(_TestSet(torch.utils.data.Subset(test_base, shard))),
            batch_size=config.eval_batch_size, num_workers=config.workers,
            persistent_workers=config.workers > 0, collate_fn=_collate)

        torch.manual_seed(derive_seed(config.seed, _INIT))
        self.model = create_model(config.model, self.info.num_classes).to(self.device)
        if config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr,
                                         momentum=config.momentum, nesterov=config.nesterov,
                                         weight_decay=config.weight_decay)
        steps_per_epoch = len(self.loader)
        factor = (Cosine(config.epochs * steps_per_epoch, config.lr_min / config.lr)
                  if config.lr_schedule == "cosine"
                  else StepThirds(steps_per_epoch, config.epochs, config.batch_size))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=config.amp == "fp16")
        self.epoch, self.step, self.records = 0, 0, []
        self.resumed = resume
        if resume:
            self._restore()
        self.net = self.model
        if self.group.distributed:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    # -- checkpoints ---------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        meta = {"mean": list(self.mean), "std": list(self.std), "dataset": self.info.name,
                "classes": list(self.info.classes), "image_size": self.info.image_size}
        if self.info.name == "synthetic":  # the seed of its test split, for `augmix eval`
            meta["synthetic_seed"] = self.config.seed
        return meta

    def _save(self) -> None:
        save_checkpoint(self.run_dir / FILENAME, {
            "model": self.config.model, "num_classes": self.info.num_classes,
            "model_state": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
            "epoch": self.epoch, "step": self.step, "config": dataclasses.asdict(self.config),
            "records": self.records, "meta": self._meta(), "torch_version": str(torch.__version__)})

    def _restore(self) -> None:
        path = self.run_dir / FILENAME
        payload = read_checkpoint(path)
        restore_model(self.model, payload, self.config.model, str(path))
        try:
            self.optimizer.load_state_dict(payload["optimizer"])
            self.scheduler.load_state_dict(payload["scheduler"])
            self.scaler.load_state_dict(payload["scaler"])
        except (KeyError, ValueError, RuntimeError) as err:
            raise ValueError(f"{path}: optimizer/schedule state does not fit this run: {err}") from None
        self.epoch, self.step, self.records = payload["epoch"], payload["step"], payload["records"]

    # -- one step ------------------------------------------------------------------------
    def _step_draws(self) -> Step:
        """What the method's batch transform draws from at this step: (seed, rank, step) streams."""
        seed, rank = self.config.seed, self.group.rank
        generator = torch.Generator(device=self.device)
        generator.manual_seed(derive_seed(seed, _BATCH, rank, self.step))
        return Step(generator, derive_seed(seed, _DEVICE_AUGMIX, rank, self.step), self.model,
                    self.normalize)

    def _forward(self, x: torch.Tensor, *, normalized: bool = False,
                 module: torch.nn.Module | None = None) -> torch.Tensor:
        """Logits of `module` (default the DDP-wrapped model) on pixels in [0, 1], or on
        already normalized inputs, under the run's autocast and memory format."""
        if not normalized:
            x = self.normalize(x)
        if self.config.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        dtype = AMP[self.config.amp]
        with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
            return (module or self.net)(x)

    def _to_device(self, images):
        if isinstance(images, (tuple, list)):
            return tuple(v.to(self.device, non_blocking=True) for v in images)
        return images.to(self.device, non_blocking=True)

    # -- epochs --------------------------------------------------------------------------
    def _train_epoch(self, bar: tqdm) -> dict[str, float]:
        self.net.train()
        totals = torch.zeros(3, dtype=torch.float64, device=self.device)  # loss sum, correct, seen
        skipped = 0
        start = time.perf_counter()
        for i, (loaded, unreadable) in enumerate(_worker_errors(self.loader)):
            skipped += self._unreadable(unreadable)
            if loaded is None:  # every image of the batch skipped
                if self.group.distributed:  # the other ranks are waiting in this step's all-reduce
                    raise TrainingError(f"rank {self.group.rank}: every image of a batch is unreadable; "
                                        f"the ranks cannot take this step together")
                bar.update()
                continue
            images, targets = loaded
            self._check_labels(targets, "training")
            images, targets = self._to_device(images), targets.to(self.device, non_blocking=True)
            # The step: the method's batch transform and loss around one forward pass.
            batch = self.method.batch_transform(images, targets, self._step_draws())
            logits = self._forward(batch.inputs, normalized=batch.normalized)
            loss = self.method.loss(logits, batch)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.scheduler.step()
            self.step += 1
            n = targets.shape[0]  # logits[:n]: the clean view's (the first third with the JSD loss)
            totals += torch.stack([loss.detach().double() * n,
                                   (logits[:n].detach().argmax(1) == targets).sum().double(),
                                   torch.tensor(float(n), dtype=torch.float64, device=self.device)])
            if i % 10 == 0 or i + 1 == len(self.loader):
                loss_sum, correct, seen = totals.tolist()  # one device sync every 10 steps
                if not self.group.distributed:  # ranks check together, on the epoch's sum below
                    self._check_finite(loss_sum, i)
                rate = seen * self.group.world_size / max(time.perf_counter() - start, 1e-9)
                bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}",
                                img_s=f"{rate:.0f}", refresh=False)
            bar.update()
        elapsed = time.perf_counter() - start
        loss_sum, correct, seen, skipped = distributed.sum_across(totals.tolist() + [skipped], self.group,
                                                                  self.device)
        if not seen:
            raise TrainingError(f"epoch {self.epoch + 1}: every training image was unreadable")
        self._check_finite(loss_sum, len(self.loader) - 1)
        record = {"train_loss": loss_sum / seen, "train_acc": correct / seen,
                  "train_images": int(seen), "epoch_s": elapsed, "images_per_s": seen / elapsed}
        if self.config.skip_bad_images:
            record["skipped_images"] = int(skipped)
        return record

    def _unreadable(self, messages: list[str]) -> int:
        """Stop at an unreadable image, with its own message; or, with skip_bad_images, warn
        (once per file and process) and count it."""
        if messages and not self.config.skip_bad_images:
            raise ValueError(f"{messages[0]}; pass --skip-bad-images (TrainConfig.skip_bad_images) to "
                             f"skip such files with a warning")
        for message in messages:
            warnings.warn(f"skipped an unreadable image: {message}", stacklevel=2)
        return len(messages)

    def _check_labels(self, targets: torch.Tensor, split: str) -> None:
        """Labels outside the model's classes, named before they reach the loss (where they would
        be a device assert or an IndexError); on the loader's CPU tensor, so without a device sync."""
        classes = self.info.num_classes
        bad = targets[(targets < 0) | (targets >= classes)]
        if bad.numel():
            raise ValueError(f"a {split} label of data {self.config.data!r} is {int(bad[0])}, outside its "
                             f"{classes} classes (0 to {classes - 1})")

    def _check_finite(self, loss_sum: float, step: int) -> None:
        """Stop before a diverged model is saved: the last checkpoint stays the last good one."""
        if not math.isfinite(loss_sum):
            kept = f"epoch {self.epoch}'s checkpoint is kept" if self.epoch else "no checkpoint was written"
            raise TrainingError(f"the training loss became {loss_sum} in epoch {self.epoch + 1} by step "
                                f"{step + 1}; the run stopped ({kept}). Lower --lr, or check the data and "
                                f"the settings")

    @torch.no_grad()
    def _evaluate(self) -> dict[str, float]:
        self.model.eval()
        loss_sum = correct = seen = skipped = 0.0
        for loaded, unreadable in _worker_errors(self.test_loader):
            skipped += self._unreadable(unreadable)
            if loaded is None:
                continue
            images, targets = loaded
            self._check_labels(targets, "test")
            images, targets = images.to(self.device), targets.to(self.device)
            # The bare model: DDP's forward would sync buffers, and ranks may have unequal shards.
            logits = self._forward(images, module=self.model).float()
            loss_sum += float(F.cross_entropy(logits, targets, reduction="sum"))
            correct += float((logits.argmax(1) == targets).sum())
            seen += targets.shape[0]
        loss_sum, correct, seen, skipped = distributed.sum_across([loss_sum, correct, seen, skipped],
                                                                  self.group, self.device)
        if not seen:
            raise TrainingError("every test image was unreadable")
        record = {"test_loss": loss_sum / seen, "test_acc": correct / seen,
                  "test_error": 100.0 * (1 - correct / seen)}
        if self.config.skip_bad_images:
            record["test_skipped_images"] = int(skipped)
        return record

    def _check_shards(self) -> dict[str, Any]:
        """Under DDP: every rank's sample indices this epoch, disjoint, and equal replicas."""
        shards = distributed.gather_objects(list(iter(self.sampler)), self.group)
        prints = distributed.gather_objects(_fingerprint(self.model), self.group)
        if len(set(prints)) != 1:
            raise TrainingError(f"DDP replicas diverged at epoch {self.epoch} (parameter hashes "
                             f"{[p[:12] for p in prints]})")
        distinct = len(set().union(*map(set, shards)))
        return {"shard_sizes": [len(s) for s in shards], "distinct_samples": distinct,
                "replicas_equal": True}

    def run(self) -> Path:
        config, main = self.config, self.group.is_main
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            for name in RUN_FILES:  # temporary files of a process killed while writing
                for stale in self.run_dir.glob(f".{name}.*.tmp"):
                    stale.unlink()
            with atomic_write(self.run_dir / "config.json", "w") as f:
                json.dump(dataclasses.asdict(config), f, indent=2)
            if self.resumed:  # the records follow the checkpoint, even if a kill came between them
                _write_records(self.run_dir, self.records)
        writer = _tensorboard(self.run_dir) if main else None
        last = config.epochs if config.stop_after is None else min(config.epochs, config.stop_after)
        try:
            while self.epoch < last:
                _seed_globals(derive_seed(config.seed, _GLOBAL, self.group.rank, self.epoch))
                self.sampler.set_epoch(self.epoch)
                for layer in self.epoch_aware:
                    layer.set_epoch(self.epoch)
                bar = tqdm(total=len(self.loader), desc=f"epoch {self.epoch + 1}/{config.epochs}",
                           unit="batch", disable=not (self.progress and main), leave=False)
                with bar:
                    record = {"epoch": self.epoch + 1, **self._train_epoch(bar)}
                record.update(self._evaluate())
                record.update(step=self.step, lr=self.optimizer.param_groups[0]["lr"])
                if self.group.distributed:
                    record.update(self._check_shards())
                self.epoch += 1
                self.records.append(record)
                if main:
                    self._save()
                    _write_records(self.run_dir, self.records)
                    if writer is not None:
                        for key in ("train_loss", "train_acc", "test_loss", "test_acc", "lr",
                                    "images_per_s"):
                            writer.add_scalar(key, record[key], self.epoch)
                    if self.progress:
                        tqdm.write(f"epoch {record['epoch']}/{config.epochs}: train loss "
                                   f"{record['train_loss']:.4f} acc {record['train_acc']:.4f} | "
                                   f"test loss {record['test_loss']:.4f} error "
                                   f"{record['test_error']:.2f}% | {record['images_per_s']:.0f} img/s")
        finally:
            if writer is not None:
                writer.close()
            distributed.shutdown(self.group)
        return self.run_dir


class _TestSet(torch.utils.data.Dataset):
    """Test images as unnormalized float tensors in [0, 1]."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        image, label = self.dataset[index]
        return to_tensor(image), label


class _Unreadable(typing.NamedTuple):
    """What a data set item became when its image file could not be read."""
    message: str


class _Guarded(torch.utils.data.Dataset):
    """`dataset`, with an unreadable image file turned into an `_Unreadable` item where it is
    read (in a DataLoader worker): the trainer then stops with its message, or skips it."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        try:
            return self.dataset[index]
        except UnreadableImageError as err:
            return _Unreadable(str(err))


def _collate(items: list) -> tuple[Any, list[str]]:
    """(the batch of the readable items, or None if none is; the messages of the others)."""
    good = [item for item in items if not isinstance(item, _Unreadable)]
    bad = [item.message for item in items if isinstance(item, _Unreadable)]
    return (torch.utils.data.default_collate(good) if good else None), bad


def _worker_errors(loader: torch.utils.data.DataLoader):
    """`loader`'s batches; a ValueError or OSError raised in one of its worker processes is
    raised again with its own message: torch re-raises it with the worker's traceback inside
    the message, which the command line would print as one long line."""
    try:
        yield from loader
    except (ValueError, OSError) as err:
        first, _, rest = str(err).partition("\n")
        if not (first.startswith("Caught ") and "DataLoader worker" in first and rest.strip()):
            raise
        last = rest.rstrip().splitlines()[-1]  # "module.ErrorType: the original message"
        raise type(err)(last.partition(": ")[2] or last) from None


def _check_run_dir(run_dir: Path, resume: bool) -> None:
    has_run = (run_dir / FILENAME).exists()
    if resume and not has_run:
        raise FileNotFoundError(f"nothing to resume: no {FILENAME} in {run_dir}")
    if not resume and has_run:
        raise ValueError(f"{run_dir} already holds a run; pass --resume to continue it, "
                         f"or choose another --out")


def default_run_dir(config: TrainConfig) -> Path:
    """runs/RECIPE (the recipe's name or file stem), or runs/MODEL without a recipe."""
    return Path("runs") / (Path(config.recipe).stem if config.recipe else config.model)


def train(config: TrainConfig | dict, *, out: str | Path | None = None, resume: bool = False,
          progress: bool = True) -> Path:
    """Train one run into folder `out` (or continue it with `resume`); returns the folder.

    `out` defaults to `default_run_dir(config)`.

    `config` is a TrainConfig or a dict of its fields (a recipe may be named in
    `config["recipe"]`). The folder gets config.json, checkpoint.pt (every
    epoch, atomically), metrics.jsonl and metrics.csv, and tensorboard/ when
    TensorBoard is installed.
    """
    if isinstance(config, dict):
        settings = dict(config)
        config = make_config(settings.pop("recipe", None), **settings)
    elif isinstance(config, TrainConfig):
        config.validate()
    else:
        raise ValueError(f"config must be a TrainConfig or a dict, got {type(config).__name__}")
    run_dir = Path(out) if out is not None else default_run_dir(config)
    # One writer per run folder: a second `augmix train --out` on it is refused at once.
    # Under torchrun only rank 0 writes (and locks) it.
    writes = os.environ.get("RANK", "0") == "0"
    new_folder = writes and not run_dir.exists()
    with folder_lock(run_dir, wait=False, what="a training run") if writes else contextlib.nullcontext():
        _check_run_dir(run_dir, resume)
        try:
            return Trainer(config, run_dir, resume=resume, progress=progress).run()
        except BaseException:
            if new_folder and not (run_dir / FILENAME).exists():
                shutil.rmtree(run_dir, ignore_errors=True)  # a run that never got going leaves nothing
            raise
