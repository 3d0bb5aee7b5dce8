"""`make gpu-check`'s script, run end to end on the CPU at tiny sizes (--dry-run)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-check")
    done = subprocess.run([sys.executable, str(SCRIPT), str(out), "--dry-run"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    return done, out


def test_the_dry_run_completes_every_step_and_writes_both_summaries(dry_run):
    done, out = dry_run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads((out / "gpu-check.json").read_text())
    steps = record["steps"]
    assert list(steps) == ["environment", "cuda_tests", "augmix_throughput", "train_step", "one_epoch"]
    assert record["ok"] and all(s["status"] == "ok" for s in steps.values()), steps
    assert steps["environment"]["dry_run"] is True and steps["environment"]["device"] == "cpu"
    # On a CPU every CUDA test is collected and skipped, none fails.
    assert steps["cuda_tests"]["skipped"] >= 10 and "failed" not in steps["cuda_tests"]
    for size in ("32px", "224px"):
        assert steps["augmix_throughput"][size]["batch_augmix_views_per_s"] > 0
    step = steps["train_step"]
    assert step["amp"] == "bf16" and step["channels_last"] and step["median_on_device_s"] > 0
    epoch = steps["one_epoch"]
    assert epoch["train_images"] == 64 and epoch["images_per_s"] > 0
    assert epoch["projected_100_epochs_h"] == pytest.approx(100 * epoch["epoch_s"] / 3600 * 50_000 / 64)
    md = (out / "gpu-check.md").read_text()
    assert "dry run on the CPU" in md and all(f"| {name} | ok |" in md for name in steps)


def test_without_a_gpu_and_without_dry_run_it_says_so(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "o")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no CUDA device" in done.stdout
    assert not (tmp_path / "o").exists()
