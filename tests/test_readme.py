"""Every example in README.md runs: its Python blocks as written, its shell commands at tiny sizes.

The shell commands run in order in one scratch folder with HOME pointing at a scratch
home, so `~/data/cifar` is real CIFAR-10 (re-encoded from ../shared, hence
`--no-verify`) and the runs each command writes are there for the next one. Each
command gets only the arguments of `TINY` for its subcommand (data and epochs cut to
a few images, the md5 check off), nothing else: a README command that stops working
fails here.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# What each subcommand gets appended, to run in seconds on two cores.
SUBSET = ["--train-subset", "64", "--test-subset", "16", "--batch-size", "32", "--workers", "0"]
TINY: dict[str, list[str]] = {
    # Two epochs, stopped after one as if interrupted: the README's --resume then finishes it.
    "train": ["--epochs", "2", "--stop-after", "1", *SUBSET, "--no-verify", "--quiet"],
    "compare": ["--epochs", "1", *SUBSET, "--no-verify", "--quiet"],
    "eval": ["--test-subset", "16", "--no-verify"],
    # as many images as eval's: a corrupted set must hold the clean images it is compared with
    "corrupt": ["--test-subset", "16", "--no-verify", "--workers", "1"],
    "gallery": ["--images", "2", "--no-verify"],
    "report": [],
    "demo": ["--epochs", "1", "--train-subset", "64", "--test-subset", "16", "--quiet"],
}


def readme_shell_commands() -> list[str]:
    """The commands of the README's ```bash blocks: continuations joined, comments dropped."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line:
                commands.append(" ".join(line.split()))
    return commands


def _subcommand(words: list[str]) -> str:
    return words[words.index("augmix") + 1]


def _tiny(words: list[str]) -> list[str]:
    extra = list(TINY[_subcommand(words)])
    sub = _subcommand(words)
    if "--list" in words or "--resume" in words or (sub == "gallery" and "--data" not in words):
        extra = [] if "--list" in words else [w for w in extra if w != "--no-verify"]
    if sub == "train" and "--resume" in words:
        extra = ["--quiet"]
    return words + extra


def _argv(command: str, scratch: Path, home: Path) -> list[str]:
    words = [f"{home}/{w[2:]}" if w.startswith("~/") else w for w in shlex.split(command)]
    if words[0] == "make":
        target = words[1]
        stamp = Path(sys.prefix) / ".installed"
        argv = ["make", "-s", "-C", str(ROOT), "-o", str(stamp), target, f"VENV={sys.prefix}"]
        if target == "demo":
            return argv + [f"DEMO_ARGS=--out {scratch / 'out' / 'demo'} {' '.join(TINY['demo'])}"]
        return argv + ["PYTEST_ARGS=tests/test_loss.py -p no:cacheprovider"]
    if words[0] == ".venv/bin/augmix":
        return [sys.executable, "-m", "augmix", *_tiny(["augmix", *words[1:]])[1:]]
    if words[0] == ".venv/bin/torchrun":
        launcher = [sys.executable, "-m", "torch.distributed.run"]
        return launcher + _tiny(words[1:])
    raise AssertionError(f"README command with an unknown program: {command}")


def _photos(folder: Path) -> None:
    """A folder of images of two sizes and formats, one nested, for `augmix corrupt --folder`."""
    import numpy as np
    from PIL import Image

    (folder / "street").mkdir(parents=True)
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(folder / "street" / "car.jpg")
    Image.fromarray(pixels[:32, :32]).save(folder / "sign.png")


def test_readme_shell_commands_run_at_tiny_sizes(tmp_path, cifar10_root, frost_dir):
    commands = readme_shell_commands()
    assert len(commands) >= 15 and commands[:2] == ["make demo", "make test"]
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    shutil.copytree(cifar10_root, home / "data" / "cifar")
    _photos(home / "data" / "photos")
    scratch = tmp_path / "work"
    scratch.mkdir()
    env = {**os.environ, "HOME": str(home), "AUGMIX_CACHE": str(tmp_path / "cache"),
           "AUGMIX_FROST_DIR": str(frost_dir), "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    for command in commands:
        if "~/data/CIFAR-10-C " in command + " " and not (home / "data" / "CIFAR-10-C").exists():
            # The released files cannot be fetched here: the set written by the README's
            # `augmix corrupt` stands in for them.
            (home / "data" / "CIFAR-10-C").symlink_to(home / "data" / "CIFAR-10-C-mine")
        argv = _argv(command, scratch, home)
        done = subprocess.run(argv, cwd=scratch, env={**env, "HOME": str(home)}, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"{command}\n-> {shlex.join(argv)}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert (scratch / "reports" / "report.md").is_file()
    resumed = (scratch / "runs" / "wrn" / "metrics.jsonl").read_text().splitlines()
    assert len(resumed) == 2  # the interrupted run was continued to its last epoch
    assert (scratch / "runs" / "compare" / "report" / "report.md").is_file()
    assert (home / "data" / "photos-C" / "fog" / "3" / "street" / "car.jpg").is_file()


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["view"].shape == (3, 32, 32)
    assert namespace["loss"].item() > 0
    assert namespace["record"].images == {"clean": 200, "corrupted": 200}  # "Evaluate your own model"


@pytest.mark.parametrize("command, expected", [
    (".venv/bin/augmix train --out runs/wrn --resume", ["augmix", "train", "--out", "runs/wrn", "--resume",
                                                        "--quiet"]),
    (".venv/bin/augmix train --list", ["augmix", "train", "--list"]),
])
def test_tiny_arguments_are_only_appended(command, expected, tmp_path):
    assert _argv(command, tmp_path, tmp_path)[2:] == expected
