"""Training that fails cleanly or repairs itself: records that follow the checkpoint, checkpoints
that are refused with the file named, out-of-range labels, unreadable images, unusable devices."""
from __future__ import annotations

import pytest
import torch

from augmix.train.config import make_config

TINY = dict(data="synthetic", model="wrn-10-1", train_subset=32, test_subset=16, epochs=2,
            batch_size=16, eval_batch_size=16, workers=0, seed=5)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("device, cuda, count, message", [
    ("mps", True, 1, r"device must be auto, cpu, cuda or cuda:N, got 'mps'"),
    ("foo", False, 0, r"device must be auto, cpu, cuda or cuda:N, got 'foo'"),
    ("cuda:x", True, 1, r"device must be auto, cpu, cuda or cuda:N, got 'cuda:x'"),
    ("cuda", False, 0, r"device 'cuda' asked for, but this machine has no CUDA device .*--device cpu"),
    ("cuda:0", False, 0, r"device 'cuda:0' asked for, but this machine has no CUDA device"),
    ("cuda:1", True, 1, r"device 'cuda:1' asked for, but this machine has 1 CUDA device\(s\): cuda:0 to cuda:0"),
])
def test_a_device_this_machine_cannot_use_is_refused_naming_device(monkeypatch, device, cuda, count, message):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    with pytest.raises(ValueError, match=message):
        make_config(**TINY, device=device)
    make_config(**TINY, device="cpu")
    make_config(**TINY, device="auto")
    if cuda:
        make_config(**TINY, device="cuda:0")


def test_train_cli_refuses_an_unusable_device_in_one_line(tmp_path, monkeypatch, capsys):
    from augmix import cli

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cli.main(["train", "--model", "wrn-10-1", "--device", "cuda", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "device 'cuda' asked for" in err
    assert not (tmp_path / "r").exists()
