"""The embedded synthetic set, `augmix gallery` and atomic writes."""
import numpy as np
import pytest
from PIL import Image

from augmix._util.atomic import atomic_write
from augmix.cli import main
from augmix.data import SYNTHETIC_CLASSES, SyntheticShapes, make_synthetic


def test_synthetic_is_deterministic_balanced_and_varied():
    images, labels = make_synthetic(1200, seed=4)
    again, labels_again = make_synthetic(1200, seed=4)
    other, _ = make_synthetic(1200, seed=5)
    assert images.shape == (1200, 32, 32, 3) and images.dtype == np.uint8
    assert np.array_equal(images, again) and np.array_equal(labels, labels_again)
    assert not np.array_equal(images, other)
    assert len(SYNTHETIC_CLASSES) >= 10
    assert np.bincount(labels, minlength=10).min() >= 100
    # Varied colour and lighting: per-image means spread widely, images are not flat.
    means = images.reshape(len(images), -1, 3).mean(1)
    assert means.std(0).min() > 15
    assert images.reshape(len(images), -1).std(1).min() > 5
    # Texture: neighbouring pixels differ inside most images.
    assert np.abs(np.diff(images.astype(int), axis=2)).mean() > 2


def test_shape_is_what_separates_classes():
    """Mean images per class are close: colour alone cannot tell classes apart."""
    images, labels = make_synthetic(3000, seed=0)
    colour = np.stack([images[labels == c].reshape(-1, 3).mean(0) for c in range(10)])
    assert np.ptp(colour, axis=0).max() < 12


def test_splits_are_independent_and_give_pil_images():
    train, test = SyntheticShapes("train", n=50), SyntheticShapes("test", n=50)
    image, label = train[0]
    assert isinstance(image, Image.Image) and image.size == (32, 32) and 0 <= label < 10
    assert not np.array_equal(train.images, test.images)
    with pytest.raises(ValueError, match="split"):
        SyntheticShapes("val")
    with pytest.raises(ValueError, match="n must be"):
        make_synthetic(0)


def test_gallery_writes_a_png_grid(tmp_path, capsys):
    out = tmp_path / "sub" / "gallery.png"
    assert main(["gallery", "--out", str(out), "--images", "3", "--width", "2"]) == 0
    grid = Image.open(out)
    assert grid.width == 4 * (128 + 6) + 6  # original, 2 chains, mix
    assert grid.height > 3 * 128
    assert [p.name for p in out.parent.iterdir()] == ["gallery.png"]
    assert main(["gallery", "--out", str(out), "--images", "0"]) == 2
    assert "--images" in capsys.readouterr().err


def test_atomic_write_leaves_nothing_half_written(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write(b"partial")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [path]
    with atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"


def test_gallery_from_real_cifar10(tmp_path, cifar10_root, capsys):
    out = tmp_path / "cifar.png"
    assert main(["gallery", "--out", str(out), "--data", "cifar10", "--data-root", str(cifar10_root), "--no-verify",
                 "--images", "2"]) == 0
    grid = np.asarray(Image.open(out).convert("RGB"))
    assert grid.shape[0] > 2 * 128 and grid.std() > 20  # real picture content, not a blank grid
    assert main(["gallery", "--out", str(out), "--data", "cifar10", "--data-root", str(cifar10_root)]) == 2
    assert "md5 mismatch" in capsys.readouterr().err
