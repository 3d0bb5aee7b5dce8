"""The sources `augmix eval` reads: clean sets and ImageNet-style trees decoded per batch."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from augmix.data.folder import ImageFileArray, scan_tree
from augmix.evaluation.sources import clean_test_set


def _tree(root, classes=("n02", "n01"), per_class=3, size=(40, 30)):
    rng = np.random.default_rng(0)
    for wnid in classes:
        (root / wnid).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / wnid / f"img{i}.png")
    (root / "n01" / "notes.txt").write_text("not an image")


def test_tree_classes_come_from_sorted_wnids(tmp_path):
    _tree(tmp_path)
    paths, labels, classes = scan_tree(tmp_path)
    assert classes == ["n01", "n02"]
    assert [p.parent.name for p in paths] == ["n01"] * 3 + ["n02"] * 3
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1, 1])


def test_image_file_array_crops_and_resizes_like_the_reference(tmp_path):
    _tree(tmp_path)
    paths, _, _ = scan_tree(tmp_path)
    crop = ImageFileArray(paths, 24)
    batch = crop[1:4]
    assert batch.shape == (3, 24, 24, 3) and batch.dtype == np.uint8 and crop.shape == (6, 24, 24, 3)
    original = np.asarray(Image.open(paths[1]).convert("RGB"))  # 30 rows x 40 columns
    np.testing.assert_array_equal(batch[0], original[3:27, 8:32])  # the centre crop, nothing else
    resized = ImageFileArray(paths, 24, resize=26)[0:1][0]  # shorter side 30 -> 26, then crop 24
    expected = Image.open(paths[0]).convert("RGB").resize((34, 26), Image.Resampling.BILINEAR)  # int(), as torchvision
    np.testing.assert_array_equal(resized, np.asarray(expected)[1:25, 5:29])
    with pytest.raises(ValueError, match="smaller than 64"):
        ImageFileArray(paths, 64)[0:1]


def test_clean_sets(tmp_path, cifar10_root):
    synthetic = clean_test_set(None, "synthetic", limit=100)
    assert synthetic.images.shape == (100, 32, 32, 3) and synthetic.labels.shape == (100,)
    cifar = clean_test_set(str(cifar10_root), "cifar10", verify=False, limit=50)
    assert cifar.images.shape == (50, 32, 32, 3) and cifar.labels.max() < 10
    with pytest.raises(ValueError, match="--data is required"):
        clean_test_set(None, "cifar10")
    with pytest.raises(ValueError, match="dataset must be"):
        clean_test_set(str(tmp_path), "mnist")
    with pytest.raises(ValueError, match="limit must be >= 1"):
        clean_test_set(None, "synthetic", limit=0)
