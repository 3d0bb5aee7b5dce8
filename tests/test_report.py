"""Results records (schema, JSON round trip, summaries) and `augmix report` on constructed runs."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from augmix import cli
from augmix.evaluation import metrics, report
from augmix.evaluation.results import ResultsRecord, summarize


def make_record(name: str, clean_error: float, corruption_gap: float, overconfidence: float,
                seed: int, dataset: str = "cifar10") -> ResultsRecord:
    """A plausible record: errors grow with severity, calibration worsens with overconfidence."""
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0.3, 1.0, 5000)
    correct = rng.random(conf.size) < np.clip(conf - overconfidence, 0, 1)
    record = ResultsRecord(
        name=name, dataset=dataset,
        clean={"error": clean_error, "top5_error": clean_error / 5,
               "rms_calibration_error": metrics.rms_calibration_error(conf, correct),
               "ece": metrics.ece(conf, correct), "nll": 0.3 + overconfidence},
        reliability={"clean": metrics.reliability_histogram(conf, correct),
                     "corrupted": metrics.reliability_histogram(conf * 0.9 + 0.1,
                                                                correct & (rng.random(conf.size) < 0.8))},
        meta={"command": f"augmix eval --run {name}", "seed": seed, "hardware": "2-core CPU",
              "wall_time_s": 12.5, "source_images_per_s": 2300.0, "loader_images_per_s": 4100.0,
              "model_images_per_s": 950.0})
    for i, c in enumerate(metrics.CORRUPTIONS):
        for s in metrics.SEVERITIES:
            err = min(0.95, clean_error + corruption_gap * s / 5 * (0.5 + i / 15))
            rms = record.clean["rms_calibration_error"] + overconfidence * s / 5
            record.add_cell(c, s, error=err, rms_calibration_error=rms)
    return record


@pytest.fixture
def two_runs(tmp_path):
    standard = summarize(make_record("Standard", 0.06, 0.40, 0.15, seed=1))
    augmix = summarize(make_record("AugMix", 0.05, 0.12, 0.03, seed=2))
    return standard.to_json(tmp_path / "standard.json"), augmix.to_json(tmp_path / "augmix.json")


# ----------------------------------------------------------------------------- records
def test_record_json_round_trip_is_atomic(tmp_path):
    record = summarize(make_record("run", 0.1, 0.2, 0.05, seed=0))
    path = record.to_json(tmp_path / "sub" / "run.json")
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.json"]  # no temp file left
    loaded = ResultsRecord.from_json(path)
    assert loaded == record
    data = json.loads(path.read_text())
    assert set(data["corruptions"]["fog"]) == {"1", "2", "3", "4", "5"}
    assert data["summary"]["mce"] is None  # CIFAR has no AlexNet baseline


def test_summarize_cifar_by_hand():
    record = ResultsRecord(name="r", dataset="cifar10", clean={"error": 0.05})
    for i, c in enumerate(metrics.CORRUPTIONS):
        for s in metrics.SEVERITIES:
            record.add_cell(c, s, error=0.01 * i + 0.01 * s, rms_calibration_error=0.01 * s)
    summary = summarize(record).summary
    assert summary["mean_corruption_error"] == pytest.approx(0.07 + 0.03)
    assert summary["mean_rms_calibration_error_corrupted"] == pytest.approx(0.03)
    assert summary["rms_calibration_aggregation"] == "per_cell"
    assert record.summary == {}  # summarize returns a copy
    record.corruptions_pooled = {c: {"rms_calibration_error": 0.2} for c in metrics.CORRUPTIONS}
    summary = summarize(record).summary
    assert summary["mean_rms_calibration_error_corrupted"] == pytest.approx(0.2)
    assert summary["rms_calibration_aggregation"] == "per_corruption_pooled"


def test_summarize_imagenet_uses_alexnet():
    record = ResultsRecord(name="alexnet", dataset="imagenet",
                           clean={"error": metrics.ALEXNET_CLEAN_ERROR})
    for c in metrics.CORRUPTIONS:
        for s, e in zip(metrics.SEVERITIES, metrics.ALEXNET_ERRORS_BY_SEVERITY[c]):
            record.add_cell(c, s, error=e)
    summary = summarize(record).summary
    assert summary["mce"] == pytest.approx(1.0)
    assert summary["relative_mce"] == pytest.approx(1.0)
    assert summary["mce_baseline"] == "alexnet"
    assert summary["mean_rms_calibration_error_corrupted"] is None
    del record.corruptions["fog"]
    with pytest.raises(ValueError, match="lacks benchmark corruptions.*fog"):
        summarize(record)


def test_record_validation_errors(tmp_path):
    with pytest.raises(ValueError, match="store 0.112, not 11.2"):
        ResultsRecord(name="r", dataset="cifar10", clean={"error": 11.2}).validate()
    record = ResultsRecord(name="r", dataset="cifar10", clean={"error": 0.1})
    with pytest.raises(ValueError, match="unknown corruption 'fogg'"):
        record.add_cell("fogg", 1, error=0.2)
    with pytest.raises(ValueError, match="add_cell needs error"):
        record.add_cell("fog", 1, rms_calibration_error=0.2)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "r", "dataset": "cifar10", "clean": {"error": 0.1},
                               "corruptions": {"fog": {"6": {"error": 0.2}}}}))
    with pytest.raises(ValueError, match=r"bad.json: .*severity key '6'"):
        ResultsRecord.from_json(bad)
    bad.write_text(json.dumps({"name": "r", "dataset": "cifar10", "clean": {"error": 0.1},
                               "extra": 1}))
    with pytest.raises(ValueError, match=r"unknown results record fields \['extra'\]"):
        ResultsRecord.from_json(bad)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"bad.json is not a results record \(JSON written by `augmix eval`\)"):
        ResultsRecord.from_json(bad)
    bad.write_bytes(bytes(range(256)))  # e.g. a checkpoint given by mistake
    with pytest.raises(ValueError, match=r"bad.json is not a results record .*codec"):
        ResultsRecord.from_json(bad)
    with pytest.raises(FileNotFoundError, match="results record not found"):
        ResultsRecord.from_json(tmp_path / "missing.json")


# ----------------------------------------------------------------------------- report
def test_report_cli_writes_markdown_and_pngs(two_runs, tmp_path, capsys):
    out = tmp_path / "report"
    assert cli.main(["report", *map(str, two_runs), "--out", str(out)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(["report.md", report.ERROR_BY_CORRUPTION_PNG, report.BY_SEVERITY_PNG,
                            report.RELIABILITY_PNG])
    for name in files:
        if name.endswith(".png"):
            with Image.open(out / name) as im:
                assert im.format == "PNG" and im.width >= 600 and im.height >= 300

    text = (out / "report.md").read_text()
    standard = ResultsRecord.from_json(two_runs[0])
    augmix = ResultsRecord.from_json(two_runs[1])
    summary_row = next(line for line in text.splitlines() if line.startswith("| AugMix | cifar10"))
    assert f"| {100 * augmix.summary['mean_corruption_error']:.2f} |" in summary_row
    assert f"| {100 * augmix.clean['error']:.2f} |" in summary_row
    fog = np.mean([standard.corruptions["fog"][s]["error"] for s in "12345"])
    fog_row = next(line for line in text.splitlines() if line.startswith("| fog |"))
    assert fog_row.startswith(f"| fog | {100 * fog:.2f} | ")
    assert "| Standard | 2300 | 4100 | 950 |" in text  # source, loader and model throughput
    assert f"![{report.RELIABILITY_PNG}]({report.RELIABILITY_PNG})" in text
    assert str(out / "report.md") in capsys.readouterr().out


def test_report_without_summary_or_reliability(tmp_path):
    partial = ResultsRecord(name="partial", dataset="cifar10", clean={"error": 0.1})
    for s in metrics.SEVERITIES:
        partial.add_cell("fog", s, error=0.1 * s)
    partial.add_cell("snow", 3, error=0.3)
    path = partial.to_json(tmp_path / "partial.json")
    written = report.write_report(report.load_records([path]), tmp_path / "out")
    text = (tmp_path / "out" / "report.md").read_text()
    assert "Note: partial: no summary (errors['snow'] lacks severities [1, 2, 4, 5]" in text
    assert "| fog | 30.00 |" in text and "| snow | 30.00 † |" in text
    assert "RMS calibration error by severity" not in text  # no calibration data at all
    assert "no reliability diagram for partial" in text
    assert "partial: 2 of 15" in text
    assert sorted(p.name for p in written) == sorted(
        ["report.md", report.ERROR_BY_CORRUPTION_PNG, report.BY_SEVERITY_PNG])


def test_report_errors_are_clean(two_runs, tmp_path, capsys):
    assert cli.main(["report", str(tmp_path / "nope.json"), "--out", str(tmp_path)]) == 2
    assert "results record not found" in capsys.readouterr().err
    assert cli.main(["report", str(two_runs[0]), str(two_runs[0]), "--out", str(tmp_path)]) == 2
    assert "distinct names" in capsys.readouterr().err
