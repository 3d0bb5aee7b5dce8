"""Inter-process locks on a folder itself (flock on its descriptor: no lock file left behind).

POSIX only; elsewhere nothing is locked. A lock is released when its process ends, however
it ends, so a killed run never leaves a folder locked. Forked children (worker processes) close
their copy of the descriptor at once: a child that outlives a killed parent must not go on
holding the parent's lock.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from augmix._util.errors import AugMixError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

_HELD: set[int] = set()  # descriptors of the locks this process holds


def _forget_in_child() -> None:
    for fd in _HELD:
        os.close(fd)  # the parent's lock stays: the parent still has its own descriptor
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


class FolderBusyError(AugMixError):
    """Another process holds the folder."""


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, *, wait: bool, what: str = "to it") -> Iterator[Path]:
    """Hold an exclusive lock on `folder` (created if missing) for the block.

    wait=True takes turns with other holders (e.g. processes downloading into one cache);
    wait=False fails at once with FolderBusyError (one writer per output folder).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield folder
        return
    fd = os.open(folder, os.O_RDONLY)
    _HELD.add(fd)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise FolderBusyError(f"{folder} is in use: another augmix process is writing {what}; "
                                  f"wait for it to finish or choose another folder") from None
        yield folder
    finally:
        _HELD.discard(fd)
        os.close(fd)  # closing releases the lock
