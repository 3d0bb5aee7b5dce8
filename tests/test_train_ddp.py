"""A 2-process torchrun run on the CPU (gloo): trains, replicas stay equal, shards do not overlap."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch.distributed as dist

from augmix.train.checkpoint import load_model, read_checkpoint

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="torch.distributed with gloo is not available in this build")
def test_torchrun_two_processes_gloo(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "augmix", "train", "--recipe", "synthetic-wrn-16-2", "--model", "wrn-10-1",
               "--train-subset", "64", "--test-subset", "32", "--batch-size", "32",
               "--epochs", "2", "--workers", "0", "--device", "cpu", "--out", str(out), "--quiet"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    for record in records:
        # Each rank took half of the 64 images, none twice: the union covers the whole set.
        assert record["shard_sizes"] == [32, 32]
        assert record["distinct_samples"] == 64 == record["train_images"]
        # Parameter hashes of both replicas were gathered and compared after the epoch.
        assert record["replicas_equal"] is True
    # Global batch 32 = 2 x 16: 2 optimizer steps per epoch.
    assert records[-1]["step"] == 4
    assert records[-1]["train_loss"] < records[0]["train_loss"]
    # Only rank 0 wrote: one checkpoint, no stray temporary files.
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "config.json",
                                                     "metrics.csv", "metrics.jsonl"]
    model, meta = load_model(out)
    assert meta["model"] == "wrn-10-1" and read_checkpoint(out)["epoch"] == 2
