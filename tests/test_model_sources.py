"""augmix eval --model-file / --model / --arch --weights: models that `augmix train` did not write."""
from __future__ import annotations

import functools
import importlib
import json
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from augmix import cli
from augmix.evaluation.model_sources import load_weights
from augmix.evaluation.sources import clean_test_set
from augmix.models import create_model

# TorchScript is what users have and what --model-file reads; torch deprecates its API, not this.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")

# A user's model file: the small CNN every source below serves, and builders that fail.
USER_MODULE = '''
import torch
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self, classes=10, side=None):
        super().__init__()
        self.side = side or 0
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * (side or 1) ** 2, classes)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        x = x.flatten(1) if self.side > 0 else x.mean((2, 3))
        return self.fc(x)


def build(seed=0, classes=10, side=None):
    torch.manual_seed(seed)
    model = SmallCNN(classes, side)
    model.bn.running_mean.uniform_(-0.5, 0.5)
    model.bn.running_var.uniform_(0.5, 2.0)
    return model.eval()


def not_a_model():
    return "a string"
'''
N = 16
HALF = (0.5, 0.5, 0.5)


@pytest.fixture
def user(tmp_path, monkeypatch):
    """The user's module, written to a folder on sys.path, imported fresh."""
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "usermodels.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(folder))
    sys.modules.pop("usermodels", None)
    yield importlib.import_module("usermodels")
    sys.modules.pop("usermodels", None)


@functools.lru_cache(maxsize=1)
def _images(n: int = N):
    clean = clean_test_set(None, "synthetic", limit=n)
    return clean.images, clean.labels


def _inputs(images: np.ndarray, mean=HALF, std=HALF) -> torch.Tensor:
    x = torch.from_numpy(np.array(images)).permute(0, 3, 1, 2).double() / 255
    return (x - torch.tensor(mean, dtype=torch.float64).view(1, -1, 1, 1)) / torch.tensor(
        std, dtype=torch.float64).view(1, -1, 1, 1)


def _error(forward, mean=HALF, std=HALF) -> float:
    """Clean error of `forward` (float64 NCHW -> logits) on the first N synthetic test images."""
    images, labels = _images()
    with torch.no_grad():
        predicted = forward(_inputs(images, mean, std)).argmax(1).numpy()
    return float(np.mean(predicted != labels))


def _eval(tmp_path, *source: str, extra: tuple[str, ...] = ()) -> dict:
    out = tmp_path / "r.json"
    argv = ["eval", *source, "--test-subset", str(N), "--corrupted", "none", "--out", str(out), *extra]
    assert cli.main(argv) == 0
    return json.loads(out.read_text())


def test_torchscript_file(user, tmp_path):
    model = user.build(seed=1)
    torch.jit.save(torch.jit.script(model), str(tmp_path / "net.pt"))
    record = _eval(tmp_path, "--model-file", str(tmp_path / "net.pt"))
    assert record["clean"]["error"] == pytest.approx(_error(model.double()))
    assert record["name"] == "net" and record["meta"]["model_source"]["kind"] == "model_file"


def test_exported_program_with_corruptions(user, tmp_path):
    model = user.build(seed=2)
    batch = torch.export.Dim("batch", min=1, max=1024)
    program = torch.export.export(model, (torch.zeros(2, 3, 32, 32),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(tmp_path / "net.pt2"))
    record = _eval(tmp_path, "--model-file", str(tmp_path / "net.pt2"), extra=(
        "--corrupted", "generate", "--corruptions", "fog", "--severities", "3"))
    assert record["clean"]["error"] == pytest.approx(_error(model.double()))
    assert list(record["corruptions"]) == ["fog"]


def test_module_function_with_kwargs_and_normalization(user, tmp_path):
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
    record = _eval(tmp_path, "--model", "usermodels:build", "--model-kwargs", '{"seed": 3}',
                   extra=("--mean", *map(str, mean), "--std", *map(str, std)))
    assert record["clean"]["error"] == pytest.approx(_error(user.build(seed=3).double(), mean, std))
    assert record["name"] == "build" and record["meta"]["model"] == "usermodels:build"


def test_module_function_from_the_current_folder(user, tmp_path, monkeypatch):
    (tmp_path / "herenet.py").write_text(USER_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    try:
        record = _eval(tmp_path, "--model", "herenet:build")
    finally:
        sys.modules.pop("herenet", None)
    assert record["clean"]["error"] == pytest.approx(_error(user.build(seed=0).double()))


# ----------------------------------------------------------------------------- official layouts

def _bn(state: dict, prefix: str, channels: int, gen: torch.Generator) -> None:
    state[prefix + ".weight"] = 1 + 0.1 * torch.randn(channels, generator=gen)
    state[prefix + ".bias"] = 0.1 * torch.randn(channels, generator=gen)
    state[prefix + ".running_mean"] = 0.1 * torch.randn(channels, generator=gen)
    state[prefix + ".running_var"] = 0.5 + torch.rand(channels, generator=gen)
    state[prefix + ".num_batches_tracked"] = torch.tensor(7)


def _conv(out_ch: int, in_ch: int, k: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randn(out_ch, in_ch, k, k, generator=gen) * (2 / (in_ch * k * k)) ** 0.5


def official_wrn_state(depth: int, width: int, classes: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict named and shaped as the official AugMix cifar.py WideResNet's."""
    gen = torch.Generator().manual_seed(seed)
    n, widths = (depth - 4) // 6, [16, 16 * width, 32 * width, 64 * width]
    state = {"conv1.weight": _conv(16, 3, 3, gen)}
    for stage in range(3):
        for i in range(n):
            p, c_in, c_out = f"block{stage + 1}.layer.{i}.", widths[stage] if i == 0 else widths[stage + 1], widths[stage + 1]
            _bn(state, p + "bn1", c_in, gen)
            state[p + "conv1.weight"] = _conv(c_out, c_in, 3, gen)
            _bn(state, p + "bn2", c_out, gen)
            state[p + "conv2.weight"] = _conv(c_out, c_out, 3, gen)
            if c_in != c_out:
                state[p + "conv_shortcut.weight"] = _conv(c_out, c_in, 1, gen)
    _bn(state, "bn1", widths[3], gen)
    state["fc.weight"] = 0.1 * torch.randn(classes, widths[3], generator=gen)
    state["fc.bias"] = 0.1 * torch.randn(classes, generator=gen)
    return state


def _batch_norm(x, s, p):
    return F.batch_norm(x, s[p + ".running_mean"], s[p + ".running_var"], s[p + ".weight"],
                        s[p + ".bias"], False, 0.0, 1e-5)


def official_wrn_forward(s: dict, x: torch.Tensor) -> torch.Tensor:
    """The official WideResNet's eval-mode forward pass, written from its definition."""
    out = F.conv2d(x, s["conv1.weight"], padding=1)
    for stage, stride in (("block1", 1), ("block2", 2), ("block3", 2)):
        i = 0
        while f"{stage}.layer.{i}.conv1.weight" in s:
            p, step = f"{stage}.layer.{i}.", stride if i == 0 else 1
            pre = F.relu(_batch_norm(out, s, p + "bn1"))
            y = F.relu(_batch_norm(F.conv2d(pre, s[p + "conv1.weight"], stride=step, padding=1), s, p + "bn2"))
            y = F.conv2d(y, s[p + "conv2.weight"], padding=1)
            shortcut = s.get(p + "conv_shortcut.weight")
            out = (out if shortcut is None else F.conv2d(pre, shortcut, stride=step)) + y
            i += 1
    out = F.avg_pool2d(F.relu(_batch_norm(out, s, "bn1")), 8).flatten(1)
    return F.linear(out, s["fc.weight"], s["fc.bias"])


def torchvision_resnet50_state(classes: int = 1000, seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict named and shaped as torchvision's resnet50 (the official AugMix imagenet.py)."""
    gen = torch.Generator().manual_seed(seed)
    state = {"conv1.weight": _conv(64, 3, 7, gen)}
    _bn(state, "bn1", 64, gen)
    c_in = 64
    for layer, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3)), 1):
        for i in range(blocks):
            p = f"layer{layer}.{i}."
            state[p + "conv1.weight"] = _conv(planes, c_in, 1, gen)
            _bn(state, p + "bn1", planes, gen)
            state[p + "conv2.weight"] = _conv(planes, planes, 3, gen)
            _bn(state, p + "bn2", planes, gen)
            state[p + "conv3.weight"] = _conv(planes * 4, planes, 1, gen) * 0.2
            _bn(state, p + "bn3", planes * 4, gen)
            if i == 0:
                state[p + "downsample.0.weight"] = _conv(planes * 4, c_in, 1, gen)
                _bn(state, p + "downsample.1", planes * 4, gen)
            c_in = planes * 4
    state["fc.weight"] = 0.01 * torch.randn(classes, 2048, generator=gen)
    state["fc.bias"] = 0.01 * torch.randn(classes, generator=gen)
    return state


def torchvision_resnet50_forward(s: dict, x: torch.Tensor) -> torch.Tensor:
    """torchvision's resnet50 eval-mode forward (stride in the 3x3 conv), from its definition."""
    x = F.max_pool2d(F.relu(_batch_norm(F.conv2d(x, s["conv1.weight"], stride=2, padding=3), s, "bn1")), 3, 2, 1)
    for layer, blocks in enumerate((3, 4, 6, 3), 1):
        for i in range(blocks):
            p, stride = f"layer{layer}.{i}.", 2 if layer > 1 and i == 0 else 1
            y = F.relu(_batch_norm(F.conv2d(x, s[p + "conv1.weight"]), s, p + "bn1"))
            y = F.relu(_batch_norm(F.conv2d(y, s[p + "conv2.weight"], stride=stride, padding=1), s, p + "bn2"))
            y = _batch_norm(F.conv2d(y, s[p + "conv3.weight"]), s, p + "bn3")
            if i == 0:
                x = _batch_norm(F.conv2d(x, s[p + "downsample.0.weight"], stride=stride), s, p + "downsample.1")
            x = F.relu(x + y)
    return F.linear(x.mean((2, 3)), s["fc.weight"], s["fc.bias"])


def _double(state: dict) -> dict:
    return {k: v.double() if v.is_floating_point() else v for k, v in state.items()}


OFFICIAL = {  # our name: (a state dict in the official layout, its forward pass, an input shape)
    "wrn-40-2": (lambda: official_wrn_state(40, 2, 10), official_wrn_forward, (2, 3, 32, 32)),
    "resnet-50": (torchvision_resnet50_state, torchvision_resnet50_forward, (1, 3, 64, 64)),
}


@pytest.mark.parametrize("arch", sorted(OFFICIAL))
@pytest.mark.parametrize("prefix", ["", "module."])
@pytest.mark.parametrize("wrapper", [None, "state_dict"])
def test_official_keys_load_into_ours(tmp_path, arch, prefix, wrapper):
    make_state, forward, shape = OFFICIAL[arch]
    state = make_state()
    saved = {prefix + k: v for k, v in state.items()}
    torch.save({"epoch": 3, "state_dict": saved} if wrapper else saved, tmp_path / "w.pth.tar")
    model = load_weights(arch, tmp_path / "w.pth.tar", len(state["fc.bias"])).double().eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), forward(_double(state), x))


@pytest.mark.parametrize("prefix", ["", "module."])
def test_arch_weights_through_the_cli(tmp_path, prefix):
    state = official_wrn_state(10, 1, 10, seed=4)
    torch.save({"state_dict": {prefix + k: v for k, v in state.items()}}, tmp_path / "wrn.pt")
    record = _eval(tmp_path, "--arch", "wrn-10-1", "--weights", str(tmp_path / "wrn.pt"))
    assert record["clean"]["error"] == pytest.approx(_error(lambda x: official_wrn_forward(_double(state), x)))
    assert record["meta"]["model"] == "wrn-10-1"


def test_our_own_layout_loads_as_is(tmp_path):
    ours = create_model("allconv", 10)
    torch.save(ours.state_dict(), tmp_path / "a.pt")
    loaded = load_weights("allconv", tmp_path / "a.pt", 10)
    assert all(torch.equal(v, ours.state_dict()[k]) for k, v in loaded.state_dict().items())


# ----------------------------------------------------------------------------- bad input

@pytest.fixture
def bad_files(user, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "text.txt").write_text("hello\n")
    torch.save(user.build().state_dict(), files / "sd.pt")
    torch.save(user.build(), files / "pickled.pt")
    torch.save({"epoch": 1, "note": "x"}, files / "nostate.pt")
    torch.jit.save(torch.jit.script(user.build(classes=7)), str(files / "seven.pt"))
    torch.jit.save(torch.jit.script(user.build(side=64)), str(files / "side64.pt"))
    renamed = {"features." + k: v for k, v in create_model("allconv", 10).state_dict().items()}
    torch.save(renamed, files / "allconv.pt")
    torch.save({"state_dict": official_wrn_state(10, 1, 100)}, files / "wrn100.pt")
    torch.save(create_model("resnext-29-32x4d", 10).state_dict(), files / "resnext.pt")
    return files


BAD = [
    ("--model-file {f}/text.txt", "{f}/text.txt is neither a TorchScript module"),
    ("--model-file {f}/sd.pt", "--arch NAME --weights FILE"),
    ("--model-file {f}/missing.pt", "{f}/missing.pt"),
    ("--model nosuchmodule:build", "no module 'nosuchmodule'"),
    ("--model usermodels:nosuch", "has no function 'nosuch'"),
    ("--model usermodels", "MODULE:FUNCTION"),
    ("--model usermodels:build --model-kwargs {{bad", "not valid JSON"),
    ("--model usermodels:build --model-kwargs [1]", "JSON object"),
    ("--model usermodels:build --model-kwargs {{\"nope\":1}}", "nope"),
    ("--model usermodels:not_a_model", "returned a str, not a torch.nn.Module"),
    ("--arch wrn-10-1 --weights {f}/pickled.pt", "{f}/pickled.pt is not a weights-only file"),
    ("--arch wrn-10-1 --weights {f}/text.txt", "{f}/text.txt is not a readable"),
    ("--arch wrn-10-1 --weights {f}/nostate.pt", "holds no state dict"),
    ("--arch allconv --weights {f}/allconv.pt", "unexpected ['features."),
    ("--arch wrn-10-1 --weights {f}/wrn100.pt", "fc.weight (100, 64) instead of (10, 64)"),
    ("--arch nosucharch --weights {f}/sd.pt", "unknown model 'nosucharch'"),
    ("--arch wrn-10-1", "--arch NAME and --weights FILE go together"),
    ("--weights {f}/sd.pt --model-file {f}/seven.pt", "--weights FILE goes with --arch NAME or --model"),
    ("--model usermodels:build --weights {f}/allconv.pt", "its keys are not the model's: 8 missing"),
    ("--model usermodels:build --model-kwargs {{\"classes\":7}} --weights {f}/sd.pt",
     "fc.weight (10, 8) instead of (7, 8)"),
    ("--arch densenet-bc-100-12 --weights {f}/resnext.pt", "they match 'resnext-29-32x4d': pass that as --arch"),
    ("--model-file {f}/seven.pt", "returns (2, 7) for 2 images; expected (2, 10)"),
    ("--model usermodels:build --num-classes 12", "expected (2, 12)"),
    ("--model usermodels:build --num-classes 1", "--num-classes"),
    ("--model usermodels:build --num-classes 5", "--num-classes 5: the synthetic test labels"),
    ("--model-file {f}/side64.pt", "fails on a batch of shape (2, 3, 32, 32)"),
    ("--model usermodels:build --mean 0.5 0.5 0.5", "--mean and --std go together"),
    ("--model usermodels:build --mean 0.5 --std 0.5", "one entry per channel"),
    ("--model usermodels:build --mean 0 0 0 --std 0 1 1", "--std"),
    ("--model-file {f}/sd.pt --model usermodels:build", "got --model-file and --model"),
    ("{run} --model usermodels:build", "got RUN_DIR and --model"),
    ("{run} --num-classes 10", "a training run knows"),
    ("--test-subset 4", "give exactly one model"),
    ("--timm x --torchvision y", "got --torchvision and --timm"),
    ("--timm x --weights {f}/sd.pt", "--weights FILE goes with"),
    ("--model usermodels:build --input-size 0", "--input-size"),
]


@pytest.mark.parametrize("line, names", BAD, ids=[row[0] for row in BAD])
def test_bad_model_source_is_one_line_and_writes_nothing(line, names, bad_files, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    fill = {"f": str(bad_files), "run": str(bad_files)}
    argv = ["eval", *[word.format(**fill) for word in line.split()], "--test-subset", "4", "--corrupted", "none"]
    before = sorted(p.name for p in bad_files.iterdir())
    capsys.readouterr()
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("augmix eval: error: ") and names.format(**fill) in err, err
    assert list(work.iterdir()) == [] and sorted(p.name for p in bad_files.iterdir()) == before
