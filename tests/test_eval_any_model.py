"""Any model through `augmix eval` and `augmix.evaluation.evaluate`: the record equals the errors
computed directly from the model's predictions on the same images; torchvision and timm models
(stand-in packages); the same images for clean and corrupted sets; corruption on all cores."""
from __future__ import annotations

import copy
import dataclasses
import json
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_model_sources import user  # noqa: F401 (a fixture: the user's module `usermodels`, its small CNN)

from augmix import cli
from augmix.data.corrupted import iter_corrupted
from augmix.data.generate import write_cifar_c
from augmix.evaluation import evaluate, report
from augmix.evaluation.results import ResultsRecord
from augmix.evaluation.sources import clean_test_set
from augmix.models import create_model

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")

N = 24
CELLS = [("gaussian_noise", 3), ("fog", 1)]  # one seeded random corruption, one deterministic
SEED = 7
STAND_INS = ("timm", "timm.data", "torchvision", "torchvision.models")


@pytest.fixture
def code(request, tmp_path, monkeypatch):
    """The folder on sys.path holding the user's module (`usermodels`), and stand-in packages."""
    request.getfixturevalue("user")
    for name in STAND_INS:
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield tmp_path / "code"
    for name in STAND_INS:
        sys.modules.pop(name, None)


def _expected(forward, mean=(0.5,) * 3, std=(0.5,) * 3, size=None) -> dict:
    """Errors of `forward` (float64 NCHW -> logits) on the first N synthetic test images and on
    CELLS of them corrupted with SEED, computed here from the images themselves."""
    clean = clean_test_set(None, "synthetic", limit=N)

    def error(images):
        x = torch.from_numpy(np.array(images)).permute(0, 3, 1, 2).double() / 255
        x = (x - torch.tensor(mean).double().view(1, -1, 1, 1)) / torch.tensor(std).double().view(1, -1, 1, 1)
        if size:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        with torch.no_grad():
            return float(np.mean(forward(x).argmax(1).numpy() != clean.labels))

    out = {"clean": error(clean.images)}
    for name, severity in CELLS:
        (_, _, images, _), = iter_corrupted(clean.images, clean.labels, [name], [severity], seed=SEED)
        out[name, severity] = error(images)
    return out


def _errors(record: dict) -> dict:
    out = {"clean": record["clean"]["error"]}
    out.update({(name, s): record["corruptions"][name][str(s)]["error"] for name, s in CELLS})
    return out


def _eval(tmp_path, *source: str) -> dict:
    out = tmp_path / "r.json"
    corruptions = [name for name, _ in CELLS]
    argv = ["eval", *source, "--test-subset", str(N), "--corruptions", *corruptions, "--severities", "1",
            "3", "--seed", str(SEED), "--workers", "2", "--out", str(out)]
    assert cli.main(argv) == 0
    return json.loads(out.read_text())


# ----------------------------------------------------------------------------- one's own model

def _save(form: str, model, tmp_path) -> list[str]:
    if form == "torchscript":
        torch.jit.save(torch.jit.script(model), str(tmp_path / "net.pt"))
        return ["--model-file", str(tmp_path / "net.pt")]
    if form == "exported":
        batch = torch.export.Dim("batch", min=1, max=1024)
        program = torch.export.export(model, (torch.zeros(2, 3, 32, 32),), dynamic_shapes=({0: batch},))
        torch.export.save(program, str(tmp_path / "net.pt2"))
        return ["--model-file", str(tmp_path / "net.pt2")]
    if form == "state_dict":  # the weights of a trained copy, into the module the function builds
        torch.save(model.state_dict(), tmp_path / "net.pth")
        return ["--model", "usermodels:build", "--weights", str(tmp_path / "net.pth")]
    return ["--model", "usermodels:build", "--model-kwargs", '{"seed": 5}']


@pytest.mark.parametrize("form", ["torchscript", "exported", "state_dict", "module_function"])
def test_each_form_of_ones_own_model_gives_the_errors_of_its_predictions(form, code, tmp_path):
    import usermodels

    model = usermodels.build(seed=5)
    record = _eval(tmp_path, *_save(form, model, tmp_path))
    expected = _expected(model.double())
    assert _errors(record) == pytest.approx(expected)
    assert record["images"] == {"clean": N, "corrupted": N}
    assert record["meta"]["bound_by"] in ("source", "loader", "model")


# ----------------------------------------------------------------------------- torchvision, timm

TIMM = '''
import torch
from . import data

CONFIGS = {"smallcnn.stub": {"mean": (0.4, 0.45, 0.5), "std": (0.2, 0.25, 0.3), "input_size": (3, 48, 48)}}


def is_model(name):
    return name in CONFIGS or name == "offline.stub"


def create_model(name, pretrained=False):
    import usermodels
    if name == "offline.stub":
        raise OSError("We couldn't connect to 'https://huggingface.co' to load this file")
    if name not in CONFIGS:
        raise RuntimeError(f"Unknown model ({name})")
    model = usermodels.build(seed=11, side=48)  # fails on other sizes
    model.pretrained_cfg, model.num_classes = dict(CONFIGS[name]), 10
    return model
'''
TIMM_DATA = '''
def resolve_data_config(args=None, pretrained_cfg=None, model=None, use_test_size=False, verbose=False):
    cfg = model.pretrained_cfg
    return {"input_size": cfg["input_size"], "interpolation": "bicubic", "mean": cfg["mean"],
            "std": cfg["std"], "crop_pct": 0.875, "crop_mode": "center"}
'''
TORCHVISION_MODELS = '''
import enum


class ImageClassification:
    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)):
        self.crop_size, self.resize_size, self.mean, self.std = [crop_size], [resize_size], list(mean), list(std)


class SmallCNN_Weights(enum.Enum):
    STUB_V1 = 1
    STUB_V2 = 2
    DEFAULT = 2

    @property
    def meta(self):
        return {"categories": [str(i) for i in range(10)]}

    def transforms(self):
        return ImageClassification(crop_size=32 if self.value == 2 else 40, mean=(0.3, 0.4, 0.5),
                                   std=(0.25, 0.25, 0.25))


def get_model_weights(name):
    if name not in ("smallcnn", "offline"):
        raise ValueError(f"Unknown model {name}")
    return SmallCNN_Weights


def get_model(name, weights=None):
    import usermodels
    if name == "offline":
        raise RuntimeError("<urlopen error [Errno -3] Temporary failure in name resolution>")
    return usermodels.build(seed=20 + weights.value)
'''


def _package(code, name: str, files: dict[str, str]) -> None:
    (code / name).mkdir()
    for file, text in files.items():
        (code / name / file).write_text(textwrap.dedent(text))


def test_timm_model_with_its_data_config(code, tmp_path):
    _package(code, "timm", {"__init__.py": TIMM, "data.py": TIMM_DATA})
    import usermodels

    record = _eval(tmp_path, "--timm", "smallcnn.stub")
    cfg = {"mean": (0.4, 0.45, 0.5), "std": (0.2, 0.25, 0.3)}
    assert _errors(record) == pytest.approx(_expected(usermodels.build(seed=11, side=48).double(), size=48, **cfg))
    source = record["meta"]["model_source"]
    assert source["input_size"] == 48 and source["mean"] == [0.4, 0.45, 0.5] and record["name"] == "smallcnn.stub"


@pytest.mark.parametrize("spec, seed, size", [("smallcnn", 22, None), ("smallcnn:STUB_V1", 21, 40)])
def test_torchvision_model_with_its_weights_transforms(spec, seed, size, code, tmp_path):
    _package(code, "torchvision", {"__init__.py": "", "models.py": TORCHVISION_MODELS})
    import usermodels

    record = _eval(tmp_path, "--torchvision", spec)
    expected = _expected(usermodels.build(seed=seed).double(), (0.3, 0.4, 0.5), (0.25,) * 3, size)
    assert _errors(record) == pytest.approx(expected)
    assert record["meta"]["model_source"]["input_size"] == (size or 32)


HUB_ERRORS = [
    ("--timm smallcnn.stub", None, "timm is not installed (it is optional: pip install timm)"),
    ("--torchvision resnet50", None, "torchvision is not installed"),
    ("--torchvision resnet50", "raise RuntimeError('operator torchvision::nms does not exist')",
     "torchvision is installed but does not import with this torch"),
    ("--timm nosuch", TIMM, "timm has no model 'nosuch'"),
    ("--timm offline.stub", TIMM, "its pretrained weights could not be loaded (OSError: We couldn't connect"),
    ("--torchvision nosuch", TORCHVISION_MODELS, "torchvision has no pretrained model 'nosuch'"),
    ("--torchvision smallcnn:V9", TORCHVISION_MODELS, "smallcnn has no weights 'V9'; it has ['STUB_V1', 'STUB_V2', 'DEFAULT']"),
    ("--torchvision offline", TORCHVISION_MODELS, "its weights DEFAULT could not be loaded"),
]


@pytest.mark.parametrize("line, package, message", HUB_ERRORS, ids=[f"{r[0]} {r[2][:20]}" for r in HUB_ERRORS])
def test_missing_package_or_weights_is_one_line_exit_2(line, package, message, code, tmp_path, monkeypatch, capsys):
    name = line.split()[0][2:]
    if package is None:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed, whatever this machine has
    elif name == "timm":
        _package(code, "timm", {"__init__.py": package, "data.py": TIMM_DATA})
    elif "def get_model" in package:
        _package(code, "torchvision", {"__init__.py": "", "models.py": package})
    else:
        _package(code, "torchvision", {"__init__.py": package})
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert cli.main(["eval", *line.split(), "--test-subset", "4", "--corrupted", "none"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("augmix eval: error: ") and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["code"]  # no record written


# ----------------------------------------------------------------------------- Python API

def test_python_api_with_arrays_and_by_name(code):
    import usermodels

    model = usermodels.build(seed=5)
    clean = clean_test_set(None, "synthetic")
    record = evaluate(model, "synthetic", "generate", test_subset=N, corruptions=["gaussian_noise", "fog"],
                      severities=[1, 3], seed=SEED, workers=2, progress=False)
    assert _errors(record.to_dict()) == pytest.approx(_expected(copy.deepcopy(model).double()))
    assert record.images == {"clean": N, "corrupted": N} and record.dataset == "synthetic"
    # the same through the array form, old (positional sets) and new (a pair and sets)
    sets = list(iter_corrupted(clean.images[:N], clean.labels[:N], ["fog"], [1], seed=SEED))
    old = evaluate(model, clean.images[:N], clean.labels[:N], sets, name="m", dataset="synthetic",
                   mean=(0.5,) * 3, std=(0.5,) * 3, progress=False)
    new = evaluate(model, (clean.images, clean.labels), sets, test_subset=N, dataset="synthetic",
                   progress=False)
    assert old.corruptions == new.corruptions == {"fog": {"1": record.corruptions["fog"]["1"]}}


# ----------------------------------------------------------------------------- the same images

@pytest.fixture(scope="module")
def c_folder(tmp_path_factory):
    """A CIFAR-C-layout set of the first 40 synthetic test images, contrast at severity 2."""
    clean = clean_test_set(None, "synthetic", limit=40)
    out = tmp_path_factory.mktemp("c") / "synthetic-c"
    return write_cifar_c(clean.images, clean.labels, out, names=["contrast"], severities=[2], seed=1)


def _eval_folder(tmp_path, folder, *extra: str) -> ResultsRecord:
    out = tmp_path / f"r{len(list(tmp_path.glob('r*.json')))}.json"
    assert cli.main(["eval", "--arch", "wrn-10-1", "--weights", str(tmp_path / "w.pt"), "--corrupted",
                     str(folder), "--corruptions", "contrast", "--severities", "2", "--out", str(out),
                     *extra]) == 0
    return ResultsRecord.from_json(out)


def test_a_released_set_is_cut_to_the_clean_images(c_folder, tmp_path, capsys):
    torch.save(create_model("wrn-10-1", 10).state_dict(), tmp_path / "w.pt")
    limited = _eval_folder(tmp_path, c_folder, "--test-subset", "30")
    assert limited.images == {"clean": 30, "corrupted": 30}
    generated = _eval_folder(tmp_path, "generate", "--test-subset", "30", "--seed", "1")
    assert generated.corruptions == limited.corruptions  # the very same 30 images
    # 2,000 clean images, 40 corrupted ones: refused, unless asked for
    capsys.readouterr()
    assert cli.main(["eval", "--arch", "wrn-10-1", "--weights", str(tmp_path / "w.pt"), "--corrupted",
                     str(c_folder), "--corruptions", "contrast", "--severities", "2",
                     "--out", str(tmp_path / "no.json")]) == 2
    assert "does not hold corrupted copies of the 2000 clean test images (it has 40 images" in capsys.readouterr().err
    assert not (tmp_path / "no.json").exists()
    mixed = _eval_folder(tmp_path, c_folder, "--test-subset", "100", "--corrupted-subset", "40")
    assert mixed.images == {"clean": 100, "corrupted": 40}
    # augmix report shows the counts and warns
    written = report.write_report([limited, dataclasses.replace(mixed, name="mixed")], tmp_path / "report")
    text = written[-1].read_text()
    assert "| 30 / 30 |" in text and "| 100 / 40 |" in text
    assert "Note: the runs were not evaluated on the same images" in text


def test_labels_that_differ_from_the_clean_ones_are_refused(c_folder, tmp_path, capsys):
    from augmix.evaluation.sources import CleanSet, corrupted_sets

    clean = clean_test_set(None, "synthetic", limit=40)
    shifted = CleanSet(clean.images, (clean.labels + 1) % 10, "synthetic")
    with pytest.raises(ValueError, match="the label of its image 0 is not the clean one's"):
        corrupted_sets(str(c_folder), shifted, ["contrast"], [2], verify=False)  # before any evaluation


def test_old_records_are_read_with_their_clean_count(tmp_path):
    old = {"schema_version": 1, "name": "old", "dataset": "cifar10", "clean": {"error": 0.1},
           "meta": {"n_clean": 5000}}
    (tmp_path / "old.json").write_text(json.dumps(old))
    record = ResultsRecord.from_json(tmp_path / "old.json")
    assert record.images == {"clean": 5000} and record.schema_version == 2
    assert report.images_used(record) == "5,000 / —"
    with pytest.raises(ValueError, match="images\\['clean'\\] must be a count"):
        ResultsRecord(name="r", dataset="cifar10", clean={"error": 0.1}, images={"clean": -1}).validate()


# ----------------------------------------------------------------------------- all cores

def test_generation_in_worker_processes_equals_one_process(frost_dir, monkeypatch):
    monkeypatch.setenv("AUGMIX_FROST_DIR", str(frost_dir))
    clean = clean_test_set(None, "synthetic", limit=30)
    names = ["shot_noise", "glass_blur", "frost", "elastic_transform", "contrast"]
    one = list(iter_corrupted(clean.images, clean.labels, names, [2, 5], seed=4))
    three = list(iter_corrupted(clean.images, clean.labels, names, [2, 5], seed=4, workers=3))
    assert [(n, s) for n, s, _, _ in one] == [(n, s) for n, s, _, _ in three] == [
        (n, s) for n in names for s in (2, 5)]
    for (_, _, a, _), (_, _, b, _) in zip(one, three):
        assert a.shape == (30, 32, 32, 3) and np.array_equal(a, b)


# ----------------------------------------------------------------------------- official layouts

def _official_allconv_keys() -> dict[str, tuple]:
    """Key names and shapes of the official cifar.py AllConvNet (its make_layers indices)."""
    keys, index, c_in = {}, 0, 3
    for v in [96, 96, 96, "Md", 192, 192, 192, "Md", "nopad", "NIN", "NIN", "A"]:
        if v == "Md":
            index += 2
        elif v == "A":
            index += 1
        else:
            out, k = (c_in, 3 if v == "nopad" else 1) if isinstance(v, str) else (v, 3)
            keys[f"features.{index}.weight"], keys[f"features.{index}.bias"] = (out, c_in, k, k), (out,)
            for p in ("weight", "bias", "running_mean", "running_var"):
                keys[f"features.{index + 1}.{p}"] = (out,)
            keys[f"features.{index + 1}.num_batches_tracked"] = ()
            index, c_in = index + 3, out
    return {**keys, "classifier.weight": (10, 192), "classifier.bias": (10,)}


def _bn(keys, name, c):
    keys.update({f"{name}.{p}": (c,) for p in ("weight", "bias", "running_mean", "running_var")})
    keys[f"{name}.num_batches_tracked"] = ()


def _official_densenet_keys() -> dict[str, tuple]:
    """The official densenet100_12 (growth 12, depth 100, reduction 0.5, no bottleneck)."""
    keys, c = {"conv1.weight": (24, 3, 3, 3)}, 24
    for block in (1, 2, 3):
        for i in range(32):
            _bn(keys, f"dense{block}.{i}.bn1", c)
            keys[f"dense{block}.{i}.conv1.weight"] = (12, c, 3, 3)
            c += 12
        if block < 3:
            _bn(keys, f"trans{block}.bn1", c)
            keys[f"trans{block}.conv1.weight"] = (c // 2, c, 1, 1)
            c //= 2
    _bn(keys, "bn1", c)
    return {**keys, "fc.weight": (10, c), "fc.bias": (10,)}


def _official_resnext_keys() -> dict[str, tuple]:
    """The official resnext29 (cardinality 4, base width 32)."""
    keys, c_in = {"conv_1_3x3.weight": (64, 3, 3, 3)}, 64
    _bn(keys, "bn_1", 64)
    for stage, planes in enumerate((64, 128, 256), 1):
        for i in range(3):
            p, dim = f"stage_{stage}.{i}.", planes * 32 // 64 * 4
            keys[p + "conv_reduce.weight"] = (dim, c_in, 1, 1)
            _bn(keys, p + "bn_reduce", dim)
            keys[p + "conv_conv.weight"] = (dim, dim // 4, 3, 3)
            _bn(keys, p + "bn", dim)
            keys[p + "conv_expand.weight"] = (planes * 4, dim, 1, 1)
            _bn(keys, p + "bn_expand", planes * 4)
            if i == 0:
                keys[p + "downsample.0.weight"] = (planes * 4, c_in, 1, 1)
                _bn(keys, p + "downsample.1", planes * 4)
            c_in = planes * 4
    return {**keys, "classifier.weight": (10, 1024), "classifier.bias": (10,)}


@pytest.mark.parametrize("arch, official", [("allconv", _official_allconv_keys),
                                            ("densenet-100-12-augmix-code", _official_densenet_keys),
                                            ("resnext-29-32x4d", _official_resnext_keys)])
def test_the_other_official_cifar_layouts_are_ours_as_they_are(arch, official):
    ours = {k: tuple(v.shape) for k, v in create_model(arch, 10).state_dict().items()}
    assert ours == official()


def test_cpu_evaluation_runs_the_model_channels_last_with_the_same_predictions():
    from augmix.evaluation.evaluator import predict

    torch.manual_seed(0)
    model = create_model("wrn-10-1", num_classes=10).eval()
    before = copy.deepcopy(model)
    images = np.random.default_rng(0).integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(40) % 10
    probs = predict(model, images, labels, mean=(0.5,) * 3, std=(0.5,) * 3, batch_size=16).probs

    # The weights are channels-last now, with the same values; the softmax equals a plain
    # contiguous forward pass of the untouched copy.
    conv = next(p for p in model.parameters() if p.ndim == 4)
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    for a, b in zip(model.state_dict().values(), before.state_dict().values()):
        assert torch.equal(a, b)
    x = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - 0.5) / 0.5
    with torch.no_grad():
        expected = torch.softmax(before(x.contiguous()), dim=1).double().numpy()
    assert np.allclose(probs, expected, atol=1e-5)
