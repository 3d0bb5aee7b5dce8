"""`augmix corrupt`, the -C loaders, the downloads and the frost textures' fetch."""
from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import numpy as np
import pytest
from http_server import local_http_server
from PIL import Image

from augmix import cli
from augmix.corruptions import frost as frost_assets
from augmix.data import corrupted, generate

NAMES = ["gaussian_noise", "frost", "glass_blur", "contrast"]


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def cifar_c(tmp_path_factory, cifar_images, cifar_labels, frost_dir):
    out = tmp_path_factory.mktemp("c") / "CIFAR-10-C"
    generate.write_cifar_c(cifar_images[:24], cifar_labels[:24], out, names=NAMES, seed=3, chunk=10,
                           workers=1, frost_dir=frost_dir)
    return out


def test_cifar_layout_and_loader(cifar_c, cifar_images, cifar_labels, frost_dir):
    assert sorted(p.name for p in cifar_c.iterdir()) == sorted([f"{n}.npy" for n in NAMES] + ["labels.npy", "meta.json"])
    data = np.load(cifar_c / "frost.npy")
    assert data.shape == (120, 32, 32, 3) and data.dtype == np.uint8
    labels = np.load(cifar_c / "labels.npy")
    assert labels.dtype == np.uint8 and np.array_equal(labels, np.tile(cifar_labels[:24], 5))
    generated = {(n, s): x for n, s, x, _ in corrupted.iter_corrupted(
        cifar_images[:24], cifar_labels[:24], NAMES, seed=3, frost_dir=frost_dir)}
    for name, severity, images, lab in corrupted.iter_cifar_c(cifar_c, NAMES, verify=True):
        assert isinstance(images, np.memmap) and images.shape == (24, 32, 32, 3)
        np.testing.assert_array_equal(images, generated[name, severity])
        np.testing.assert_array_equal(lab, cifar_labels[:24])
    assert not np.array_equal(*(generated["frost", s] for s in (1, 5)))


def test_same_bytes_whatever_the_number_of_processes(cifar_c, cifar_images, cifar_labels, frost_dir, tmp_path):
    generate.write_cifar_c(cifar_images[:24], cifar_labels[:24], tmp_path / "p2", names=NAMES, seed=3,
                           chunk=7, workers=2, frost_dir=frost_dir)
    assert _digests(tmp_path / "p2") == _digests(cifar_c)


def _interrupt_after(tasks: int, monkeypatch):
    """Make the generation stop as Ctrl-C would after `tasks` finished tasks; returns the real task."""
    real, calls = generate._run_npy_task, []

    def interrupted(task):
        if len(calls) == tasks:
            raise KeyboardInterrupt("simulated interruption")
        calls.append(task)
        return real(task)

    monkeypatch.setattr(generate, "_run_npy_task", interrupted)
    return real


@pytest.mark.parametrize("rerun_chunk", [10, 7])  # the same chunking, or another one
def test_interrupted_generation_resumes_to_the_same_bytes(cifar_c, cifar_images, cifar_labels, frost_dir,
                                                          tmp_path, monkeypatch, rerun_chunk):
    real = _interrupt_after(9, monkeypatch)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        generate.write_cifar_c(cifar_images[:24], cifar_labels[:24], out, names=NAMES, seed=3, chunk=10,
                               workers=1, frost_dir=frost_dir)
    assert not list(out.rglob("*.tmp")) and len(list(out.rglob("*.npy"))) == 9  # finished parts only
    assert not (out / "labels.npy").exists()
    monkeypatch.setattr(generate, "_run_npy_task", real)
    generate.write_cifar_c(cifar_images[:24], cifar_labels[:24], out, names=NAMES, seed=3, chunk=rerun_chunk,
                           workers=1, frost_dir=frost_dir)
    assert _digests(out) == _digests(cifar_c)
    with pytest.raises(ValueError, match="other settings"):
        generate.write_cifar_c(cifar_images[:24], cifar_labels[:24], out, names=NAMES, seed=4, frost_dir=frost_dir)


def _damaged_copy_repaired(cifar_c, images, labels, frost_dir, out: Path, damage) -> Path:
    """Copy a finished set, damage the copy, run the same generation on it again."""
    import shutil

    shutil.copytree(cifar_c, out)
    damage(out)
    generate.write_cifar_c(images[:24], labels[:24], out, names=NAMES, seed=3, chunk=10, frost_dir=frost_dir)
    return out


def test_a_finished_file_of_the_wrong_size_is_written_again(cifar_c, cifar_images, cifar_labels, frost_dir,
                                                            tmp_path):
    def damage(out: Path) -> None:
        with open(out / "contrast.npy", "r+b") as f:
            f.truncate((out / "contrast.npy").stat().st_size - 100)
        with open(out / "frost.npy", "ab") as f:
            f.write(b"trailing garbage of an interrupted copy")

    out = _damaged_copy_repaired(cifar_c, cifar_images, cifar_labels, frost_dir, tmp_path / "copy", damage)
    assert _digests(out) == _digests(cifar_c)


def test_leftover_temporary_files_are_removed_on_the_next_run(cifar_c, cifar_images, cifar_labels, frost_dir,
                                                             tmp_path):
    def leave_temporaries(out: Path) -> None:
        (out / ".contrast.npy.abc123.tmp").write_bytes(b"x" * 1000)
        (out / ".parts" / "frost").mkdir(parents=True)
        (out / ".parts" / "frost" / ".s1_00000000-00000010.npy.x.tmp").write_bytes(b"x")

    out = _damaged_copy_repaired(cifar_c, cifar_images, cifar_labels, frost_dir, tmp_path / "copy",
                                 leave_temporaries)
    assert not list(out.rglob("*.tmp"))
    assert _digests(out) == _digests(cifar_c)


def _cifar_c_folder(folder: Path, images: np.ndarray, labels: np.ndarray, meta: dict | None) -> Path:
    import json

    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "contrast.npy", images)
    np.save(folder / "labels.npy", labels)
    if meta is not None:
        (folder / "meta.json").write_text(json.dumps(meta))
    return folder


@pytest.mark.parametrize("shape", [(10, 32, 32, 1), (10, 32, 32, 4)])
def test_cifar_c_with_other_than_three_channels_is_refused(tmp_path, shape):
    folder = _cifar_c_folder(tmp_path, np.zeros(shape, np.uint8), np.zeros(10, np.uint8), None)
    with pytest.raises(ValueError, match=r"expected uint8 \(5 x N, H, W, 3\)"):
        corrupted.load_cifar_c(folder, "contrast", 1, verify=False)


def test_meta_listing_fewer_severities_than_blocks_is_refused(tmp_path):
    folder = _cifar_c_folder(tmp_path, np.zeros((10, 32, 32, 3), np.uint8), np.zeros(10, np.uint8),
                             {"severities": [1], "images": 2})
    with pytest.raises(ValueError, match=r"expected uint8 \(1 x 2, H, W, 3\)"):
        corrupted.load_cifar_c(folder, "contrast", 1)


@pytest.mark.parametrize("meta", [{"severities": [1, 1]}, {"severities": [0, 6]}, {"severities": "12345"},
                                  {"images": 2}])
def test_malformed_meta_is_refused_naming_the_file(tmp_path, meta):
    folder = _cifar_c_folder(tmp_path, np.zeros((10, 32, 32, 3), np.uint8), np.zeros(10, np.uint8), meta)
    with pytest.raises(ValueError, match="meta.json"):
        corrupted.load_cifar_c(folder, "contrast", 1)


def test_corrupted_images_of_another_size_than_the_clean_ones_are_refused(tmp_path):
    from augmix.evaluation.sources import CleanSet, corrupted_sets

    folder = _cifar_c_folder(tmp_path, np.zeros((10, 64, 64, 3), np.uint8), np.zeros(10, np.uint8), None)
    clean = CleanSet(np.zeros((2, 32, 32, 3), np.uint8), np.zeros(2, np.int64), "cifar10")
    with pytest.raises(ValueError, match="64x64x3, the clean test images 32x32x3"):
        corrupted_sets(str(folder), clean, ["contrast"], [1], verify=False)  # before any evaluation


def test_a_second_writer_is_refused_at_once(cifar_images, cifar_labels, tmp_path):
    from augmix._util.lock import FolderBusyError, folder_lock

    out = tmp_path / "busy"
    with folder_lock(out, wait=False):  # as another `augmix corrupt` on the same --out would
        with pytest.raises(FolderBusyError, match="in use"):
            generate.write_cifar_c(cifar_images[:4], cifar_labels[:4], out, names=["contrast"])
    assert sorted(p.name for p in out.iterdir()) == []  # the refused writer wrote nothing
    generate.write_cifar_c(cifar_images[:4], cifar_labels[:4], out, names=["contrast"])  # free again
    assert (out / "contrast.npy").exists()


def test_subset_of_severities_is_sliced_by_meta(cifar_images, cifar_labels, tmp_path):
    generate.write_cifar_c(cifar_images[:8], cifar_labels[:8], tmp_path, names=["contrast"], severities=[4, 2])
    images, labels = corrupted.load_cifar_c(tmp_path, "contrast", 4)
    from augmix.corruptions import corrupt
    np.testing.assert_array_equal(images, corrupt(cifar_images[:8], "contrast", 4))
    with pytest.raises(ValueError, match="holds severities"):
        corrupted.load_cifar_c(tmp_path, "contrast", 3)


def _released_copy(cifar_c: Path, dest: Path) -> Path:
    """cifar_c without meta.json: it looks like a released set (whose md5s it cannot match)."""
    dest.mkdir()
    for p in cifar_c.glob("*.npy"):
        (dest / p.name).write_bytes(p.read_bytes())
    return dest


def test_released_sets_are_md5_checked(cifar_c, tmp_path, monkeypatch):
    released = _released_copy(cifar_c, tmp_path / "CIFAR-10-C")
    with pytest.raises(ValueError, match=r"md5 mismatch for .*labels\.npy"):
        corrupted.load_cifar_c(tmp_path, "frost", 1)
    images, _ = corrupted.load_cifar_c(tmp_path, "frost", 1, verify=False)
    assert images.shape == (24, 32, 32, 3)
    sums = {p.stem: hashlib.md5(p.read_bytes()).hexdigest() for p in released.glob("*.npy")}
    monkeypatch.setitem(corrupted.CIFAR_C_MD5, "cifar10", sums)
    corrupted.load_cifar_c(released, "frost", 5)
    with open(released / "contrast.npy", "r+b") as f:
        f.seek(-1, 2)
        f.write(b"\x00" if f.read(1) != b"\x00" else b"\x01")
    with pytest.raises(ValueError, match=r"md5 mismatch for .*contrast\.npy"):
        corrupted.load_cifar_c(released, "contrast", 1)
    with pytest.raises(FileNotFoundError, match="lacks snow"):
        corrupted.load_cifar_c(released, "snow", 1, verify=False)
    with pytest.raises(FileNotFoundError, match="no CIFAR-C set"):
        corrupted.load_cifar_c(tmp_path / "nowhere", "snow", 1)


def test_download_cifar_c_from_a_local_server(cifar_c, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    with tarfile.open(served / "CIFAR-10-C.tar", "w") as tar:
        for p in cifar_c.glob("*.npy"):
            tar.add(p, arcname=f"CIFAR-10-C/{p.name}")
    md5 = hashlib.md5((served / "CIFAR-10-C.tar").read_bytes()).hexdigest()
    with local_http_server(served) as (url, _):
        folder = corrupted.download_corrupted(tmp_path / "data", "cifar10", progress=False,
                                              urls=[(f"{url}/CIFAR-10-C.tar", md5)])
        assert folder == tmp_path / "data" / "CIFAR-10-C" and not (tmp_path / "data" / "CIFAR-10-C.tar").exists()
        assert corrupted.load_cifar_c(tmp_path / "data", "frost", 2, verify=False)[0].shape == (24, 32, 32, 3)
        with pytest.raises(ValueError, match="md5 mismatch for .*CIFAR-10-C.tar"):
            corrupted.download_corrupted(tmp_path / "other", "cifar10", progress=False,
                                         urls=[(f"{url}/CIFAR-10-C.tar", "0" * 32)])
    with pytest.raises(ValueError, match="dataset must be one of"):
        corrupted.download_corrupted(tmp_path, "mnist")


@pytest.fixture()
def image_folder(tmp_path, cifar_images):
    root = tmp_path / "val"
    for k, wnid in enumerate(["n02", "n01"]):
        (root / wnid).mkdir(parents=True)
        for i in range(3):
            big = Image.fromarray(cifar_images[3 * k + i]).resize((80, 72), Image.Resampling.BICUBIC)
            big.save(root / wnid / f"img_{i}.png")
    return root


def test_imagenet_tree_same_bytes_any_processes_and_loader(image_folder, tmp_path, frost_dir):
    kwargs = dict(crop=64, resize=64, names=["snow", "pixelate"], severities=[1, 5], seed=1,
                  frost_dir=frost_dir, chunk=2)
    a = generate.write_imagenet_c(image_folder, tmp_path / "a", workers=1, **kwargs)
    b = generate.write_imagenet_c(image_folder, tmp_path / "b", workers=2, **kwargs)
    assert _digests(a) == _digests(b) and len(_digests(a)) == 2 * 2 * 6 + 1  # + meta.json
    lost = sorted((b / "snow" / "5").rglob("*.JPEG"))[:3]
    for path in lost:  # as if the run had stopped before writing them: a rerun fills the gaps
        path.unlink()
    generate.write_imagenet_c(image_folder, b, workers=1, **kwargs)
    assert _digests(b) == _digests(a)
    ds = corrupted.CorruptedImageFolder(a, "snow", 5)
    assert ds.classes == ["n01", "n02"] and len(ds) == 6
    image, label = ds[0]
    assert image.size == (64, 64) and label == 0 and ds[5][1] == 1
    with Image.open(ds.paths[0]) as f:
        assert f.format == "JPEG"
    with pytest.raises(FileNotFoundError, match="missing"):
        corrupted.CorruptedImageFolder(a, "snow", 3)


def test_cli_writes_cifar_c_and_preview(cifar10_root, tmp_path, capsys, frost_dir):
    out = tmp_path / "c10c"
    assert cli.main(["corrupt", "--data", "cifar10", "--data-root", str(cifar10_root), "--no-verify",
                     "--test-subset", "20", "--corruptions", "contrast", "fog", "--severities", "1", "2",
                     "--workers", "1", "--out", str(out)]) == 0
    images, labels = corrupted.load_cifar_c(out, "fog", 2)
    assert images.shape == (20, 32, 32, 3) and labels.shape == (20,)
    assert cli.main(["corrupt", "--preview", "7", "--data-root", str(cifar10_root), "--no-verify",
                     "--frost-dir", str(frost_dir), "--out", str(tmp_path / "grid.png")]) == 0
    with Image.open(tmp_path / "grid.png") as grid:
        assert grid.size[1] > 19 * 128
    assert cli.main(["corrupt", "--data", "cifar10", "--data-root", str(cifar10_root), "--no-verify",
                     "--corruptions", "gausian_noise", "--out", str(out)]) == 2
    assert "did you mean 'gaussian_noise'" in capsys.readouterr().err
    assert cli.main(["corrupt", "--data", "cifar10", "--data-root", str(cifar10_root), "--no-verify",
                     "--severities", "6", "--out", str(tmp_path / "x")]) == 2


def test_frost_textures_download_verify_and_offline_error(frost_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(frost_assets.ENV_VAR, raising=False)
    monkeypatch.setenv("AUGMIX_CACHE", str(tmp_path / "cache"))
    with local_http_server(frost_dir) as (url, _):
        paths = frost_assets.frost_paths(base_url=url + "/")
    assert [p.name for p in paths] == ["frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg"]
    assert all(p.parent == tmp_path / "cache" / "frost" for p in paths)
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in frost_dir.glob("frost*"):
        (bad / p.name).write_bytes(p.read_bytes())
    (bad / "frost3.png").write_bytes(b"not a png")
    monkeypatch.setenv("AUGMIX_CACHE", str(tmp_path / "cache2"))
    with local_http_server(bad) as (url, _):
        with pytest.raises(ValueError, match="md5 mismatch for .*frost3.png"):
            frost_assets.frost_paths(base_url=url + "/")
        with pytest.raises(ValueError, match="md5 mismatch for .*frost3.png"):
            frost_assets.frost_paths(bad)
    with pytest.raises(FileNotFoundError, match="could not be downloaded.*PyPI mirror"):
        frost_assets.frost_paths(base_url="http://127.0.0.1:9/", wheel_url="http://127.0.0.1:9/x.whl")
    monkeypatch.setenv(frost_assets.ENV_VAR, str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match=r"frost1.png not found \(\$AUGMIX_FROST_DIR"):
        frost_assets.frost_paths()


def test_frost_textures_from_the_pypi_wheel_when_github_is_unreachable(frost_dir, tmp_path, monkeypatch):
    import zipfile

    monkeypatch.delenv(frost_assets.ENV_VAR, raising=False)
    monkeypatch.setenv("AUGMIX_CACHE", str(tmp_path / "cache"))
    www = tmp_path / "www"
    www.mkdir()
    with zipfile.ZipFile(www / "ic.whl", "w") as zf:  # the wheel's layout: imagecorruptions/frost/
        for p in sorted(frost_dir.glob("frost*")):
            zf.writestr(frost_assets.WHEEL_FOLDER + p.name, p.read_bytes())
        zf.writestr("imagecorruptions/__init__.py", "")
    with local_http_server(www) as (url, _):
        paths = frost_assets.frost_paths(base_url="http://127.0.0.1:9/", wheel_url=url + "/ic.whl")
    for path in paths:
        assert path.read_bytes() == (frost_dir / path.name).read_bytes()
    cached = sorted(p.name for p in (tmp_path / "cache" / "frost").iterdir())
    assert cached == sorted([n for n, _ in frost_assets.USED] + ["imagecorruptions.whl"])  # no .part left


def test_docs_python_example_runs():
    """The first Python block of docs/corruptions.md runs as written (no frost, no shared data)."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "corruptions.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "docs/corruptions.md", "exec"), {})


def test_inputs_that_would_share_an_output_are_refused(image_folder, tmp_path):
    Image.open(image_folder / "n01" / "img_0.png").save(image_folder / "n01" / "img_0.jpg")
    with pytest.raises(ValueError, match=r"img_0\.(jpg|png) and .*img_0\.(jpg|png) would both be written"):
        generate.write_imagenet_c(image_folder, tmp_path / "out", crop=64, names=["contrast"], severities=[1])
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_images_in_subfolders_keep_their_class_and_path(image_folder, tmp_path):
    (image_folder / "n01" / "deeper").mkdir()
    (image_folder / "n01" / "img_0.png").rename(image_folder / "n01" / "deeper" / "img_0.png")
    out = generate.write_imagenet_c(image_folder, tmp_path / "out", crop=64, names=["contrast"], severities=[1])
    written = sorted(str(p.relative_to(out / "contrast" / "1")) for p in out.rglob("*.JPEG"))
    assert written == ["n01/deeper/img_0.JPEG", "n01/img_1.JPEG", "n01/img_2.JPEG",
                       "n02/img_0.JPEG", "n02/img_1.JPEG", "n02/img_2.JPEG"]


def test_a_truncated_cifar_c_file_is_a_clear_error(tmp_path):
    folder = _cifar_c_folder(tmp_path, np.zeros((10, 32, 32, 3), np.uint8), np.zeros(10, np.uint8), None)
    with open(folder / "contrast.npy", "r+b") as f:
        f.truncate(5000)
    with pytest.raises(ValueError, match=r"contrast.npy: not a complete .npy array .*truncated"):
        corrupted.load_cifar_c(folder, "contrast", 1, verify=False)

