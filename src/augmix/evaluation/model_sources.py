"""Models to evaluate that `augmix train` did not write: a TorchScript or torch.export file,
a user's `module:function` (optionally with a state dict), a state dict for a registered
architecture, or a pretrained torchvision or timm model.

Each loader returns an `nn.Module` on the CPU or raises a ValueError (or FileNotFoundError)
whose one line names the flag and the file or name at fault. torchvision's and timm's
pretrained models come with the mean, std and input size of their weights; neither package
is required. `probe` then runs one tiny batch, so that a model with the wrong class count or
input size is refused before anything is evaluated or written.

State dicts may come in the official AugMix code's layouts: `cifar.py`'s Wide ResNet
(`block1.layer.0.*`, `conv_shortcut`, a final `bn1`) is renamed to ours; its AllConvNet,
ResNeXt-29 and DenseNet (`allconv`, `resnext-29-32x4d`, `densenet-100-12-augmix-code`) and its
ImageNet ResNet-50 (torchvision's) already use our names. A DataParallel `module.` prefix
and a `state_dict` / `model_state` wrapper are removed first.
"""
from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from augmix._util import validate
from augmix.evaluation.evaluator import model_input, per_channel
from augmix.models import WideResNet, create_model

# Classes and normalization of each data set, as `augmix eval --data` names it; the CIFAR
# entries (and the synthetic set, trained alike) use the official cifar.py's mean = std = 0.5.
NUM_CLASSES = {"synthetic": 10, "cifar10": 10, "cifar100": 100, "imagenet": 1000}


def default_normalization(dataset: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) that models of `dataset` are usually trained with."""
    from augmix.data.sources import HALF, IMAGENET_MEAN, IMAGENET_STD
    return (IMAGENET_MEAN, IMAGENET_STD) if dataset == "imagenet" else (HALF, HALF)


def _first_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {(str(err).strip().splitlines() or [''])[0][:200]}"


def _existing_file(path: str | os.PathLike, flag: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{flag} {path}: no such file")
    return path


class _Exported(nn.Module):
    """An exported program's module: its graph keeps the mode it was exported in, and its
    `eval()` / `train()` raise, so this wrapper makes them no-ops for the evaluator."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.exported = module

    def train(self, mode: bool = True) -> _Exported:
        self.training = mode
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.exported(x)


def load_model_file(path: str | os.PathLike, flag: str = "--model-file") -> nn.Module:
    """A TorchScript module (`torch.jit.save`), else a torch.export program
    (`torch.export.save`), tried in that order."""
    path = _existing_file(path, flag)
    try:
        return torch.jit.load(str(path), map_location="cpu")
    except Exception as err:  # not TorchScript: RuntimeError from the zip reader, and others
        script_error = err
    export_logger = logging.getLogger("torch.export")
    level = export_logger.level
    export_logger.setLevel(logging.CRITICAL)  # it logs a traceback before raising
    try:
        return _Exported(torch.export.load(str(path)).module())
    except Exception as err:
        export_error = err
    finally:
        export_logger.setLevel(level)
    hint = ""
    if zipfile.is_zipfile(path) and any(name.endswith("/data.pkl") for name in zipfile.ZipFile(path).namelist()):
        hint = ("; it looks like a torch.save file: pass a state dict as --arch NAME --weights FILE, "
                "or an `augmix train` checkpoint as the positional argument")
    raise ValueError(f"{flag} {path} is neither a TorchScript module (torch.jit.load: "
                     f"{_first_line(script_error)}) nor a torch.export program (torch.export.load: "
                     f"{_first_line(export_error)}){hint}")


def load_callable(spec: str, kwargs_json: str | None = None, flag: str = "--model") -> nn.Module:
    """`module:function` imported (from sys.path or the current folder) and called with the
    JSON object `kwargs_json` as keyword arguments; it must return an nn.Module."""
    module_name, _, function_name = str(spec).partition(":")
    if not module_name or not function_name or not function_name.isidentifier():
        raise ValueError(f"{flag} {spec!r}: expected MODULE:FUNCTION, e.g. mymodels:build_net")
    kwargs = {} if kwargs_json is None else validate.json_object(
        kwargs_json, f"--model-kwargs {kwargs_json!r}", "a JSON object of keyword arguments")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())  # `augmix` as an installed script does not search the current folder
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise ValueError(f"{flag} {spec}: no module {module_name!r} on PYTHONPATH or in the "
                             f"current folder {os.getcwd()}") from None
        raise ValueError(f"{flag} {spec}: importing {module_name!r} failed: {_first_line(err)}") from None
    except Exception as err:
        raise ValueError(f"{flag} {spec}: importing {module_name!r} failed: {_first_line(err)}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        names = sorted(name for name, value in vars(module).items()
                       if callable(value) and not name.startswith("_"))[:8]
        raise ValueError(f"{flag} {spec}: module {module_name!r} has no function {function_name!r}"
                         f" (it has {names or 'no public callables'})")
    try:
        model = function(**kwargs)
    except Exception as err:
        raise ValueError(f"{flag} {spec}: calling {function_name}(**{kwargs}) failed: {_first_line(err)}") from None
    if not isinstance(model, nn.Module):
        raise ValueError(f"{flag} {spec}: {function_name}() returned a {type(model).__name__}, "
                         f"not a torch.nn.Module")
    return model


# ----------------------------------------------------------------------------- state dicts

def read_state_dict(path: str | os.PathLike, flag: str = "--weights") -> dict[str, torch.Tensor]:
    """The tensors of a weights-only file: a bare state dict, or a dict holding one as
    `state_dict` (the official AugMix code) or `model_state` (`augmix train`); a DataParallel
    `module.` prefix removed."""
    path = _existing_file(path, flag)
    import pickle
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(f"{flag} {path} is not a weights-only file: it holds Python objects besides "
                         f"tensors, which torch.load(weights_only=True) refuses to run "
                         f"({_first_line(err)[:120]}); save model.state_dict() instead") from None
    except Exception as err:
        raise ValueError(f"{flag} {path} is not a readable torch.save file: {_first_line(err)}") from None
    if isinstance(payload, dict):
        for key in ("state_dict", "model_state"):
            if isinstance(payload.get(key), dict):
                payload = payload[key]
                break
    if not (isinstance(payload, dict) and payload
            and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in payload.items())):
        found = sorted(map(str, payload))[:6] if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"{flag} {path} holds no state dict (a dict of tensors, bare or as its "
                         f"'state_dict' / 'model_state' entry); found {found}")
    if all(key.startswith("module.") for key in payload):
        payload = {key[len("module."):]: value for key, value in payload.items()}
    return payload


_OFFICIAL_WRN_BLOCK = re.compile(r"(block[123])\.layer\.(\d+)\.(.+)")


def _from_official_wrn(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename the official cifar.py Wide ResNet's keys to ours: its NetworkBlock's `.layer`
    level goes, its `conv_shortcut` (`convShortcut` in older copies) is our `shortcut`, and
    its final `bn1` our `bn`. Both compute the same function (the shortcut takes the
    pre-activated input in both; its avg_pool2d(8) is our global pool at 32 px)."""
    renamed = {}
    for key, value in state.items():
        match = _OFFICIAL_WRN_BLOCK.fullmatch(key)
        if match:
            rest = re.sub(r"^(conv_shortcut|convShortcut)\.", "shortcut.", match[3])
            key = f"{match[1]}.{match[2]}.{rest}"
        elif key.startswith("bn1."):
            key = "bn." + key[len("bn1."):]
        renamed[key] = value
    return renamed


def to_our_layout(model: nn.Module, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`state` with keys renamed to `model`'s where it is in a known official layout."""
    if isinstance(model, WideResNet) and any(_OFFICIAL_WRN_BLOCK.fullmatch(key) for key in state):
        return _from_official_wrn(state)
    return state  # ours, or torchvision's ResNet names, which our ResNets share


def load_weights(arch: str, weights: str | os.PathLike, num_classes: int,
                 flag: str = "--weights") -> nn.Module:
    """Registered architecture `arch` with `num_classes` classes, holding the state dict of
    `weights` (ours or a known official layout); every key must match, with its shape."""
    try:
        model = create_model(arch, num_classes)
    except ValueError as err:
        raise ValueError(f"--arch {arch}: {err}") from None
    return load_state(model, weights, flag, arch=arch)


def load_state(model: nn.Module, weights: str | os.PathLike, flag: str = "--weights", *,
               arch: str | None = None) -> nn.Module:
    """`model` holding the state dict of `weights`: every key must match, with its shape.
    `arch` names a registered architecture, whose official layouts are renamed first."""
    state = to_our_layout(model, read_state_dict(weights, flag))
    mismatch = _mismatch(model, state)
    if mismatch:
        what = (f"a {arch!r} layout this package recognises (ours, or for Wide ResNets and ResNet-50 "
                f"the official AugMix code's)" if arch else "the model's")
        others = _matching_architectures(state, exclude=arch) if arch else []
        hint = f"; they match {' and '.join(map(repr, others))}: pass that as --arch" if others else ""
        raise ValueError(f"{flag} {weights}: its keys are not {what}: {mismatch}{hint}")
    expected = model.state_dict()
    wrong = [(k, tuple(v.shape), tuple(expected[k].shape)) for k, v in state.items()
             if v.shape != expected[k].shape]
    if wrong:
        key, got, want = wrong[0]
        owner = f"{arch!r} with {_classes(model)} classes" if arch else "the model"
        raise ValueError(f"{flag} {weights}: {len(wrong)} tensor(s) of another shape than {owner} has, "
                         f"first {key} {got} instead of {want}"
                         + (" (another --num-classes or architecture?)" if arch else ""))
    model.load_state_dict({**{k: v for k, v in expected.items() if k not in state}, **state})
    return model


def _mismatch(model: nn.Module, state: dict[str, torch.Tensor]) -> str:
    """'' when `state` has exactly `model`'s keys, else how many are missing and unexpected."""
    expected = model.state_dict()
    # BatchNorm's step counter is not used in evaluation; old checkpoints lack it.
    missing = sorted(k for k in expected if k not in state and not k.endswith("num_batches_tracked"))
    unexpected = sorted(k for k in state if k not in expected)
    if not (missing or unexpected):
        return ""
    return f"{len(missing)} missing {missing[:4]}, {len(unexpected)} unexpected {unexpected[:4]}"


def _classes(model: nn.Module) -> int | str:
    last = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return last[-1].out_features if last else "its"


def _matching_architectures(state: dict[str, torch.Tensor], exclude: str | None) -> list[str]:
    """Registered architectures whose keys and shapes `state` has (only asked on a mismatch)."""
    from augmix.models import MODELS

    head = next((v for k, v in reversed(state.items()) if k.endswith("weight") and v.ndim == 2), None)
    if head is None:
        return []
    found = []
    for name in MODELS:
        if name == exclude:
            continue
        model = create_model(name, head.shape[0])
        renamed = to_our_layout(model, state)
        expected = model.state_dict()
        if not _mismatch(model, renamed) and all(v.shape == expected[k].shape for k, v in renamed.items()):
            found.append(name)
    return found


# ----------------------------------------------------------------------------- torchvision, timm

def _optional_package(module: str, flag: str, name: str):
    """`module` imported, else a ValueError saying that its package is missing or broken."""
    package = module.split(".")[0]
    try:
        importlib.import_module(package)
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name == package:
            raise ValueError(f"{flag} {name}: {package} is not installed (it is optional: "
                             f"pip install {package})") from None
        problem = err
    except Exception as err:  # e.g. a torchvision wheel built for another torch
        problem = err
    raise ValueError(f"{flag} {name}: {package} is installed but does not import with this torch "
                     f"{torch.__version__} ({_first_line(problem)})") from None


def load_torchvision(spec: str, flag: str = "--torchvision") -> tuple[nn.Module, dict]:
    """torchvision's model NAME with its weights (`NAME` takes the DEFAULT ones, `NAME:WEIGHTS`
    e.g. resnet50:IMAGENET1K_V1 others), from torch.hub's cache or downloaded into it; and the
    mean, std and input size of those weights' evaluation transform."""
    from augmix.data.sources import IMAGENET_MEAN, IMAGENET_STD

    name, _, weights_name = str(spec).partition(":")
    models = _optional_package("torchvision.models", flag, spec)
    try:
        choices = models.get_model_weights(name)
    except Exception as err:  # ValueError for an unknown name
        raise ValueError(f"{flag} {spec}: torchvision has no pretrained model {name!r} "
                         f"({_first_line(err)}); see torchvision.models.list_models()") from None
    try:
        weights = choices[weights_name or "DEFAULT"]
    except KeyError:
        raise ValueError(f"{flag} {spec}: {name} has no weights {weights_name!r}; it has "
                         f"{list(choices.__members__)}") from None
    try:
        model = models.get_model(name, weights=weights)
    except Exception as err:
        raise ValueError(f"{flag} {spec}: its weights {weights_name or 'DEFAULT'} could not be loaded "
                         f"({_first_line(err)}); torchvision downloads them once into "
                         f"{torch.hub.get_dir()}/checkpoints (place the file there on a machine "
                         f"without internet)") from None
    preset = weights.transforms()
    crop = getattr(preset, "crop_size", 224)
    return model, {"mean": list(getattr(preset, "mean", IMAGENET_MEAN)),
                   "std": list(getattr(preset, "std", IMAGENET_STD)),
                   "input_size": int(crop[0] if isinstance(crop, (list, tuple)) else crop)}


def load_timm(name: str, flag: str = "--timm") -> tuple[nn.Module, dict]:
    """timm's model NAME with its pretrained weights (from the Hugging Face Hub cache, or
    downloaded into it), and the mean, std and input size of its data config."""
    timm = _optional_package("timm", flag, name)
    try:
        model = timm.create_model(name, pretrained=True)
    except Exception as err:
        is_model = getattr(timm, "is_model", None)
        if is_model is not None and not is_model(name):
            raise ValueError(f"{flag} {name}: timm has no model {name!r}; see timm.list_models("
                             f"pretrained=True)") from None
        raise ValueError(f"{flag} {name}: its pretrained weights could not be loaded "
                         f"({_first_line(err)}); timm downloads them once into the Hugging Face cache "
                         f"($HF_HOME, default ~/.cache/huggingface)") from None
    config = timm.data.resolve_data_config(model=model)
    return model, {"mean": list(config["mean"]), "std": list(config["std"]),
                   "input_size": int(config["input_size"][-1])}


class Resized(nn.Module):
    """`model` fed its input resized to `size` x `size` (bilinear, antialiased): for a model
    made for another resolution than the test images'. Resizing after normalization equals
    resizing before: both are per-channel linear."""

    def __init__(self, model: nn.Module, size: int):
        super().__init__()
        self.model, self.size = model, size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != (self.size, self.size):
            x = torch.nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear",
                                                align_corners=False, antialias=True)
        return self.model(x)


# ----------------------------------------------------------------------------- probe

@torch.no_grad()
def probe(model: nn.Module, images: np.ndarray, num_classes: int, *, mean: Sequence[float],
          std: Sequence[float], device: str | torch.device = "cpu", what: str = "the model",
          labels: np.ndarray | None = None, dataset: str = "") -> None:
    """Run `model` (in eval mode) on a batch of the first two uint8 NHWC `images`: ValueError
    when it raises, or does not return one row of `num_classes` logits per image, or when
    the `labels` of the `dataset` go beyond its classes."""
    if labels is not None and len(labels) and int(labels.max()) >= num_classes:
        raise ValueError(f"--num-classes {num_classes}: the {dataset} test labels go up to "
                         f"{int(labels.max())}")
    batch = model_input(images[:2], *per_channel(mean, std, images.shape[-1], "--mean and --std"), device)
    model.eval()
    try:
        out = model(batch)
    except Exception as err:
        raise ValueError(f"{what} fails on a batch of shape {tuple(batch.shape)} (N, C, H, W): "
                         f"{_first_line(err)}") from None
    if not isinstance(out, torch.Tensor) or out.shape != (len(batch), num_classes):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"{what} returns {got} for {len(batch)} images; expected ({len(batch)}, "
                         f"{num_classes}) logits, one per class (set --num-classes if the data set's "
                         f"default is not the model's)")
