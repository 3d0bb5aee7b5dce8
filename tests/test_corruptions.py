"""The 19 corruptions against an independent oracle (tests/corruption_oracle.py) on real CIFAR-10.

Deterministic corruptions must match within 1 grey level; random ones too, with the oracle
fed the very numbers the library drew. A slow test compares the statistics of the
perturbation with the oracle drawing on its own, reference-style, over 1,000 images.
"""
from __future__ import annotations

import corruption_oracle as oracle
import numpy as np
import pytest
from PIL import Image

from augmix.corruptions import (
    ALL_CORRUPTIONS,
    CORRUPTIONS,
    EXTRA_CORRUPTIONS,
    RANDOM_CORRUPTIONS,
    SEVERITIES,
    corrupt,
    get_table,
    image_rng,
    kernels,
    table_for_shape,
)
from augmix.corruptions import draws as draws_module

N_RANDOM = 16  # images per (random corruption, severity) in the pixel-exact comparison


def _oracle(name, image, c, frost_dir, draws=None, rs=None):
    if name in oracle.DETERMINISTIC:
        return oracle.DETERMINISTIC[name](image, c)
    if name == "frost":
        return oracle.frost(image, c, frost_dir, draws=draws, rs=rs)
    return oracle.RANDOM[name](image, c, draws=draws, rs=rs)


def _compare(images, name, severity, frost_dir, table=None):
    """Library vs oracle on each image with the same draws; returns (max |diff|, fraction equal)."""
    table = get_table(table) if table is not None else table_for_shape(*images.shape[1:3])
    c = table[name, severity]
    ours = corrupt(images, name, severity, rng=np.random.default_rng(severity), table=table,
                   frost_dir=frost_dir)
    rng = np.random.default_rng(severity)  # replays the draws corrupt() made, image by image
    theirs = []
    for image in images:
        draws = (draws_module.draw(name, rng, image, c, table, frost_dir)
                 if name in RANDOM_CORRUPTIONS else None)
        theirs.append(_oracle(name, image, c, frost_dir, draws=draws))
    diff = np.abs(ours.astype(np.int64) - np.stack(theirs).astype(np.int64))
    return int(diff.max()), float((diff == 0).mean())


def test_names_and_order():
    assert len(CORRUPTIONS) == 15 and len(EXTRA_CORRUPTIONS) == 4 and len(set(ALL_CORRUPTIONS)) == 19
    assert CORRUPTIONS[:3] == ("gaussian_noise", "shot_noise", "impulse_noise")
    assert CORRUPTIONS[-1] == "jpeg_compression"
    from augmix.evaluation import metrics
    assert metrics.CORRUPTIONS is CORRUPTIONS and metrics.EXTRA_CORRUPTIONS is EXTRA_CORRUPTIONS


@pytest.mark.parametrize("name", [n for n in ALL_CORRUPTIONS if n not in RANDOM_CORRUPTIONS])
def test_deterministic_matches_oracle_on_cifar(cifar_images, frost_dir, name):
    for severity in SEVERITIES:
        worst, equal = _compare(cifar_images, name, severity, frost_dir)
        assert worst <= 1, (name, severity, worst)
        assert equal > 0.99, (name, severity, equal)


@pytest.mark.parametrize("name", sorted(RANDOM_CORRUPTIONS))
def test_random_with_fixed_draws_matches_oracle_on_cifar(cifar_images, frost_dir, name):
    for severity in SEVERITIES:
        worst, equal = _compare(cifar_images[:N_RANDOM], name, severity, frost_dir)
        assert worst <= 1, (name, severity, worst)
        assert equal > 0.99, (name, severity, equal)


@pytest.mark.parametrize("name", [n for n in ALL_CORRUPTIONS if n != "glass_blur"])
def test_imagenet_size_matches_oracle(cifar_images, frost_dir, name):
    """224 px (upsampled CIFAR): the large disks, 256 px plasma, unscaled frost, 244-based elastic."""
    images = np.stack([np.asarray(Image.fromarray(im).resize((224, 224), Image.Resampling.BICUBIC))
                       for im in cifar_images[:1]])
    for severity in SEVERITIES:
        worst, equal = _compare(images, name, severity, frost_dir)
        assert worst <= 1, (name, severity, worst)
        assert equal > 0.99, (name, severity, equal)


@pytest.mark.slow
@pytest.mark.parametrize("size", [64, 224])
def test_glass_blur_other_sizes_match_the_pixel_loop(cifar_images, frost_dir, size):
    images = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.Resampling.BICUBIC))
                       for im in cifar_images[:1]])
    for severity in SEVERITIES:
        worst, _ = _compare(images, "glass_blur", severity, frost_dir)
        assert worst <= 1, (severity, worst)


def test_glass_shuffle_is_the_sequential_copy_loop():
    rng = np.random.default_rng(0)
    for h, w, delta in [(9, 7, 1), (12, 12, 2), (20, 16, 4), (5, 5, 3)]:
        image = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        n = max(h - 2 * delta, 0) * max(w - 2 * delta, 0)
        offsets = rng.integers(-delta, delta, size=(n, 2))
        expected = image.copy()
        it = iter(offsets)
        for r in range(h - delta, delta, -1):
            for col in range(w - delta, delta, -1):
                dx, dy = next(it)
                expected[r, col], expected[r + dy, col + dx] = expected[r + dy, col + dx], expected[r, col]
        np.testing.assert_array_equal(kernels.glass_shuffle(image, delta, offsets), expected)


def test_zoom_factor_lists_are_numpy_arange_exactly():
    counts = {"cifar": [7, 12, 16, 21, 26], "tiny": [7, 12, 16, 21, 26], "imagenet": [12, 16, 11, 13, 11]}
    stops = {"cifar": [(1.06, .01), (1.11, .01), (1.16, .01), (1.21, .01), (1.26, .01)],
             "imagenet": [(1.11, .01), (1.16, .01), (1.21, .02), (1.26, .02), (1.31, .03)]}
    stops["tiny"] = stops["cifar"]
    for key in counts:
        table = get_table(key)
        assert [len(z) for z in table.params["zoom_blur"]] == counts[key]
        for zooms, (stop, step) in zip(table.params["zoom_blur"], stops[key]):
            assert zooms == tuple(np.arange(1, stop, step).tolist())
    assert get_table("inception").params["zoom_blur"] == get_table("imagenet").params["zoom_blur"]


def test_tables_by_name_and_size():
    assert get_table(32) is get_table("cifar") and get_table(299).name == "inception"
    assert np.allclose(get_table("cifar")["elastic_transform", 5], (3.2, .96, .96))
    assert np.allclose(get_table("imagenet")["elastic_transform", 1], (488, 170.8, 24.4))
    assert np.allclose(get_table("inception")["elastic_transform", 1], (720, 252, 36))
    assert get_table("tiny")["saturate", 5] == (30, .2) and get_table("cifar").fog_mapsize == 32
    for table in ("cifar", "tiny", "imagenet", "inception"):
        assert set(get_table(table).params) == set(ALL_CORRUPTIONS)
        assert all(len(v) == 5 for v in get_table(table).params.values())


def test_same_seed_same_output_and_batch_equals_sequence(cifar_images, frost_dir):
    images = cifar_images[:4]
    for name in sorted(RANDOM_CORRUPTIONS):
        a = corrupt(images, name, 3, rng=7, frost_dir=frost_dir)
        np.testing.assert_array_equal(a, corrupt(images, name, 3, rng=7, frost_dir=frost_dir))
        gen = np.random.default_rng(7)
        singles = [corrupt(im, name, 3, rng=gen, frost_dir=frost_dir) for im in images]
        np.testing.assert_array_equal(a, np.stack(singles))
        assert not np.array_equal(a, corrupt(images, name, 3, rng=8, frost_dir=frost_dir)), name


def test_deterministic_batch_equals_single_images(cifar_images):
    for name in sorted(set(ALL_CORRUPTIONS) - RANDOM_CORRUPTIONS):
        batch = corrupt(cifar_images[:8], name, 5)
        np.testing.assert_array_equal(batch, np.stack([corrupt(im, name, 5) for im in cifar_images[:8]]))


def test_image_rng_is_keyed_by_corruption_severity_and_index():
    draws = {key: image_rng(0, *key).random() for key in
             [("snow", 1, 0), ("snow", 1, 1), ("snow", 2, 0), ("fog", 1, 0)]}
    assert len(set(draws.values())) == 4
    assert image_rng(0, "snow", 1, 1).random() == draws["snow", 1, 1]


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="glas_blur"), "did you mean 'glass_blur'"),
    (dict(name="nonsense_xyz"), "unknown corruption"),
    (dict(severity=0), "severity must be an integer in 1..5"),
    (dict(severity=6), "severity must be an integer in 1..5"),
    (dict(severity=2.0), "severity must be an integer in 1..5"),
    (dict(severity=True), "severity must be an integer in 1..5"),
    (dict(images=np.zeros((32, 32, 3), np.float32)), "must be uint8"),
    (dict(images=np.zeros((32, 32), np.uint8)), r"shape \(H, W, 3\)"),
    (dict(images=np.zeros((2, 32, 32, 4), np.uint8)), r"shape \(H, W, 3\)"),
    (dict(images=np.zeros((40, 40, 3), np.uint8)), "no severity table for 40x40"),
    (dict(table="huge"), "table must be one of"),
    (dict(rng="seed"), "rng must be"),
])
def test_bad_input_is_rejected_clearly(kwargs, match):
    args = dict(images=np.zeros((32, 32, 3), np.uint8), name="gaussian_noise", severity=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        corrupt(args.pop("images"), args.pop("name"), args.pop("severity"), **args)


def test_other_sizes_work_with_an_explicit_table(frost_dir):
    image = np.random.default_rng(0).integers(0, 256, size=(48, 40, 3), dtype=np.uint8)
    for name in ALL_CORRUPTIONS:
        out = corrupt(image, name, 3, rng=0, table="tiny", frost_dir=frost_dir)
        assert out.shape == image.shape and out.dtype == np.uint8


def _stats(name, images, severity, frost_dir, ours: bool, repeats: int):
    """Mean and standard deviation of (corrupted - clean), ours and the oracle's own draws."""
    c = get_table("cifar")[name, severity]
    rs = np.random.RandomState(54321)
    deltas = []
    for r in range(repeats):
        if ours:
            out = corrupt(images, name, severity, rng=12345 + r, frost_dir=frost_dir)
        else:
            out = np.stack([_oracle(name, im, c, frost_dir, rs=rs) for im in images])
        deltas.append(out.astype(np.float64) - images)
    delta = np.stack(deltas)
    return delta.mean(), delta.std()


# Snow's pooled standard deviation over 1,000 draws varies by 1.3% from run to run at severity 5
# (one flake field and one blur angle per image; every other corruption stays under 0.7%), so
# each of the 1,000 images is corrupted 4 times for it: the 3% bound is then over 3 sigma.
REPEATS = {"snow": 4}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RANDOM_CORRUPTIONS))
def test_random_statistics_match_the_oracle_over_1000_images(cifar_npz, frost_dir, name):
    from conftest import _decode
    images = _decode(cifar_npz["test_jpeg"], cifar_npz["test_offsets"], range(1000))
    repeats = REPEATS.get(name, 1)
    for severity in SEVERITIES:
        m1, s1 = _stats(name, images, severity, frost_dir, ours=True, repeats=repeats)
        m2, s2 = _stats(name, images, severity, frost_dir, ours=False, repeats=repeats)
        scale = np.hypot(m2, s2)  # RMS size of the oracle's perturbation: 3% of it for the mean
        assert abs(m1 - m2) <= 0.03 * scale, (name, severity, m1, m2, scale)
        assert abs(s1 - s2) <= 0.03 * s2, (name, severity, s1, s2)


def _imagemagick() -> str | None:
    import shutil
    import subprocess
    for exe in ("/usr/bin/convert", shutil.which("convert")):
        if exe:
            try:
                version = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=10).stdout
            except OSError:
                continue
            if version.startswith("Version: ImageMagick"):
                return exe
    return None


def test_motion_blur_matches_real_imagemagick(cifar_images):
    """The kernel the reference got from Wand, against ImageMagick itself where it is installed."""
    import io
    import subprocess
    exe = _imagemagick()
    if exe is None:
        pytest.skip("ImageMagick `convert` is not installed (apt-get install imagemagick)")
    rng = np.random.default_rng(0)
    for image, (radius, sigma) in zip(cifar_images[:6], [(6, 1), (9, 2.5), (10, 3), (15, 8), (20, 15), (14, 12)]):
        for angle in (*rng.uniform(-135, 45, size=2), 0.0, -90.0):
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, "PNG")
            out = subprocess.run([exe, "png:-", "-motion-blur", f"{radius}x{sigma}+{angle}", "png:-"],
                                 input=buffer.getvalue(), capture_output=True, check=True).stdout
            expected = np.asarray(Image.open(io.BytesIO(out)).convert("RGB"))
            np.testing.assert_array_equal(kernels.motion_blur(image, radius, sigma, angle), expected)


@pytest.mark.parametrize("side", [32, 64, 65, 224])
def test_clipped_zoom_equals_scipy_zoom_on_both_paths(side):
    """Dense products (crops up to 64 px) and gathers (larger) both reproduce scipy's order-1 zoom."""
    from scipy import ndimage
    x = np.random.default_rng(side).random((2, side, side, 3))
    for factor in get_table("imagenet").params["zoom_blur"][4] + get_table("cifar").params["zoom_blur"][4]:
        crop = int(np.ceil(side / factor))
        top = (side - crop) // 2
        ref = ndimage.zoom(x[1, top:top + crop, top:top + crop], (factor, factor, 1), order=1)
        trim = (ref.shape[0] - side) // 2
        np.testing.assert_allclose(kernels.clipped_zoom(x, factor)[1], ref[trim:trim + side, trim:trim + side],
                                   rtol=0, atol=1e-12)
