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


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path):
    from augmix.data.folder import read_rgb

    Image.fromarray(np.full((4, 4), 32768, np.uint16)).save(tmp_path / "half.png")
    Image.fromarray(np.full((4, 4), 65535, np.uint16)).save(tmp_path / "full.png")
    assert np.asarray(read_rgb(tmp_path / "half.png")).tolist() == [[[128] * 3] * 4] * 4
    assert np.asarray(read_rgb(tmp_path / "full.png")).max() == 255


@pytest.mark.parametrize("content", [b"", b"not an image", "truncated"])
def test_unreadable_images_are_errors_naming_the_file(tmp_path, content):
    from augmix.data.folder import ImageFolder

    (tmp_path / "cls").mkdir()
    path = tmp_path / "cls" / "bad.png"
    if content == "truncated":
        Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 7).save(path)
        path.write_bytes(path.read_bytes()[:-40])
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=r"bad\.png: cannot read the image"):
        ImageFolder(tmp_path)[0]
    with pytest.raises(ValueError, match=r"bad\.png: cannot read the image"):
        ImageFileArray([path], 32)[0:1]


def test_a_decompression_bomb_is_an_error_naming_the_file(tmp_path, monkeypatch):
    from augmix.data.folder import read_rgb

    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 64x64 is then over twice the limit
    with pytest.raises(ValueError, match=r"big\.png: cannot read the image"):
        read_rgb(tmp_path / "big.png")
