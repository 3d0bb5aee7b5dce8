"""benchmarks/bench_corruptions.py at tiny sizes (--quick), so that the script cannot rot; no timings asserted."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from augmix.corruptions import ALL_CORRUPTIONS

ROOT = Path(__file__).resolve().parents[1]


def test_quick_run_times_every_corruption_and_writes_json(tmp_path, cifar_npz, frost_dir):
    out = tmp_path / "bench.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_corruptions.py"), "--quick", "--out", str(out)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    record = json.loads(out.read_text())
    assert list(record["sizes"]) == ["32x32", "40x64"] and record["rounds"] == 1
    compared = record["imagecorruptions"] is not None
    if not compared:
        assert "imagecorruptions is not installed" in run.stdout
    for size in record["sizes"].values():
        rows = size["corruptions"]
        assert list(rows) == list(ALL_CORRUPTIONS)
        for name, row in rows.items():
            assert row["ours_ms"] > 0 and abs(row["ours_ms"] - min(row["ours_rounds_ms"])) < 1e-3, name
            assert ("ratio" in row) == compared
            if compared:
                assert abs(row["ratio"] - row["theirs_ms"] / row["ours_ms"]) < 1e-9
        assert abs(size["sum"]["ours_ms"] - sum(row["ours_ms"] for row in rows.values())) < 1e-6
    for name in ALL_CORRUPTIONS:
        assert name in run.stdout
