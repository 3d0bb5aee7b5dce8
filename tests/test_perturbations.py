"""-P sequences: names, tables, seeding and bad input; writing and reading -P sets; `augmix perturb`.

Fidelity to the reference generators: tests/test_perturbations_golden.py.
"""
from __future__ import annotations

import numpy as np
import pytest

from augmix import cli
from augmix.data.perturbed import (
    imagenet_p_videos,
    iter_imagenet_p,
    read_perturbations,
    read_video,
    write_imagenet_p,
    write_perturbations,
    write_video,
)
from augmix.perturbations import (
    ALL_PERTURBATIONS,
    PERTURBATIONS,
    RANDOM_PERTURBATIONS,
    TABLES,
    VALIDATION_PERTURBATIONS,
    check_name,
    perturb_sequence,
    sequence_rng,
)

RNG = np.random.default_rng(0)
IMAGE = RNG.integers(0, 256, (32, 32, 3), dtype=np.uint8)
IMAGES = RNG.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)


def test_names():
    assert PERTURBATIONS == ("gaussian_noise", "shot_noise", "motion_blur", "zoom_blur", "snow",
                             "brightness", "translate", "rotate", "tilt", "scale")
    assert VALIDATION_PERTURBATIONS == ("speckle_noise", "gaussian_blur", "spatter", "shear")
    assert {"gaussian_noise_2", "shot_noise_3", "speckle_noise_2"} <= set(ALL_PERTURBATIONS)
    assert len(ALL_PERTURBATIONS) == 20


def test_unknown_name_suggests_the_nearest():
    with pytest.raises(ValueError, match="unknown perturbation 'rotation'; did you mean 'rotate'"):
        check_name("rotation")
    with pytest.raises(ValueError, match="did you mean 'gaussian_noise_2'"):
        perturb_sequence(IMAGE, "gaussian_noise2")
    with pytest.raises(ValueError, match="expected one of gaussian_noise"):
        check_name("xyz")


@pytest.mark.parametrize("table", list(TABLES))
def test_every_sequence_has_the_reference_frame_count(table):
    side = TABLES[table].size
    image = np.random.default_rng(1).integers(0, 256, (side, side, 3), dtype=np.uint8)
    expected = {"cifar": {"motion_blur": 21, "translate": 16}, "tiny": {}, "imagenet": {"translate": 41}}[table]
    for name in (ALL_PERTURBATIONS if table == "cifar" else ("translate", "rotate", "gaussian_noise")):
        frames = perturb_sequence(image, name, rng=0)
        assert frames.dtype == np.uint8 and frames.shape == (expected.get(name, 31), side, side, 3), name


def test_noise_sequences_start_clean_and_repeat_with_the_seed():
    for name in ("gaussian_noise", "shot_noise_3", "speckle_noise_2"):
        a = perturb_sequence(IMAGE, name, rng=5)
        assert (a[0] == IMAGE).all() and not (a[1] == a[2]).all()
        assert (a == perturb_sequence(IMAGE, name, rng=np.random.default_rng(5))).all()
        assert not (a == perturb_sequence(IMAGE, name, rng=6)).all()


def test_harder_noise_is_stronger():
    change = [np.abs(perturb_sequence(IMAGE, name, rng=0)[1:].astype(int) - IMAGE).mean()
              for name in ("shot_noise", "shot_noise_2", "shot_noise_3")]
    assert change[0] < change[1] < change[2]


def test_deterministic_sequences_ignore_the_rng():
    for name in set(ALL_PERTURBATIONS) - RANDOM_PERTURBATIONS:
        assert (perturb_sequence(IMAGE, name, rng=1) == perturb_sequence(IMAGE, name, rng=2)).all(), name


def test_sequence_rng_is_per_image_and_per_perturbation():
    draws = {(name, i): sequence_rng(0, name, i).random() for name in ("snow", "spatter") for i in (0, 1)}
    assert len(set(draws.values())) == 4
    assert sequence_rng(0, "snow", 1).random() == draws["snow", 1]


@pytest.mark.parametrize("image, match", [
    (IMAGE.astype(np.float32), "image must be uint8"),
    (IMAGE[..., :2], r"image must have shape \(H, W, 3\)"),
    (IMAGES, r"image must have shape \(H, W, 3\)"),
    ([[1, 2, 3]], "image must be a numpy array"),
    (np.zeros((40, 40, 3), np.uint8), "no perturbation table for 40x40 images .* pass table="),
])
def test_bad_images(image, match):
    with pytest.raises(ValueError, match=match):
        perturb_sequence(image, "rotate")


def test_table_and_crop():
    image = np.random.default_rng(2).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    assert perturb_sequence(image, "rotate", table="cifar").shape == (31, 40, 48, 3)
    assert perturb_sequence(image, "translate", crop=32).shape == (16, 32, 32, 3)
    assert perturb_sequence(image, "brightness", crop=32).shape == (31, 32, 32, 3)
    with pytest.raises(ValueError, match="crop must be at most the image's shorter side"):
        perturb_sequence(image, "rotate", crop=64)
    with pytest.raises(ValueError, match="table must be one of cifar, tiny, imagenet"):
        perturb_sequence(IMAGE, "rotate", table="huge")
    with pytest.raises(ValueError, match="rng must be None, an int seed or a numpy.random.Generator"):
        perturb_sequence(IMAGE, "snow", rng="seed")


def test_crop_lets_geometric_sequences_see_beyond_the_crop():
    """Translating a 48 px image and cropping 32 px brings real pixels in, not black."""
    image = np.full((48, 48, 3), 200, np.uint8)
    frames = perturb_sequence(image, "translate", crop=32)
    assert (frames == 200).all()
    assert (perturb_sequence(image[:32, :32], "translate")[0] == 0).any()  # without: a black border


# --- CIFAR-10-P files --------------------------------------------------------------------------

def test_write_and_read_back(tmp_path):
    out = write_perturbations(IMAGES, tmp_path / "p", names=["snow", "translate"], seed=3, workers=1,
                              progress=False)
    read = dict(read_perturbations(out))
    assert list(read) == ["snow", "translate"]  # the benchmark's order
    assert read["snow"].shape == (5, 31, 32, 32, 3) and read["translate"].shape == (5, 16, 32, 32, 3)
    assert isinstance(read["snow"], np.memmap) and not read["snow"].flags.writeable
    for i, image in enumerate(IMAGES):
        assert (read["snow"][i] == perturb_sequence(image, "snow", sequence_rng(3, "snow", i))).all()


def test_results_do_not_depend_on_the_worker_count(tmp_path, monkeypatch):
    monkeypatch.setattr("augmix.data.perturbed.CHUNK", 2)  # several tasks for 5 images
    one = write_perturbations(IMAGES, tmp_path / "one", names=["spatter"], workers=1, progress=False)
    two = write_perturbations(IMAGES, tmp_path / "two", names=["spatter"], workers=2, progress=False)
    assert (one / "spatter.npy").read_bytes() == (two / "spatter.npy").read_bytes()


def test_complete_files_are_skipped_and_settings_kept(tmp_path):
    out = write_perturbations(IMAGES, tmp_path / "p", names=["rotate"], workers=1, progress=False)
    stamp = (out / "rotate.npy").stat().st_mtime_ns
    write_perturbations(IMAGES, out, names=["rotate", "tilt"], workers=1, progress=False)
    assert (out / "rotate.npy").stat().st_mtime_ns == stamp and (out / "tilt.npy").exists()
    with pytest.raises(ValueError, match="holds a generation with other settings"):
        write_perturbations(IMAGES, out, names=["rotate"], seed=1, workers=1, progress=False)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_second_writer_is_refused(tmp_path):
    from augmix._util.lock import FolderBusyError, folder_lock

    with folder_lock(tmp_path / "p", wait=False):
        with pytest.raises(FolderBusyError):
            write_perturbations(IMAGES, tmp_path / "p", names=["rotate"], workers=1, progress=False)


@pytest.mark.parametrize("kwargs, match", [
    ({"images": IMAGES.astype(np.int16)}, r"images must be a non-empty uint8 array \(N, H, W, 3\)"),
    ({"images": IMAGE}, r"images must be a non-empty uint8 array"),
    ({"names": ["rotat"]}, "did you mean 'rotate'"),
    ({"names": ["rotate", "rotate"]}, "names must not repeat"),
    ({"workers": 0}, "workers must be None"),
    ({"seed": -1}, "seed must be an int"),
])
def test_write_bad_arguments(tmp_path, kwargs, match):
    arguments = {"images": IMAGES, "names": ["rotate"], **kwargs}
    with pytest.raises(ValueError, match=match):
        write_perturbations(out_dir=tmp_path / "p", progress=False, **arguments)


@pytest.mark.parametrize("array, match", [
    (np.zeros((2, 3, 4, 4, 3), np.float32), "expected uint8 sequences, got dtype float32"),
    (np.zeros((2, 4, 4, 3), np.uint8), r"expected sequences of shape \(N, T, H, W, 3\)"),
    (np.zeros((2, 1, 4, 4, 3), np.uint8), "sequences need at least 2 frames"),
])
def test_read_refuses_bad_files(tmp_path, array, match):
    np.save(tmp_path / "rotate.npy", array)
    with pytest.raises(ValueError, match=f"rotate.npy: {match}"):
        list(read_perturbations(tmp_path))


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        list(read_perturbations(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="holds no perturbation files"):
        list(read_perturbations(tmp_path))
    np.save(tmp_path / "rotate.npy", np.zeros((2, 3, 4, 4, 3), np.uint8))
    np.save(tmp_path / "tilt.npy", np.zeros((3, 3, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=r"different numbers of sequences \(rotate.npy: 2, tilt.npy: 3\)"):
        list(read_perturbations(tmp_path))
    with pytest.raises(FileNotFoundError, match="scale.npy: no such file"):
        list(read_perturbations(tmp_path, ["scale"]))
    with pytest.raises(ValueError, match="did you mean 'shear'"):
        list(read_perturbations(tmp_path, ["sheer"]))
    (tmp_path / "shear.npy").write_bytes(b"\x93NUMPY truncated")
    with pytest.raises(ValueError, match="shear.npy: not a complete .npy array"):
        list(read_perturbations(tmp_path, ["shear"]))


# --- ImageNet-P trees --------------------------------------------------------------------------

@pytest.fixture
def image_folder(tmp_path):
    from PIL import Image

    for wnid, count in (("n01", 2), ("n02", 1)):
        (tmp_path / "val" / wnid).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(RNG.integers(0, 256, (40, 52, 3), dtype=np.uint8)).save(tmp_path / "val" / wnid / f"{i}.png")
    return tmp_path / "val"


def test_imagenet_p_tree_png_is_lossless(image_folder, tmp_path):
    out = write_imagenet_p(image_folder, tmp_path / "p", names=["rotate", "shot_noise"], crop=32, resize=40,
                           video="png", workers=1, progress=False)
    videos, labels, classes = imagenet_p_videos(out, "rotate")
    assert classes == ["n01", "n02"] and labels.tolist() == [0, 0, 1]
    assert [v.relative_to(out).as_posix() for v in videos] == ["rotate/n01/0", "rotate/n01/1", "rotate/n02/0"]
    assert len(list(videos[0].glob("*.png"))) == 31
    read = list(iter_imagenet_p(out))
    assert [(name, label) for name, _, label in read] == [("shot_noise", 0)] * 2 + [("shot_noise", 1)] + \
        [("rotate", 0)] * 2 + [("rotate", 1)]
    assert all(frames.shape == (31, 32, 32, 3) for _, frames, _ in read)
    noisy = read[0][1]
    assert not (noisy[1] == noisy[2]).all()  # independent draws, losslessly kept


def test_imagenet_p_tree_refuses_a_crop_larger_than_the_resize(image_folder, tmp_path):
    with pytest.raises(ValueError, match=r"crop \(224 px\) must be at most resize \(200 px"):
        write_imagenet_p(image_folder, tmp_path / "p", crop=224, resize=200, progress=False)
    assert not (tmp_path / "p").exists()


def test_imagenet_p_tree_mp4(image_folder, tmp_path):
    out = write_imagenet_p(image_folder, tmp_path / "p", names=["brightness"], crop=32, resize=40,
                           workers=1, progress=False)
    videos, labels, _ = imagenet_p_videos(out, "brightness")
    assert [v.suffix for v in videos] == [".mp4"] * 3
    frames = read_video(videos[0])
    assert frames.shape == (31, 32, 32, 3) and frames.dtype == np.uint8
    assert frames[0].mean() < frames[-1].mean()  # darker to brighter, through a lossy codec
    stamp = videos[0].stat().st_mtime_ns
    write_imagenet_p(image_folder, out, names=["brightness"], crop=32, resize=40, workers=1, progress=False)
    assert videos[0].stat().st_mtime_ns == stamp  # written videos are kept


def test_video_round_trip_and_errors(tmp_path):
    frames = RNG.integers(0, 256, (3, 16, 24, 3), dtype=np.uint8)
    assert (read_video(write_video(frames, tmp_path / "v")) == frames).all()
    assert read_video(write_video(frames, tmp_path / "v.mp4")).shape == (3, 16, 24, 3)
    write_video(frames[:1], tmp_path / "one")
    with pytest.raises(ValueError, match="needs at least 2 frames, found 1"):
        read_video(tmp_path / "one")
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="bad.mp4: OpenCV cannot decode"):
        read_video(tmp_path / "bad.mp4")
    with pytest.raises(FileNotFoundError, match="no such video file"):
        read_video(tmp_path / "missing.mp4")
    with pytest.raises(FileNotFoundError, match="holds no perturbation folders"):
        list(iter_imagenet_p(tmp_path))


# --- command line ------------------------------------------------------------------------------

def test_cli_writes_cifar_p(cifar10_root, tmp_path, capsys):
    out = tmp_path / "p"
    assert cli.main(["perturb", "--data", "cifar10", "--data-root", str(cifar10_root), "--no-verify", "--out",
                     str(out), "--names", "tilt", "gaussian_noise_3", "--test-subset", "3", "--workers", "1",
                     "--quiet"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert {name: a.shape for name, a in read_perturbations(out)} == {
        "tilt": (3, 31, 32, 32, 3), "gaussian_noise_3": (3, 31, 32, 32, 3)}


@pytest.mark.parametrize("argv, match", [
    (["--names", "rotation"], "unknown perturbation 'rotation'; did you mean 'rotate'?"),
    (["--workers", "0"], "--workers must be an int"),
    (["--table", "huge"], "table must be one of"),
    (["--data", "nowhere"], "--data nowhere: not cifar10, cifar100 or an image folder"),
])
def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys, argv, match):
    base = ["perturb", "--data", "cifar10", "--out", str(tmp_path / "p")]
    assert cli.main(base + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("augmix perturb: error: ") and match in err and err.count("\n") == 1
    assert not (tmp_path / "p").exists()
