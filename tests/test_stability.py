"""Stability under perturbation sequences (-P): flip probability and top-5 distance, the
`stability` section of results records, `augmix eval --perturbations`, report and compare."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from augmix import cli
from augmix.data import perturbed
from augmix.evaluation import sources
from augmix.evaluation import stability as S
from augmix.evaluation.compare import comparison_table
from augmix.evaluation.results import ResultsRecord
from augmix.perturbations import PERTURBATIONS

HALF = (0.5, 0.5, 0.5)
TOY_MODULE = '''
import torch
from torch import nn


class Toy(nn.Module):
    """A fixed linear model on 4x4 average-pooled frames: deterministic, any frame size."""

    def __init__(self, classes=10):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.fc = nn.Linear(48, classes)
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            self.fc.weight.copy_(torch.randn(classes, 48, generator=g))
            self.fc.bias.copy_(torch.randn(classes, generator=g))

    def forward(self, x):
        return self.fc(self.pool(x).flatten(1))


def build(classes=10):
    return Toy(classes)
'''


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """The toy model's module, importable as `stabilitytoy` (for `augmix eval --model`), and a
    small random clean test set in place of the synthetic one (rendering that takes seconds)."""
    rng = np.random.default_rng(9)
    clean = sources.CleanSet(rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 6),
                             "synthetic", 6)
    monkeypatch.setattr(sources, "clean_test_set", lambda *args, **kwargs: clean)
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "stabilitytoy.py").write_text(TOY_MODULE)
    monkeypatch.syspath_prepend(str(folder))
    import stabilitytoy
    yield stabilitytoy
    import sys
    sys.modules.pop("stabilitytoy", None)


def logits_of(predictions) -> np.ndarray:
    """(videos, frames, 6) logits whose top-1 classes are `predictions`."""
    preds = np.asarray(predictions)
    out = np.tile(np.arange(6, 0, -1, dtype=np.float64), preds.shape + (1,))  # class 0 first, then 1, ...
    np.put_along_axis(out, preds[..., None], 10.0, axis=-1)
    return out


# ----------------------------------------------------------------------------- by hand
def test_flip_probability_by_hand_noise_and_ordered_rules():
    videos = logits_of([[0, 1, 0, 0, 2], [3, 3, 3, 3, 3]])
    # ordered (each frame vs the previous): 0->1 flip, 1->0 flip, 0->0, 0->2 flip = 3/4; video 2: 0
    assert S.sequence_metrics(videos, "rotate")["flip_probability"] == pytest.approx((3 / 4 + 0) / 2)
    # noise (each frame vs frame 1): 1 flip, 0, 0, 2 flip = 2/4
    assert S.sequence_metrics(videos, "gaussian_noise")["flip_probability"] == pytest.approx((2 / 4 + 0) / 2)
    # difficulty 2: pairs (1,3) same, (2,4) flip, (3,5) flip = 2/3; difficulty 3: (1,4) same, (2,5) flip
    assert S.sequence_metrics(videos, "tilt", 2)["flip_probability"] == pytest.approx((2 / 3 + 0) / 2)
    assert S.sequence_metrics(videos, "tilt", 3)["flip_probability"] == pytest.approx((1 / 2 + 0) / 2)
    # noise sequences ignore the stride: harder noise is a separate sequence
    assert S.sequence_metrics(videos, "shot_noise", 3) == S.sequence_metrics(videos, "shot_noise", 1)


def test_top5_distance_by_hand():
    order = {"A": [0, 1, 2, 3, 4, 5], "B": [1, 0, 2, 3, 4, 5], "D": [0, 1, 2, 3, 5, 4]}

    def frame(name):  # logits ranking the classes in this order
        logits = np.empty(6)
        logits[order[name]] = np.arange(6, 0, -1)
        return logits

    video = np.stack([frame("A"), frame("B"), frame("D")])[None]
    # A->B swaps the top two: |2-1| + |1-2| = 2.  B->D: B's top 5 (1,0,2,3,4) rank (2,1,3,4,6) under D: 1+1+0+0+1 = 3.
    # A->D: A's top 5 rank (1,2,3,4,6) under D: 1.
    assert S.sequence_metrics(video, "scale")["top5_distance"] == pytest.approx((2 + 3) / 2)
    assert S.sequence_metrics(video, "gaussian_noise")["top5_distance"] == pytest.approx((2 + 1) / 2)
    assert S.sequence_metrics(video, "scale", 2)["top5_distance"] == pytest.approx(1)
    # fewer than 5 classes: no top-5 distance
    assert "top5_distance" not in S.sequence_metrics(video[..., :4], "scale")


def _direct(model, videos, name, difficulty=1):
    """FP and uT5D by plain loops over frames, one forward pass per frame."""
    noise = "noise" in name
    step = 1 if noise else difficulty
    fps, t5ds = [], []
    for video in videos:
        logits = [model(((torch.from_numpy(f.copy()).permute(2, 0, 1).float() / 255 - 0.5) / 0.5)[None])[0]
                  .detach().numpy() for f in video]
        ranks = [{c: r + 1 for r, c in enumerate(sorted(range(len(lg)), key=lambda c: (-lg[c], c)))}
                 for lg in logits]
        pairs = [(0, j) for j in range(1, len(video))] if noise else \
            [(j, j + step) for j in range(len(video) - step)]
        flips, dists = [], []
        for a, b in pairs:
            top_a = sorted(ranks[a], key=ranks[a].get)[:5]
            flips.append(top_a[0] != sorted(ranks[b], key=ranks[b].get)[0])
            dists.append(sum(abs(min(ranks[b][c], 6) - i) for i, c in enumerate(top_a, 1)))
        fps.append(np.mean(flips))
        t5ds.append(np.mean(dists))
    return np.mean(fps), np.mean(t5ds)


def test_whole_path_on_a_toy_model_equals_a_direct_computation(toy):
    model = toy.build().eval()
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (5, 1, 8, 8, 3))
    videos = np.clip(base + rng.integers(-60, 61, (5, 6, 8, 8, 3)), 0, 255).astype(np.uint8)
    sets = [("gaussian_noise", videos), ("rotate", videos[:, ::-1])]
    for difficulty in (1, 2):
        # batch_size 4 < 6 frames: one video's frames are split over two forward passes
        section = S.stability(model, sets, mean=HALF, std=HALF, batch_size=4, difficulty=difficulty,
                              progress=False)
        for name, vids in sets:
            fp, t5d = _direct(model, vids, name, difficulty)
            got = section["perturbations"][name]
            assert got["flip_probability"] == pytest.approx(fp)
            assert got["top5_distance"] == pytest.approx(t5d)
            assert (got["videos"], got["frames"]) == (5, 6)
        assert 0 < section["perturbations"]["rotate"]["flip_probability"] < 1
    assert section["mean_flip_probability"] is None  # not all 10 test perturbations
    assert section["difficulty"] == 2 and section["frames_per_s"] > 0


def _ten(rng, n=3, frames=4, side=8):
    return [(name, rng.integers(0, 256, (n, frames, side, side, 3), dtype=np.uint8)) for name in PERTURBATIONS]


def test_means_and_normalization_by_a_baseline(toy):
    sets = _ten(np.random.default_rng(1))
    model = toy.build()
    plain = S.stability(model, sets, mean=HALF, std=HALF, progress=False)
    per = plain["perturbations"]
    assert plain["mean_flip_probability"] == pytest.approx(np.mean([per[p]["flip_probability"] for p in PERTURBATIONS]))
    assert plain["mean_top5_distance"] == pytest.approx(np.mean([per[p]["top5_distance"] for p in PERTURBATIONS]))
    assert plain["mfr"] is None and plain["baseline"] is None
    baseline = {p: {"flip_probability": 2 * v["flip_probability"], "top5_distance": 4 * v["top5_distance"]}
                for p, v in per.items()}
    normed = S.stability(model, sets, mean=HALF, std=HALF, baseline=baseline, baseline_name="half", progress=False)
    assert normed["mfr"] == pytest.approx(0.5) and normed["mt5d"] == pytest.approx(0.25)
    assert normed["perturbations"]["tilt"]["flip_rate"] == pytest.approx(0.5)
    assert normed["baseline"] == "half" and normed["baseline_values"] == baseline


def test_alexnet_baseline_computed_once_cached_or_reported_missing(toy, tmp_path, monkeypatch):
    monkeypatch.setenv("AUGMIX_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "imagenet-p"
    folder.mkdir()
    for name, videos in _ten(np.random.default_rng(2)):
        np.save(folder / f"{name}.npy", videos)
    sets = list(perturbed.read_perturbations(folder))
    model = toy.build()
    monkeypatch.setattr(S, "_torchvision_alexnet", lambda: toy.build())  # "AlexNet" = the model itself
    kwargs = dict(dataset="imagenet", mean=HALF, std=HALF, folder=folder, progress=False)
    section = S.evaluate_stability(model, sets, **kwargs)
    # The baseline model ran with ImageNet's normalization, the evaluated one with 0.5: close, not equal.
    assert section["mfr"] > 0 and section["mt5d"] > 0 and "computed on these sequences" in section["baseline"]
    assert len(list((tmp_path / "cache" / "stability").glob("alexnet-*.json"))) == 1

    def unavailable():
        raise AssertionError("the cached values must be used")
    monkeypatch.setattr(S, "_torchvision_alexnet", unavailable)
    assert S.evaluate_stability(model, sets, **kwargs)["mfr"] == section["mfr"]
    # Without torchvision and without a cache (other sequences): unnormalized, and the record says why.
    monkeypatch.setattr(S, "_torchvision_alexnet", lambda: None)
    missing = S.evaluate_stability(model, sets[:5], **kwargs)
    assert missing["mfr"] is None and "no AlexNet baseline" in missing["note"]
    # CIFAR: plain means, no AlexNet.
    assert "note" not in S.evaluate_stability(model, sets, **{**kwargs, "dataset": "cifar10"})


def test_baseline_file_checks(tmp_path):
    good = {p: {"flip_probability": 0.1, "top5_distance": 2.0} for p in PERTURBATIONS}
    (tmp_path / "b.json").write_text(json.dumps(good))
    assert S.load_baseline(tmp_path / "b.json") == good
    for bad, match in ((dict(good, snoww={"flip_probability": 0.1}), "did you mean 'snow'"),
                       ({"snow": {"flip_probability": -1}}, "positive number"),
                       ({"snow": {"fp": 0.1}}, "flip_probability and/or top5_distance"),
                       ([1, 2], "must be a JSON object: perturbation"), ({}, "must map perturbation names")):
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=match):
            S.load_baseline(tmp_path / "bad.json")


def test_bad_sequences_are_clear_errors(toy):
    model = toy.build()
    ok = np.zeros((2, 3, 8, 8, 3), np.uint8)
    cases = ((ok.astype(np.float32), "uint8"), (ok[:, :1], "1 frame"), (ok[0], "uint8 \\(videos"),
             (ok[:, :2], "at least 3 needed for difficulty 2"))
    for videos, match in cases:
        with pytest.raises(ValueError, match=match):
            S.stability(model, [("rotate", videos)], mean=HALF, std=HALF, difficulty=2, progress=False)
    with pytest.raises(ValueError, match="did you mean 'zoom_blur'"):
        S.check_names(["zoom_blurr"])


# ----------------------------------------------------------------------------- records
def test_records_of_schema_version_1_stay_readable():
    for path in sorted(Path(__file__).parents[1].glob("docs/results/*.json"))[:2]:
        assert json.loads(path.read_text())["schema_version"] == 1
        record = ResultsRecord.from_json(path)
        assert record.stability == {} and record.schema_version == 2


def test_stability_section_is_validated():
    record = ResultsRecord(name="r", dataset="cifar10", clean={"error": 0.1})
    record.stability = {"perturbations": {"snow": {"flip_probability": 0.02, "top5_distance": 0.3}},
                        "mean_flip_probability": None, "difficulty": 1}
    record.validate()
    for bad, match in (({"perturbations": {}}, "must hold 'perturbations'"),
                       ({"perturbations": {"snow": {"flip_probability": 2.0}}}, r"in \[0, 1\]"),
                       ({"perturbations": {"snow": {"flip_probability": 0.1, "top5_distance": 16}}}, r"\[0, 15\]"),
                       ({"perturbations": {"snow": {"flip_probability": 0.1}}, "mfr": float("nan")}, "finite")):
        record.stability = bad
        with pytest.raises(ValueError, match=match):
            record.validate()


# ----------------------------------------------------------------------------- command line
def _write_p(folder: Path, n=6, frames=4, names=PERTURBATIONS, seed=0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in names:
        np.save(folder / f"{name}.npy", rng.integers(0, 256, (n, frames, 32, 32, 3), dtype=np.uint8))
    return folder


def _eval(tmp_path, *extra, out="r.json"):
    return cli.main(["eval", "--model", "stabilitytoy:build", "--corrupted", "none", "--test-subset", "6",
                     "--out", str(tmp_path / out), *extra])


def test_eval_report_and_compare_show_stability(toy, tmp_path, capsys):
    p_dir = _write_p(tmp_path / "CIFAR-10-P")
    assert _eval(tmp_path, "--perturbations", str(p_dir)) == 0
    assert "mean flip probability" in capsys.readouterr().out
    record = ResultsRecord.from_json(tmp_path / "r.json")
    sets = list(perturbed.read_perturbations(p_dir))
    direct = S.stability(toy.build(), sets, mean=HALF, std=HALF, progress=False)
    for name, values in direct["perturbations"].items():
        assert record.stability["perturbations"][name] == pytest.approx(values)
    assert record.stability["mean_flip_probability"] == pytest.approx(direct["mean_flip_probability"])
    assert record.stability["source"] == str(p_dir) and record.stability["mfr"] is None

    # a second run (another model, difficulty 2) and the report of both
    assert _eval(tmp_path, "--perturbations", str(p_dir), "--difficulty", "2", "--name", "toy-d2",
                 out="r2.json") == 0
    assert cli.main(["report", str(tmp_path / "r.json"), str(tmp_path / "r2.json"),
                     "--out", str(tmp_path / "report")]) == 0
    report = (tmp_path / "report" / "report.md").read_text()
    assert "## Stability under perturbations (-P)" in report
    assert "### Flip probability by perturbation (%)" in report and "| gaussian_noise |" in report
    fp = 100 * record.stability["mean_flip_probability"]
    assert f"| build | {fp:.2f} |" in report
    assert (tmp_path / "report" / "flip_probability_by_perturbation.png").stat().st_size > 1000

    table = comparison_table([record, ResultsRecord.from_json(tmp_path / "r2.json")])
    assert "mean flip prob. %" in table.splitlines()[0] and f"{fp:.2f}" in table.splitlines()[2]


def test_eval_generates_sequences_once(toy, tmp_path, monkeypatch, capsys):
    calls = []

    def fake_write(images, out_dir, names=PERTURBATIONS, seed=0, workers=None, progress=True):
        calls.append((len(images), seed))
        return _write_p(Path(out_dir), n=len(images), names=names, seed=seed)
    monkeypatch.setattr(perturbed, "write_perturbations", fake_write)
    args = ("--perturbations", "generate", "--perturbation-names", "snow", "rotate", "--seed", "4")
    assert _eval(tmp_path, *args) == 0
    assert _eval(tmp_path, *args, out="again.json") == 0
    assert calls == [(6, 4)]  # written once, next to the results, then reused
    record = ResultsRecord.from_json(tmp_path / "again.json")
    assert sorted(record.stability["perturbations"]) == ["rotate", "snow"]
    assert record.stability["source"] == "generated" and (tmp_path / "synthetic-P" / "snow.npy").is_file()


@pytest.mark.parametrize("case, match", [
    ("dtype", "uint8"), ("shape", "expected sequences of shape (N, T, H, W, 3)"), ("one frame", "at least"), ("name", "did you mean 'gaussian_noise'"),
    ("size", "frames are 16x16x3"), ("missing", "no such file"), ("baseline", "stability baseline not found")])
def test_eval_bad_perturbation_input_is_one_line_exit_2(toy, tmp_path, capsys, case, match):
    p_dir = _write_p(tmp_path / "P", names=["snow"])
    extra = ["--perturbation-names", "snow"]
    if case == "dtype":
        np.save(p_dir / "snow.npy", np.zeros((6, 4, 32, 32, 3), np.float32))
    elif case == "shape":
        np.save(p_dir / "snow.npy", np.zeros((6, 32, 32, 3), np.uint8))
    elif case == "one frame":
        np.save(p_dir / "snow.npy", np.zeros((6, 1, 32, 32, 3), np.uint8))
    elif case == "name":
        extra = ["--perturbation-names", "gausian_noise"]
    elif case == "size":
        np.save(p_dir / "snow.npy", np.zeros((6, 4, 16, 16, 3), np.uint8))
    elif case == "missing":
        extra = ["--perturbation-names", "tilt"]
    else:
        extra += ["--stability-baseline", str(tmp_path / "nowhere.json")]
    assert _eval(tmp_path, "--perturbations", str(p_dir), *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("augmix eval: error:") and len(err.strip().splitlines()) == 1
    assert match in err
    assert not (tmp_path / "r.json").exists()


def test_compare_refuses_a_bad_p_folder_before_training(tmp_path, capsys):
    p_dir = _write_p(tmp_path / "P", names=["snow"])  # the 9 other test perturbations are missing
    assert cli.main(["compare", "--perturbations", str(p_dir), "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("augmix compare: error:") and "gaussian_noise" in err
    assert not (tmp_path / "cmp" / "standard").exists()
