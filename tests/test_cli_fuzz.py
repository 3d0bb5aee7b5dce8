"""Bad arguments, table-driven, over every `augmix` subcommand and the public Python API.

Each command-line row asserts: exit code 2, one error line on stderr that names the
argument (the row's `names`: the flag, e.g. `--seed`, or the offending path), no
"Traceback", and nothing written (the scratch folder of inputs and the working folder,
where any --out points, are unchanged to the byte and the mtime).

Counting lines: our own errors are exactly one line, `augmix CMD: error: ...`. Errors of
argparse itself (a wrong type such as `--seed abc`, an unknown choice) exit through
SystemExit(2) after printing the usage, which may wrap over several lines, and then one
error line; for those the usage lines are not counted: exactly one line may contain
": error:", and it is the last line. Rows run in-process through `augmix.cli.main`.

Each API row asserts a ValueError or TypeError whose message names the argument.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import augmix
from augmix import cli
from augmix.corruptions import corrupt
from augmix.evaluation import evaluate
from augmix.models import create_model

HUGE = str(2**70)
TRAIN = "--data synthetic --model wrn-10-1 --train-subset 8 --test-subset 8 --epochs 1 --batch-size 8 " \
        "--workers 0 --quiet"
EVAL = "eval {run} --test-subset 4 --corrupted none"


# (command line with {placeholders} for the scratch paths, what the error line must name)
ROWS = {
    "bench": [
        ("bench --device foo", "--device"),
        ("bench --device mps", "--device"),
        ("bench --device cuda", "--device"),
        ("bench --device cuda:7", "--device"),
        ("bench --workers 0", "--workers"),
        (f"bench --workers {HUGE}", "--workers"),
        ("bench --batch-size abc", "--batch-size"),
        ("bench --batch-size -1", "--batch-size"),
        ("bench --rounds 0", "--rounds"),
        ("bench --seconds nan", "--seconds"),
        ("bench --seconds inf", "--seconds"),
        ("bench --seconds -1", "--seconds"),
        ("bench --sizes 0", "--sizes"),
        ("bench --sizes 100000000", "--sizes"),
        ("bench --out {dir}", "--out"),
        ("bench --out {file}/b.json", "--out"),
    ],
    "compare": [
        ("compare --methods foo --out c", "methods"),
        ("compare --methods standard --out {file} " + TRAIN, "--out"),
        ("compare --methods standard --out {file}/c " + TRAIN, "--out"),
        ("compare --methods standard --out c " + TRAIN + " --corruption-seed -1", "--corruption-seed"),
        ("compare --methods standard --out c " + TRAIN + f" --corruption-seed {HUGE}", "--corruption-seed"),
        ("compare --methods standard --out c " + TRAIN + " --corruption-seed abc", "--corruption-seed"),
        ("compare --methods standard --out c " + TRAIN + " --device foo", "--device"),
        ("compare --methods standard --out c " + TRAIN + " --device cuda", "--device"),
        ("compare --methods standard --out c " + TRAIN + " --corrupted {missing}", "{missing}"),
        ("compare --methods standard --out c " + TRAIN + " --epochs 0", "epochs"),
        ("compare --methods standard --out c " + TRAIN + " --seed -1", "seed"),
        ("compare --methods standard --out c " + TRAIN + " --lr nan", "lr"),
    ],
    "corrupt": [
        ("corrupt --data cifar10 --data-root {missing} --out c", "{missing}"),
        ("corrupt --data cifar10 --data-root {file} --out c", "{file}"),
        ("corrupt --data {missing} --out c", "{missing}"),
        ("corrupt --data {file} --out c", "{file}"),
        ("corrupt --data {dir} --out c", "{dir}"),
        ("corrupt --preview {missing} --out p.png", "{missing}"),
        ("corrupt --preview {file} --out p.png", "{file}"),
        ("corrupt --preview {bin} --out p.png", "{bin}"),
        ("corrupt --preview {dir} --out p.png", "{dir}"),
        ("corrupt --preview {img} --out p.png --crop 0", "--crop"),
        ("corrupt --preview {img} --out p.png --crop -4", "--crop"),
        (f"corrupt --preview {{img}} --out p.png --crop {HUGE}", "--crop"),
        ("corrupt --preview {img} --out p.png --resize -1", "--resize"),
        (f"corrupt --preview {{img}} --out p.png --resize {HUGE}", "--resize"),
        ("corrupt --preview {img} --out p.png --tile 0", "--tile"),
        (f"corrupt --preview {{img}} --out p.png --tile {HUGE}", "--tile"),
        ("corrupt --preview {img} --out p.png --seed -1", "--seed"),
        (f"corrupt --preview {{img}} --out p.png --seed {HUGE}", "--seed"),
        ("corrupt --preview {img} --out p.png --corruptions foo", "foo"),
        ("corrupt --preview {img} --out p.png --table foo", "table"),
        ("corrupt --preview {img} --out p.png --frost-dir {missing} --corruptions frost", "{missing}"),
        ("corrupt --preview {img} --out {dir}", "--out"),
        ("corrupt --preview {img} --out {file}/p.png", "--out"),
        ("corrupt --preview {img1} --out p.png --crop 1 --resize 0 --corruptions pixelate", "table"),
        ("corrupt --preview {img1} --out p.png --crop 1 --resize 0 --corruptions pixelate --table cifar",
         "pixelate"),
        ("corrupt --data {imgs} --out c --workers 0", "--workers"),
        (f"corrupt --data {{imgs}} --out c --workers {HUGE}", "--workers"),
        ("corrupt --data {imgs} --out c --workers abc", "--workers"),
        ("corrupt --data {imgs} --out c --chunk 0", "--chunk"),
        ("corrupt --data {imgs} --out c --chunk -1", "--chunk"),
        ("corrupt --data {imgs} --out c --severities 0", "--severities"),
        ("corrupt --data {imgs} --out c --severities 6", "--severities"),
        (f"corrupt --data {{imgs}} --out c --severities {HUGE}", "--severities"),
        ("corrupt --data {imgs} --out c --test-subset 0", "--test-subset"),
        ("corrupt --data {imgs} --out c --seed -1", "--seed"),
        (f"corrupt --data {{imgs}} --out c --seed {HUGE}", "--seed"),
        ("corrupt --data {imgs} --out c --corruptions foo", "foo"),
        ("corrupt --data {imgs} --out c --crop 0", "--crop"),
        ("corrupt --data {imgs} --out c --resize -5", "--resize"),
        ("corrupt --data {imgs} --out {file}", "--out"),
        ("corrupt --data {imgs} --out {file}/c", "--out"),
        ("corrupt --folder {missing} --out c", "{missing}"),
        ("corrupt --folder {file} --out c", "{file}"),
        ("corrupt --folder {dir} --out c", "{dir}"),
        ("corrupt --folder {imgs} --out {imgs}/c", "--out"),
        ("corrupt --folder {imgs} --out {imgs}", "--out"),
        ("corrupt --folder {imgs} --out {file}", "--out"),
        ("corrupt --folder {imgs} --out c --corruptions foo", "foo"),
        ("corrupt --folder {imgs} --out c --table foo", "table"),
        ("corrupt --folder {imgs} --out c --workers 0", "--workers"),
        ("corrupt --folder {imgs} --out c --chunk 0", "--chunk"),
        ("corrupt --folder {imgs} --out c --test-subset 0", "--test-subset"),
    ],
    "demo": [
        ("demo --out {file} --epochs 1 --train-subset 8 --test-subset 8 --workers 0 --quiet", "--out"),
        ("demo --out {file}/d --quiet", "--out"),
        ("demo --out d --epochs 0 --quiet", "epochs"),
        (f"demo --out d --epochs {HUGE} --quiet", "epochs"),
        ("demo --out d --epochs abc --quiet", "--epochs"),
        ("demo --out d --train-subset 0 --quiet", "train_subset"),
        ("demo --out d --test-subset -1 --quiet", "test_subset"),
        ("demo --out d --workers -1 --quiet", "workers"),
        ("demo --out d --model foo --quiet", "foo"),
    ],
    "eval": [
        (EVAL + " --device foo --out r.json", "--device"),
        (EVAL + " --device mps --out r.json", "--device"),
        (EVAL + " --device cuda --out r.json", "--device"),
        (EVAL + " --device cuda:3 --out r.json", "--device"),
        (EVAL + " --seed -1 --out r.json", "--seed"),
        (EVAL + f" --seed {HUGE} --out r.json", "--seed"),
        (EVAL + " --seed abc --out r.json", "--seed"),
        ("eval {run} --corrupted none --test-subset 0 --out r.json", "--test-subset"),
        ("eval {run} --corrupted none --test-subset -3 --out r.json", "--test-subset"),
        (f"eval {{run}} --corrupted none --test-subset {HUGE} --out r.json", "--test-subset"),
        (EVAL + " --batch-size 0 --out r.json", "--batch-size"),
        (EVAL + f" --batch-size {HUGE} --out r.json", "--batch-size"),
        ("eval {run} --test-subset 4 --corruptions fog --severities 0 --out r.json", "severities"),
        ("eval {run} --test-subset 4 --corruptions fog --severities 6 --out r.json", "severities"),
        ("eval {run} --test-subset 4 --corruptions foo --out r.json", "foo"),
        (EVAL + " --data foo --out r.json", "--data"),
        (EVAL + " --data {file} --out r.json", "--data"),
        (EVAL + " --data cifar10 --data-root {missing} --out r.json", "{missing}"),
        (EVAL + " --data cifar10 --data-root {file} --out r.json", "{file}"),
        (EVAL + " --eval-transform foo --out r.json", "--eval-transform"),
        ("eval {run} --test-subset 4 --corrupted {missing} --out r.json", "{missing}"),
        ("eval {run} --test-subset 4 --corrupted {file} --out r.json", "{file}"),
        ("eval {run} --test-subset 4 --corrupted {dir} --out r.json", "{dir}"),
        ("eval {missing} --test-subset 4 --corrupted none --out r.json", "{missing}"),
        ("eval {bin} --test-subset 4 --corrupted none --out r.json", "{bin}"),
        ("eval {dir} --test-subset 4 --corrupted none --out r.json", "{dir}"),
        (EVAL + " --out {dir}", "--out"),
        (EVAL + " --out {file}/r.json", "--out"),
        # a text file given as the checkpoint: KeyError from unpickling (train/checkpoint.py)
        ("eval {file} --test-subset 4 --corrupted none --out r.json", "{file}"),
    ],
    "gallery": [
        ("gallery --images 0", "--images"),
        (f"gallery --images {HUGE}", "--images"),
        ("gallery --images abc", "--images"),
        ("gallery --seed -1", "--seed"),
        (f"gallery --seed {HUGE}", "--seed"),
        ("gallery --severity nan", "severity"),
        ("gallery --severity inf", "severity"),
        ("gallery --severity 0", "severity"),
        ("gallery --severity 11", "severity"),
        ("gallery --width 0", "width"),
        (f"gallery --width {HUGE}", "width"),
        ("gallery --depth -5", "depth"),
        ("gallery --depth 1000000000", "depth"),
        ("gallery --alpha nan", "alpha"),
        ("gallery --alpha 0", "alpha"),
        ("gallery --alpha -1", "alpha"),
        ("gallery --data foo", "--data"),
        ("gallery --data cifar10 --data-root {missing}", "{missing}"),
        ("gallery --data cifar10 --data-root {file}", "{file}"),
        ("gallery --out {dir}", "--out"),
        ("gallery --out {file}/g.png", "--out"),
    ],
    "perturb": [
        ("perturb --data cifar10 --data-root {missing} --out p", "{missing}"),
        ("perturb --data {missing} --out p", "{missing}"),
        ("perturb --data {file} --out p", "{file}"),
        ("perturb --data {dir} --out p", "{dir}"),
        ("perturb --data {imgs} --out p --names foo", "foo"),
        ("perturb --data {imgs} --out p --names rotation", "did you mean 'rotate'"),
        ("perturb --data {imgs} --out p --workers 0", "--workers"),
        (f"perturb --data {{imgs}} --out p --workers {HUGE}", "--workers"),
        ("perturb --data {imgs} --out p --test-subset 0", "--test-subset"),
        ("perturb --data {imgs} --out p --seed -1", "--seed"),
        (f"perturb --data {{imgs}} --out p --seed {HUGE}", "--seed"),
        ("perturb --data {imgs} --out p --crop 0", "--crop"),
        ("perturb --data {imgs} --out p --crop 100", "100x100"),
        ("perturb --data {imgs} --out p --resize -5", "--resize"),
        ("perturb --data {imgs} --out p --video avi", "--video"),
        ("perturb --data {imgs} --out p --table foo", "table"),
        ("perturb --data {imgs} --out {file}", "--out"),
        ("perturb --data {imgs} --out {file}/p", "--out"),
    ],
    "report": [
        ("report {missing} --out rep", "{missing}"),
        ("report {file} --out rep", "{file}"),
        ("report {bin} --out rep", "{bin}"),
        ("report {dir} --out rep", "{dir}"),
        ("report {run}/results.json --out {file}", "--out"),
        ("report {run}/results.json --out {file}/rep", "--out"),
    ],
    "train": [
        (f"train {TRAIN} --out t --device foo", "device"),
        (f"train {TRAIN} --out t --device mps", "--device"),
        (f"train {TRAIN} --out t --device cuda", "--device"),
        (f"train {TRAIN} --out t --device cuda:1", "--device"),
        (f"train {TRAIN} --out t --seed -1", "seed"),
        (f"train {TRAIN} --out t --seed {HUGE}", "seed"),
        (f"train {TRAIN} --out t --seed abc", "--seed"),
        (f"train {TRAIN} --out t --epochs 0", "epochs"),
        (f"train {TRAIN} --out t --lr nan", "lr"),
        (f"train {TRAIN} --out t --lr inf", "lr"),
        (f"train {TRAIN} --out t --lr abc", "--lr"),
        (f"train {TRAIN} --out t --model foo", "foo"),
        (f"train {TRAIN} --out t --recipe foo", "foo"),
        (f"train {TRAIN} --out t --recipe {{file}}", "{file}"),
        (f"train {TRAIN} --out t --recipe {{dir}}", "{dir}"),
        # a binary recipe file: a UnicodeDecodeError that names no file (train/config.py)
        (f"train {TRAIN} --out t --recipe {{bin}}", "{bin}"),
        (f"train {TRAIN} --out t --method foo", "--method"),
        # the error is right, but train() has already made the empty run folder t (train/trainer.py)
        (f"train {TRAIN} --out t --data foo", "foo"),
        (f"train {TRAIN} --out t --data {{file}}", "{file}"),
        (f"train {TRAIN} --out t --mean 0.5 0.5 0.5 --std 0 0 0", "std"),
        (f"train {TRAIN} --out t --mean nan 0.5 0.5 --std 1 1 1", "mean"),
        (f"train {TRAIN} --out t --mean 0.5 0.5 0.5", "mean"),
        (f"train {TRAIN} --out t --width {HUGE}", "width"),
        (f"train {TRAIN} --out t --depth 1000000", "depth"),
        (f"train {TRAIN} --out t --severity nan", "severity"),
        (f"train {TRAIN} --out {{file}}", "--out"),
        (f"train {TRAIN} --out {{file}}/t", "--out"),
        (f"train {TRAIN} --out {{dir}} --resume", "{dir}"),
        (f"train {TRAIN} --out {{missing}} --resume", "{missing}"),
        # the same: an empty run folder t is left (train/trainer.py)
        (f"train {TRAIN} --out t --extra-train {{missing}}", "extra_train"),
    ],
}


def _case(row) -> pytest.param:
    """A row as a test case named by its command line (a marked row keeps its marks)."""
    values, marks = (row.values, row.marks) if hasattr(row, "marks") else (row, ())
    return pytest.param(*values, id=values[0].replace(TRAIN, "TRAIN"), marks=marks)


CASES = [_case(row) for command in sorted(ROWS) for row in ROWS[command]]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under `root` with its size and mtime: what "nothing written" compares."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> dict[str, str]:
    """Inputs of every kind: a text file, a binary file, an empty folder, images, a tiny trained run."""
    from PIL import Image

    from augmix.train.config import make_config
    from augmix.train.trainer import train

    root = tmp_path_factory.mktemp("fuzz")
    (root / "afile.txt").write_text("hi\n")
    (root / "binary.bin").write_bytes(bytes(range(256)) * 2)
    (root / "adir").mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / "img.png")
    Image.fromarray(rng.integers(0, 256, (1, 1, 3), dtype=np.uint8)).save(root / "img1.png")
    (root / "imgs" / "cls").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / "imgs" / "cls" / "a.png")
    run = train(make_config(data="synthetic", model="wrn-10-1", train_subset=8, test_subset=8, epochs=1,
                            batch_size=8, eval_batch_size=8, workers=0, seed=5), out=root / "run", progress=False)
    assert cli.main(["eval", str(run), "--test-subset", "4", "--corrupted", "none"]) == 0
    return {"root": str(root), "file": str(root / "afile.txt"), "bin": str(root / "binary.bin"),
            "dir": str(root / "adir"), "img": str(root / "img.png"), "img1": str(root / "img1.png"),
            "imgs": str(root / "imgs"), "run": str(run), "missing": str(root / "no-such-path")}


@pytest.mark.parametrize("line, names", CASES)
def test_bad_argument_is_one_clear_line_and_writes_nothing(line, names, scratch, tmp_path, monkeypatch, capsys):
    root = Path(scratch["root"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUGMIX_CACHE", str(tmp_path / "cache"))
    argv = [word.format(**scratch) for word in line.split()]
    names = names.format(**scratch)
    capsys.readouterr()
    before = _snapshot(root)
    try:
        code = cli.main(argv)
    except SystemExit as exit:  # argparse's own error: usage, then one error line
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    error_lines = [i for i, text in enumerate(lines) if ": error:" in text]
    assert error_lines == [len(lines) - 1], err
    assert lines[-1].startswith(f"augmix {argv[0]}: error: ") and names in lines[-1], err
    assert _snapshot(root) == before
    assert _snapshot(tmp_path) == {}, "written in the working folder"


IMAGE = np.zeros((32, 32, 3), np.uint8)
BIG = 2**70


def _evaluate(**kwargs):
    settings = dict(name="m", dataset="synthetic", mean=(0.5,) * 3, std=(0.25,) * 3, progress=False)
    return evaluate(create_model("wrn-10-1", 10), np.zeros((2, 32, 32, 3), np.uint8), np.zeros(2, np.int64),
                    [], **{**settings, **kwargs})


API_ROWS = [
    ("AugMix seed -1", lambda: augmix.AugMix(seed=-1), "seed"),
    ("AugMix seed 2**70", lambda: augmix.AugMix(seed=BIG), "seed"),
    ("AugMix seed abc", lambda: augmix.AugMix(seed="abc"), "seed"),
    ("AugMix width 2**70", lambda: augmix.AugMix(width=BIG), "width"),
    ("AugMix depth 1e9", lambda: augmix.AugMix(depth=10**9), "depth"),
    ("AugMix severity nan", lambda: augmix.AugMix(severity=float("nan")), "severity"),
    ("AugMix alpha inf", lambda: augmix.AugMix(alpha=float("inf")), "alpha"),
    ("AugMix std 0", lambda: augmix.AugMix(mean=(0.5,) * 3, std=(0, 0, 0)), "std"),
    ("AugMix image str", lambda: augmix.AugMix(seed=0)("abc"), "image"),
    ("BatchAugMix seed -1", lambda: augmix.BatchAugMix(seed=-1), "seed"),
    ("BatchAugMix seed 2**70", lambda: augmix.BatchAugMix(seed=BIG), "seed"),
    ("BatchAugMix width 0", lambda: augmix.BatchAugMix(width=0), "width"),
    ("BatchAugMix input array", lambda: augmix.BatchAugMix(seed=0)(np.zeros((2, 3, 8, 8))), "x"),
    ("AugMixLoss lam nan", lambda: augmix.AugMixLoss(lam=float("nan")), "lam"),
    ("AugMixLoss lam -1", lambda: augmix.AugMixLoss(lam=-1), "lam"),
    ("AugMixLoss lam abc", lambda: augmix.AugMixLoss(lam="abc"), "lam"),
    ("jsd shapes", lambda: augmix.jsd_consistency(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 3)), "aug1"),
    ("jsd list", lambda: augmix.jsd_consistency([1], [1], [1]), "clean"),
    ("corrupt name foo", lambda: corrupt(IMAGE, "foo", 1), "foo"),
    ("corrupt severity 0", lambda: corrupt(IMAGE, "fog", 0), "severity"),
    ("corrupt severity nan", lambda: corrupt(IMAGE, "fog", float("nan")), "severity"),
    ("corrupt severity 2**70", lambda: corrupt(IMAGE, "fog", BIG), "severity"),
    ("corrupt rng -1", lambda: corrupt(IMAGE, "gaussian_noise", 1, rng=-1), "rng"),
    ("corrupt rng 2**70", lambda: corrupt(IMAGE, "gaussian_noise", 1, rng=BIG), "rng"),
    ("corrupt rng abc", lambda: corrupt(IMAGE, "gaussian_noise", 1, rng="abc"), "rng"),
    ("corrupt pixelate 1x1", lambda: corrupt(np.zeros((1, 1, 3), np.uint8), "pixelate", 1), "table"),
    ("corrupt pixelate 1x1 cifar table",
     lambda: corrupt(np.zeros((1, 1, 3), np.uint8), "pixelate", 1, table="cifar"), "pixelate"),
    ("corrupt table foo", lambda: corrupt(IMAGE, "fog", 1, table="foo"), "table"),
    ("corrupt images str", lambda: corrupt("abc", "fog", 1), "images"),
    ("create_model foo", lambda: create_model("foo", 10), "foo"),
    ("create_model classes 0", lambda: create_model("wrn-10-1", 0), "num_classes"),
    ("create_model classes 2**70", lambda: create_model("wrn-10-1", BIG), "num_classes"),
    ("create_model classes abc", lambda: create_model("wrn-10-1", "abc"), "num_classes"),
    ("create_model unknown kwarg", lambda: create_model("wrn-10-1", 10, foo=1), "foo"),
    ("evaluate device foo", lambda: _evaluate(device="foo"), "device"),
    ("evaluate device mps", lambda: _evaluate(device="mps"), "device"),
    ("evaluate device cuda:5", lambda: _evaluate(device="cuda:5"), "device"),
    ("evaluate batch_size 0", lambda: _evaluate(batch_size=0), "batch_size"),
    ("evaluate batch_size 2**70", lambda: _evaluate(batch_size=BIG), "batch_size"),
    ("evaluate std 0", lambda: _evaluate(std=(0,) * 3), "std"),
    ("evaluate mean of 2 channels", lambda: _evaluate(mean=(0.5, 0.5), std=(0.5, 0.5)), "mean"),
    ("evaluate mean nan", lambda: _evaluate(mean=(float("nan"),) * 3), "mean"),
    ("evaluate labels", lambda: evaluate(create_model("wrn-10-1", 10), np.zeros((2, 32, 32, 3), np.uint8),
                                         np.zeros(3, np.int64), [], name="m", dataset="synthetic",
                                         mean=(0.5,) * 3, std=(0.5,) * 3), "labels"),
    ("metrics error shapes", lambda: augmix.metrics.error(np.ones((2, 3)) / 3, np.zeros(3, np.int64)), "labels"),
    ("metrics rms_calibration_error nan",
     lambda: augmix.metrics.rms_calibration_error(np.array([np.nan] * 200), np.ones(200, bool)), "confidence"),
    ("metrics mce unknown corruption", lambda: augmix.metrics.mce({"foo": {1: 0.5}}), "foo"),
    ("AugMixDataset not a data set", lambda: augmix.AugMixDataset(5), "dataset"),
    ("AugMixDataset seed -1", lambda: augmix.AugMixDataset([(IMAGE, 0)], seed=-1), "seed"),
    ("AugMixDataset seed 2**70", lambda: augmix.AugMixDataset([(IMAGE, 0)], seed=BIG), "seed"),
    ("AugMixDataset std 0", lambda: augmix.AugMixDataset([(IMAGE, 0)], mean=(0.5,) * 3, std=(0,) * 3), "std"),
]


@pytest.mark.parametrize("call, names", [pytest.param(call, names, id=name) for name, call, names in API_ROWS])
def test_bad_api_argument_is_a_value_or_type_error_naming_it(call, names):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert names in str(info.value), str(info.value)


def test_every_subcommand_has_rows():
    assert set(ROWS) == set(cli.COMMANDS)
