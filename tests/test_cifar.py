"""The CIFAR reader on real CIFAR-10 files, and its downloader against a local server."""
from __future__ import annotations

import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest
from http_server import local_http_server

from augmix.data.cifar import CIFAR, LAYOUTS, cifar_classes, download_cifar, find_cifar, load_cifar


def test_reads_real_cifar10_in_the_official_layout(cifar10_root, cifar_images, cifar_npz):
    images, labels = load_cifar(cifar10_root, train=False, verify=False)
    assert images.shape == (5000, 32, 32, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[:64], cifar_images)  # same pixels as decoding the JPEGs
    np.testing.assert_array_equal(labels, cifar_npz["test_labels"])
    train_images, train_labels = load_cifar(cifar10_root / "cifar-10-batches-py", verify=False)
    assert train_images.shape == (50000, 32, 32, 3)
    np.testing.assert_array_equal(train_labels, cifar_npz["train_labels"])
    assert cifar_classes(cifar10_root, verify=False)[:2] == ["airplane", "automobile"]


def test_md5_is_checked_before_unpickling(cifar10_root):
    # The shared copy is re-encoded, so every file differs from the released one.
    with pytest.raises(ValueError, match=r"md5 mismatch for .*test_batch: expected "
                                         r"40351d587109b95175f43aff81a1287e.*verify=False"):
        load_cifar(cifar10_root, train=False)


def test_dataset_gives_pil_images_and_labels(cifar10_root):
    ds = CIFAR(cifar10_root, train=False, verify=False, transform=lambda im: np.asarray(im).mean())
    value, label = ds[0]
    assert len(ds) == 5000 and isinstance(value, float) and 0 <= label < 10
    assert ds.classes[3] == "cat"


def test_folder_without_cifar_files_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no cifar10 files under .*data_batch_1.*download_cifar"):
        load_cifar(tmp_path)
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_cifar(tmp_path, dataset="cifar11")


def _dump(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def _fake_archive(tmp_path, rows: int = 4) -> bytes:
    """A tiny archive in the CIFAR-10 layout (real files are 170 MB)."""
    layout = LAYOUTS["cifar10"]
    folder = tmp_path / "build" / layout.folder
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, _ in layout.train + layout.test:
        _dump(folder / name, {b"data": rng.integers(0, 256, (rows, 3072), dtype=np.uint8),
                              b"labels": [int(v) for v in rng.integers(0, 10, rows)]})
    _dump(folder / layout.meta[0], {b"label_names": [b"c%d" % i for i in range(10)]})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder, arcname=layout.folder)
    return buf.getvalue()


def test_download_and_extract_from_a_server(tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    blob = _fake_archive(tmp_path)
    (www / "cifar-10-python.tar.gz").write_bytes(blob)
    with local_http_server(www) as (url, faults):
        folder = download_cifar(tmp_path / "data", url=f"{url}/cifar-10-python.tar.gz",
                                md5=hashlib.md5(blob).hexdigest(), progress=False)
        assert folder == find_cifar(tmp_path / "data")
        assert download_cifar(tmp_path / "data", url=f"{url}/cifar-10-python.tar.gz") == folder
        assert len(faults.requests) == 1  # the second call found the files
    images, labels = load_cifar(tmp_path / "data", verify=False)
    assert images.shape == (20, 32, 32, 3) and labels.shape == (20,)
    assert not list((tmp_path / "data").glob("*.tar.gz"))


def test_download_with_wrong_checksum_keeps_nothing(tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    (www / "c.tar.gz").write_bytes(_fake_archive(tmp_path))
    with local_http_server(www) as (url, _):
        with pytest.raises(ValueError, match="md5 mismatch"):
            download_cifar(tmp_path / "data", url=f"{url}/c.tar.gz", progress=False)  # official md5
    assert not any((tmp_path / "data").rglob("*batch*"))


def _cifar_folder_of(tmp_path, write) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name, _ in LAYOUTS["cifar10"].train + LAYOUTS["cifar10"].test:
        write(folder / name)


def test_malicious_pickle_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    _cifar_folder_of(tmp_path, lambda path: _dump(path, {b"data": Evil()}))
    with pytest.raises(ValueError, match=r"refers to .*print, which a CIFAR batch never does"):
        load_cifar(tmp_path, verify=False)


@pytest.mark.parametrize("case, match", [
    ("float pixels", r"expected uint8 rows of 3072 bytes, got float64"),
    ("no labels", r"no 'labels' entry"),
    ("wrong label count", r"one integer label per image \(2\)"),
    ("empty file", r"data_batch_1: not a readable CIFAR batch"),
    ("truncated", r"data_batch_1: not a readable CIFAR batch"),
    ("a list", r"data_batch_1: not a CIFAR batch \(a pickled list"),
])
def test_malformed_batches_are_clear_errors_naming_the_file(tmp_path, case, match):
    good = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}
    batches = {"float pixels": {**good, b"data": np.zeros((2, 3072))}, "no labels": {b"data": good[b"data"]},
               "wrong label count": {**good, b"labels": [0]}, "a list": [1, 2]}

    def write(path):
        if case == "empty file":
            path.write_bytes(b"")
        elif case == "truncated":
            path.write_bytes(pickle.dumps(good)[:-20])
        else:
            _dump(path, batches[case])

    _cifar_folder_of(tmp_path, write)
    with pytest.raises(ValueError, match=match):
        load_cifar(tmp_path, verify=False)
