"""`augmix corrupt --folder` and `write_folder_c`: a corrupted copy of any image folder, each
image at its own size and in its own format, resumable and the same whatever the processes."""
from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augmix import cli
from augmix.corruptions import corrupt, image_rng
from augmix.data import generate
from augmix.data.generate import write_folder_c

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["gaussian_noise", "motion_blur", "contrast"]  # two random corruptions, one deterministic
SEVERITIES = [1, 2, 3, 4, 5]
SEED = 5
# path below the folder -> ((width, height), PIL mode of the source file)
FILES = {"a.png": ((32, 32), "RGB"), "b.jpg": ((64, 64), "RGB"), "nested/c.png": ((224, 224), "RGB"),
         "nested/deeper/d.JPEG": ((224, 224), "RGB"), "nested/gray.png": ((64, 64), "L"),
         "gray.jpg": ((32, 32), "L"), "nested/alpha.png": ((32, 32), "RGBA"), "twin_of_a.png": ((32, 32), "RGB"),
         "odd/wide.jpg": ((83, 47), "RGB"), "odd/tall.png": ((50, 75), "L")}


def _picture(size: tuple[int, int], seed: int) -> np.ndarray:
    """A smooth colour picture with a few discs, (height, width, 3) uint8."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width] / max(size)
    image = np.stack([x, y, (x + y) / 2], axis=-1) * 200
    for _ in range(3):
        cy, cx, r = rng.uniform(0.2, 0.8, 3)
        image[(y - cy) ** 2 + (x - cx) ** 2 < (r / 3) ** 2] = rng.uniform(0, 255, 3)
    return image.astype(np.uint8)


def make_folder(root: Path) -> Path:
    for i, (relative, (size, mode)) in enumerate(FILES.items()):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(_picture(size, 0 if relative.startswith("twin") else i))
        if mode == "RGBA":
            alpha = np.arange(size[0] * size[1], dtype=np.uint8).reshape(size[1], size[0])
            image.putalpha(Image.fromarray(alpha))
        image.convert(mode).save(path, quality=90)
    return root


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _copies(out: Path) -> list[Path]:
    """The images written under their final names (not the temporary ones being written)."""
    return [p for p in out.rglob("*") if p.is_file() and p.name != "meta.json" and not p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    return make_folder(tmp_path_factory.mktemp("photos"))


@pytest.fixture(scope="module")
def reference(photos, tmp_path_factory) -> Path:
    """An uninterrupted run in this process."""
    out = tmp_path_factory.mktemp("ref") / "photos-C"
    copy = write_folder_c(photos, out, names=NAMES, severities=SEVERITIES, seed=SEED, workers=1)
    assert copy.out == out and copy.files == len(FILES) and copy.skipped == {}
    return out


def test_every_image_is_copied_at_its_size_in_its_format(photos, reference):
    assert len(_copies(reference)) == len(FILES) * len(NAMES) * len(SEVERITIES)
    for relative, (size, mode) in FILES.items():
        with Image.open(photos / relative) as source:
            fmt = source.format
        for name in NAMES:
            for severity in SEVERITIES:
                with Image.open(reference / name / str(severity) / relative) as copy:
                    assert (copy.format, copy.mode, copy.size) == (fmt, mode, size), relative
                    copy.load()


def test_png_copies_are_exactly_the_corrupted_pixels_and_jpeg_copies_are_saved_at_q85(photos, reference):
    for relative in ("nested/c.png", "b.jpg"):
        source = np.asarray(Image.open(photos / relative).convert("RGB"))
        rng = image_rng(SEED, "gaussian_noise", 3, generate._path_key(Path(relative)))
        expected = corrupt(source, "gaussian_noise", 3, rng=rng)
        written = reference / "gaussian_noise" / "3" / relative
        if relative.endswith(".png"):
            np.testing.assert_array_equal(np.asarray(Image.open(written)), expected)
        else:
            encoded = io.BytesIO()
            Image.fromarray(expected).save(encoded, "JPEG", quality=85, optimize=True)
            assert written.read_bytes() == encoded.getvalue()


def test_gray_stays_gray_alpha_is_kept_and_each_path_draws_its_own_noise(photos, reference):
    noisy = reference / "gaussian_noise" / "3"
    gray = np.asarray(Image.open(noisy / "nested" / "gray.png"))
    assert gray.ndim == 2 and not np.array_equal(gray, np.asarray(Image.open(photos / "nested" / "gray.png")))
    alpha = np.asarray(Image.open(noisy / "nested" / "alpha.png"))[..., 3]
    np.testing.assert_array_equal(alpha, np.asarray(Image.open(photos / "nested" / "alpha.png"))[..., 3])
    assert (photos / "a.png").read_bytes() == (photos / "twin_of_a.png").read_bytes()
    assert (noisy / "a.png").read_bytes() != (noisy / "twin_of_a.png").read_bytes()


def test_same_bytes_whatever_the_processes_and_chunks(photos, reference, tmp_path):
    out = write_folder_c(photos, tmp_path / "c", names=NAMES, severities=SEVERITIES, seed=SEED, workers=2,
                         chunk=3).out
    assert _digests(out) == _digests(reference)


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the worker processes")
def test_killed_run_leaves_only_whole_files_and_a_rerun_finishes_it(photos, reference, tmp_path):
    out = tmp_path / "killed"
    argv = [sys.executable, "-m", "augmix", "corrupt", "--folder", str(photos), "--out", str(out),
            "--corruptions", *NAMES, "--severities", *map(str, SEVERITIES), "--seed", str(SEED),
            "--workers", "2", "--chunk", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    run = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(_copies(out)) < 4 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    workers = _children(run.pid)
    run.send_signal(signal.SIGKILL)  # as `kill -9`: no cleanup of any kind in the parent
    run.wait()
    assert run.returncode == -signal.SIGKILL
    written = _copies(out)
    assert 4 <= len(written) < len(FILES) * len(NAMES) * len(SEVERITIES), "the run was not cut short"
    for path in written:  # every file under its final name is whole
        size = FILES["/".join(path.relative_to(out).parts[2:])][0]
        with Image.open(path) as image:
            image.load()
            assert image.size == size
    deadline = time.monotonic() + 30
    while any(map(_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_running, workers)), "worker processes outlived their killed parent"

    assert cli.main(["corrupt", "--folder", str(photos), "--out", str(out), "--corruptions", *NAMES,
                     "--severities", *map(str, SEVERITIES), "--seed", str(SEED), "--workers", "1"]) == 0
    assert _digests(out) == _digests(reference)  # no temporary file left, every byte as uninterrupted


def test_unreadable_and_too_small_files_are_skipped_and_reported(photos, tmp_path, caplog):
    folder = make_folder(tmp_path / "in")
    (folder / "broken.jpg").write_bytes((folder / "b.jpg").read_bytes()[:300])
    Image.fromarray(_picture((20, 20), 1)).save(folder / "nested" / "tiny.png")
    (folder / "notes.txt").write_text("not an image: not even looked at")
    copy = write_folder_c(folder, tmp_path / "out", names=["contrast"], severities=[2])
    assert sorted(copy.skipped) == ["broken.jpg", "nested/tiny.png"]
    assert "cannot read the image" in copy.skipped["broken.jpg"]
    assert copy.skipped["nested/tiny.png"] == "20x20 px; the corruptions need at least 32 px on each side"
    assert "skipped nested/tiny.png: 20x20 px" in caplog.text
    assert sorted(str(p.relative_to(copy.out / "contrast" / "2")) for p in _copies(copy.out)) == sorted(FILES)


def test_exif_orientation_is_kept_and_not_applied(tmp_path):
    """As `read_rgb` reads: the stored pixels, corrupted as stored; the tag goes with them, so a
    viewer shows the copy turned as it shows the original."""
    folder = tmp_path / "in"
    folder.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned by 90 degrees
    Image.fromarray(_picture((32, 32), 0)).save(folder / "phone.jpg", exif=exif)
    Image.fromarray(_picture((64, 64), 1)).save(folder / "phone.png", exif=exif)
    out = write_folder_c(folder, tmp_path / "out", names=["contrast"], severities=[1]).out / "contrast" / "1"
    for name in ("phone.jpg", "phone.png"):
        with Image.open(out / name) as copy:
            assert copy.getexif()[0x0112] == 6
    np.testing.assert_array_equal(np.asarray(Image.open(out / "phone.png")), corrupt(_picture((64, 64), 1), "contrast", 1))


def test_a_second_writer_is_refused(photos, tmp_path):
    from augmix._util.lock import FolderBusyError, folder_lock

    with folder_lock(tmp_path / "busy", wait=False):
        with pytest.raises(FolderBusyError, match="in use"):
            write_folder_c(photos, tmp_path / "busy", names=["contrast"], severities=[1])
    assert not _copies(tmp_path / "busy")


def _wait_a_while(started) -> None:
    started.set()
    time.sleep(30)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked children")
def test_a_forked_child_does_not_keep_the_folder_locked(tmp_path):
    """Worker processes are forked while the parent holds its output folder: a worker that
    outlives the parent (killed) must not keep the folder from the next run."""
    import multiprocessing

    from augmix._util.lock import folder_lock

    fork = multiprocessing.get_context("fork")
    started = fork.Event()
    child = fork.Process(target=_wait_a_while, args=(started,))
    with folder_lock(tmp_path, wait=False):
        child.start()
        assert started.wait(30)
    try:
        with folder_lock(tmp_path, wait=False):  # free once the parent let go, the child still alive
            assert child.is_alive()
    finally:
        child.kill()
        child.join()


@pytest.mark.parametrize("case", ["missing folder", "no images", "out inside folder", "unknown corruption",
                                  "out is a file"])
def test_bad_input_is_one_line_and_exit_2(case, photos, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no pictures here")
    (tmp_path / "file").write_text("")
    folder, out, names = photos, tmp_path / "out", ["contrast"]
    if case == "missing folder":
        folder = tmp_path / "nowhere"
    elif case == "no images":
        folder = tmp_path / "empty"
    elif case == "out inside folder":
        out = photos / "C"
    elif case == "unknown corruption":
        names = ["gausian_noise"]
    else:
        out = tmp_path / "file"
    code = cli.main(["corrupt", "--folder", str(folder), "--out", str(out), "--corruptions", *names])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("augmix corrupt: error: "), err
    expected = {"missing folder": "does not exist", "no images": "holds no images (files ending in .jpg",
                "out inside folder": "is inside --folder", "unknown corruption": "did you mean 'gaussian_noise'",
                "out is a file": "is a file; expected a folder"}[case]
    assert expected in err[0]
    assert not (photos / "C").exists() and not (tmp_path / "out").exists()


def test_docs_folder_example_runs():
    """The Python block of docs/corruptions.md that writes a folder copy runs as written."""
    text = (ROOT / "docs" / "corruptions.md").read_text()
    code = next(block for block in text.split("```python\n")[1:] if "write_folder_c" in block).split("```")[0]
    exec(compile(code, "docs/corruptions.md", "exec"), {})
