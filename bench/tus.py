"""Benchmark: the gateway's memory while a big file arrives through tus (resumable upload).

A gateway process (the API alone, no pipeline stage, so only the upload path is
measured) receives a 10 MB and then a 200 MB text file from the real tus client
(tuspy). The gateway's resident memory is sampled every few milliseconds during each
upload; the figure that matters is the peak during the 200 MB upload against the
peak during the 10 MB one (flat memory: a ratio near 1). By default each file is
sent in ONE ``PATCH`` (tuspy's and tus-js-client's default), the hardest case for
the server. Results are appended to ``bench/results/tus.md``.

    python -m bench.tus [--big-mb 200] [--small-mb 10] [--chunk-mb 0]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from tusclient.client import TusClient

from tests.utils.api import auth, login
from tests.utils.server import JWT_SECRET, USERS, free_port

RESULTS = Path(__file__).parent / "results"
_MB = 1 << 20
#: The API alone, in embedded mode: ``document.uploaded`` waits in the log, nothing extracts.
_GATEWAY = ("import sys, uvicorn; from doclane.api.app import create_app; "
            "uvicorn.run(create_app(stages=()), host='127.0.0.1', port=int(sys.argv[1]), "
            "log_level='warning')")


def _rss(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field}")


class _Peak:
    """The highest resident memory of ``pid`` while the block runs, sampled every 5 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss(self.pid))
            self._stop.wait(0.005)

    def __enter__(self) -> _Peak:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss(self.pid))


def _text_file(path: Path, size: int) -> Path:
    line = b"The quarterly figures show steady growth in every region we serve.\n"
    block = line * (_MB // len(line))
    with path.open("wb") as out:
        written = 0
        while written < size:
            piece = block[: size - written]
            out.write(piece)
            written += len(piece)
    return path


def _upload(url: str, token: str, path: Path, chunk_mb: int) -> tuple[float, str]:
    client = TusClient(f"{url}/uploads/", headers=auth(token))
    kwargs = {"chunk_size": chunk_mb * _MB} if chunk_mb else {}
    uploader = client.uploader(str(path), metadata={"filename": path.name}, **kwargs)
    start = time.perf_counter()
    uploader.upload()
    return time.perf_counter() - start, uploader.request.response_headers["doclane-document-id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--big-mb", type=int, default=200)
    parser.add_argument("--small-mb", type=int, default=10)
    parser.add_argument("--chunk-mb", type=int, default=0, help="PATCH size; 0: the whole file in one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="doclane-bench-tus-") as tmp:
        root = Path(tmp)
        port = free_port()
        env = {**os.environ, "DOCLANE_USERS": USERS, "DOCLANE_JWT_SECRET": JWT_SECRET,
               "DOCLANE_DATA_DIR": str(root / "data"), "DOCLANE_SEARCH_ENABLED": "false"}
        gateway = subprocess.Popen([sys.executable, "-c", _GATEWAY, str(port)], env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or gateway.poll() is not None:
                    raise SystemExit("the gateway did not start")
                time.sleep(0.1)
            token = login(url, "alice", "alice-pw")
            idle = _rss(gateway.pid)
            rows = []
            for size_mb in (args.small_mb, args.big_mb):
                path = _text_file(root / f"report-{size_mb}mb.txt", size_mb * _MB)
                with _Peak(gateway.pid) as peak:
                    seconds, document_id = _upload(url, token, path, args.chunk_mb)
                stored = root / "data" / "uploads" / document_id / path.name
                assert stored.stat().st_size == size_mb * _MB, "the stored file differs"
                path.unlink()
                rows.append((size_mb, peak.peak, seconds))
                print(f"{size_mb} MB: gateway peak RSS {peak.peak / _MB:.1f} MB, "
                      f"{size_mb / seconds:.0f} MB/s")
        finally:
            gateway.terminate()
            gateway.wait(timeout=30)
    (small, small_peak, _), (big, big_peak, big_s) = rows
    ratio = big_peak / small_peak
    print(f"peak RSS ratio {big} MB / {small} MB: {ratio:.3f}")
    _record(args, idle, small_peak, big_peak, ratio, big / big_s)


def _record(args: argparse.Namespace, idle: int, small_peak: int, big_peak: int, ratio: float,
            big_mb_s: float) -> None:
    report = RESULTS / "tus.md"
    if not report.exists():
        report.write_text(
            "# Resumable uploads (tus): gateway memory\n\n"
            "`python -m bench.tus`: a gateway process (API only, embedded mode, no stage running) "
            "receives a small and a big text file from tuspy; its resident memory is sampled "
            "every 5 ms during each upload. PATCH = how the file was sent (`whole`: one PATCH, "
            "the tus clients' default). Flat memory means a peak ratio near 1: the body is "
            "streamed to the partial file, never held.\n\n"
            "| when | machine | PATCH | idle RSS MB | peak RSS MB, small | peak RSS MB, big | "
            "big / small peak | big upload MB/s |\n|---|---|---|---|---|---|---|---|\n")
    chunk = f"{args.chunk_mb} MB" if args.chunk_mb else "whole"
    when = datetime.now(UTC).isoformat(timespec="seconds")
    with report.open("a") as out:
        out.write(f"| {when} | {platform.machine()}, {os.cpu_count()} cpu | {chunk} "
                  f"({args.small_mb} / {args.big_mb} MB) | {idle / _MB:.1f} | {small_peak / _MB:.1f} | "
                  f"{big_peak / _MB:.1f} | {ratio:.3f} | {big_mb_s:.0f} |\n")


if __name__ == "__main__":
    main()
