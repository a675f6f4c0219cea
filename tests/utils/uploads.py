"""Streamed multipart bodies and a sampler of a server's disk and memory, for upload limit tests."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BOUNDARY", "ResourceSampler", "multipart_stream", "peak_rss_bytes"]

BOUNDARY = "doclane-test-boundary-7f3a"


async def multipart_stream(
    files: Iterable[tuple[str, int]], fields: dict[str, str] | None = None, piece: int = 1 << 20
) -> AsyncIterator[bytes]:
    """A multipart body of files of the given sizes, made as it is sent (never held whole)."""
    for name, value in (fields or {}).items():
        yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
               f"{value}\r\n").encode()
    line = b"word " * (piece // 5)
    for filename, size in files:
        yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; "
               f"filename=\"{filename}\"\r\nContent-Type: text/plain\r\n\r\n").encode()
        sent = 0
        while sent < size:
            chunk = line[: min(len(line), size - sent)]
            sent += len(chunk)
            yield chunk
        yield b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def _du(path: Path) -> int:
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            with contextlib.suppress(FileNotFoundError):  # removed while we looked
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def _open_file_bytes(pid: int) -> int:
    """Bytes of the regular files a process holds open, deleted ones included: a spooled
    upload is an unlinked temporary file that no folder listing shows."""
    total = 0
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        fds = list(fd_dir.iterdir())
    except FileNotFoundError:
        return 0
    for fd in fds:
        try:
            st = os.stat(fd)
        except (FileNotFoundError, PermissionError):
            continue
        if (st.st_mode & 0o170000) == 0o100000 and "(deleted)" in os.readlink(fd):
            total += st.st_blocks * 512
    return total


@dataclass
class ResourceSampler:
    """Samples the bytes under some folders, plus the deleted files a process holds open,
    every few ms in a thread; keeps the peak."""

    folders: list[Path]
    pid: int | None = None
    interval_s: float = 0.005
    peak_bytes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> ResourceSampler:
        self.baseline = self._sample()

        def run() -> None:
            while not self._stop.is_set():
                self.peak_bytes = max(self.peak_bytes, self._sample())
                time.sleep(self.interval_s)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _sample(self) -> int:
        held = _open_file_bytes(self.pid) if self.pid is not None else 0
        return held + sum(_du(f) for f in self.folders)

    @property
    def growth_bytes(self) -> int:
        return max(0, self.peak_bytes - self.baseline)
