"""The command line as a user meets it: one line and exit code 2 for errors, Ctrl-C without a traceback."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from augmix import cli
from augmix._util.errors import DownloadError, TrainingError

SRC = Path(__file__).resolve().parents[1] / "src"


def _augmix(*argv: str, cwd: Path, **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.Popen([sys.executable, "-m", "augmix", *argv], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


@pytest.mark.parametrize("error", [DownloadError("cannot download http://x/y: HTTP 404 Not Found"),
                                   TrainingError("DDP replicas diverged at epoch 3"),
                                   ValueError("--epochs must be >= 1, got 0"),
                                   FileNotFoundError("no such run: runs/x"),
                                   OSError(28, "No space left on device")])
def test_package_errors_end_as_one_line_and_exit_code_2(error, monkeypatch, capsys):
    import augmix.cli.report as report

    def fail(args):
        raise error

    monkeypatch.setattr(report, "run", fail)
    assert cli.main(["report", "x.json", "--out", "r"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("augmix report: error: ") and str(error.args[-1]) in err


def test_ctrl_c_during_training_says_how_to_resume(tmp_path):
    run = tmp_path / "run"
    proc = _augmix("train", "--data", "synthetic", "--model", "wrn-10-1", "--train-subset", "256",
                   "--test-subset", "32", "--batch-size", "16", "--epochs", "50", "--workers", "0",
                   "--out", str(run), cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not (run / "metrics.jsonl").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)  # wait for the first finished epoch (its checkpoint is written before)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert f"augmix train: interrupted; continue from the last checkpoint with: augmix train --out {run} " \
           "--resume" in err


def test_ctrl_c_before_the_first_checkpoint_says_to_start_again(tmp_path, monkeypatch, capsys):
    import augmix.cli.train as train_cli

    def interrupted(config, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_cli, "train", interrupted)
    assert cli.main(["train", "--data", "synthetic", "--out", str(tmp_path / "r")]) == 130
    assert "no checkpoint was written: run the same command again" in capsys.readouterr().err


def test_status_messages_of_the_library_reach_stderr(capsys):
    import logging

    cli._show_status_messages()
    cli._show_status_messages()  # once only, however often main runs
    logging.getLogger("augmix").info("compiling something")
    assert capsys.readouterr().err == "augmix: compiling something\n"


def test_a_first_compile_is_announced(tmp_path, monkeypatch, caplog):
    import logging

    from augmix.augment import cpu_kernel

    monkeypatch.setattr(cpu_kernel, "__file__", str(tmp_path / "cpu_kernel.py"))  # no compiled cache here
    with caplog.at_level(logging.INFO, logger="augmix"):
        cpu_kernel._announce_first_compile.__wrapped__()
    assert "compiling the CPU kernel of BatchAugMix" in caplog.text
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "cpu_kernel_numba.mix_rows-1.py311.nbi").write_bytes(b"")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="augmix"):
        cpu_kernel._announce_first_compile.__wrapped__()
    assert caplog.text == ""


def test_ctrl_c_of_train_list_says_only_interrupted(monkeypatch, capsys):
    import augmix.cli.train as train_cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_cli, "run", interrupted)
    assert cli.main(["train", "--list"]) == 130
    assert capsys.readouterr().err == "augmix train: interrupted\n"
