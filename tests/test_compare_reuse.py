"""augmix compare / demo reuse what an earlier call left in --out only when it was made with the
same settings: a run or a corrupted set made otherwise is refused (naming what differs)."""
from __future__ import annotations

import json

import pytest
from test_extra_train import one_thread  # noqa: F401 (an autouse fixture: one intra-op thread)

from augmix import cli
from augmix._util.errors import TrainingError
from augmix.evaluation.compare import compare, train_or_resume
from augmix.train.checkpoint import read_checkpoint
from augmix.train.config import make_config

TINY = dict(data="synthetic", model="wrn-10-1", train_subset=16, test_subset=16, epochs=1,
            batch_size=16, eval_batch_size=16, workers=0, seed=5, method="standard", jsd=False)
TINY_FLAGS = ["--model", "wrn-10-1", "--train-subset", "16", "--test-subset", "16", "--batch-size", "16",
              "--eval-batch-size", "16", "--workers", "0", "--seed", "5", "--quiet"]


@pytest.fixture()
def finished(tmp_path):
    return train_or_resume(make_config(**TINY), tmp_path / "standard", progress=False)


@pytest.mark.parametrize("change, message", [
    (dict(epochs=2), r"epochs 1 \(now 2\)"),
    (dict(model="wrn-10-2"), r"model 'wrn-10-1' \(now 'wrn-10-2'\)"),
    (dict(seed=6, lr=0.05), r"lr 0.1 \(now 0.05\), seed 5 \(now 6\)"),
])
def test_a_finished_run_with_other_settings_is_refused_naming_them(finished, change, message):
    stamp = (finished / "checkpoint.pt").stat().st_mtime_ns
    with pytest.raises(ValueError, match=rf"standard holds a run made with other settings: {message}; "
                                         rf"choose another --out, or delete .*standard to train it again"):
        train_or_resume(make_config(**{**TINY, **change}), finished, progress=False)
    assert (finished / "checkpoint.pt").stat().st_mtime_ns == stamp


def test_a_finished_run_is_kept_when_only_execution_settings_differ(finished):
    stamp = (finished / "checkpoint.pt").stat().st_mtime_ns
    other = make_config(**{**TINY, "workers": 1, "eval_batch_size": 8, "recipe": "synthetic-wrn-16-2"})
    assert train_or_resume(other, finished, progress=False) == finished
    assert (finished / "checkpoint.pt").stat().st_mtime_ns == stamp


def test_an_interrupted_run_resumes_only_with_its_own_settings(tmp_path):
    run = tmp_path / "standard"
    train_or_resume(make_config(**{**TINY, "epochs": 2, "stop_after": 1}), run, progress=False)
    with pytest.raises(ValueError, match=r"other settings: lr 0.1 \(now 0.2\)"):
        train_or_resume(make_config(**{**TINY, "epochs": 2, "lr": 0.2}), run, progress=False)
    assert read_checkpoint(run)["epoch"] == 1
    train_or_resume(make_config(**{**TINY, "epochs": 2, "workers": 1}), run, progress=False)
    assert read_checkpoint(run)["epoch"] == 2


def test_a_finished_run_gets_its_missing_records_back(tmp_path, monkeypatch):
    from augmix.train import trainer

    write = trainer._write_records

    def dies_at_the_last_epoch(run_dir, records):
        if len(records) == 2:
            raise KeyboardInterrupt
        return write(run_dir, records)

    monkeypatch.setattr(trainer, "_write_records", dies_at_the_last_epoch)
    config = make_config(**{**TINY, "epochs": 2})
    with pytest.raises(KeyboardInterrupt):
        train_or_resume(config, tmp_path / "standard", progress=False)
    monkeypatch.undo()
    run = train_or_resume(config, tmp_path / "standard", progress=False)
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert lines == read_checkpoint(run)["records"] and len(lines) == 2


def test_compare_cli_refuses_a_stale_run_in_one_line(finished, capsys):
    out = finished.parent
    assert cli.main(["compare", "--methods", "standard", "--out", str(out), "--epochs", "2", *TINY_FLAGS]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds a run made with other settings: epochs 1 (now 2)" in err


@pytest.mark.parametrize("meta, message", [
    ({"seed": 0}, r"seed 0 \(now 1, --corruption-seed\)"),
    ({"seed": 1, "images": 200}, r"images 200 \(now 16, --test-subset\)"),
    ({"seed": 1, "severities": [1, 2]}, r"severities \[1, 2\] \(now \[1, 2, 3, 4, 5\], severities\)"),
])
def test_compare_refuses_a_corrupted_set_made_otherwise_before_training(tmp_path, meta, message):
    folder = tmp_path / "synthetic-C"
    folder.mkdir()
    full = {"severities": [1, 2, 3, 4, 5], "seed": 1, "table": "cifar", "images": 16, **meta}
    (folder / "meta.json").write_text(json.dumps(full))
    with pytest.raises(ValueError, match=rf"synthetic-C holds a corrupted test set made with other "
                                         rf"settings: {message}; choose another --out, or delete"):
        compare(["standard"], out=tmp_path, overrides=TINY, corruption_seed=1, progress=False)
    assert not (tmp_path / "standard").exists()  # refused before any training


def test_compare_does_not_evaluate_runs_stopped_by_stop_after(tmp_path):
    with pytest.raises(TrainingError, match=r"runs \{'standard': 1\} .* stopped before their 2 epochs "
                                            r"\(--stop-after\); they are not evaluated"):
        compare(["standard"], out=tmp_path, overrides={**TINY, "epochs": 2, "stop_after": 1}, progress=False)
    assert not (tmp_path / "standard" / "results.json").exists()
