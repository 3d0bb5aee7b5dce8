"""Worker processes that end with their parent.

A `ProcessPoolExecutor` worker whose parent is killed (`kill -9`, the OOM killer) waits for
tasks forever and keeps what it inherited, folder locks included. `WorkerPool`'s workers
watch their parent and exit once it is gone, between two tasks, so they never leave a
temporary file behind either.
"""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

_BUSY = threading.Lock()  # held by a worker process while it runs a task


def _start_worker(initializer, initargs) -> None:
    if initializer is not None:
        initializer(*initargs)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    _BUSY.acquire()  # never in the middle of a task
    os._exit(1)


class _Guarded:
    """fn run with the worker's busy lock held (a picklable wrapper)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args, **kwargs):
        with _BUSY:
            return self.fn(*args, **kwargs)


class WorkerPool(ProcessPoolExecutor):
    """A ProcessPoolExecutor whose workers exit, between two tasks, once the parent is gone."""

    def __init__(self, workers: int, initializer=None, initargs: tuple = ()):
        super().__init__(workers, initializer=_start_worker, initargs=(initializer, initargs))

    def submit(self, fn, /, *args, **kwargs):  # map() submits through here too
        return super().submit(_Guarded(fn), *args, **kwargs)
