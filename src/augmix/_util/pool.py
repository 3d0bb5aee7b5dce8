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
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Iterable, Iterator

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


def bounded_map(pool: Executor | None, fn, arguments: Iterable[tuple], ahead: int) -> Iterator:
    """fn(*args) for every tuple of `arguments`, in order: in `pool` with at most `ahead` calls
    submitted but not yet taken (memory stays bounded when the consumer is slower), or in this
    process when `pool` is None."""
    if pool is None:
        yield from (fn(*args) for args in arguments)
        return
    pending: deque = deque()
    for args in arguments:
        pending.append(pool.submit(fn, *args))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
