"""Downloads that survive flaky networks: retries, resume, md5 checks, a cache, safe extraction.

Every file arrives as ``<dest>.part`` and is renamed into place only once complete
and verified, so an interrupted download never leaves a file that looks finished;
the next call resumes the ``.part`` with an HTTP Range request.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import stat
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from tqdm.auto import tqdm

from augmix._util.errors import DownloadError
from augmix._util.lock import folder_lock

CHUNK = 1 << 20
USER_AGENT = "augmix-downloader"


def cache_dir() -> Path:
    """Where downloaded assets live: ``$AUGMIX_CACHE`` or ``~/.cache/augmix``."""
    root = os.environ.get("AUGMIX_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "augmix"


def md5_file(path: str | os.PathLike) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def check_md5(path: str | os.PathLike, md5: str) -> None:
    """Raise ValueError naming the file when its md5 is not ``md5``."""
    actual = md5_file(path)
    if actual != md5.lower():
        raise ValueError(f"md5 mismatch for {path}: expected {md5.lower()}, got {actual}")


def download(url: str, dest: str | os.PathLike, *, md5: str | None = None, retries: int = 3,
             timeout: float = 60.0, progress: bool = True) -> Path:
    """Fetch ``url`` to ``dest`` (a file path) unless a verified copy is already there.

    Resumes a partial ``dest.part`` left by an earlier attempt, retries network
    errors and server errors ``retries`` times with backoff, and checks ``md5``
    before renaming into place. A mismatch deletes the download and raises.
    """
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Processes fetching into the same folder (e.g. corruption workers) take turns: the
    # later ones find the verified copy instead of writing into the same .part.
    with folder_lock(dest.parent, wait=True):
        if dest.exists():
            if md5 is None or md5_file(dest) == md5.lower():
                return dest
            dest.unlink()  # a stale or corrupt copy: fetch it again
        return _download(url, dest, md5, retries, timeout, progress)


def _download(url: str, dest: Path, md5: str | None, retries: int, timeout: float,
              progress: bool) -> Path:
    part = dest.with_name(dest.name + ".part")
    for attempt in range(retries + 1):
        try:
            _fetch(url, part, timeout, progress, dest.name)
            break
        except urllib.error.HTTPError as err:
            if err.code == 416 and part.exists():  # the .part already holds every byte
                break
            if err.code < 500 or attempt == retries:
                raise DownloadError(f"cannot download {url}: HTTP {err.code} {err.reason}") from err
        except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
            if attempt == retries:
                raise DownloadError(f"cannot download {url} after {retries + 1} attempts: {err}; "
                                    f"the partial file {part} is kept and resumed next time") from err
        time.sleep(min(2.0 ** attempt, 30.0) * 0.5)
    if md5 is not None:
        try:
            check_md5(part, md5)
        except ValueError:
            part.unlink()
            raise
    os.replace(part, dest)
    return dest


def _fetch(url: str, part: Path, timeout: float, progress: bool, label: str) -> None:
    """Append the missing bytes of ``url`` to ``part``, restarting if the server ignores Range."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if have:
        request.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        resumed = have and response.status == 206
        if not resumed:
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        with open(part, "ab" if resumed else "wb") as out, \
                tqdm(total=total, initial=have, unit="B", unit_scale=True, desc=label,
                     disable=not progress, leave=False) as bar:
            for block in iter(lambda: response.read(CHUNK), b""):
                out.write(block)
                bar.update(len(block))
        if total is not None and part.stat().st_size < total:
            raise OSError(f"connection closed after {part.stat().st_size} of {total} bytes")


def extract(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Unpack a tar (any compression) or zip archive into ``dest``.

    Members are checked first: absolute paths and ``..`` are refused, and so is every
    symbolic or hard link and special file (none of the data sets has any, and a link
    can point an innocent-looking member outside ``dest``). Tar members are then
    unpacked through the standard library's "data" filter as a second guard.
    Everything is unpacked into a temporary folder beside ``dest`` and each top-level
    entry renamed into place, so a crash leaves no half tree.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".extract-") as tmp:
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tar:
                members = tar.getmembers()
                for member in members:
                    _check_member(member.name, archive)
                    if member.issym() or member.islnk():
                        raise ValueError(f"{archive}: refusing link {member.name!r} -> {member.linkname!r} "
                                         f"(the data sets contain no links)")
                    if not (member.isfile() or member.isdir()):
                        raise ValueError(f"{archive}: refusing special file {member.name!r}")
                if hasattr(tarfile, "data_filter"):  # Python 3.10.12+, 3.11.4+, 3.12+
                    tar.extractall(tmp, members=members, filter="data")
                else:
                    tar.extractall(tmp, members=members)
        elif zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _check_member(info.filename, archive)
                    if stat.S_ISLNK(info.external_attr >> 16):
                        raise ValueError(f"{archive}: refusing link {info.filename!r} (the data sets "
                                         f"contain no links)")
                zf.extractall(tmp)
        else:
            raise ValueError(f"archive must be a tar or zip file, got {archive}")
        for entry in Path(tmp).iterdir():
            target = dest / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(entry, target)
    return dest


def _check_member(name: str, archive: Path) -> None:
    normalized = os.path.normpath(name)
    if os.path.isabs(name) or normalized == ".." or normalized.startswith(".." + os.sep):
        raise ValueError(f"{archive}: refusing member {name!r} outside the destination")
