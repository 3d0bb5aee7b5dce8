"""Shared fixtures: real CIFAR-10 images from ../shared (or $AUGMIX_SHARED_DIR), the --runslow
switch, and the `cuda` marker (skipped where no CUDA device is)."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

SHARED = Path(os.environ.get("AUGMIX_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
CIFAR_NPZ = SHARED / "data" / "cifar10-jpeg" / "cifar10_jpeg.npz"
FROST_DIR = SHARED / "data" / "frost"


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


@pytest.fixture(autouse=True)
def augmix_logger_enabled():
    """The "augmix" logger on, as the CLI keeps it: a logging.config call made by a library in an
    earlier test (disable_existing_loggers) must not silence the status-message tests."""
    import logging

    logging.getLogger("augmix").disabled = False


def pytest_collection_modifyitems(config, items):
    import torch

    skip_slow = pytest.mark.skip(reason="slow: run with --runslow or `make test-all`")
    skip_cuda = pytest.mark.skip(reason="no CUDA device on this machine")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
        if "cuda" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_cuda)


def _decode(blob: np.ndarray, offsets: np.ndarray, indices) -> np.ndarray:
    from PIL import Image

    out = []
    for i in indices:
        data = blob[offsets[i]:offsets[i + 1]].tobytes()
        out.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    return np.stack(out)


@pytest.fixture(scope="session")
def cifar_npz():
    if not CIFAR_NPZ.exists():
        pytest.skip(f"real CIFAR-10 not found at {CIFAR_NPZ} (needs ../shared/data/cifar10-jpeg)")
    return np.load(CIFAR_NPZ)


@pytest.fixture(scope="session")
def cifar_images(cifar_npz) -> np.ndarray:
    """64 real CIFAR-10 test images, uint8 (64, 32, 32, 3)."""
    return _decode(cifar_npz["test_jpeg"], cifar_npz["test_offsets"], range(64))


@pytest.fixture(scope="session")
def cifar_labels(cifar_npz) -> np.ndarray:
    return cifar_npz["test_labels"][:64].astype(np.int64)


@pytest.fixture(scope="session")
def frost_dir() -> Path:
    if not (FROST_DIR / "frost1.png").exists():
        pytest.skip(f"frost textures not found at {FROST_DIR} (needs ../shared/data/frost)")
    return FROST_DIR


@pytest.fixture(scope="session")
def cifar10_root(tmp_path_factory) -> Path:
    """Real CIFAR-10 written in the official python layout by ../shared's script (re-encoded
    pixels: its md5s differ from the released files, read it with verify=False)."""
    script = SHARED / "data" / "cifar10-jpeg" / "to_cifar_batches.py"
    if not (script.exists() and CIFAR_NPZ.exists()):
        pytest.skip(f"real CIFAR-10 not found at {script.parent} (needs ../shared/data/cifar10-jpeg)")
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("cifar10")
    subprocess.run([sys.executable, str(script), str(root)], check=True, capture_output=True)
    return root
