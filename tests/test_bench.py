"""`augmix bench`: both paths measured, figures and load written as JSON, bad arguments rejected."""
import json

import pytest

from augmix.cli import main


def test_bench_writes_both_paths_and_the_load(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = main(["bench", "--sizes", "16", "--seconds", "0.3", "--rounds", "2", "--workers", "1",
                 "--batch-size", "8", "--out", str(out)])
    assert code == 0
    record = json.loads(out.read_text())
    result = record["results"]["16px"]
    assert len(result["rounds"]) == 2 and record["n"] == 1
    for row in result["rounds"]:
        assert row["per_image"] > 0 and row["batched"] > 0
        assert abs(row["ratio"] - row["batched"] / row["per_image"]) < 1e-9
        assert len(row["load_before"]) == 3
    assert result["ratio_of_medians"] == result["batched_median"] / result["per_image_median"]
    assert "(b)/(a)" in capsys.readouterr().out


def test_bench_measures_the_per_image_loop_and_the_kernel_per_core(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--sizes", "16", "--seconds", "0.2", "--rounds", "1", "--workers", "2",
                 "--batch-size", "8", "--out", str(out)]) == 0
    result = json.loads(out.read_text())["results"]["16px"]
    row = result["rounds"][0]
    assert row["per_image_loop"] > 0 and row["kernel_one_thread"] > 0
    assert abs(row["kernel_vs_loop"] - row["kernel_one_thread"] / row["per_image_loop"]) < 1e-9
    per_core = result["per_core_median"]
    assert per_core["per_image"] == result["per_image_median"] / 2
    assert per_core["batched"] == result["batched_median"] / 2
    assert per_core["kernel"] == result["kernel_one_thread_median"]
    assert result["kernel_vs_loop"] == result["kernel_one_thread_median"] / result["per_image_loop_median"]
    assert "(k)/(p)" in capsys.readouterr().out


def test_bench_measures_the_tensor_ops_on_request(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--sizes", "16", "--seconds", "0.2", "--rounds", "1", "--workers", "1",
                 "--batch-size", "8", "--tensor-ops", "--out", str(out)]) == 0
    result = json.loads(out.read_text())["results"]["16px"]
    row = result["rounds"][0]
    assert row["tensor_ops"] > 0 and abs(row["kernel_vs_tensor_ops"] - row["batched"] / row["tensor_ops"]) < 1e-9
    assert result["kernel_vs_tensor_ops"] == result["batched_median"] / result["tensor_ops_median"]
    assert "(b)/(c)" in capsys.readouterr().out


def test_bench_rejects_bad_arguments(tmp_path, capsys):
    assert main(["bench", "--workers", "0", "--out", str(tmp_path / "x.json")]) == 2
    assert "--workers" in capsys.readouterr().err
    assert main(["bench", "--sizes", "4", "--out", str(tmp_path / "x.json")]) == 2
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("argv, match", [(["--seconds", "inf"], "--seconds must be a number of seconds"),
                                         (["--seconds", "nan"], "--seconds must be a number of seconds"),
                                         (["--sizes", "4"], "--sizes must be >= 8")])
def test_bad_durations_and_sizes_are_refused_at_once(argv, match, capsys):
    assert main(["bench", *argv]) == 2
    assert match in capsys.readouterr().err
