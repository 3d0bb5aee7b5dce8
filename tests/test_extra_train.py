"""--extra-train: image folders (e.g. Stylized-ImageNet) added to an image-folder training set."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from augmix import cli
from augmix.data.sources import training_sets
from augmix.train.checkpoint import read_checkpoint
from augmix.train.config import make_config, resumed_config

CLASSES = ("n01", "n02")
COLORS = {"n01": (255, 0, 0), "n02": (0, 0, 255)}  # one solid colour per class in extra folders


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _write_folder(folder, classes=CLASSES, count=4, solid=False):
    rng = np.random.default_rng(0)
    for cls in classes:
        (folder / cls).mkdir(parents=True)
        for i in range(count):
            pixels = (np.full((40, 40, 3), COLORS[cls], np.uint8) if solid
                      else rng.integers(0, 256, (40, 40, 3), dtype=np.uint8))
            Image.fromarray(pixels).save(folder / cls / f"{i}.png")
    return folder


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    """An ImageNet-layout tree (4 train, 1 val image per class) and an extra folder (3 per class)."""
    root = tmp_path_factory.mktemp("data")
    _write_folder(root / "tree" / "train")
    _write_folder(root / "tree" / "val", count=1)
    _write_folder(root / "stylized", count=3, solid=True)
    return root / "tree", root / "stylized"


@pytest.fixture(scope="module")
def extra_run(trees, tmp_path_factory):
    tree, extra = trees
    out = tmp_path_factory.mktemp("runs") / "run"
    assert cli.main(["train", "--data", str(tree), "--extra-train", str(extra), "--model", "wrn-10-1",
                     "--method", "standard", "--epochs", "1", "--batch-size", "7",
                     "--eval-batch-size", "2", "--workers", "0", "--out", str(out), "--quiet"]) == 0
    return out


def test_extra_images_follow_the_train_images_with_its_class_indices(trees):
    tree, extra = trees
    train, test, info = training_sets(str(tree), extra_train=[str(extra)])
    assert len(train) == 8 + 6 and len(test) == 2 and info.classes == list(CLASSES)
    assert [label for _, label in (train[i] for i in range(8))] == [0] * 4 + [1] * 4
    for i in range(8, 14):
        image, label = train[i]
        assert image.getpixel((0, 0)) == COLORS[CLASSES[label]]


def test_a_missing_extra_folder_is_named(trees, tmp_path):
    tree, _ = trees
    with pytest.raises(FileNotFoundError, match=f"extra_train folder {tmp_path / 'nope'} does not"):
        training_sets(str(tree), extra_train=[str(tmp_path / "nope")])


def test_an_extra_folder_with_other_classes_is_named_with_the_differences(trees, tmp_path):
    tree, _ = trees
    other = _write_folder(tmp_path / "other", classes=("n01",), count=1)
    (other / "n03").mkdir()
    Image.new("RGB", (40, 40)).save(other / "n03" / "0.png")
    with pytest.raises(ValueError, match=rf"extra_train folder {other} must have the class folders "
                                         rf".*missing \['n02'\], unexpected \['n03'\]"):
        training_sets(str(tree), extra_train=[str(other)])


@pytest.mark.parametrize("data", ["synthetic", "cifar10"])
def test_extra_folders_need_image_folder_data(data, trees):
    with pytest.raises(ValueError, match=f"extra_train adds image folders .* data '{data}'"):
        training_sets(data, extra_train=[str(trees[1])])


@pytest.mark.parametrize("value", ["stylized/", [], [""], [3]])
def test_extra_train_setting_must_be_a_list_of_paths(value):
    with pytest.raises(ValueError, match="extra_train must be a non-empty list of folder paths"):
        make_config(extra_train=value)


def test_a_training_run_uses_the_extra_images(extra_run, trees):
    payload = read_checkpoint(extra_run)
    assert payload["config"]["extra_train"] == [str(trees[1])]
    assert payload["meta"]["classes"] == list(CLASSES)
    assert payload["records"][0]["train_images"] == 14 and payload["step"] == 2


def test_resuming_with_other_extra_folders_is_refused(extra_run, trees, tmp_path):
    assert resumed_config(extra_run, extra_train=[str(trees[1])]).extra_train == [str(trees[1])]
    with pytest.raises(ValueError, match=r"cannot change \['extra_train'\]"):
        resumed_config(extra_run, extra_train=[str(trees[1]), str(tmp_path)])
