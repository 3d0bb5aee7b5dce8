"""Training checkpoints: written atomically, read safely, checked against the model they claim.

A checkpoint is one `torch.save` file (`RUN_DIR/checkpoint.pt`) holding the
model's weights with its name and class count, the optimizer, schedule and
gradient-scaler states, the epoch and step reached, the run's configuration,
its per-epoch records and the data's normalization. It holds only tensors and
plain Python values, so it is read with `torch.load(weights_only=True)`: a
tampered file cannot run code. Writing goes through `augmix.atomic`, so an
interrupted save leaves the previous checkpoint intact.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from augmix._util.atomic import atomic_write
from augmix.models import create_model

FORMAT = "augmix-checkpoint/1"
FILENAME = "checkpoint.pt"


def checkpoint_path(path: str | os.PathLike) -> Path:
    """`path` itself for a file, `path/checkpoint.pt` for a run folder."""
    path = Path(path)
    return path / FILENAME if path.is_dir() else path


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write `payload` (with the format tag added) to `path` via a temporary file and rename."""
    path = Path(path)
    with atomic_write(path, "wb") as f:
        torch.save({"format": FORMAT, **payload}, f)
    return path


# What every checkpoint holds (see `Trainer._save`), with the type each entry must have.
FIELDS = {"model": str, "num_classes": int, "model_state": dict, "optimizer": dict, "scheduler": dict,
          "scaler": dict, "epoch": int, "step": int, "config": dict, "records": list, "meta": dict}


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a checkpoint onto the CPU; ValueError naming the file when it is not a valid one
    (empty, truncated, not a checkpoint, or lacking one of its entries)."""
    path = checkpoint_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty (0 bytes), not a checkpoint; an incomplete copy? "
                         f"Restore it, or delete the run folder to train again")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch.load of a damaged file raises many kinds (KeyError for text)
        detail = (str(err).splitlines() or [""])[0][:200]
        raise ValueError(f"{path} is not a readable checkpoint (truncated or corrupt?): "
                         f"{type(err).__name__}: {detail}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not an augmix training checkpoint (format {FORMAT!r} expected)")
    missing = sorted(name for name in FIELDS if name not in payload)
    wrong = sorted(name for name, kind in FIELDS.items()
                   if name in payload and not _is(payload[name], kind))
    if missing or wrong:
        raise ValueError(f"{path} is a damaged augmix checkpoint: "
                         + "; ".join(([f"missing {missing}"] if missing else [])
                                     + ([f"wrong type of {wrong}"] if wrong else [])))
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in payload["model_state"].items()):
        raise ValueError(f"{path} is a damaged augmix checkpoint: its model_state is not a dict of tensors")
    return payload


def _is(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def restore_model(model: nn.Module, payload: dict[str, Any], name: str, source: str = "") -> None:
    """Load the checkpoint's weights into `model`, which must be architecture `name`; weights
    with a NaN or an infinity are refused (whatever that model computed would be meaningless)."""
    where = source or "checkpoint"
    if payload["model"] != name:
        raise ValueError(f"{where} holds a {payload['model']!r} model, not {name!r}")
    bad = [key for key, value in payload["model_state"].items()
           if value.is_floating_point() and not bool(torch.isfinite(value).all())]
    if bad:
        raise ValueError(f"{where} holds non-finite weights (NaN or inf) in {len(bad)} tensor(s), "
                         f"first {bad[0]!r}: a diverged or damaged model, whose results would be "
                         f"meaningless; use an earlier checkpoint or train again")
    try:
        model.load_state_dict(payload["model_state"])
    except RuntimeError as err:
        raise ValueError(f"{where} does not fit model {name!r}: {str(err).splitlines()[0]} "
                         f"(another class count or architecture?)") from None


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu"
               ) -> tuple[nn.Module, dict[str, Any]]:
    """The trained model of a run folder or checkpoint file, on `device`, in eval mode, and
    its meta data.

    meta: model, num_classes, epoch, config, mean, std, dataset (cifar10, cifar100,
    synthetic or imagenet), classes, image_size, and synthetic_seed for the synthetic set.
    """
    payload = read_checkpoint(path)
    where = str(checkpoint_path(path))
    try:
        model = create_model(payload["model"], payload["num_classes"])
    except ValueError as err:
        raise ValueError(f"{where}: cannot build its model: {err}") from None
    restore_model(model, payload, payload["model"], where)
    meta = {"model": payload["model"], "num_classes": payload["num_classes"],
            "epoch": payload["epoch"], "config": payload["config"], **payload["meta"]}
    return model.to(device).eval(), meta
