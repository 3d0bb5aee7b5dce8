"""augmix compare on ImageNet-style folder data: both methods trained on FOLDER/train, evaluated
on FOLDER/val and on the ImageNet-C tree given with --corrupted (required there)."""
from __future__ import annotations

import numpy as np
from PIL import Image
from test_extra_train import one_thread  # noqa: F401 (an autouse fixture: one intra-op thread)

from augmix import cli
from augmix.corruptions import CORRUPTIONS
from augmix.evaluation.compare import compare

WNIDS = ("n01", "n02")


def _tree(root, counts, size):
    rng = np.random.default_rng(0)
    for folder, count in counts.items():
        for wnid in WNIDS:
            (root / folder / wnid).mkdir(parents=True)
            for i in range(count):
                Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(
                    root / folder / wnid / f"{i}.JPEG")
    return root


def test_compare_trains_on_a_folder_and_evaluates_on_its_imagenet_c_tree(tmp_path):
    data = _tree(tmp_path / "imagenet", {"train": 2, "val": 2}, (60, 80))
    c_tree = _tree(tmp_path / "imagenet-c", {f"{name}/1": 2 for name in CORRUPTIONS}, (224, 224))
    overrides = dict(data=str(data), model="wrn-10-1", epochs=1, batch_size=4, eval_batch_size=4,
                     workers=0, seed=1)
    records = compare(["standard", "augmix"], out=tmp_path / "cmp", recipe="imagenet-resnet-50",
                      overrides=overrides, corrupted=str(c_tree), severities=(1,), progress=False)
    for record in records:
        assert record.dataset == "imagenet"
        assert len(record.corruptions) == len(CORRUPTIONS)
        assert all(set(by_severity) == {"1"} for by_severity in record.corruptions.values())
        assert record.meta["corruption_source"] == "released"
    assert (tmp_path / "cmp" / "report" / "report.md").is_file()


def test_compare_on_a_folder_without_a_corrupted_tree_is_refused_before_training(tmp_path, capsys):
    data = _tree(tmp_path / "imagenet", {"train": 1, "val": 1}, (40, 40))
    code = cli.main(["compare", "--recipe", "imagenet-resnet-50", "--data", str(data), "--model", "wrn-10-1",
                     "--out", str(tmp_path / "cmp"), "--quiet"])
    assert code == 2
    assert "needs --corrupted: the ImageNet-C tree" in capsys.readouterr().err
    assert not (tmp_path / "cmp" / "standard").exists()
