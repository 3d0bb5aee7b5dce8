"""augmix compare and augmix demo: same budget for every method, one corrupted set, one report."""
from __future__ import annotations

import pytest

from augmix import cli
from augmix.cli.demo import DEMO_STABILITY_SUBSET
from augmix.evaluation.compare import comparison_table, method_settings
from augmix.evaluation.results import ResultsRecord


@pytest.fixture()
def frost_env(frost_dir, monkeypatch):
    monkeypatch.setenv("AUGMIX_FROST_DIR", str(frost_dir))


def test_demo_trains_both_evaluates_all_cells_and_reports(tmp_path, frost_env, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--epochs", "1", "--train-subset", "128", "--test-subset", "200",
            "--model", "wrn-10-1", "--workers", "0", "--seed", "2", "--quiet"]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "standard" in printed and "augmix" in printed and "mean corr. err" in printed
    assert "AugMix+JSD changes the mean corruption error by" in printed and "CPU time" in printed
    records = [ResultsRecord.from_json(out / m / "results.json") for m in ("standard", "augmix")]
    for record in records:
        assert len(record.corruptions) == 15 and all(len(c) == 5 for c in record.corruptions.values())
        assert record.summary["mean_corruption_error"] is not None
        assert record.meta["n_clean"] == 200
    assert records[0].meta["seed"] == records[1].meta["seed"] == 2
    # Stability on generated sequences of the first test images, the same for both models.
    assert "Mean flip probability over the 10 perturbation sequences" in printed
    for record in records:
        assert record.stability["mean_flip_probability"] is not None and record.stability["source"] == "generated"
        assert {v["videos"] for v in record.stability["perturbations"].values()} == {min(DEMO_STABILITY_SUBSET, 200)}
    # Both models saw the very same corrupted images: one set on disk, written once.
    assert sorted(p.name for p in (out / "synthetic-C").glob("*.npy"))[:2] == ["brightness.npy", "contrast.npy"]
    report = (out / "report" / "report.md").read_text()
    assert "| standard |" in report and "| augmix |" in report
    assert sorted(p.name for p in (out / "report").glob("*.png"))
    # A second run keeps the finished runs instead of training again.
    stamp = (out / "standard" / "checkpoint.pt").stat().st_mtime_ns
    assert cli.main(args) == 0
    assert (out / "standard" / "checkpoint.pt").stat().st_mtime_ns == stamp


def test_method_names():
    assert method_settings("augmix") == {"method": "augmix", "jsd": True}
    assert method_settings("augmix-no-jsd") == {"method": "augmix", "jsd": False}
    # Where AugMix runs concerns AugMix only: a comparison may batch it while the others keep theirs.
    assert method_settings("cutmix") == {"method": "cutmix", "jsd": False, "augment_on": "workers"}
    with pytest.raises(ValueError, match="methods must be among"):
        method_settings("augmax")


def test_compare_rejects_repeated_methods(tmp_path, capsys):
    assert cli.main(["compare", "--methods", "standard", "standard", "--out", str(tmp_path)]) == 2
    assert "distinct" in capsys.readouterr().err


def test_comparison_table_lines_up():
    record = ResultsRecord(name="standard", dataset="synthetic", clean={"error": 0.125})
    table = comparison_table([record]).splitlines()
    assert table[0].startswith("method") and table[2].split()[:2] == ["standard", "12.50"]
    assert len({len(line) for line in table}) == 1
