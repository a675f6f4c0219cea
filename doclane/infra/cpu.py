"""A process pool for CPU-heavy parsing that heals itself when a worker dies."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from doclane.exceptions import DoclaneError

__all__ = ["CpuPool", "WorkerCrashed"]

P = ParamSpec("P")
T = TypeVar("T")


class WorkerCrashed(DoclaneError):
    """A parsing process died (a crash in native code, or the OS killed it)."""

    category = "reader_crashed"
    retryable = True


class CpuPool:
    """Runs functions in worker processes, started on first use.

    A worker that dies breaks a ``ProcessPoolExecutor`` for good; here the
    broken pool is replaced so that one bad file cannot stop all extraction,
    and the caller gets a retryable :class:`WorkerCrashed`.
    """

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _current(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": forking a process that runs SQLite and event-loop threads is unsafe.
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        pool = self._current()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, functools.partial(fn, *args, **kwargs))
        except BrokenProcessPool as exc:
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise WorkerCrashed(
                "The document reader crashed while reading this file; it may be damaged "
                "or unusually built. Re-save it (for example, print it to PDF) and upload it again."
            ) from exc

    def warm_up(self) -> None:
        """Start the worker processes now, so the first document doesn't wait for them."""
        pool = self._current()
        for _ in range(self._workers):
            pool.submit(_preload)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _preload() -> None:
    """Import the heavy modules a worker needs (parsers, lexicons) ahead of use."""
    import doclane.ai.local
    import doclane.extraction  # noqa: F401
