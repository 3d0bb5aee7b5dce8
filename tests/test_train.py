"""augmix train: exact resume, checkpoints, recipes, baselines, real CIFAR-10, clear errors."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from augmix import cli
from augmix.models import create_model
from augmix.train.checkpoint import load_model, read_checkpoint, restore_model, save_checkpoint
from augmix.train.config import METHOD_NAMES, TrainConfig, load_recipe, make_config, recipe_names, resumed_config
from augmix.train.trainer import train

TINY = dict(data="synthetic", model="wrn-10-1", train_subset=64, test_subset=32, epochs=2,
            batch_size=32, eval_batch_size=64, workers=0, seed=5)
TIMING = ("epoch_s", "images_per_s")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: these tiny models gain nothing from two, and lose a lot when the
    machine's cores are shared with other jobs (spinning OpenMP threads)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, one_thread):
    """A 2-epoch run stopped after its first epoch (read-only for the tests that share it)."""
    out = tmp_path_factory.mktemp("tiny") / "run"
    return train(make_config(**TINY, stop_after=1), out=out, progress=False)


def _weights(run_dir):
    return read_checkpoint(run_dir)["model_state"]


def _same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_after_first_epoch_is_bit_identical(tmp_path, tiny_run):
    whole = train(make_config(**TINY), out=tmp_path / "whole", progress=False)
    stopped = Path(shutil.copytree(tiny_run, tmp_path / "parts"))  # TINY stopped after epoch 1
    assert read_checkpoint(stopped)["epoch"] == 1
    # Resume in another process layout: 2 DataLoader workers instead of none.
    resumed = train(resumed_config(stopped, workers=2, stop_after=2), out=stopped, resume=True,
                    progress=False)

    a, b = read_checkpoint(whole), read_checkpoint(resumed)
    assert a["epoch"] == b["epoch"] == 2 and a["step"] == b["step"] == 4
    assert _same_state(a["model_state"], b["model_state"])
    assert all(_same_state(a["optimizer"]["state"][k], b["optimizer"]["state"][k])
               for k in a["optimizer"]["state"])
    assert a["scheduler"] == b["scheduler"]
    strip = [{k: v for k, v in r.items() if k not in TIMING} for r in a["records"]]
    assert strip == [{k: v for k, v in r.items() if k not in TIMING} for r in b["records"]]
    # The records on disk follow the checkpoint.
    lines = (resumed / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]
    assert (resumed / "metrics.csv").read_text().splitlines()[0].startswith("epoch,train_loss")


def test_a_different_seed_gives_different_weights(tmp_path, tiny_run):
    other = train(make_config(**{**TINY, "seed": 6}, stop_after=1), out=tmp_path / "b",
                  progress=False)
    assert not _same_state(_weights(tiny_run), _weights(other))


@pytest.mark.parametrize("method", [m for m in METHOD_NAMES if m != "augmix"])
def test_every_baseline_trains_a_step(tmp_path, method):
    settings = {**TINY, "train_subset": 8, "test_subset": 8, "batch_size": 8, "epochs": 1,
                "method": method, "jsd": False}
    run = train(make_config(**settings), out=tmp_path / method, progress=False)
    record = read_checkpoint(run)["records"][0]
    assert record["train_images"] == 8 and record["step"] == 1
    assert torch.isfinite(torch.tensor(record["train_loss"]))


def test_augmix_without_jsd_bf16_channels_last(tmp_path):
    settings = {**TINY, "train_subset": 16, "test_subset": 16, "batch_size": 8, "epochs": 1,
                "jsd": False, "amp": "bf16", "channels_last": True}
    run = train(make_config(**settings), out=tmp_path / "run", progress=False)
    assert torch.isfinite(torch.tensor(read_checkpoint(run)["records"][0]["train_loss"]))


def test_load_model_gives_the_trained_model_and_its_meta(tiny_run):
    run = tiny_run
    model, meta = load_model(run)
    assert meta["model"] == "wrn-10-1" and meta["num_classes"] == 10
    assert meta["mean"] == [0.5, 0.5, 0.5] and meta["dataset"] == "synthetic"
    assert meta["synthetic_seed"] == TINY["seed"]
    assert len(meta["classes"]) == 10 and meta["image_size"] == 32
    assert not model.training
    assert _same_state(model.state_dict(), _weights(run))


def test_recipes_reproduce_the_official_defaults():
    assert {"cifar10-wrn-40-2", "cifar100-allconv", "cifar10-densenet-bc-100-12",
            "cifar10-resnext-29-32x4d", "imagenet-resnet-50"} <= set(recipe_names())
    wrn = make_config("cifar10-wrn-40-2")
    assert (wrn.model, wrn.epochs, wrn.batch_size, wrn.lr, wrn.weight_decay) == ("wrn-40-2", 100, 128, 0.1, 5e-4)
    assert wrn.nesterov and wrn.momentum == 0.9 and wrn.lr_schedule == "cosine"
    assert (wrn.severity, wrn.width, wrn.depth, wrn.alpha, wrn.jsd, wrn.all_ops) == (3, 3, -1, 1.0, True, False)
    dense = make_config("cifar100-densenet-bc-100-12")
    assert (dense.epochs, dense.weight_decay, dense.data) == (200, 1e-4, "cifar100")
    assert make_config("cifar10-resnext-29-32x4d").epochs == 200
    imagenet = load_recipe("imagenet-resnet-50")
    assert (imagenet["batch_size"], imagenet["severity"], imagenet["lr_schedule"]) == (256, 1, "step")


def test_a_recipe_file_can_be_copied_and_edited(tmp_path):
    recipe = load_recipe("cifar10-wrn-40-2")
    recipe.update(epochs=3)
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(recipe))
    config = make_config(str(path), lr=0.05)
    assert (config.epochs, config.lr, config.model) == (3, 0.05, "wrn-40-2")


@pytest.mark.parametrize("settings, message", [
    (dict(model="vgg-16"), "unknown model 'vgg-16'"),
    (dict(method="dropout"), "method must be one of"),
    (dict(batch_size=0), "batch_size must be an int >= 1"),
    (dict(method="mixup", jsd=True), "JSD loss needs method 'augmix'"),
    (dict(severity=11), "severity must be"),
    (dict(lr_schedule="linear"), "lr_schedule must be one of"),
    (dict(colour="red"), "unknown training settings \\['colour'\\]"),
])
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        make_config(**settings)


def test_unknown_recipe():
    with pytest.raises(ValueError, match="unknown recipe 'cifar10-vgg'"):
        make_config("cifar10-vgg")


def test_cifar_folder_without_files_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no cifar10 files under .*--data-root"):
        train(make_config(**{**TINY, "data": "cifar10", "data_root": str(tmp_path)}),
              out=tmp_path / "run", progress=False)


def test_md5_mismatch_is_a_clear_error(tmp_path, cifar10_root):
    # The shared copy is re-encoded, so its batch files do not match the published md5s.
    with pytest.raises(ValueError, match="md5"):
        train(make_config(**{**TINY, "data": "cifar10", "data_root": str(cifar10_root)}),
              out=tmp_path / "run", progress=False)


def test_existing_run_is_not_overwritten_and_resume_needs_a_run(tmp_path, tiny_run):
    run = tiny_run
    with pytest.raises(ValueError, match="already holds a run; pass --resume"):
        train(make_config(**TINY), out=run, progress=False)
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(make_config(**TINY), out=tmp_path / "empty", resume=True, progress=False)
    with pytest.raises(ValueError, match="cannot change \\['model'\\]"):
        resumed_config(run, model="wrn-16-1")


def test_a_second_writer_on_one_run_folder_is_refused_at_once(tmp_path):
    from augmix._util.lock import FolderBusyError, folder_lock

    run = tmp_path / "busy"
    with folder_lock(run, wait=False):  # as a first `augmix train --out busy` still running would
        with pytest.raises(FolderBusyError, match="in use: another augmix process is writing a training run"):
            train(make_config(**TINY), out=run, progress=False)
    assert list(run.iterdir()) == []


def test_resuming_a_run_stopped_with_stop_after_goes_to_the_end(tmp_path):
    run = train(make_config(**TINY, stop_after=1), out=tmp_path / "stopped", progress=False)
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1
    train(resumed_config(run), out=run, resume=True, progress=False)
    assert len((run / "metrics.jsonl").read_text().splitlines()) == TINY["epochs"]


def test_checkpoint_of_another_model_and_corrupt_checkpoints(tmp_path, tiny_run):
    run = tiny_run
    payload = read_checkpoint(run)
    with pytest.raises(ValueError, match="holds a 'wrn-10-1' model, not 'allconv'"):
        restore_model(create_model("allconv", 10), payload, "allconv", "ckpt")
    payload["num_classes"] = 100  # weights of 10 classes claimed as 100
    save_checkpoint(tmp_path / "lying.pt", {k: v for k, v in payload.items() if k != "format"})
    with pytest.raises(ValueError, match="does not fit model 'wrn-10-1'"):
        load_model(tmp_path / "lying.pt")

    data = (run / "checkpoint.pt").read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.pt is not a readable checkpoint"):
        load_model(tmp_path / "truncated.pt")
    torch.save({"state_dict": {}}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not an augmix training checkpoint"):
        load_model(tmp_path / "foreign.pt")


def test_interrupted_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch, tiny_run):
    run = Path(shutil.copytree(tiny_run, tmp_path / "run"))
    before = (run / "checkpoint.pt").read_bytes()

    def dies_half_way(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        train(resumed_config(run, stop_after=2), out=run, resume=True, progress=False)
    assert (run / "checkpoint.pt").read_bytes() == before
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "config.json",
                                                     "metrics.csv", "metrics.jsonl"]
    assert read_checkpoint(run)["epoch"] == 1


def test_real_cifar10_trains_through_the_reader(tmp_path, cifar10_root):
    config = make_config(data="cifar10", data_root=str(cifar10_root), verify=False,
                         model="wrn-10-1", method="standard", jsd=False, train_subset=512,
                         test_subset=500, epochs=3, batch_size=32, lr=0.05, workers=0, seed=0)
    run = train(config, out=tmp_path / "run", progress=False)
    records = read_checkpoint(run)["records"]
    assert records[-1]["train_loss"] < records[0]["train_loss"]
    # Chance is 0.1; on 500 test images its standard deviation is 0.013, so 0.17 is > 5 sigma.
    assert records[-1]["test_acc"] > 0.17
    _, meta = load_model(run)
    assert meta["classes"][:2] == ["airplane", "automobile"]


def test_cli_trains_lists_and_fails_cleanly(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--recipe", "synthetic-wrn-16-2", "--model", "wrn-10-1",
                     "--train-subset", "16", "--test-subset", "16", "--batch-size", "8",
                     "--epochs", "1", "--workers", "0", "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "config.json").read_text())["recipe"] == "synthetic-wrn-16-2"
    assert cli.main(["train", "--list"]) == 0
    assert "cifar10-wrn-40-2" in capsys.readouterr().out
    assert cli.main(["train", "--recipe", "nope"]) == 2
    assert "unknown recipe 'nope'" in capsys.readouterr().err
    assert cli.main(["train", "--out", str(out), "--resume", "--lr", "0.5"]) == 2
    assert "cannot change ['lr']" in capsys.readouterr().err


def test_train_config_dataclass_round_trips_through_dict(tmp_path):
    config = make_config(**TINY)
    assert TrainConfig(**json.loads(json.dumps(config.__dict__))) == config


@pytest.mark.parametrize("jsd", [True, False])
def test_batched_augmix_on_the_device_trains_repeatably(tmp_path, jsd):
    settings = {**TINY, "epochs": 1, "augment_on": "device", "jsd": jsd, "train_subset": 32,
                "test_subset": 16}
    a = train(make_config(**settings), out=tmp_path / "a", progress=False)
    b = train(make_config(**settings), out=tmp_path / "b", progress=False)
    record = read_checkpoint(a)["records"][0]
    assert record["train_images"] == 32 and torch.isfinite(torch.tensor(record["train_loss"]))
    assert _same_state(_weights(a), _weights(b))  # per-step seeds: the same run twice


@pytest.mark.slow
def test_a_killed_run_resumes_bit_identically(tmp_path):
    """SIGKILL at an arbitrary moment after the first checkpoint (even mid-save), then --resume."""
    import os
    import subprocess
    import sys
    import time

    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    args = ["--recipe", "synthetic-wrn-16-2", "--model", "wrn-10-1", "--train-subset", "64",
            "--test-subset", "32", "--batch-size", "16", "--epochs", "4", "--workers", "0",
            "--quiet"]

    def cli_run(*extra):
        subprocess.run([sys.executable, "-m", "augmix", "train", *args, *extra], env=env,
                       check=True, capture_output=True, timeout=600)

    cli_run("--out", str(tmp_path / "whole"))
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "augmix", "train", *args, "--out", str(killed)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (killed / "checkpoint.pt").exists() and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    assert 1 <= read_checkpoint(killed)["epoch"] <= 4
    subprocess.run([sys.executable, "-m", "augmix", "train", "--out", str(killed), "--resume",
                    "--quiet"], env=env, check=True, capture_output=True, timeout=600)
    assert not [p for p in killed.iterdir() if p.name.startswith(".")]  # no temporary leftovers
    assert _same_state(_weights(tmp_path / "whole"), _weights(killed))


def test_augmix_eval_reads_a_training_run(tmp_path, tiny_run):
    run = Path(shutil.copytree(tiny_run, tmp_path / "run"))
    assert cli.main(["eval", str(run), "--corrupted", "generate", "--corruptions", "gaussian_noise",
                     "--severities", "1", "--test-subset", "200"]) == 0
    results = json.loads((run / "results.json").read_text())
    assert results["dataset"] == "synthetic"


def test_imagenet_recipe_on_an_image_folder_tree(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, count in (("train", 2), ("val", 1)):
        for cls in ("n01", "n02"):
            folder = tmp_path / "tree" / split / cls
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.jpg")
    config = make_config("imagenet-resnet-50", data=str(tmp_path / "tree"), model="wrn-10-1",
                         jsd=False, batch_size=4, eval_batch_size=4, epochs=6, stop_after=1,
                         workers=0)
    run = train(config, out=tmp_path / "run", progress=False)
    payload = read_checkpoint(run)
    assert payload["meta"]["dataset"] == "imagenet" and payload["meta"]["image_size"] == 224
    assert payload["meta"]["classes"] == ["n01", "n02"]
    assert payload["records"][0]["train_images"] == 4 and payload["step"] == 1
    # The official ImageNet schedule: lr x batch/256, constant within the first third.
    assert payload["records"][0]["lr"] == pytest.approx(0.1 * 4 / 256)


@pytest.mark.parametrize("env, message", [
    ({"WORLD_SIZE": "two"}, "WORLD_SIZE must be an int, got 'two'"),
    ({"WORLD_SIZE": "2"}, "RANK is not set"),
    ({"WORLD_SIZE": "2", "RANK": "2"}, "RANK must be in \\[0, 2\\), got 2"),
    ({"WORLD_SIZE": "0"}, "WORLD_SIZE must be >= 1, got 0"),
])
def test_bad_torchrun_environment_is_a_value_error_naming_the_variable(monkeypatch, env, message):
    from augmix.train import distributed

    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        distributed.init_from_env("cpu")


def test_train_flags_are_the_config_fields_and_old_spellings_are_hidden(capsys):
    import dataclasses

    parser = cli.build_parser(["train"])
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--help"])
    shown = capsys.readouterr().out
    for f in dataclasses.fields(TrainConfig):
        if f.metadata["flag"]:
            name = f.name.replace("_", "-")
            assert (f"--no-{name}" if f.default is True else f"--{name}") in shown, f.name
    assert "--wd" not in shown and "--train-size" not in shown
    args = parser.parse_args(["train", "--wd", "0.01", "--weight-decay", "0.02", "--no-nesterov"])
    assert (args.weight_decay, args.nesterov, args.epochs) == (0.02, False, None)
    assert parser.parse_args(["train", "--mean", "0.5", "0.4", "0.3"]).mean == [0.5, 0.4, 0.3]


def test_a_diverging_run_stops_with_a_clear_error_and_keeps_its_checkpoint(tmp_path, monkeypatch):
    from augmix._util.errors import TrainingError
    from augmix.train.trainer import Trainer

    run = train(make_config(**TINY, stop_after=1), out=tmp_path / "run", progress=False)
    good = read_checkpoint(run)["model_state"]
    forward = Trainer._forward
    monkeypatch.setattr(Trainer, "_forward", lambda self, *a, **k: forward(self, *a, **k) * float("nan"))
    with pytest.raises(TrainingError, match=r"training loss became nan in epoch 2 by step 1; the run stopped "
                                            r"\(epoch 1's checkpoint is kept\)\. Lower --lr"):
        train(resumed_config(run), out=run, resume=True, progress=False)
    kept = read_checkpoint(run)
    assert kept["epoch"] == 1 and all(torch.equal(kept["model_state"][k], v) for k, v in good.items())


def test_a_huge_learning_rate_stops_the_run_in_its_first_epoch(tmp_path):
    from augmix._util.errors import TrainingError

    with pytest.raises(TrainingError, match=r"training loss became (nan|inf) in epoch 1 .*no checkpoint was written"):
        train(make_config(**{**TINY, "lr": 1e30}), out=tmp_path / "run", progress=False)
