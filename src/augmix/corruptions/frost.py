"""The frost textures: fetched once from hendrycks/robustness, md5-verified, cached, read with cv2.

Lookup order: the `frost_dir` argument, then `$AUGMIX_FROST_DIR` (both used as they are, for
offline machines), then `augmix.download.cache_dir() / "frost"`, filled on first use from the
public repository, or, where GitHub cannot be reached, from the byte-identical copies inside
the `imagecorruptions` wheel on PyPI. Only frost1-frost5 are loaded: the reference samples
`randint(5)`.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import cv2
import numpy as np

BASE_URL = "https://raw.githubusercontent.com/hendrycks/robustness/master/ImageNet-C/create_c/"
# (file, md5) of the six textures; the reference never samples frost6.
TEXTURES: tuple[tuple[str, str], ...] = (
    ("frost1.png", "6ead634ace1f366d77e87078b465863c"),
    ("frost2.png", "98f0d2b1d74a048d3bc9c7ecfd886939"),
    ("frost3.png", "b3ed8eb147824261888e730f916c0d8b"),
    ("frost4.jpg", "d70b9d6aa0b1fe7bd8133b113787e078"),
    ("frost5.jpg", "50984ae2c871b7df2c28f1d71ca460a0"),
    ("frost6.jpg", "bd01b8fc7c34a4ff3265c6fb476cff7b"),
)
USED = TEXTURES[:5]
ENV_VAR = "AUGMIX_FROST_DIR"
# The same files ship as package data of imagecorruptions 1.1.2 (Apache-2.0); its wheel on
# PyPI is the mirror for machines that reach only the package index.
WHEEL_URL = ("https://files.pythonhosted.org/packages/3e/40/ff4a79ad7ab6463fe2fde7912b71084a6606e33676078a50b40a3377112b/"
             "imagecorruptions-1.1.2-py3-none-any.whl")
WHEEL_MD5 = "9311416fb21be0bf95ef30207c3905d7"
WHEEL_FOLDER = "imagecorruptions/frost/"


def frost_paths(frost_dir: str | os.PathLike | None = None, *, base_url: str = BASE_URL,
                wheel_url: str = WHEEL_URL) -> list[Path]:
    """Paths of frost1-frost5, md5-verified; downloaded into the cache when no folder is given."""
    from augmix._util.download import DownloadError, cache_dir, check_md5, download

    given = frost_dir if frost_dir is not None else os.environ.get(ENV_VAR) or None
    if given is not None:
        folder = Path(given).expanduser()
        paths = [folder / name for name, _ in USED]
        for path, (_, md5) in zip(paths, USED):
            if not path.is_file():
                source = "frost_dir" if frost_dir is not None else f"${ENV_VAR}"
                raise FileNotFoundError(f"frost texture {path} not found ({source} = {folder}); "
                                        f"get it from {BASE_URL}{path.name}")
            check_md5(path, md5)
        return paths
    folder = cache_dir() / "frost"
    try:
        return [download(base_url + name, folder / name, md5=md5, progress=False) for name, md5 in USED]
    except DownloadError as err:
        try:
            return _from_wheel(folder, wheel_url)
        except (DownloadError, ValueError) as mirror_err:
            raise FileNotFoundError(
                f"frost textures are not in {folder} and could not be downloaded ({err}; PyPI mirror: "
                f"{mirror_err}); copy frost1.png ... frost5.jpg from {BASE_URL} there, or point "
                f"${ENV_VAR} or frost_dir= at a folder holding them") from err


def _from_wheel(folder: Path, wheel_url: str) -> list[Path]:
    """Take the textures out of the imagecorruptions wheel, each verified before it is kept."""
    import zipfile

    from augmix._util.atomic import atomic_write
    from augmix._util.download import check_md5, download

    wheel = download(wheel_url, folder / "imagecorruptions.whl",
                     md5=WHEEL_MD5 if wheel_url == WHEEL_URL else None, progress=False)
    with zipfile.ZipFile(wheel) as zf:
        for name, md5 in USED:
            with atomic_write(folder / name) as out:
                out.write(zf.read(WHEEL_FOLDER + name))
            try:
                check_md5(folder / name, md5)
            except ValueError:
                (folder / name).unlink()
                raise
    return [folder / name for name, _ in USED]  # the wheel stays: other processes may be reading it


@functools.lru_cache(maxsize=4)
def _originals(frost_dir: str | None, env_dir: str | None, cache: str) -> tuple[np.ndarray, ...]:
    textures = []
    for path in frost_paths(frost_dir):
        image = cv2.imread(str(path))  # BGR, alpha dropped, like the reference
        if image is None:
            raise ValueError(f"cannot decode frost texture {path}")
        image.setflags(write=False)
        textures.append(image)
    return tuple(textures)


@functools.lru_cache(maxsize=10)  # the five textures at two scales; large images make large textures
def _scaled(frost_dir: str | None, env_dir: str | None, cache: str, index: int, scale: float) -> np.ndarray:
    image = _originals(frost_dir, env_dir, cache)[index]
    if scale != 1:
        image = cv2.resize(image, (0, 0), fx=scale, fy=scale)
        image.setflags(write=False)
    return image


def texture_covering(index: int, scale: float, height: int, width: int,
                     frost_dir: str | os.PathLike | None = None) -> np.ndarray:
    """Texture `index` (0..4 for frost1-frost5) as BGR uint8, resized by `scale` (cv2 bilinear,
    like the reference), or by the smallest larger scale that makes it exceed `height` x
    `width` on both axes, so that a crop of the image's size fits inside.

    Decoded once per process (for each folder, environment and cache); the few latest
    resized textures are kept.
    """
    from augmix._util.download import cache_dir

    key = (None if frost_dir is None else str(frost_dir), os.environ.get(ENV_VAR), str(cache_dir()))
    rows, cols = _originals(*key)[index].shape[:2]
    return _scaled(*key, index, float(max(scale, (height + 1) / rows, (width + 1) / cols)))
