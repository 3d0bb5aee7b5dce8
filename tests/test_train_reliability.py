"""Training that fails cleanly or repairs itself: records that follow the checkpoint, checkpoints
that are refused with the file named, out-of-range labels, unreadable images, unusable devices."""
from __future__ import annotations

import pytest
import torch
from test_extra_train import _write_folder, one_thread  # noqa: F401 (one_thread: an autouse fixture)

from augmix.train.config import make_config

TINY = dict(data="synthetic", model="wrn-10-1", train_subset=32, test_subset=16, epochs=2,
            batch_size=16, eval_batch_size=16, workers=0, seed=5)


@pytest.mark.parametrize("device, cuda, count, message", [
    ("mps", True, 1, r"device must be auto, cpu, cuda or cuda:N, got 'mps'"),
    ("foo", False, 0, r"device must be auto, cpu, cuda or cuda:N, got 'foo'"),
    ("cuda:x", True, 1, r"device must be auto, cpu, cuda or cuda:N, got 'cuda:x'"),
    ("cuda", False, 0, r"device 'cuda' asked for, but this machine has no CUDA device .*use cpu"),
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


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    """TINY stopped after its first epoch (read-only: copy it to change it)."""
    from augmix.train.trainer import train

    return train(make_config(**TINY, stop_after=1), out=tmp_path_factory.mktemp("tiny") / "run", progress=False)


def _copy(run, tmp_path):
    import shutil

    return shutil.copytree(run, tmp_path / "run")


def _damage(path, how):
    from augmix.train.checkpoint import read_checkpoint, save_checkpoint

    if how == "empty":
        path.write_bytes(b"")
    elif how == "text":
        path.write_text("hello, I am a text file\n")
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    else:
        payload = {k: v for k, v in read_checkpoint(path).items() if k != "format"}
        if how == "no model_state":
            del payload["model_state"]
        elif how == "records not a list":
            payload["records"] = "1 2 3"
        elif how == "unknown model":
            payload["model"] = "vgg-99"
        elif how == "nan weights":
            first = next(k for k, v in payload["model_state"].items() if v.is_floating_point())
            payload["model_state"][first].view(-1)[3] = float("nan")
        elif how == "inf weights":
            last = [k for k, v in payload["model_state"].items() if v.is_floating_point()][-1]
            payload["model_state"][last].view(-1)[0] = float("-inf")
        save_checkpoint(path, payload)


DAMAGE = {
    "empty": r"checkpoint.pt is empty \(0 bytes\), not a checkpoint",
    "text": r"checkpoint.pt is not a readable checkpoint \(truncated or corrupt\?\)",
    "truncated": r"checkpoint.pt is not a readable checkpoint \(truncated or corrupt\?\)",
    "no model_state": r"checkpoint.pt is a damaged augmix checkpoint: missing \['model_state'\]",
    "records not a list": r"checkpoint.pt is a damaged augmix checkpoint: wrong type of \['records'\]",
    "unknown model": r"checkpoint.pt: cannot build its model: unknown model 'vgg-99'",
    "nan weights": r"checkpoint.pt holds non-finite weights \(NaN or inf\) in 1 tensor\(s\), first 'conv",
    "inf weights": r"checkpoint.pt holds non-finite weights \(NaN or inf\) in 1 tensor\(s\), first 'fc",
}


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_checkpoint_is_one_clear_error_naming_the_file(stopped_run, tmp_path, capsys, how):
    from augmix import cli
    from augmix.train.checkpoint import load_model
    from augmix.train.config import resumed_config
    from augmix.train.trainer import train

    run = _copy(stopped_run, tmp_path)
    _damage(run / "checkpoint.pt", how)
    with pytest.raises(ValueError, match=DAMAGE[how]):
        load_model(run)
    # augmix eval and augmix train --resume: one line on stderr naming the file, exit code 2
    for args in (["eval", str(run), "--corrupted", "none"], ["train", "--out", str(run), "--resume", "--quiet"]):
        assert cli.main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(run / "checkpoint.pt") in err, err
    if how in ("nan weights", "inf weights"):  # the check sits where resume restores the model too
        with pytest.raises(ValueError, match=DAMAGE[how]):
            train(resumed_config(run), out=run, resume=True, progress=False)


def test_a_checkpoint_with_settings_unknown_to_this_version_is_named(stopped_run, tmp_path):
    from augmix.train.checkpoint import read_checkpoint, save_checkpoint
    from augmix.train.config import resumed_config

    run = _copy(stopped_run, tmp_path)
    payload = {k: v for k, v in read_checkpoint(run).items() if k != "format"}
    payload["config"]["warp_drive"] = True
    save_checkpoint(run / "checkpoint.pt", payload)
    with pytest.raises(ValueError, match=r"checkpoint.pt: its configuration holds settings .*\['warp_drive'\]"):
        resumed_config(run)


def _lines(run):
    import json

    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture()
def killed_before_last_records(tmp_path, monkeypatch):
    """A finished TINY run whose process died after the last checkpoint, before its records."""
    from augmix.train import trainer
    from augmix.train.checkpoint import read_checkpoint

    write = trainer._write_records

    def dies_at_the_last_epoch(run_dir, records):
        if len(records) == TINY["epochs"]:
            raise KeyboardInterrupt
        return write(run_dir, records)

    monkeypatch.setattr(trainer, "_write_records", dies_at_the_last_epoch)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(make_config(**TINY), out=tmp_path / "run", progress=False)
    monkeypatch.undo()
    run = tmp_path / "run"
    assert read_checkpoint(run)["epoch"] == TINY["epochs"] and len(_lines(run)) == TINY["epochs"] - 1
    return run


def test_resuming_a_finished_run_repairs_records_one_epoch_short(killed_before_last_records, capsys):
    from augmix import cli
    from augmix.train.checkpoint import read_checkpoint

    run = killed_before_last_records
    assert cli.main(["train", "--out", str(run), "--resume", "--quiet"]) == 0
    records = read_checkpoint(run)["records"]
    assert _lines(run) == records and [r["epoch"] for r in records] == [1, 2]
    csv_lines = (run / "metrics.csv").read_text().splitlines()
    assert len(csv_lines) == 1 + TINY["epochs"] and csv_lines[2].startswith("2,")


def test_repair_records_rewrites_only_what_differs(killed_before_last_records):
    from augmix.train.checkpoint import read_checkpoint
    from augmix.train.trainer import repair_records

    run = killed_before_last_records
    assert repair_records(run) is True
    assert _lines(run) == read_checkpoint(run)["records"]
    stamps = [(run / name).stat().st_mtime_ns for name in ("metrics.jsonl", "metrics.csv")]
    assert repair_records(run) is False
    assert [(run / name).stat().st_mtime_ns for name in ("metrics.jsonl", "metrics.csv")] == stamps


def _fake_cifar10(root, train_labels, test_labels=(0, 1)):
    """A CIFAR-10 folder in the official python layout, 2 images per batch (read with verify=False)."""
    import pickle

    import numpy as np

    from augmix.data.cifar import LAYOUTS

    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    layout = LAYOUTS["cifar10"]
    for (name, _), labels in zip(layout.train + layout.test, [train_labels] * 5 + [list(test_labels)]):
        data = np.random.default_rng(0).integers(0, 256, (len(labels), 3072), dtype=np.uint8)
        (folder / name).write_bytes(pickle.dumps({b"data": data, b"labels": list(labels)}, protocol=2))
    names = [f"class{i}".encode() for i in range(10)]
    (folder / layout.meta[0]).write_bytes(pickle.dumps({b"label_names": names}, protocol=2))
    return root


@pytest.mark.parametrize("labels, message", [
    ([3, 10], r"the training set of cifar10: label 10 of image 1 is outside its 10 classes \(0 to 9\); "
              r"5 image\(s\) have such labels"),
    ([-1, 2], r"the training set of cifar10: label -1 of image 0 is outside its 10 classes"),
])
def test_out_of_range_labels_of_an_array_data_set_are_named_before_training(tmp_path, labels, message):
    from augmix.train.trainer import train

    root = _fake_cifar10(tmp_path / "cifar", labels)
    config = make_config(**{**TINY, "data": "cifar10", "data_root": str(root), "verify": False,
                            "train_subset": None, "test_subset": None})
    with pytest.raises(ValueError, match=message):
        train(config, out=tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_out_of_range_labels_of_other_data_sets_are_named_at_their_batch(tmp_path, monkeypatch):
    from augmix.data.sources import training_sets
    from augmix.train import trainer

    class Relabelled(torch.utils.data.Dataset):  # a kind whose labels are only known when read
        def __init__(self, dataset, bad_index, label):
            self.dataset, self.bad_index, self.label = dataset, bad_index, label

        def __len__(self):
            return len(self.dataset)

        def __getitem__(self, index):
            image, label = self.dataset[index]
            return image, self.label if index == self.bad_index else label

    def sets(*args, **kwargs):
        train, test, info = training_sets(*args, **kwargs)
        return Relabelled(train, 20, 12), test, info

    monkeypatch.setattr(trainer, "training_sets", sets)
    with pytest.raises(ValueError, match=r"a training label of data 'synthetic' is 12, outside its 10 "
                                         r"classes \(0 to 9\)"):
        trainer.train(make_config(**TINY), out=tmp_path / "run", progress=False)


def test_labels_are_known_through_subsets_and_concatenations():
    import numpy as np

    from augmix.data.arrays import ArrayImageDataset
    from augmix.data.sources import check_labels, known_labels

    images = np.zeros((4, 2, 2, 3), np.uint8)
    joined = torch.utils.data.ConcatDataset([ArrayImageDataset(images, [0, 1, 2, 3]),
                                             torch.utils.data.Subset(ArrayImageDataset(images, [5, 4, 1, 0]), [3, 1])])
    assert known_labels(joined).tolist() == [0, 1, 2, 3, 0, 4]
    check_labels(joined, 5, "joined")
    with pytest.raises(ValueError, match=r"joined: label 4 of image 5 is outside its 4 classes \(0 to 3\)"):
        check_labels(joined, 4, "joined")
    assert known_labels(torch.utils.data.TensorDataset(torch.zeros(2))) is None


@pytest.fixture()
def tree_with_bad_images(tmp_path, monkeypatch):
    """An image-folder tree: 3 good training images per class, and in n02 a text file, a
    truncated PNG, an empty file and a decompression bomb (with Pillow's limit lowered)."""
    from PIL import Image

    _write_folder(tmp_path / "tree" / "train", count=3)
    _write_folder(tmp_path / "tree" / "val", count=1)
    bad = tmp_path / "tree" / "train" / "n02"
    (bad / "text.jpg").write_text("not an image")
    (bad / "truncated.png").write_bytes((bad / "0.png").read_bytes()[:300])
    (bad / "empty.png").write_bytes(b"")
    Image.new("RGB", (400, 400)).save(bad / "bomb.png")  # 160,000 pixels, over twice the limit below
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 70_000)  # the 224 and 256 pixel crops pass
    return tmp_path / "tree", sorted(["text.jpg", "truncated.png", "empty.png", "bomb.png"])


def _folder_config(tree, **settings):
    return make_config(data=str(tree), model="wrn-10-1", method="standard", jsd=False, epochs=2,
                       batch_size=5, eval_batch_size=2, workers=0, seed=1, **settings)


def test_an_unreadable_training_image_stops_the_run_with_its_own_message(tree_with_bad_images, tmp_path):
    from augmix.train.trainer import train

    tree, _ = tree_with_bad_images
    with pytest.raises(ValueError) as caught:
        train(_folder_config(tree), out=tmp_path / "run", progress=False)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message and "worker" not in message
    assert "cannot read the image" in message and "--skip-bad-images" in message
    assert str(tree / "train" / "n02") in message


def test_the_cli_names_an_unreadable_image_in_one_line_with_worker_processes(tree_with_bad_images, tmp_path,
                                                                              capsys):
    from augmix import cli

    tree, _ = tree_with_bad_images
    assert cli.main(["train", "--data", str(tree), "--model", "wrn-10-1", "--method", "standard",
                     "--epochs", "1", "--batch-size", "5", "--workers", "2", "--out", str(tmp_path / "run"),
                     "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "cannot read the image" in err, err


def test_skip_bad_images_warns_naming_each_file_and_counts_them(tree_with_bad_images, tmp_path):
    from augmix.train.checkpoint import read_checkpoint
    from augmix.train.trainer import train

    tree, bad = tree_with_bad_images
    with pytest.warns(UserWarning, match="skipped an unreadable image") as caught:
        run = train(_folder_config(tree, skip_bad_images=True), out=tmp_path / "run", progress=False)
    named = sorted({name for w in caught for name in bad if f"n02/{name}: cannot read the image" in str(w.message)})
    assert named == bad
    records = read_checkpoint(run)["records"]
    assert [(r["train_images"], r["skipped_images"], r["test_skipped_images"]) for r in records] == [(6, 4, 0)] * 2
    assert "skipped_images" in (run / "metrics.csv").read_text().splitlines()[0]


def test_a_worker_error_is_raised_with_its_own_message(tmp_path, monkeypatch):
    from augmix.data.sources import training_sets
    from augmix.train import trainer

    class Broken(torch.utils.data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, index):
            raise ValueError(f"item {index}: this data set is broken")

    def sets(*args, **kwargs):
        _, test, info = training_sets(*args, **kwargs)
        return Broken(), test, info

    monkeypatch.setattr(trainer, "training_sets", sets)
    with pytest.raises(ValueError, match=r"^item \d: this data set is broken$"):
        trainer.train(make_config(**{**TINY, "workers": 1}), out=tmp_path / "run", progress=False)
