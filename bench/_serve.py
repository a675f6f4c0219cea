"""``doclane serve`` for benchmarks: counts the SQLite store's operations and can profile the process.

Run as ``python -m bench._serve serve --port P --data-dir D`` (what :class:`CountedServer`
does). Every public coroutine of :class:`~doclane.infra.store.sqlite.SqliteStore` is wrapped
with a counter; on a graceful stop (SIGTERM) the counts, and with ``DOCLANE_BENCH_PROFILE=1`` a
cProfile of the whole process, are written into the data directory.
"""

from __future__ import annotations

import cProfile
import functools
import inspect
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from doclane.infra._sqlite import ThreadConnection
from doclane.infra.store.sqlite import SqliteStore
from tests.utils.server import ServerProcess

__all__ = ["COUNTS_FILE", "PROFILE_FILE", "CountedServer", "count_store_operations", "cpu_s", "peak_rss_mb",
           "operations_since"]

COUNTS_FILE = "store-ops.json"
PROFILE_FILE = "server.prof"

#: Methods that are not round trips of the pipeline.
_SKIPPED = {"open", "close"}
#: How the counts of hand-offs to a SQLite connection's thread are named.
_ROUND_TRIPS = "round trips: "


def operations_since(ops: dict[str, int], before: dict[str, int]) -> tuple[dict[str, int], int]:
    """The store calls made since ``before``, by method, and the SQLite round trips among them."""
    since = {k: v - before.get(k, 0) for k, v in ops.items()}
    calls = {k: v for k, v in since.items() if v and not k.startswith(_ROUND_TRIPS)}
    return calls, sum(v for k, v in since.items() if k.startswith(_ROUND_TRIPS))


def count_store_operations(counts: Counter[str]) -> None:
    """Wrap every public coroutine method of the SQLite store so each call counts once."""
    for name, method in list(vars(SqliteStore).items()):
        if name.startswith("_") or name in _SKIPPED or not inspect.iscoroutinefunction(method):
            continue

        def wrap(fn: Callable[..., Coroutine[Any, Any, Any]], name: str = name) -> Callable[..., Any]:
            @functools.wraps(fn)
            async def counted(*args: Any, **kwargs: Any) -> Any:
                counts[name] += 1
                return await fn(*args, **kwargs)
            return counted

        setattr(SqliteStore, name, wrap(method))
    # Every hand-off to a SQLite connection's thread (the store's and the event log's).
    run = ThreadConnection.run

    async def counted_run(self: ThreadConnection, fn: Callable[..., Any]) -> Any:
        counts[f"{_ROUND_TRIPS}{self._name}"] += 1
        return await run(self, fn)

    ThreadConnection.run = counted_run  # type: ignore[method-assign]


class CountedServer(ServerProcess):
    """A :class:`ServerProcess` run through this module: store operations counted, optionally profiled."""

    module = "bench._serve"

    def store_operations_now(self) -> dict[str, int]:
        """The counts so far, from a running server (it writes them on ``SIGUSR1``)."""
        path = self.data_dir / COUNTS_FILE
        path.unlink(missing_ok=True)
        if self.pid is None:
            return {}
        os.kill(self.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                return json.loads(path.read_text())  # written whole by os.replace
            except (FileNotFoundError, json.JSONDecodeError):
                time.sleep(0.02)
        raise TimeoutError("the server did not write its counts")

    def store_operations(self) -> dict[str, int]:
        """The store calls counted, by method (after :meth:`stop`)."""
        path = self.data_dir / COUNTS_FILE
        return json.loads(path.read_text()) if path.exists() else {}

    def processes(self) -> dict[str, int]:
        """The server's pid and its CPU pool workers' (while it runs)."""
        pid = self.pid
        if pid is None:
            return {}
        return {"main": pid} | {f"worker{i}": c for i, c in enumerate(sorted(_children(pid)))}

    def peak_rss_mb(self) -> dict[str, float]:
        """Peak resident memory of the server process and of each of its CPU pool workers."""
        return {name: peak_rss_mb(pid) for name, pid in self.processes().items()}

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds (user + system) each process used so far."""
        return {name: cpu_s(pid) for name, pid in self.processes().items()}


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(c) for c in children]
    # the pool's resource tracker is a child too; keep only processes with a multiprocessing role
    return [c for c in found if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


def peak_rss_mb(pid: int) -> float:
    """``VmHWM`` of a live process: the most resident memory it ever had, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> None:
    data_dir = Path(sys.argv[sys.argv.index("--data-dir") + 1])
    counts: Counter[str] = Counter()
    count_store_operations(counts)
    how = os.environ.get("DOCLANE_BENCH_PROFILE", "")
    # CPU time of the main thread (the event loop), so a loaded machine's waiting is not counted.
    profiler = cProfile.Profile(time.thread_time) if how == "cprofile" else None
    sampler = None
    if how == "pyinstrument":  # a wall-clock sampler, when installed (not a project dependency)
        from pyinstrument import Profiler

        sampler = Profiler(interval=0.002, async_mode="disabled")
        sampler.start()
    from doclane.cli import app

    signal.signal(signal.SIGUSR1, lambda *_: _write_counts(data_dir, counts))
    # uvicorn re-raises the SIGTERM it handled once it has shut down: end with the files written.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if profiler is not None:
        profiler.enable()
    try:
        app(sys.argv[1:], standalone_mode=False)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(data_dir / PROFILE_FILE)
        if sampler is not None:
            sampler.stop()
            (data_dir / "server-profile.txt").write_text(
                sampler.output_text(unicode=False, show_all=False, timeline=False))
        _write_counts(data_dir, counts)


def _write_counts(data_dir: Path, counts: Counter[str]) -> None:
    part = data_dir / f"{COUNTS_FILE}.part"
    part.write_text(json.dumps(dict(counts), indent=2, sort_keys=True))
    os.replace(part, data_dir / COUNTS_FILE)


if __name__ == "__main__":
    main()
