"""augmix eval: a trained run against clean and corrupted sets -> one results record."""
from __future__ import annotations

import json

import numpy as np
import pytest

from augmix import cli
from augmix.data.generate import write_cifar_c
from augmix.evaluation.results import ResultsRecord
from augmix.evaluation.sources import clean_test_set
from augmix.train.config import make_config
from augmix.train.trainer import train

TINY = dict(data="synthetic", model="wrn-10-1", train_subset=64, test_subset=32, epochs=1,
            batch_size=32, eval_batch_size=64, workers=0, seed=5)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return train(make_config(**TINY), out=tmp_path_factory.mktemp("runs") / "tiny", progress=False)


def test_generated_corruptions_give_a_record_with_throughput(run_dir, capsys):
    args = ["eval", str(run_dir), "--corruptions", "gaussian_noise", "fog", "--severities", "1", "5",
            "--test-subset", "200", "--seed", "3"]
    assert cli.main(args) == 0
    record = ResultsRecord.from_json(run_dir / "results.json")
    assert record.dataset == "synthetic" and record.meta["n_clean"] == 200
    assert sorted(record.corruptions) == ["fog", "gaussian_noise"]
    assert sorted(record.corruptions["fog"]) == ["1", "5"]
    for key in ("source_images_per_s", "loader_images_per_s", "model_images_per_s"):
        assert record.meta[key] > 0
    assert record.meta["corruption_source"] == "generated" and record.meta["model"] == "wrn-10-1"
    assert "clean error" in capsys.readouterr().out
    # The same seed gives the same record; the generated images depend on it.
    first = json.loads((run_dir / "results.json").read_text())["corruptions"]
    assert cli.main(args + ["--out", str(run_dir / "again.json")]) == 0
    assert json.loads((run_dir / "again.json").read_text())["corruptions"] == first


def test_released_layout_equals_generation_with_the_same_seed(run_dir, tmp_path):
    clean = clean_test_set(None, "synthetic", limit=200)
    write_cifar_c(clean.images, clean.labels, tmp_path / "synthetic-c", names=["contrast"],
                  severities=[1, 2, 3, 4, 5], seed=3)
    common = ["--corruptions", "contrast", "--test-subset", "200", "--seed", "3"]
    assert cli.main(["eval", str(run_dir), "--corrupted", str(tmp_path / "synthetic-c"),
                     "--out", str(tmp_path / "released.json")] + common) == 0
    assert cli.main(["eval", str(run_dir), "--out", str(tmp_path / "generated.json")] + common) == 0
    released = ResultsRecord.from_json(tmp_path / "released.json")
    generated = ResultsRecord.from_json(tmp_path / "generated.json")
    assert released.table("error") == generated.table("error")  # the very same images
    for severity, value in generated.table("rms_calibration_error")["contrast"].items():
        # equal up to float summation order (the released file is memory-mapped)
        assert released.table("rms_calibration_error")["contrast"][severity] == pytest.approx(value, rel=1e-6)
    assert released.meta["corruption_source"] == "generated"  # augmix corrupt's folder, not the published files


def test_source_kind_tells_written_folders_from_released_ones(tmp_path):
    from augmix.evaluation.sources import source_kind

    (tmp_path / "CIFAR-10-C").mkdir()
    assert source_kind(str(tmp_path)) == "released"
    (tmp_path / "CIFAR-10-C" / "meta.json").write_text("{}")
    assert source_kind(str(tmp_path)) == source_kind(str(tmp_path / "CIFAR-10-C")) == "generated"
    assert (source_kind("generate"), source_kind("none")) == ("generated", "none")


def test_all_fifteen_by_five_are_summarized(run_dir, tmp_path, frost_dir, monkeypatch):
    monkeypatch.setenv("AUGMIX_FROST_DIR", str(frost_dir))
    assert cli.main(["eval", str(run_dir), "--test-subset", "20", "--out", str(tmp_path / "r.json")]) == 0
    record = ResultsRecord.from_json(tmp_path / "r.json")
    assert len(record.corruptions) == 15
    errors = [c["error"] for cells in record.corruptions.values() for c in cells.values()]
    assert record.summary["mean_corruption_error"] == pytest.approx(np.mean(errors))


def test_bad_input_is_a_clear_error(run_dir, tmp_path, capsys):
    assert cli.main(["eval", str(run_dir), "--corruptions", "gausian_noise"]) == 2
    assert "gaussian_noise" in capsys.readouterr().err  # the nearest name is suggested
    assert cli.main(["eval", str(run_dir), "--severities", "6"]) == 2
    assert "severities" in capsys.readouterr().err
    assert cli.main(["eval", str(run_dir), "--corrupted", str(tmp_path / "nowhere")]) == 2
    assert "--corrupted" in capsys.readouterr().err
    assert cli.main(["eval", str(tmp_path)]) == 2
    assert "checkpoint" in capsys.readouterr().err


def test_fewer_than_200_images_omit_rms_calibration(run_dir, tmp_path):
    assert cli.main(["eval", str(run_dir), "--test-subset", "40", "--corrupted", "none",
                     "--out", str(tmp_path / "r.json")]) == 0
    record = ResultsRecord.from_json(tmp_path / "r.json")
    assert "error" in record.clean and "rms_calibration_error" not in record.clean
